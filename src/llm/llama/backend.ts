import { basename } from "node:path";
import type { LlamaContext, LlamaModel } from "node-llama-cpp";
import { loadVariant, type PromptVariant } from "../../prompts/index.js";
import { answerSchemaOf, Interpreter } from "../interpreter.js";
import { isSyntheticGguf } from "../synthetic.js";
import type { LlmAdviceRequest, LlmAdviceResult } from "../types.js";
import { LlamaCompleter, type LlamaCompleterStats, type LlamaCompletion } from "./completer.js";
import type { GenerateOptions, GenerateResult } from "./generate.js";
import type { GpuChoice, LoadedModel } from "./load.js";
import type { PromptTokenizer } from "./prompt-tokens.js";

export { parseAdviceText } from "../interpreter.js";
export { resolveContextCount } from "./completer.js";

export interface LlamaBackendOptions {
  modelPath: string;
  /** A prompt variant, or its id / file path (default "default"). */
  prompt?: PromptVariant | string;
  gpu?: GpuChoice;
  /**
   * llama.cpp threads per context; default the physical core count divided among the contexts (at least 1).
   * On the CPU only.
   */
  threads?: number;
  /** Tokens per sequence; default: room for the prompt prefix plus 2048, within the model's trained size. */
  contextSize?: number;
  /** Parallel requests (context sequences, over all contexts); default 1. */
  sequences?: number;
  /**
   * Contexts the sequences are spread over. Each context decodes its sequences as one batch; contexts decode
   * independently, each on its own threads. Default: one on a GPU (one batch is what a GPU is fast at); on the
   * CPU, one per physical core up to the sequence count, because there each sequence's attention over its own
   * copy of the prompt prefix dominates a decode step and batching saves little, while separate single-thread
   * contexts use every core without llama.cpp's per-operation thread barriers. Must divide `sequences`.
   */
  contexts?: number;
  /** 0 (default) is greedy decoding: the same request gives the same answer. */
  temperature?: number;
  seed?: number;
  /** Cap on generated tokens; default 3072 for JSON (the grammar ends it sooner), 512 for free text. */
  maxTokens?: number;
  /** Evaluate the prompt prefix into every sequence at load time (default true) so no request pays for it. */
  warmup?: boolean;
  log?: (line: string) => void;
}

export type LlamaRuntimeStats = LlamaCompleterStats;

const TEXT_MAX_TOKENS = 512;
const JSON_MAX_TOKENS = 3072;

/** The policy interpreter over the in-process llama.cpp completer, with its diagnostics. */
export class LlamaBackend extends Interpreter<LlamaCompletion> {
  declare readonly kind: "llama";

  private constructor(
    private readonly llama: LlamaCompleter,
    variant: PromptVariant,
    opts: { modelPath: string; maxTokens: number; temperature: number },
  ) {
    super(llama, {
      kind: "llama",
      modelId: modelIdOf(llama.loaded.model, opts.modelPath),
      // From the file's own metadata, never its name: a decision made with it says it is synthetic.
      synthetic: isSyntheticGguf(llama.loaded.model.fileInfo.metadata),
      variant,
      parallelism: llama.sequences,
      maxTokens: opts.maxTokens,
      temperature: opts.temperature,
    });
  }

  static async create(opts: LlamaBackendOptions): Promise<LlamaBackend> {
    const variant = typeof opts.prompt === "object" ? opts.prompt : loadVariant(opts.prompt ?? "default");
    const schema = answerSchemaOf(variant);
    const maxTokens = opts.maxTokens ?? (schema ? JSON_MAX_TOKENS : TEXT_MAX_TOKENS);
    const completer = await LlamaCompleter.create({
      modelPath: opts.modelPath,
      prefix: variant.prefix,
      answerTokens: maxTokens,
      ...(opts.gpu !== undefined ? { gpu: opts.gpu } : {}),
      ...(opts.threads !== undefined ? { threads: opts.threads } : {}),
      ...(opts.contextSize !== undefined ? { contextSize: opts.contextSize } : {}),
      ...(opts.sequences !== undefined ? { sequences: opts.sequences } : {}),
      ...(opts.contexts !== undefined ? { contexts: opts.contexts } : {}),
      ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
      ...(opts.log ? { log: opts.log } : {}),
    });
    // The grammar is made at load time, so that no request pays for it.
    if (schema) await completer.grammarFor(schema);
    const backend = new LlamaBackend(completer, variant, {
      modelPath: opts.modelPath,
      maxTokens,
      temperature: opts.temperature ?? 0,
    });
    if (opts.warmup !== false) await backend.warmup();
    return backend;
  }

  get loaded(): LoadedModel {
    return this.llama.loaded;
  }

  get contexts(): LlamaContext[] {
    return this.llama.contexts;
  }

  get tokenizer(): PromptTokenizer {
    return this.llama.tokenizer;
  }

  /** Tokens per sequence. */
  get contextSize(): number {
    return this.llama.contextSize;
  }

  get prefixTokenCount(): number {
    return this.llama.prefixTokenCount;
  }

  /** Evaluates the prompt prefix into every sequence (done at load time unless `warmup: false`). */
  warmup(): Promise<void> {
    return this.llama.warmup();
  }

  /** advise() plus generation details: time to the first token and why generation ended. */
  async adviseDetailed(
    req: LlmAdviceRequest,
  ): Promise<LlmAdviceResult & Pick<GenerateResult, "firstTokenMs" | "finish">> {
    const { completion, ...result } = await this.interpret(req);
    return { ...result, firstTokenMs: completion.firstTokenMs, finish: completion.finish };
  }

  /**
   * Runs a raw generation on a pooled sequence: the benchmark's reference pipeline (whole prompt, free
   * text) and diagnostics use it. `grammar: true` constrains output to the variant's advice JSON.
   */
  async generate(opts: Omit<GenerateOptions, "grammar"> & { grammar?: boolean }): Promise<GenerateResult> {
    const { grammar, ...rest } = opts;
    if (grammar && !this.answerSchema) throw new Error("this backend's prompt variant has no JSON grammar");
    return this.llama.generate({
      ...rest,
      ...(grammar && this.answerSchema ? { grammar: await this.llama.grammarFor(this.answerSchema) } : {}),
      temperature: rest.temperature ?? this.temperature,
    });
  }

  /** Same as stats(), under the name the HTTP backend uses, for /v1/runtime. */
  runtime(): LlamaRuntimeStats {
    return this.stats();
  }

  stats(): LlamaRuntimeStats {
    return this.llama.stats();
  }
}

function modelIdOf(model: LlamaModel, path: string): string {
  const name = model.fileInfo.metadata.general?.name;
  const file = basename(path);
  return typeof name === "string" && name.trim() ? `${name.trim()} (${file})` : file;
}

export const createLlamaBackend = (opts: LlamaBackendOptions): Promise<LlamaBackend> =>
  LlamaBackend.create(opts);
