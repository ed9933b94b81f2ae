import type { Command } from "commander";
import { type DoctorOptions, formatDoctor, runDoctor } from "../../doctor/run.js";
import { DEFAULT_DB } from "../../store/index.js";
import { progressBar } from "../../util/progress.js";
import { action, UsageError } from "../errors.js";

const positiveInt = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0)
    throw new UsageError(`${name}: expected a positive whole number, got "${v}"`);
  return n;
};

export function registerDoctor(program: Command): void {
  program
    .command("doctor")
    .description(
      "Pre-deployment checks: the serve configuration, the policy, the decision log and, with a model, GPU or CPU fallback, memory, model load, a known request, latency",
    )
    .option(
      "--config <file>",
      "serve configuration to check (YAML or JSON, as serve --config) [POLICY_ADVISOR_CONFIG]",
    )
    .option("--policy <file>", "policy to check (default: the configuration's, else the packaged one)")
    .option(
      "--model <gguf>",
      "local GGUF model to check (in-process llama.cpp; default: the configuration's)",
    )
    .option("--llm-url <url>", "OpenAI-compatible model server to check instead of a local model")
    .option("--llm-model <name>", "model name to request from --llm-url")
    .option("--prompt <variant>", "prompt variant id (see data/prompts/)")
    .option(
      "--db <target>",
      `decision log to check: a SQLite file or postgres:// URL (default: the configuration's, else ${DEFAULT_DB})`,
    )
    .option("--threads <n>", "CPU threads for llama.cpp (default: physical cores)", positiveInt("--threads"))
    .option("--context-size <tokens>", "context size per sequence", positiveInt("--context-size"))
    .option("--sequences <n>", "parallel sequences the sidecar will use", positiveInt("--sequences"))
    .option("--json", "print one JSON object instead of the list")
    .action(
      action(async (o: DoctorOptions & { json?: boolean }) => {
        if (o.model && o.llmUrl) throw new UsageError("give either --model FILE or --llm-url URL, not both");
        const bar = progressBar({ title: "doctor", total: 0, unit: "checks", enabled: !o.json });
        let report: Awaited<ReturnType<typeof runDoctor>>;
        try {
          report = await runDoctor(
            o,
            (line) => bar.log(line),
            (name, done, total) => bar.update(done, total, name.replace("_", " ")),
          );
          bar.finish("done");
        } finally {
          bar.stop();
        }
        process.stdout.write(o.json ? `${JSON.stringify(report, null, 2)}\n` : formatDoctor(report));
        if (!report.ok) process.exitCode = 1;
      }),
    );
}
