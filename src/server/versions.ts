import type { FastifyBaseLogger } from "fastify";
import type { Advisor } from "../advisor/types.js";
import { openLlmBackend } from "../llm/factory.js";
import type { LlmBackend } from "../llm/types.js";
import { CandidateRunner } from "../rollout/candidate.js";
import type { RolloutConfig } from "../rollout/config.js";
import { type VersionStore, versionStatus } from "../rollout/versions.js";
import type { DecisionRecord } from "../schemas/records.js";
import type { VersionSpec } from "../schemas/rollout.js";
import { Masker } from "../store/mask.js";
import type { ServeConfig } from "./config.js";

/**
 * The prompt/model versions a running sidecar serves: the live one (the last promotion recorded in the
 * decision log, else the rollout file's versions.current, else the command line) and, while one is
 * configured and not yet live, a candidate that decides the same requests in the background (A/B in
 * shadow). Backends are opened once per version name and kept, so promoting the candidate swaps in a
 * model that is already loaded, and rolling back swaps the previous one back.
 */
export class VersionManager {
  private readonly backends = new Map<string, Promise<LlmBackend>>();
  private runner: CandidateRunner | null = null;
  private liveName: string | null = null;
  /** Key of the live backend: the app closes that one through its advisor; this class closes the rest. */
  private liveKey: string | null = null;
  private readonly masker: Masker;

  constructor(
    private readonly deps: {
      config: ServeConfig;
      rollout: RolloutConfig;
      store: VersionStore;
      log: FastifyBaseLogger;
      /** Wraps a backend (circuit breaker, metrics) before it decides live requests. */
      wrapLive: (backend: LlmBackend) => LlmBackend;
      /** Builds an advisor around a backend: the server's own engine and policy. */
      makeAdvisor: (llm: LlmBackend) => Advisor;
    },
  ) {
    this.masker = new Masker(deps.rollout.mask);
  }

  /** Which version is live now, per the log and the rollout file; null: the command line's. */
  async active(): Promise<VersionSpec | null> {
    return (await versionStatus(this.deps.store, this.deps.rollout)).active;
  }

  /** Opens (or reuses) the backend of a version; a null spec means the command line's prompt and model. */
  backendFor(spec: VersionSpec | null): Promise<LlmBackend> {
    const key = keyOf(spec);
    let b = this.backends.get(key);
    if (!b) {
      const c = this.deps.config;
      const model = spec?.model ?? (c.llmUrl ? c.llmModel : c.model);
      const prompt = spec?.prompt ?? c.prompt;
      b = openLlmBackend({
        ...(c.llmUrl ? { llmUrl: c.llmUrl, ...(model ? { llmModel: model } : {}) } : model ? { model } : {}),
        ...(prompt ? { prompt } : {}),
        ...(c.temperature !== undefined ? { temperature: c.temperature } : {}),
        ...(c.contextSize !== undefined ? { contextSize: c.contextSize } : {}),
        ...(c.sequences !== undefined ? { sequences: c.sequences } : {}),
        ...(c.contexts !== undefined ? { contexts: c.contexts } : {}),
        ...(c.threads !== undefined ? { threads: c.threads } : {}),
        ...(c.llmTimeoutMs !== undefined ? { timeoutMs: c.llmTimeoutMs } : {}),
      });
      b.catch(() => this.backends.delete(key));
      this.backends.set(key, b);
    }
    return b;
  }

  /** The live backend, wrapped; remembers which version it is. */
  async openLive(): Promise<LlmBackend> {
    const spec = await this.active();
    const backend = await this.backendFor(spec);
    this.liveName = spec?.name ?? null;
    this.liveKey = keyOf(spec);
    return this.deps.wrapLive(backend);
  }

  /** Starts (or stops) the candidate runner to match the rollout file and the log. */
  async syncCandidate(): Promise<void> {
    const status = await versionStatus(this.deps.store, this.deps.rollout);
    const cand = status.candidate;
    const wanted = cand && cand.name !== status.active?.name ? cand : null;
    if (this.runner && this.runner.label !== wanted?.name) await this.stopCandidate();
    if (wanted && !this.runner) {
      const backend = await this.backendFor(wanted);
      this.runner = new CandidateRunner(this.deps.store, this.deps.makeAdvisor(backend), wanted.name, {
        maxInFlight: 1,
        // The error may quote the request (a model's answer echoing it): masked like the log's records.
        onError: (err, decisionId, input) =>
          this.deps.log.warn(
            { decisionId, err: this.masker.scrubText((err as Error).message, this.masker.secretsOf(input)) },
            "candidate version failed to decide",
          ),
      });
      this.deps.log.info({ candidate: wanted.name }, "candidate version decides beside the live one");
    }
  }

  /** True when the log names another live version than the one being served (a promotion or rollback). */
  async liveChanged(): Promise<boolean> {
    return ((await this.active())?.name ?? null) !== this.liveName;
  }

  /** Offered every committed decision: the candidate decides it off the critical path, or drops it. */
  offer(record: DecisionRecord): void {
    this.runner?.offer(record);
  }

  get candidateCounts(): CandidateRunner["counts"] | null {
    return this.runner?.counts ?? null;
  }

  /** Stops offering work to the candidate and waits for what it is deciding (before the log closes). */
  async stopCandidate(): Promise<void> {
    const r = this.runner;
    this.runner = null;
    await r?.drain();
  }

  /** Closes every backend but the live one, which the app closes with its advisor. */
  async close(): Promise<void> {
    await this.stopCandidate();
    const others = [...this.backends.entries()].filter(([k]) => k !== this.liveKey).map(([, b]) => b);
    const opened = await Promise.allSettled(others);
    await Promise.all(opened.map((r) => (r.status === "fulfilled" ? r.value.close() : undefined)));
    this.backends.clear();
  }
}

const keyOf = (spec: VersionSpec | null): string => spec?.name ?? "(command line)";
