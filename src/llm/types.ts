import type { EngineVerdict } from "../engine/types.js";
import type { ModelAdvice } from "../schemas/decision.js";
import type { Situation } from "../schemas/situation.js";

/** Token accounting for one advisory, used by metrics and the benchmark. */
export interface TokenUsage {
  /** Prompt tokens evaluated for this request (excludes a reused cached prefix). */
  evaluated: number;
  /** Prompt tokens reused from a cached prefix. */
  reused: number;
  generated: number;
}

export interface LlmAdviceRequest {
  situation: Situation;
  /** What the rules found (signals, facts), given to the model as context. */
  verdict: EngineVerdict;
  signal?: AbortSignal;
}

export interface LlmAdviceResult {
  /** In the prompt variant's answer shape: full (four checks) or compact (decision and context only). */
  advice: ModelAdvice;
  usage: TokenUsage;
  ms: number;
  /** The model's raw text, kept for the decision log. */
  raw: string;
}

/** A model that can advise: in-process llama.cpp or an OpenAI-compatible server. */
export interface LlmBackend {
  readonly kind: "llama" | "openai";
  /** Model id recorded in versions.model. */
  readonly modelId: string;
  /** True for the project's synthetic GGUF (random weights): recorded as versions.modelSynthetic. */
  readonly synthetic?: boolean;
  /** "variant@hash" of the prompt in use, recorded in versions.prompt. */
  readonly promptVersion: string;
  /** How many requests it can run at once (context sequences, or server concurrency). */
  readonly parallelism: number;
  advise(req: LlmAdviceRequest): Promise<LlmAdviceResult>;
  close(): Promise<void>;
}
