import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { GbnfJsonSchema, LlamaContext, LlamaGrammar } from "node-llama-cpp";
import type { Completion, CompletionRequest, TextCompleter } from "../completer.js";
import type { AnswerJsonSchema } from "../parse/advice-schema.js";
import type { TokenUsage } from "../types.js";
import { physicalCores } from "./cpu.js";
import { type GenerateOptions, type GenerateResult, generateOnSequence } from "./generate.js";
import { classifyLoadError, type GpuChoice, type LoadedModel, loadModel } from "./load.js";
import { SequencePool } from "./pool.js";
import { PromptTokenizer } from "./prompt-tokens.js";

export interface LlamaCompleterOptions {
  modelPath: string;
  /** The fixed prompt prefix every request starts with: the contexts are sized for it and warmed with it. */
  prefix: string;
  /** Room to leave for an answer when sizing the contexts. */
  answerTokens: number;
  gpu?: GpuChoice;
  threads?: number;
  contextSize?: number;
  sequences?: number;
  contexts?: number;
  seed?: number;
  log?: (line: string) => void;
}

export interface LlamaCompleterStats {
  device: string;
  gpuLayers: number;
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

/** A llama.cpp completion: the time to its first token as well. */
export type LlamaCompletion = Completion & Pick<GenerateResult, "firstTokenMs" | "finish">;

/** Room for the per-request part (situation and findings, bounded by the renderer) in the default context size. */
const REQUEST_TOKEN_BUDGET = 2048;

/**
 * Completes text in-process on a pool of llama.cpp context sequences that keep the prompt prefix evaluated.
 * A JSON schema becomes a llama.cpp grammar (made once per schema), which makes sampling follow it.
 */
export class LlamaCompleter implements TextCompleter<LlamaCompletion> {
  private requests = 0;
  private readonly totals: TokenUsage = { evaluated: 0, reused: 0, generated: 0 };
  private readonly grammars = new Map<AnswerJsonSchema, Promise<LlamaGrammar>>();

  private constructor(
    readonly loaded: LoadedModel,
    readonly contexts: LlamaContext[],
    readonly tokenizer: PromptTokenizer,
    readonly prefix: string,
    private readonly pool: SequencePool,
    /** llama.cpp threads per context. */
    readonly threads: number,
    private readonly seed: number | undefined,
  ) {}

  static async create(opts: LlamaCompleterOptions): Promise<LlamaCompleter> {
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
    const prefixTokens = tokenizer.sharedPrefix(opts.prefix).length;
    const contextCount = resolveContextCount(opts.contexts, sequences, loaded.device, physicalCores());
    const threads = opts.threads ?? Math.max(1, Math.floor(loaded.threads / contextCount));
    const contextSize =
      opts.contextSize ??
      Math.min(
        loaded.model.trainContextSize,
        Math.ceil((prefixTokens + REQUEST_TOKEN_BUDGET + opts.answerTokens) / 256) * 256,
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
    return new LlamaCompleter(
      loaded,
      contexts,
      tokenizer,
      opts.prefix,
      new SequencePool(contexts, perContext),
      threads,
      opts.seed,
    );
  }

  /** The grammar that makes sampling follow a schema; made once per schema (it takes milliseconds). */
  grammarFor(schema: AnswerJsonSchema): Promise<LlamaGrammar> {
    let grammar = this.grammars.get(schema);
    if (!grammar) {
      // Widened: the grammar's typed parse of its output goes unused (src/llm/parse reads the text).
      const widened: GbnfJsonSchema = schema;
      grammar = this.loaded.llama.createGrammarForJsonSchema(widened);
      this.grammars.set(schema, grammar);
    }
    return grammar;
  }

  /**
   * Puts the prompt prefix into every sequence. The first sequence evaluates it; the others (of every
   * context: all contexts have the same shape, which a saved state requires) load a copy of that state, so
   * the prefix is computed once however many sequences and contexts there are.
   */
  async warmup(): Promise<void> {
    const tokens = this.tokenizer.sharedPrefix(this.prefix);
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

  get sequences(): number {
    return this.pool.sequences.length;
  }

  get prefixTokenCount(): number {
    return this.tokenizer.sharedPrefix(this.prefix).length;
  }

  async complete(req: CompletionRequest): Promise<LlamaCompletion> {
    const tokens = this.tokenizer.chat(req.prompt.prefix, req.prompt.request);
    // Never let llama.cpp shift the context (it would drop the start of the prompt): the answer must fit.
    const room = this.contextSize - tokens.length;
    if (room < 64) {
      throw new Error(
        `the prompt (${tokens.length} tokens) does not fit the context (${this.contextSize} tokens per sequence): ` +
          "raise --context-size",
      );
    }
    const grammar = req.jsonSchema ? await this.grammarFor(req.jsonSchema) : undefined;
    const result = await this.generate({
      tokens,
      ...(grammar ? { grammar } : {}),
      maxTokens: Math.min(req.maxTokens, room),
      temperature: req.temperature,
      ...(this.seed !== undefined ? { seed: this.seed } : {}),
      ...(req.signal ? { signal: req.signal } : {}),
    });
    this.requests++;
    this.totals.evaluated += result.usage.evaluated;
    this.totals.reused += result.usage.reused;
    this.totals.generated += result.usage.generated;
    return { ...result, constraint: grammar ? "enforced" : "none" };
  }

  /** One generation on a pooled sequence, uncounted: complete() and the diagnostics use it. */
  async generate(opts: GenerateOptions): Promise<GenerateResult> {
    const seq = await this.pool.acquire(opts.signal);
    try {
      return await generateOnSequence(seq, opts);
    } finally {
      this.pool.release(seq);
    }
  }

  stats(): LlamaCompleterStats {
    return {
      device: this.loaded.device,
      gpuLayers: this.loaded.gpuLayers,
      threads: this.threads,
      contextSize: this.contextSize,
      sequences: this.sequences,
      contexts: this.contexts.length,
      busy: this.pool.busy,
      waiting: this.pool.waiting,
      requests: this.requests,
      prefixTokens: this.prefixTokenCount,
      tokens: { ...this.totals },
    };
  }

  private closing: Promise<void> | undefined;

  /** Frees the contexts and the model; safe to call more than once. */
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
