import type { Context } from "@opentelemetry/api";
import type { FastifyInstance } from "fastify";
import { type ActiveSpan, endSpan, SpanKind, startSpan, type Telemetry } from "../../telemetry/index.js";

declare module "fastify" {
  interface FastifyRequest {
    /** The route's span context (telemetry on): decisions of this request are traced under it. */
    traceContext?: Context;
  }
}

const spans = new WeakMap<object, ActiveSpan>();

/**
 * A server span per request, named by the route as registered (`POST /v1/advisory`), with the HTTP
 * method, path, route and status. Nothing is installed when telemetry is off.
 */
export function installTracing(app: FastifyInstance, telemetry: Telemetry | null | undefined): void {
  if (!telemetry) return;
  app.addHook("onRequest", (request, _reply, done) => {
    const route = request.routeOptions.url;
    const active = startSpan(
      telemetry,
      `${request.method} ${route ?? "unmatched"}`,
      undefined,
      {
        "http.request.method": request.method,
        "url.path": request.url.split("?")[0] ?? "",
        ...(route ? { "http.route": route } : {}),
        ...(request.id ? { "http.request.id": String(request.id) } : {}),
      },
      SpanKind.SERVER,
    );
    if (active) {
      spans.set(request, active);
      request.traceContext = active.context;
    }
    done();
  });
  app.addHook("onResponse", (request, reply, done) => {
    const active = spans.get(request);
    if (active) {
      active.span.setAttribute("http.response.status_code", reply.statusCode);
      endSpan(active, reply.statusCode >= 500 ? new Error(`HTTP ${reply.statusCode}`) : undefined);
      spans.delete(request);
    }
    done();
  });
}
