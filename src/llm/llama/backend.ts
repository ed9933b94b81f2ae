import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import type { Llama, LlamaContext, LlamaGrammar, LlamaModel } from "node-llama-cpp";
import { loadVariant, type PromptVariant, renderPrompt } from "../../prompts/index.js";
import {
  AdviceSchema,
  type AnswerShape,
  CompactAdviceSchema,
  isCompactAdvice,
} from "../../schemas/decision.js";
import { ADVICE_JSON_SCHEMA, COMPACT_ADVICE_JSON_SCHEMA } from "../parse/advice-schema.js";
import { cleanText, normaliseClassification } from "../parse/normalise.js";
import { AdviceParseError } from "../parse/result.js";
import { parseFreeText } from "../parse/text.js";
import { isSyntheticGguf } from "../synthetic.js";
import type { LlmAdviceRequest, LlmAdviceResult, LlmBackend, TokenUsage } from "../types.js";
import { physicalCores } from "./cpu.js";
import { type GenerateOptions, type GenerateResult, generateOnSequence } from "./generate.js";
import { classifyLoadError, type GpuChoice, type LoadedModel, loadModel } from "./load.js";
import { SequencePool } from "./pool.js";
import { PromptTokenizer } from "./prompt-tokens.js";

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

export interface LlamaRuntimeStats {
  device: string;
  gpuLayers: number;
  /** llama.cpp threads per context. */
  threads: number;
  contextSize: number;
  sequences: number;
  contexts: number;
  busy: number;
  waiting: number;
  requests: number;
  prefixTokens: number;
  tokens: TokenUsage;
}

const TEXT_MAX_TOKENS = 512;
const JSON_MAX_TOKENS = 3072;
/** Room for the per-request part (situation and findings, bounded by the renderer) in the default context size. */
const REQUEST_TOKEN_BUDGET = 2048;

/**
 * Converts the model's text to advice, or throws AdviceParseError (the advisor then fails closed). JSON came
 * from the grammar of the variant's answer shape, so it is checked against that shape's schema exactly.
 */
export function parseAdviceText(
  text: string,
  format: "json" | "text",
  answer: AnswerShape = "full",
): LlmAdviceResult["advice"] {
  if (format === "text") {
    const r = parseFreeText(text);
    if (!r.ok) throw new AdviceParseError(r.failure);
    return r.advice;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new AdviceParseError({ code: "no_answer", message: `not JSON: ${(err as Error).message}` });
  }
  const r = (answer === "compact" ? CompactAdviceSchema : AdviceSchema).safeParse(value);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new AdviceParseError({
      code: "invalid_value",
      message: `the JSON does not match the ${answer} advice schema: ${issue?.path.join(".") || "(root)"}: ${issue?.message}`,
    });
  }
  // The grammar bounds the label's length, not its form: make it the snake_case label the contract shows, as
  // the JSON and free-text parsers do for a server's answer.
  const classification = normaliseClassification(r.data.classification) || "unclassified";
  const advice = r.data;
  // Whitespace-only text reads as missing, as the parsers mark it.
  const said = (t: string) => cleanText(t) || "(not stated)";
  if (isCompactAdvice(advice)) return { ...advice, classification, context: said(advice.context) };
  const reasoning = advice.reasoning;
  return {
    ...advice,
    classification,
    reasoning: {
      roleCheck: said(reasoning.roleCheck),
      trustCheck: said(reasoning.trustCheck),
      environment: said(reasoning.environment),
      context: said(reasoning.context),
    },
  };
}

/** The in-process llama.cpp policy interpreter. */
export class LlamaBackend implements LlmBackend {
  readonly kind = "llama" as const;
  readonly modelId: string;
  readonly synthetic: boolean;
  readonly promptVersion: string;
  readonly parallelism: number;
  private requests = 0;
  private readonly totals: TokenUsage = { evaluated: 0, reused: 0, generated: 0 };

  private constructor(
    readonly loaded: LoadedModel,
    readonly contexts: LlamaContext[],
    readonly variant: PromptVariant,
    readonly tokenizer: PromptTokenizer,
    private readonly pool: SequencePool,
    private readonly grammar: LlamaGrammar | undefined,
    private readonly opts: LlamaBackendOptions,
  ) {
    this.modelId = modelIdOf(loaded.model, opts.modelPath);
    this.synthetic = isSyntheticGguf(loaded.model.fileInfo.metadata);
    this.promptVersion = variant.version;
    this.parallelism = pool.sequences.length;
  }

