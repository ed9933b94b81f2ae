import { Command } from "commander";
import { runSuite } from "../../eval/run.js";
import { loadSuite } from "../../eval/suite.js";
import { formatReport } from "../../eval/table.js";
import { addEngineOptions, advisorFromOptions, type EngineCliOptions } from "../engine-options.js";
import { action, UsageError } from "../errors.js";

interface EvalCliOptions extends EngineCliOptions {
  scenarios: string;
  runs: number;
  json?: boolean;
}

export function registerEval(program: Command): void {
  const cmd = new Command("eval")
    .description("run a scenario suite and score it (decisions, critical errors, reasoning coverage)")
    .requiredOption("--scenarios <file>", "scenario suite JSON (see docs/scenarios.md)")
    .option(
      "--runs <n>",
      "decide each scenario N times (stability across runs)",
      (v) => {
        const n = Number(v);
        if (!Number.isInteger(n) || n < 1)
          throw new UsageError(`--runs: expected a whole number >= 1, got "${v}"`);
        return n;
      },
      1,
    )
    .option("--json", "print one JSON report on stdout instead of the table");
  addEngineOptions(cmd).action(
    action(async (o: EvalCliOptions) => {
      const suite = loadSuite(o.scenarios);
      const advisor = await advisorFromOptions(o);
      try {
        const report = await runSuite(advisor, suite, { runs: o.runs, progress: !o.json });
        if (o.json) {
          const { results, ...rest } = report;
          const out = {
            ...rest,
            results: results.map(({ matches, ...x }) => ({
              ...x,
              matchedElements: matches.filter((m) => m.matched).map((m) => m.element),
            })),
          };
          process.stdout.write(`${JSON.stringify(out)}\n`);
        } else process.stdout.write(`${formatReport(report)}\n`);
      } finally {
        await advisor.close();
      }
    }),
  );
  program.addCommand(cmd);
}
