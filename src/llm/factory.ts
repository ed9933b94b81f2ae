import type { LlmBackend } from "./types.js";

/** How to reach a model: a local GGUF file (in-process llama.cpp) or an OpenAI-compatible server. */
export interface LlmBackendOptions {
  model?: string;
  llmUrl?: string;
  llmModel?: string;
  /** Prompt variant id (default: the registry's default variant). */
  prompt?: string;
  temperature?: number;
  contextSize?: number;
  sequences?: number;
  /** In-process: contexts the sequences are spread over (one per core suits a CPU); must divide sequences. */
  contexts?: number;
  threads?: number;
  gpu?: boolean;
  timeoutMs?: number;
}

/**
 * Opens the backend the options name. The in-process branch belongs to src/llm/llama/, the HTTP branch
 * to src/llm/openai/; each registers its opener here.
 */
export type BackendOpener = (opts: LlmBackendOptions) => Promise<LlmBackend>;

const openers: { llama?: BackendOpener; openai?: BackendOpener } = {};

export function registerBackendOpener(kind: "llama" | "openai", opener: BackendOpener): void {
  openers[kind] = opener;
}

export async function openLlmBackend(opts: LlmBackendOptions): Promise<LlmBackend> {
  if (opts.model && opts.llmUrl) throw new Error("give either --model FILE or --llm-url URL, not both");
  const kind = opts.model ? "llama" : opts.llmUrl ? "openai" : undefined;
  if (!kind) throw new Error("engine llm and hybrid need a model: --model FILE (GGUF) or --llm-url URL");
  const opener = openers[kind] ?? (await loadOpener(kind));
  return opener(opts);
}

/** Backends load lazily so that the rules-only path never pays for node-llama-cpp. */
async function loadOpener(kind: "llama" | "openai"): Promise<BackendOpener> {
  const mod = (await import(kind === "llama" ? "./llama/open.js" : "./openai/open.js")) as {
    open: BackendOpener;
  };
  return mod.open;
}
