import { writeFileSync } from "node:fs";
import { Command } from "commander";
import { loadVariant } from "../../prompts/registry.js";
import { PromptError } from "../../prompts/variant.js";
import { exportExamples, NotEnoughCorrectionsError } from "../../rollout/export.js";
import { policyFromOptions } from "../engine-options.js";
import { action, UsageError } from "../errors.js";
import { addDbOption, type LogCliOptions, openLog, timeOption } from "./rollout.js";

export function registerExport(program: Command): void {
  const cmd = addDbOption(new Command("export"))
    .description(
      "reviewed decisions as JSONL chat examples for fine-tuning (refuses with fewer than 50 corrections unless --force)",
    )
    .requiredOption("--out <file>", "JSONL file to write")
    .option("--since <when>", "ISO 8601 date-time or a duration back from now (30d)")
    .option("--until <when>", "end of the range")
    .option(
      "--policy <file>",
      "policy whose rules findings go into each prompt (default: the bundled policy)",
    )
    .option(
      "--prompt <variant>",
      "prompt variant whose messages the examples reproduce (default: the registry's default)",
    )
    .option("--force", "export even with fewer than 50 corrections")
    .action(
      action(
        async (
          o: LogCliOptions & {
            out: string;
            since?: string;
            until?: string;
            policy?: string;
            prompt?: string;
            force?: boolean;
          },
        ) => {
          const since = timeOption(o.since, "--since");
          const until = timeOption(o.until, "--until");
          const policy = policyFromOptions(o);
          let variant: ReturnType<typeof loadVariant>;
          try {
            variant = loadVariant(o.prompt);
          } catch (err) {
            if (err instanceof PromptError) throw new UsageError(err.message);
            throw err;
          }
          const store = await openLog(o);
          try {
            const result = await exportExamples(store, {
              policy,
              variant,
              ...(since ? { since } : {}),
              ...(until ? { until } : {}),
              force: o.force ?? false,
            }).catch((err: unknown) => {
              if (err instanceof NotEnoughCorrectionsError) throw new UsageError(err.message);
              throw err;
            });
            try {
              writeFileSync(o.out, result.lines.length ? `${result.lines.join("\n")}\n` : "");
            } catch (err) {
              throw new UsageError(
                `--out ${o.out}: cannot write: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
              );
            }
            process.stderr.write(
              `wrote ${result.lines.length} examples to ${o.out} (${result.corrections} corrections, ${result.agreements} agreements; ${result.skipped.length} skipped)\n`,
            );
            for (const s of result.skipped.slice(0, 10))
              process.stderr.write(`  skipped ${s.decisionId}: ${s.reason}\n`);
          } finally {
            await store.close();
          }
        },
      ),
    );
  program.addCommand(cmd);
}
