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
    }
    if (missing.length === 1) throw new UsageError(`required option ${missing[0]} not specified`);
    if (missing.length > 1) throw new UsageError(`required options ${missing.join(", ")} not specified`);
  });
}
