import { Command } from "commander";
import { runSuite } from "../../eval/run.js";
import { loadSuite } from "../../eval/suite.js";
import { formatReport } from "../../eval/table.js";
import { compareVariants, formatComparison, promptVariantList } from "../../eval/variants.js";
import {
  INTERPRETER_ANSWERS,
  type InterpreterAnswer,
  startInterpreterServer,
} from "../../testing/interpreter-server.js";
import { addEmbeddingOptions, type EmbeddingCliOptions, embeddingMatcherFrom } from "../embedding-options.js";
import { addEngineOptions, advisorFromOptions, type EngineCliOptions } from "../engine-options.js";
import { action, UsageError } from "../errors.js";

interface EvalCliOptions extends EngineCliOptions, EmbeddingCliOptions {
  scenarios: string;
  runs: number;
  json?: boolean;
  interpreter?: InterpreterAnswer[];
}

function interpreterList(v: string): InterpreterAnswer[] {
  const list = v.split(",").map((x) => x.trim());
  for (const x of list)
    if (!(INTERPRETER_ANSWERS as readonly string[]).includes(x))
      throw new UsageError(
        `--interpreter: unknown "${x}"; expected ${INTERPRETER_ANSWERS.join(", ")} (comma-separated)`,
      );
  return list as InterpreterAnswer[];
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
    .option("--json", "print one JSON report on stdout instead of the table")
    .option(
      "--interpreter <answers>",
      "measure hybrid against interpreter test servers instead of a model: oracle (answers each scenario's expected decision), always-allow; comma-separated",
      interpreterList,
    );
  addEmbeddingOptions(addEngineOptions(cmd)).action(
    action(async (o: EvalCliOptions) => {
      const suite = loadSuite(o.scenarios);
      if (o.interpreter) {
        if (o.model || o.llmUrl)
          throw new UsageError("--interpreter replaces --model/--llm-url: give one or the other");
        const engine = o.engine === "llm" ? "llm" : "hybrid";
        const out: Array<{ interpreter: InterpreterAnswer; report: unknown; asked: number }> = [];
        for (const answer of o.interpreter) {
          const server = await startInterpreterServer({ answer, suite });
          try {
            const advisor = await advisorFromOptions({ ...o, engine, llmUrl: server.url });
            try {
              const report = await runSuite(advisor, suite, { runs: o.runs, progress: !o.json });
              // Requests the interpreter was asked, per run: the share of traffic that needs a model slot.
              const asked = Math.round(server.stats.requests / Math.max(1, o.runs));
              if (o.json) out.push({ interpreter: answer, report: { ...report }, asked });
              else
                process.stdout.write(
                  `interpreter test server: ${answer} (${server.stats.requests} requests${answer === "oracle" ? `, ${server.stats.unmatched} not recognised` : ""}; ${asked}/${report.total} decisions asked the interpreter)\n${formatReport(report)}\n\n`,
                );
            } finally {
              await advisor.close();
            }
          } finally {
            await server.close();
          }
        }
        if (o.json) process.stdout.write(`${JSON.stringify({ interpreters: out })}\n`);
        return;
      }
      const variants = promptVariantList(o.prompt);
      if (variants.length > 1 && o.engine === "rules") {
        throw new UsageError("--prompt a,b compares prompt variants: it needs --engine llm or hybrid");
      }
      const matcher = await embeddingMatcherFrom(o);
      const evalOpts = { runs: o.runs, progress: !o.json, ...(matcher ? { matcher } : {}) };
      if (variants.length > 1) {
        try {
          const c = await compareVariants(
            suite,
            variants,
            (prompt) => advisorFromOptions({ ...o, prompt }),
            evalOpts,
          );
          process.stdout.write(o.json ? `${JSON.stringify(c)}\n` : `${formatComparison(c)}\n`);
        } finally {
          await matcher?.close();
        }
        return;
      }
      const advisor = await advisorFromOptions(o).catch(async (err: unknown) => {
        await matcher?.close();
        throw err;
      });
      try {
        const report = await runSuite(advisor, suite, evalOpts);
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
        await matcher?.close();
      }
    }),
  );
  program.addCommand(cmd);
}
