import type { LlmAdviceRequest, LlmAdviceResult, LlmBackend } from "../llm/types.js";
import type { ServerMetrics } from "./metrics.js";

/**
 * Wraps a model backend so that every advisory's tokens and time reach the metrics. The wrapped backend
 * does the work; this only observes it.
 */
export function meteredLlm(inner: LlmBackend, metrics: ServerMetrics): LlmBackend {
  const metered: LlmBackend = {
    kind: inner.kind,
    get modelId() {
      return inner.modelId;
    },
    get synthetic() {
      return inner.synthetic;
    },
    get promptVersion() {
      return inner.promptVersion;
    },
    get parallelism() {
      return inner.parallelism;
    },
    async advise(req: LlmAdviceRequest): Promise<LlmAdviceResult> {
      const started = performance.now();
      try {
        const result = await inner.advise(req);
        metrics.llmTokens.inc({ kind: "evaluated" }, result.usage.evaluated);
        metrics.llmTokens.inc({ kind: "reused" }, result.usage.reused);
        metrics.llmTokens.inc({ kind: "generated" }, result.usage.generated);
        metrics.llmDuration.observe({ outcome: "ok" }, (performance.now() - started) / 1000);
        return result;
      } catch (err) {
        metrics.llmDuration.observe({ outcome: "error" }, (performance.now() - started) / 1000);
        throw err;
      }
    },
    close: () => inner.close(),
  };
  return metered;
}
