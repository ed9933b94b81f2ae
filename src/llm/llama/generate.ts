import type { LlamaContextSequence, LlamaGrammar, Token } from "node-llama-cpp";
import { LlamaGrammarEvaluationState } from "node-llama-cpp";
import { CodedError } from "../../schemas/error-codes.js";
import type { TokenUsage } from "../types.js";
import { JsonEndDetector } from "./json-end.js";

export interface GenerateOptions {
  /** The full prompt tokens (prefix + request + assistant turn start). */
  tokens: Token[];
  /**
   * Keep the longest prefix of the sequence's evaluated tokens that matches `tokens` (default true).
   * false evaluates the whole prompt from scratch: the reference pipeline.
   */
  reusePrefix?: boolean;
  grammar?: LlamaGrammar;
  maxTokens: number;
  temperature?: number;
  seed?: number;
  /** Extra stop: return true to stop after the given text so far. */
  stopWhen?: (text: string) => boolean;
  signal?: AbortSignal;
}

export interface GenerateResult {
  text: string;
  usage: TokenUsage;
  /** Milliseconds until the first generated token: the prompt evaluation the request paid for. */
  firstTokenMs: number;
  /** Why generation ended. */
  finish: "eog" | "json_complete" | "stop" | "max_tokens";
}

export class GenerationAbortedError extends CodedError<"generation_aborted"> {
  constructor() {
    super("generation_aborted", "generation aborted");
    this.name = "GenerationAbortedError";
  }
}

/**
 * Runs one request on a context sequence. The sequence keeps whatever tokens it evaluated last time; we keep
 * the part that matches this prompt (normally the whole fixed prefix) and evaluate only the rest, then sample
 * up to maxTokens, constrained by the grammar when given.
 */
export async function generateOnSequence(
  sequence: LlamaContextSequence,
  opts: GenerateOptions,
): Promise<GenerateResult> {
  const model = sequence.model;
  const started = performance.now();
  let firstTokenMs = 0;
  const reuse = opts.reusePrefix !== false;
  let keep = 0;
  if (reuse) {
    keep = sequence.compareContextTokens(opts.tokens).firstDifferentIndex;
    // At least the last prompt token must be evaluated to get logits for the first generated token.
    if (keep >= opts.tokens.length) keep = opts.tokens.length - 1;
  }
  if (sequence.nextTokenIndex > keep) {
    await sequence.eraseContextTokenRanges([{ start: keep, end: sequence.nextTokenIndex }]);
  }
  const toEvaluate = opts.tokens.slice(keep);
  const grammarEvaluationState = opts.grammar
    ? new LlamaGrammarEvaluationState({ model, grammar: opts.grammar })
    : undefined;
  const json = opts.grammar !== undefined;
  const generated: Token[] = [];
  let text = "";
  let finish: GenerateResult["finish"] = "eog";
  const iterator = sequence.evaluate(toEvaluate, {
    temperature: opts.temperature ?? 0,
    ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
    ...(grammarEvaluationState ? { grammarEvaluationState } : {}),
  });
  // Text is decoded in runs: a run ends when it decodes cleanly (a multi-byte UTF-8 character split over
  // byte tokens decodes to U+FFFD until its last byte arrives). Linear in the answer length.
  let settled = "";
  let pending: Token[] = [];
  for await (const token of iterator) {
    if (opts.signal?.aborted) throw new GenerationAbortedError();
    if (generated.length === 0) firstTokenMs = performance.now() - started;
    generated.push(token);
    pending.push(token);
    // The preceding tokens let SentencePiece models decide whether a run starts with a space.
    const run = model.detokenize(pending, false, generated.slice(-pending.length - 8, -pending.length));
    text = settled + run;
    if (!run.endsWith("\uFFFD")) {
      settled = text;
      pending = [];
    }
    // Only a closing bracket can end the JSON value; rescan then (rare, and immune to partial characters).
    if (json && /[}\]]/.test(run) && new JsonEndDetector().push(text)) {
      finish = "json_complete";
      break;
    }
    if (opts.stopWhen?.(text)) {
      finish = "stop";
      break;
    }
    if (generated.length >= opts.maxTokens) {
      finish = "max_tokens";
      break;
    }
  }
  return {
    text,
    finish,
    firstTokenMs,
    usage: { evaluated: toEvaluate.length, reused: keep, generated: generated.length },
  };
}
