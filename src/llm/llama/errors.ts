/** Why a model could not be loaded; `code` lets callers (doctor, /ready) give a precise hint. */
export type LlmLoadErrorCode = "model_not_found" | "not_gguf" | "out_of_memory" | "load_failed";

export class LlmLoadError extends Error {
  constructor(
    readonly code: LlmLoadErrorCode,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = "LlmLoadError";
  }
}

/** The model answered but the answer is unusable (the advisor then fails closed). */
export class LlmOutputError extends Error {
  constructor(
    message: string,
    readonly raw: string,
  ) {
    super(message);
    this.name = "LlmOutputError";
  }
}
