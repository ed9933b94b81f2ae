import type { Command } from "commander";
import { type DoctorOptions, formatDoctor, runDoctor } from "../../doctor/run.js";
import { DEFAULT_DB } from "../../store/index.js";
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
      "Pre-deployment checks: GPU or CPU fallback, memory, model load, a known request, latency, decision log",
    )
    .option("--model <gguf>", "local GGUF model to check (in-process llama.cpp)")
    .option("--llm-url <url>", "OpenAI-compatible model server to check instead of a local model")
    .option("--llm-model <name>", "model name to request from --llm-url")
    .option("--prompt <variant>", "prompt variant id (see data/prompts/)")
    .option(
      "--db <target>",
      `decision log to check: a SQLite file or postgres:// URL (default ${DEFAULT_DB})`,
    )
    .option("--threads <n>", "CPU threads for llama.cpp (default: physical cores)", positiveInt("--threads"))
    .option("--context-size <tokens>", "context size per sequence", positiveInt("--context-size"))
    .option("--sequences <n>", "parallel sequences the sidecar will use", positiveInt("--sequences"))
    .option("--json", "print one JSON object instead of the list")
    .action(
      action(async (o: DoctorOptions & { json?: boolean }) => {
        if (o.model && o.llmUrl) throw new UsageError("give either --model FILE or --llm-url URL, not both");
        if (!o.model && !o.llmUrl) throw new UsageError("doctor needs --model FILE (GGUF) or --llm-url URL");
        const report = await runDoctor(o, (line) => process.stderr.write(`${line}\n`));
        process.stdout.write(o.json ? `${JSON.stringify(report, null, 2)}\n` : formatDoctor(report));
        if (!report.ok) process.exitCode = 1;
      }),
    );
}
