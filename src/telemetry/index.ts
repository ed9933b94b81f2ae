import {
  type Attributes,
  type Context,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from "@opentelemetry/api";
import { type Logger, SeverityNumber } from "@opentelemetry/api-logs";
import { OTLPLogExporter } from "@opentelemetry/exporter-logs-otlp-http";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BatchLogRecordProcessor, LoggerProvider } from "@opentelemetry/sdk-logs";
import { BasicTracerProvider, BatchSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { trimEndChar } from "../util/text.js";

/**
 * OpenTelemetry for the service (docs/server.md, "OpenTelemetry"): a trace per decision and each
 * decision-log record as an OTLP log record, exported over OTLP/HTTP (JSON). Off unless an
 * OTEL_EXPORTER_OTLP_*ENDPOINT variable is set; with it off nothing is instrumented at all.
 *
 * The providers are this service's own, not the process-wide globals: a library embedding the advisor,
 * or a test starting several services, keeps its own telemetry.
 */
export interface Telemetry {
  tracer: Tracer;
  /** Undefined when log export is off (OTEL_LOGS_EXPORTER=none). */
  logger?: Logger;
  /** Exports what is buffered and stops the exporters. */
  shutdown(): Promise<void>;
  /** Where traces and logs go, for the start-up line. */
  endpoints: { traces?: string; logs?: string };
}

const SCOPE = "policy-advisor";

/** OTEL_RESOURCE_ATTRIBUTES: `key=value,key2=value2`, values percent-encoded. */
function resourceAttributes(raw: string | undefined): Attributes {
  const out: Attributes = {};
  for (const pair of (raw ?? "").split(",")) {
    const eq = pair.indexOf("=");
    if (eq <= 0) continue;
    try {
      out[decodeURIComponent(pair.slice(0, eq).trim())] = decodeURIComponent(pair.slice(eq + 1).trim());
    } catch {
      // A malformed pair is skipped, as the SDK's own detector does.
    }
  }
  return out;
}

/** The signal's URL: its own variable as given, else the base endpoint with the signal's path. */
function endpointFor(env: NodeJS.ProcessEnv, signal: "traces" | "logs"): string | undefined {
  const own = env[`OTEL_EXPORTER_OTLP_${signal.toUpperCase()}_ENDPOINT`]?.trim();
  if (own) return own;
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  return base ? `${trimEndChar(base, "/")}/v1/${signal}` : undefined;
}

/**
 * Telemetry from the standard OpenTelemetry variables, or null (off): OTEL_EXPORTER_OTLP_ENDPOINT (or
 * the per-signal _TRACES_ENDPOINT / _LOGS_ENDPOINT), OTEL_TRACES_EXPORTER / OTEL_LOGS_EXPORTER `none`
 * to turn one signal off, OTEL_SDK_DISABLED, OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES; headers,
 * timeout and compression (OTEL_EXPORTER_OTLP_HEADERS, ..._TIMEOUT, ..._COMPRESSION) are read by the
 * exporters themselves.
 */
export function telemetryFromEnv(
  env: NodeJS.ProcessEnv = process.env,
  opts: { serviceVersion?: string } = {},
): Telemetry | null {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === "true") return null;
  const traces = env.OTEL_TRACES_EXPORTER?.trim() === "none" ? undefined : endpointFor(env, "traces");
  const logs = env.OTEL_LOGS_EXPORTER?.trim() === "none" ? undefined : endpointFor(env, "logs");
  if (!traces && !logs) return null;
  const resource = resourceFromAttributes({
    ...resourceAttributes(env.OTEL_RESOURCE_ATTRIBUTES),
    "service.name": env.OTEL_SERVICE_NAME?.trim() || SCOPE,
    ...(opts.serviceVersion ? { "service.version": opts.serviceVersion } : {}),
  });
  const tracerProvider = new BasicTracerProvider({
    resource,
    spanProcessors: traces ? [new BatchSpanProcessor(new OTLPTraceExporter({ url: traces }))] : [],
  });
  const loggerProvider = logs
    ? new LoggerProvider({
        resource,
        processors: [new BatchLogRecordProcessor({ exporter: new OTLPLogExporter({ url: logs }) })],
      })
    : undefined;
  return {
    tracer: tracerProvider.getTracer(SCOPE, opts.serviceVersion),
    ...(loggerProvider ? { logger: loggerProvider.getLogger(SCOPE, opts.serviceVersion) } : {}),
    endpoints: { ...(traces ? { traces } : {}), ...(logs ? { logs } : {}) },
    shutdown: async () => {
      await Promise.allSettled([tracerProvider.shutdown(), loggerProvider?.shutdown()]);
    },
  };
}

/** A span and the context that makes it the parent of the spans started under it. */
export interface ActiveSpan {
  span: Span;
  context: Context;
}

/** Starts a span under `parent` (a root span without one); undefined when telemetry is off. */
export function startSpan(
  telemetry: Telemetry | null | undefined,
  name: string,
  parent: Context | undefined,
  attributes: Attributes = {},
  kind: SpanKind = SpanKind.INTERNAL,
): ActiveSpan | undefined {
  if (!telemetry) return undefined;
  const base = parent ?? ROOT_CONTEXT;
  const span = telemetry.tracer.startSpan(name, { kind, attributes }, base);
  return { span, context: trace.setSpan(base, span) };
}

/** Ends a span, marking it failed with the error's message when there is one. */
export function endSpan(active: ActiveSpan | undefined, err?: unknown): void {
  if (!active) return;
  if (err !== undefined) {
    active.span.recordException(err instanceof Error ? err : String(err));
    active.span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error)?.message ?? String(err) });
  }
  active.span.end();
}

/** Runs `fn` inside a child span of `parent`, ending it (failed on a throw) when `fn` settles. */
export async function inSpan<T>(
  telemetry: Telemetry | null | undefined,
  name: string,
  parent: Context | undefined,
  attributes: Attributes,
  fn: (active: ActiveSpan | undefined) => Promise<T>,
): Promise<T> {
  const active = startSpan(telemetry, name, parent, attributes);
  try {
    const result = await fn(active);
    endSpan(active);
    return result;
  } catch (err) {
    endSpan(active, err);
    throw err;
  }
}

/** Emits one OTLP log record, correlated with the span of `context` when there is one. */
export function emitLog(
  telemetry: Telemetry | null | undefined,
  record: { body: string; attributes: Attributes; context?: Context; eventName?: string },
): void {
  if (!telemetry?.logger) return;
  telemetry.logger.emit({
    severityNumber: SeverityNumber.INFO,
    severityText: "INFO",
    body: record.body,
    attributes: record.attributes,
    ...(record.eventName ? { eventName: record.eventName } : {}),
    ...(record.context ? { context: record.context } : {}),
  });
}

export { SpanKind };
