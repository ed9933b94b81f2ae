import type { EngineVerdict } from "../engine/types.js";
import type { LlmBackend } from "../llm/types.js";
import type { LoadedPolicy } from "../policy/load.js";
import type { Decision, Versions } from "../schemas/decision.js";
import type { ParsedRequest } from "../schemas/request.js";

export type EngineKind = "rules" | "llm" | "hybrid";

export interface AdvisorOptions {
  policy?: LoadedPolicy;
  engine?: EngineKind;
  /** Required for engine "llm" and "hybrid". */
  llm?: LlmBackend;
}

export interface AdviseOptions {
  /** Abort the LLM part; the answer is then the fail-closed fallback. */
  signal?: AbortSignal;
  /** Milliseconds before the fail-closed fallback answers. */
  deadlineMs?: number;
  /**
   * When the caller stops waiting (epoch ms), if the caller enforces the deadline itself: a remote
   * interpreter carries it with its job, so that a worker does not run what nobody waits for any more.
   */
  deadlineAt?: number;
  /** Use this id instead of a fresh one (e.g. an async job id). */
  decisionId?: string;
  /** The rules' verdict on this very request, when the caller already has it: the rules run once. */
  verdict?: EngineVerdict;
}

/** The in-process API: validate, decide, explain. Transport- and storage-agnostic. */
export interface Advisor {
  readonly engine: EngineKind;
  readonly policy: LoadedPolicy;
  versions(): Versions;
  /** Validates (throws InvalidRequestError) then decides. */
  advise(input: unknown, opts?: AdviseOptions): Promise<Decision>;
  adviseParsed(req: ParsedRequest, opts?: AdviseOptions): Promise<Decision>;
  /** The rules engine's verdict alone (pure, microseconds): facts for caching, routing and tiers. */
  verdict(req: ParsedRequest): EngineVerdict;
  close(): Promise<void>;
}