  static async create(opts: LlamaBackendOptions): Promise<LlamaBackend> {
    const variant = typeof opts.prompt === "object" ? opts.prompt : loadVariant(opts.prompt ?? "default");
    const sequences = Math.max(1, opts.sequences ?? 1);
    // A bad count is the caller's error: say so before spending seconds on loading the model.
    if (opts.contexts !== undefined) resolveContextCount(opts.contexts, sequences, "cpu", 1);
    const loaded = await loadModel({
      modelPath: opts.modelPath,
      ...(opts.gpu !== undefined ? { gpu: opts.gpu } : {}),
      ...(opts.threads !== undefined ? { threads: opts.threads } : {}),
      ...(opts.log ? { log: opts.log } : {}),
    });
    const tokenizer = new PromptTokenizer(loaded.model);
    const prefixTokens = tokenizer.sharedPrefix(variant.prefix).length;
    const contextCount = resolveContextCount(opts.contexts, sequences, loaded.device, physicalCores());
    const threads = opts.threads ?? Math.max(1, Math.floor(loaded.threads / contextCount));
    const answerTokens = opts.maxTokens ?? (variant.format === "json" ? JSON_MAX_TOKENS : TEXT_MAX_TOKENS);
    const contextSize =
      opts.contextSize ??
      Math.min(
        loaded.model.trainContextSize,
        Math.ceil((prefixTokens + REQUEST_TOKEN_BUDGET + answerTokens) / 256) * 256,
      );
    const perContext = sequences / contextCount;
    if (contextCount > 1) {
      (opts.log ?? ((line: string) => process.stderr.write(`${line}\n`)))(
        `llm: ${sequences} sequences over ${contextCount} contexts, ${threads} thread(s) each`,
      );
    }
    const contexts: LlamaContext[] = [];
    try {
      for (let i = 0; i < contextCount; i++) {
        contexts.push(
          await loaded.model.createContext({
            contextSize,
            sequences: perContext,
            threads,
            // One batch can then carry a whole prefix, or one decode step of every sequence.
            batchSize: Math.min(2048, contextSize),
          }),
        );
      }
    } catch (err) {
      for (const c of contexts) await c.dispose();
      await loaded.model.dispose();
      throw classifyLoadError(
        err,
        `${contextCount} context(s) of ${perContext} x ${contextSize} tokens (${sequences} sequences)`,
      );
    }
    const grammar = variant.format === "json" ? await answerGrammar(loaded.llama, variant.answer) : undefined;
    const backend = new LlamaBackend(
      loaded,
      contexts,
      variant,
      tokenizer,
      new SequencePool(contexts, perContext),
      grammar,
      { ...opts, threads },
    );
    if (opts.warmup !== false) await backend.warmup();
    return backend;
  }

