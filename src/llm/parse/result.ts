import type { ModelAdvice } from "../../schemas/decision.js";
import { CodedError } from "../../schemas/error-codes.js";

export type ParseFailureCode =
  /** Nothing but whitespace came back. */
  | "empty"
  /** No JSON object and no labelled answer in the text. */
  | "no_answer"
  /** An answer was found but a required field is missing. */
  | "missing_field"
  /** A field is present with a value that is not one of the allowed ones. */
  | "invalid_value"
  /** The decision field names several decisions, or negates one ("do not allow"). */
  | "ambiguous_decision"
  /** Several answers in the text disagree. */
  | "conflicting_answers";

/** Why a model's text could not become advice. The caller fails closed (require_attestation). */
export interface ParseFailure {
  code: ParseFailureCode;
  message: string;
  field?: string;
}

export type ParseFailed = { ok: false; failure: ParseFailure };

/** A parser's result; `A` narrows the advice for a parser that knows its shape (free text is always full). */
export type ParseResult<A extends ModelAdvice = ModelAdvice> =
  | { ok: true; advice: A; format: "json" | "text"; warnings: string[] }
  | ParseFailed;

export const failure = (code: ParseFailureCode, message: string, field?: string): ParseFailed => ({
  ok: false,
  failure: field === undefined ? { code, message } : { code, message, field },
});

/** Raised by callers that prefer exceptions (the backends); carries the typed failure. */
export class AdviceParseError extends CodedError<"model_output"> {
  constructor(readonly failure: ParseFailure) {
    super("model_output", `unparseable model answer (${failure.code}): ${failure.message}`);
    this.name = "AdviceParseError";
  }
}
