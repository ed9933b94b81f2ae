/**
 * What the decision pipeline needs from the outside, as plain interfaces: the adapters (HTTP server, CLI,
 * a library user) pass their logger, their metrics and their decision log in. Nothing here names Fastify,
 * prom-client or SQL; a pino logger and prom-client metrics fit these shapes as they are.
 */

/** A structured logger (pino's call shape: fields first, then the message). */
export interface PipelineLogger {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

/** Logs nothing: for library users who pass no logger. */
export const silentLogger: PipelineLogger = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

type Labels = Record<string, string>;

/** A counter with labels (prom-client's Counter fits). */
export interface CounterPort {
  inc(labels: Labels): void;
}

/** A counter without labels. */
export interface PlainCounterPort {
  inc(): void;
}

/** A histogram with labels, observed in seconds (prom-client's Histogram fits). */
export interface HistogramPort {
  observe(labels: Labels, value: number): void;
}

/** The pipeline's metrics. */
export interface PipelineMetrics {
  decisions: CounterPort;
  decisionDuration: HistogramPort;
  errors: CounterPort;
  cacheHits: PlainCounterPort;
  cacheMisses: PlainCounterPort;
  cacheInvalidations: PlainCounterPort;
}

const noCounter: CounterPort & PlainCounterPort = { inc: () => undefined };

/** Counts nothing: for library users who pass no metrics. */
export const noMetrics: PipelineMetrics = {
  decisions: noCounter,
  decisionDuration: { observe: () => undefined },
  errors: noCounter,
  cacheHits: noCounter,
  cacheMisses: noCounter,
  cacheInvalidations: noCounter,
};
