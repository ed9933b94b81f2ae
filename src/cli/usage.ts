import type { Command, Option } from "commander";
import { UsageError } from "./errors.js";

/**
 * Makes every usage error of `program` and its subcommands a thrown error (exit 2 in main.ts) and
 * reports all missing required options at once.
 *
 * Subcommands built with `new Command()` inherit nothing from the program, so without this each parser
 * error (an unknown option, a missing argument) would make commander exit 1 on its own. And commander
 * stops at the first missing required option; here they are checked together before the action runs.
 */
/** Options required only in some combinations (e.g. a model for --engine llm), per command. */
const conditional = new WeakMap<Command, Array<(opts: Record<string, unknown>) => string | null>>();

/**
 * Registers an option requirement that depends on other options: `check` returns what is missing, as it
 * should be named in the message ("'--model <gguf>' or '--llm-url <url>' (for --engine llm)"), or null.
 * strictUsage reports it together with the missing required options.
 */
export function requireWhen(cmd: Command, check: (opts: Record<string, unknown>) => string | null): void {
  conditional.set(cmd, [...(conditional.get(cmd) ?? []), check]);
}

export function strictUsage(program: Command): void {
  const required = new Map<Command, Option[]>();
  const configure = (cmd: Command): void => {
    cmd.exitOverride();
    const mandatory = cmd.options.filter((o) => o.mandatory);
    if (mandatory.length > 0) {
      for (const o of mandatory) o.makeOptionMandatory(false);
      required.set(cmd, mandatory);
    }
    for (const sub of cmd.commands) configure(sub);
  };
  configure(program);

  program.hook("preAction", (_program, actionCommand) => {
    const missing: string[] = [];
    for (let cmd: Command | null = actionCommand; cmd; cmd = cmd.parent) {
      for (const o of required.get(cmd) ?? []) {
        if (cmd.getOptionValue(o.attributeName()) === undefined) missing.push(`'${o.flags}'`);
      }
      for (const check of conditional.get(cmd) ?? []) {
        const m = check(cmd.opts());
        if (m) missing.push(m);
      }
    }
    if (missing.length === 1) throw new UsageError(`required option ${missing[0]} not specified`);
    if (missing.length > 1) throw new UsageError(`required options ${missing.join(", ")} not specified`);
  });
}
