import type { RenderedPrompt } from "../prompts/index.js";
import type { AnswerJsonSchema } from "./parse/advice-schema.js";
import type { TokenUsage } from "./types.js";

/**
 * What the interpreter (src/llm/interpreter.ts) asks of a model: complete a rendered prompt, constrained to
 * a JSON schema when one is given. A completer knows nothing of advice, parsing or prompt variants; the
 * in-process llama.cpp completer and the OpenAI-compatible one differ only in how they get the text.
 */
export interface CompletionRequest {
  prompt: RenderedPrompt;
  /** The schema the answer must match; undefined asks for free text. */
  jsonSchema?: AnswerJsonSchema;
  /** Cap on generated tokens (a completer may lower it to what its context has room for). */
  maxTokens: number;
  temperature: number;
  signal?: AbortSignal;
}

/**
 * How a completion was constrained, which decides how exactly its text is read:
 * - "enforced": sampling followed the schema (a grammar), so the text is the schema's JSON unless it was
 *   cut short; it is checked against the schema exactly.
 * - "requested": the server accepted the schema (response_format) but is not trusted to have kept it.
 * - "none": free text (no schema asked for, or the server refused it).
 */
export type Constraint = "enforced" | "requested" | "none";

export interface Completion {
  text: string;
  usage: TokenUsage;
  /** Why the answer ended; "max_tokens" means it was cut at the cap. */
  finish: "eog" | "json_complete" | "stop" | "max_tokens";
  constraint: Constraint;
  /** The server's refusal text, when it declined to answer (OpenAI's `message.refusal`). */
  refusal?: string;
}

/** A backend that only completes text. `C` narrows the completion for a completer that reports more. */
export interface TextCompleter<C extends Completion = Completion> {
  complete(req: CompletionRequest): Promise<C>;
  close(): Promise<void>;
}