  /**
   * Puts the prompt prefix into every sequence. The first sequence evaluates it; the others (of every
   * context: all contexts have the same shape, which a saved state requires) load a copy of that state, so
   * the prefix is computed once however many sequences and contexts there are.
   */
  async warmup(): Promise<void> {
    const tokens = this.tokenizer.sharedPrefix(this.variant.prefix);
    const [first, ...rest] = this.pool.sequences;
    if (!first) return;
    await first.clearHistory();
    await first.evaluateWithoutGeneratingNewTokens(tokens);
    this.totals.evaluated += tokens.length;
    if (rest.length === 0) return;
    const dir = mkdtempSync(join(tmpdir(), "policy-advisor-prefix-"));
    try {
      const file = join(dir, "prefix.state");
      await first.saveStateToFile(file);
      for (const seq of rest) {
        await seq.clearHistory();
        await seq.loadStateFromFile(file, { acceptRisk: true });
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  /** Tokens per sequence. */
  get contextSize(): number {
    return this.contexts[0]?.contextSize ?? 0;
  }

  get prefixTokenCount(): number {
    return this.tokenizer.sharedPrefix(this.variant.prefix).length;
  }

  async advise(req: LlmAdviceRequest): Promise<LlmAdviceResult> {
    const { firstTokenMs: _first, finish: _finish, ...result } = await this.adviseDetailed(req);
    return result;
  }

  /** advise() plus generation details: time to the first token and why generation ended. */
  async adviseDetailed(
    req: LlmAdviceRequest,
  ): Promise<LlmAdviceResult & Pick<GenerateResult, "firstTokenMs" | "finish">> {
    const started = performance.now();
    const rendered = renderPrompt(this.variant, { situation: req.situation, verdict: req.verdict });
    const tokens = this.tokenizer.chat(rendered.prefix, rendered.request);
    // Never let llama.cpp shift the context (it would drop the start of the prompt): the answer must fit.
    const room = this.contextSize - tokens.length;
    if (room < 64) {
      throw new Error(
        `the prompt (${tokens.length} tokens) does not fit the context (${this.contextSize} tokens per sequence): ` +
          "raise --context-size",
      );
    }
    const maxTokens = Math.min(
      this.opts.maxTokens ?? (this.grammar ? JSON_MAX_TOKENS : TEXT_MAX_TOKENS),
      room,
    );
    const seq = await this.pool.acquire(req.signal);
    try {
      const result = await generateOnSequence(seq, {
        tokens,
        ...(this.grammar ? { grammar: this.grammar } : {}),
        maxTokens,
        temperature: this.opts.temperature ?? 0,
        ...(this.opts.seed !== undefined ? { seed: this.opts.seed } : {}),
        ...(req.signal ? { signal: req.signal } : {}),
      });
      this.requests++;
      this.totals.evaluated += result.usage.evaluated;
      this.totals.reused += result.usage.reused;
      this.totals.generated += result.usage.generated;
      const advice = parseAdviceText(result.text, this.variant.format, this.variant.answer);
      return {
        advice,
        usage: result.usage,
        ms: performance.now() - started,
        raw: result.text,
        firstTokenMs: result.firstTokenMs,
        finish: result.finish,
      };
    } finally {
      this.pool.release(seq);
    }
  }

  /**
   * Runs a raw generation on a pooled sequence: the benchmark's reference pipeline (whole prompt, free
   * text) and diagnostics use it. `grammar: true` constrains output to the variant's advice JSON.
   */
  async generate(opts: Omit<GenerateOptions, "grammar"> & { grammar?: boolean }): Promise<GenerateResult> {
    const { grammar, ...rest } = opts;
    if (grammar && !this.grammar) throw new Error("this backend's prompt variant has no JSON grammar");
    const seq = await this.pool.acquire(opts.signal);
    try {
      return await generateOnSequence(seq, {
        ...rest,
        ...(grammar && this.grammar ? { grammar: this.grammar } : {}),
        temperature: rest.temperature ?? this.opts.temperature ?? 0,
      });
    } finally {
      this.pool.release(seq);
    }
  }

  /** Same as stats(), under the name the HTTP backend uses, for /v1/runtime. */
  runtime(): LlamaRuntimeStats {
    return this.stats();
  }

  stats(): LlamaRuntimeStats {
    return {
      device: this.loaded.device,
      gpuLayers: this.loaded.gpuLayers,
      threads: this.opts.threads ?? this.loaded.threads,
      contextSize: this.contextSize,
      sequences: this.parallelism,
      contexts: this.contexts.length,
      busy: this.pool.busy,
      waiting: this.pool.waiting,
      requests: this.requests,
      prefixTokens: this.prefixTokenCount,
      tokens: { ...this.totals },
    };
  }

  private closing: Promise<void> | undefined;

  /** Frees the context and the model; safe to call more than once. */
  close(): Promise<void> {
    this.closing ??= this.dispose();
    return this.closing;
  }

  private async dispose(): Promise<void> {
    this.pool.close();
    for (const context of this.contexts) await context.dispose();
    await this.loaded.model.dispose();
  }
}

/**
 * How many contexts to spread `sequences` over: the caller's choice (which must divide the sequence count),
 * else one on a GPU and, on the CPU, the largest divisor of `sequences` that is at most the core count.
 */
export function resolveContextCount(
  requested: number | undefined,
  sequences: number,
  device: string,
  cores: number,
): number {
  if (requested !== undefined) {
    if (
      !Number.isInteger(requested) ||
      requested < 1 ||
      requested > sequences ||
      sequences % requested !== 0
    ) {
      throw new Error(
        `contexts: ${requested} must be a whole number from 1 to ${sequences} that divides the sequence count (${sequences})`,
      );
    }
    return requested;
  }
  if (device !== "cpu") return 1;
  for (let n = Math.min(sequences, Math.max(1, cores)); n > 1; n--) {
    if (sequences % n === 0) return n;
  }
  return 1;
}

/** The JSON-schema grammar of an answer shape (one call per shape: the schema types differ). */
function answerGrammar(llama: Llama, shape: AnswerShape): Promise<LlamaGrammar> {
  return shape === "compact"
    ? llama.createGrammarForJsonSchema(COMPACT_ADVICE_JSON_SCHEMA)
    : llama.createGrammarForJsonSchema(ADVICE_JSON_SCHEMA);
}

function modelIdOf(model: LlamaModel, path: string): string {
  const name = model.fileInfo.metadata.general?.name;
  const file = basename(path);
  return typeof name === "string" && name.trim() ? `${name.trim()} (${file})` : file;
}

export const createLlamaBackend = (opts: LlamaBackendOptions): Promise<LlamaBackend> =>
  LlamaBackend.create(opts);
