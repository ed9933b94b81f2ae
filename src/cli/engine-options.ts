import { type Command, Option } from "commander";
import { createAdvisor } from "../advisor/create.js";
import type { Advisor, EngineKind } from "../advisor/types.js";
import { type LlmBackendOptions, openLlmBackend } from "../llm/factory.js";
import { DEFAULT_POLICY_PATH, type LoadedPolicy, loadPolicy } from "../policy/load.js";
import { UsageError } from "./errors.js";
import { requireWhen } from "./usage.js";

/** Options shared by every command that decides: decide, eval, serve, replay. */
export interface EngineCliOptions
  extends Pick<
    LlmBackendOptions,
    | "model"
    | "llmUrl"
    | "llmModel"
    | "prompt"
    | "temperature"
    | "contextSize"
    | "sequences"
    | "contexts"
    | "threads"
  > {
  policy?: string;
  engine: EngineKind;
  /** --llm-timeout-ms, the backend's timeoutMs. */
  llmTimeoutMs?: number;
}

export const positiveInt = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0)
    throw new UsageError(`${name}: expected a positive whole number, got "${v}"`);
  return n;
};

export function addEngineOptions(cmd: Command): Command {
  // Named with the other missing options at once (eval --interpreter stands in for a model).
  requireWhen(cmd, (o) =>
    o.engine !== "rules" && !o.model && !o.llmUrl && !o.interpreter
      ? `'--model <gguf>' or '--llm-url <url>' (for --engine ${String(o.engine)})`
      : null,
  );
  return cmd
    .option(
      "--policy <file>",
      `policy file (YAML or JSON); default: the bundled ${DEFAULT_POLICY_PATH.split("/").slice(-2).join("/")}`,
    )
    .addOption(
      new Option("--engine <kind>", "who decides").choices(["rules", "llm", "hybrid"]).default("rules"),
    )
    .option("--model <gguf>", "local GGUF model for engine llm/hybrid (in-process llama.cpp)")
    .option(
      "--llm-url <url>",
      "OpenAI-compatible server base URL (llama.cpp server, vLLM, Ollama) for engine llm/hybrid",
    )
    .option("--llm-model <name>", "model name to request from --llm-url")
    .option("--prompt <variant>", "prompt variant id (see data/prompts/)")
    .option("--temperature <t>", "sampling temperature for the LLM", (v) => {
      const n = Number(v);
      if (!Number.isFinite(n) || n < 0 || n > 2)
        throw new UsageError(`--temperature: expected a number from 0 to 2, got "${v}"`);
      return n;
    })
    .option("--context-size <tokens>", "LLM context size in tokens", positiveInt("--context-size"))
    .option("--sequences <n>", "parallel LLM sequences (in-process)", positiveInt("--sequences"))
    .option(
      "--contexts <n>",
      "in-process: contexts the sequences are spread over (default: one per core on a CPU); must divide --sequences",
      positiveInt("--contexts"),
    )
    .option("--threads <n>", "CPU threads for llama.cpp (default: physical cores)", positiveInt("--threads"))
    .option("--llm-timeout-ms <ms>", "per-request LLM timeout", positiveInt("--llm-timeout-ms"));
}

export function policyFromOptions(o: Pick<EngineCliOptions, "policy">): LoadedPolicy {
  return o.policy ? loadPolicy(o.policy) : loadPolicy();
}

export function llmOptionsFrom(o: EngineCliOptions): LlmBackendOptions {
  return {
    model: o.model,
    llmUrl: o.llmUrl,
    llmModel: o.llmModel,
    prompt: o.prompt,
    temperature: o.temperature,
    contextSize: o.contextSize,
    sequences: o.sequences,
    contexts: o.contexts,
    threads: o.threads,
    timeoutMs: o.llmTimeoutMs,
  };
}

/** Builds the advisor the options describe; loads a model only for engine llm/hybrid. */
export async function advisorFromOptions(
  o: EngineCliOptions,
  policy: LoadedPolicy = policyFromOptions(o),
): Promise<Advisor> {
  if (o.engine === "rules") {
    if (o.model || o.llmUrl)
      process.stderr.write("note: --model/--llm-url are ignored with --engine rules\n");
    return createAdvisor({ policy, engine: "rules" });
  }
  if (!o.model && !o.llmUrl) throw new UsageError(`--engine ${o.engine} needs --model FILE or --llm-url URL`);
  if (o.contexts !== undefined && o.contexts > (o.sequences ?? 1)) {
    throw new UsageError(
      `--contexts ${o.contexts}: at most --sequences (${o.sequences ?? 1}), and it must divide it`,
    );
  }
  if (o.contexts !== undefined && (o.sequences ?? 1) % o.contexts !== 0) {
    throw new UsageError(`--contexts ${o.contexts}: must divide --sequences (${o.sequences ?? 1})`);
  }
  const llm = await openLlmBackend(llmOptionsFrom(o));
  return createAdvisor({ policy, engine: o.engine, llm });
}
