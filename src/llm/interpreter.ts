import { type PromptVariant, renderPrompt } from "../prompts/index.js";
import type { AnswerShape, ModelAdvice } from "../schemas/decision.js";
import type { Completion, Constraint, TextCompleter } from "./completer.js";
import { type AnswerJsonSchema, answerJsonSchema } from "./parse/advice-schema.js";
import { parseExactJson } from "./parse/exact.js";
import { parseAdvice } from "./parse/index.js";
import { AdviceParseError, type ParseResult } from "./parse/result.js";
import type { LlmAdviceRequest, LlmAdviceResult, LlmBackend } from "./types.js";

/**
 * The policy interpreter, once for every backend: it renders the variant's prompt, chooses the JSON schema
 * the answer must match, has a completer (in-process llama.cpp, an OpenAI-compatible server) complete it,
 * and reads the text as advice. Its public face is LlmBackend, so metering and the circuit breaker wrap it
 * whatever completes the text. The guard rails stay in the advisor (src/advisor/hybrid.ts).
 */

/** The schema a variant's answers must match: its answer shape's for a JSON variant, none for free text. */
export function answerSchemaOf(
  variant: Pick<PromptVariant, "format" | "answer">,
): AnswerJsonSchema | undefined {
  return variant.format === "json" ? answerJsonSchema(variant.answer) : undefined;
}

/**
 * Converts a model's text to advice, or throws AdviceParseError (the advisor then fails closed). Text a
 * grammar constrained (`enforced`, the default for JSON) is checked against the answer shape's schema
 * exactly; any other text is read by the lenient parser, the expected format first.
 */
export function parseAdviceText(
  text: string,
  format: "json" | "text",
  answer: AnswerShape = "full",
  enforced = format === "json",
): ModelAdvice {
  return adviceOrThrow(readText(text, format, answer, enforced ? "enforced" : "none"));
}

function readText(text: string, format: "json" | "text", answer: AnswerShape, constraint: Constraint) {
  return constraint === "enforced" ? parseExactJson(text, answer) : parseAdvice(text, format);
}

function adviceOrThrow(r: ParseResult, suffix = ""): ModelAdvice {
  if (!r.ok) throw new AdviceParseError({ ...r.failure, message: `${r.failure.message}${suffix}` });
  return r.advice;
}

/** The advice in a completion, or AdviceParseError naming why not (a refusal, a cut answer, bad text). */
export function adviceOf(
  completion: Completion,
  variant: Pick<PromptVariant, "format" | "answer">,
): ModelAdvice {
  if (!completion.text && completion.refusal) {
    throw new AdviceParseError({
      code: "no_answer",
      message: `the model refused: ${completion.refusal.slice(0, 200)}`,
    });
  }
  const r = readText(completion.text, variant.format, variant.answer, completion.constraint);
  return adviceOrThrow(r, completion.finish === "max_tokens" ? " (the answer was cut at max_tokens)" : "");
}

export interface InterpreterOptions {
  kind: LlmBackend["kind"];
  /** Model id recorded in versions.model. */
  modelId: string;
  /** The project's synthetic GGUF (random weights): recorded as versions.modelSynthetic. */
  synthetic?: boolean;
  variant: PromptVariant;
  /** Requests it can run at once. */
  parallelism: number;
  /** Cap on an answer's tokens. */
  maxTokens: number;
  temperature: number;
}

/** An interpreted advisory together with the completion it came from. */
export type Interpreted<C extends Completion> = LlmAdviceResult & { completion: C };

export class Interpreter<C extends Completion = Completion> implements LlmBackend {
  readonly kind: LlmBackend["kind"];
  readonly modelId: string;
  readonly synthetic: boolean;
  readonly promptVersion: string;
  readonly parallelism: number;
  readonly variant: PromptVariant;
  /** What every answer must match: undefined for a free-text variant. */
  readonly answerSchema: AnswerJsonSchema | undefined;
  readonly maxTokens: number;
  readonly temperature: number;
  private failed = 0;

  constructor(
    protected readonly completer: TextCompleter<C>,
    opts: InterpreterOptions,
  ) {
    this.kind = opts.kind;
    this.modelId = opts.modelId;
    this.synthetic = opts.synthetic === true;
    this.variant = opts.variant;
    this.promptVersion = opts.variant.version;
    this.parallelism = opts.parallelism;
    this.answerSchema = answerSchemaOf(opts.variant);
    this.maxTokens = opts.maxTokens;
    this.temperature = opts.temperature;
  }

  /** Advisories that ended in an error: the model's, or an answer that did not parse. */
  get failures(): number {
    return this.failed;
  }

  async advise(req: LlmAdviceRequest): Promise<LlmAdviceResult> {
    const { completion: _completion, ...result } = await this.interpret(req);
    return result;
  }

  /** advise() with the completion it read, for a backend's detailed diagnostics. */
  protected async interpret(req: LlmAdviceRequest): Promise<Interpreted<C>> {
    const started = performance.now();
    const prompt = renderPrompt(this.variant, { situation: req.situation, verdict: req.verdict });
    try {
      const completion = await this.completer.complete({
        prompt,
        ...(this.answerSchema ? { jsonSchema: this.answerSchema } : {}),
        maxTokens: this.maxTokens,
        temperature: this.temperature,
        ...(req.signal ? { signal: req.signal } : {}),
      });
      const advice = adviceOf(completion, this.variant);
      return {
        advice,
        usage: completion.usage,
        ms: performance.now() - started,
        raw: completion.text,
        completion,
      };
    } catch (err) {
      this.failed++;
      throw err;
    }
  }

  close(): Promise<void> {
    return this.completer.close();
  }
}
