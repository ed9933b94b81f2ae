import { CodedError } from "../../schemas/error-codes.js";

/** Why a model could not be loaded; `code` lets callers (doctor, /ready) give a precise hint. */
export type LlmLoadErrorCode = "model_not_found" | "not_gguf" | "out_of_memory" | "load_failed";

export class LlmLoadError extends CodedError<LlmLoadErrorCode> {
  constructor(
    code: LlmLoadErrorCode,
    message: string,
    readonly hint?: string,
  ) {
    super(code, message);
    this.name = "LlmLoadError";
  }
}

/** The model answered but the answer is unusable (the advisor then fails closed). */
export class LlmOutputError extends CodedError<"model_output"> {
  constructor(
    message: string,
    readonly raw: string,
  ) {
    super("model_output", message);
    this.name = "LlmOutputError";
  }
}
