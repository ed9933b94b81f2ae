import { STATUS_CODES } from "node:http";
import type { Socket } from "node:net";
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { ErrorCode } from "../../schemas/error-codes.js";
import { type ErrorBody, errorAnswer, HTTP_STATUS, HttpError, isAnswered } from "../errors.js";
import type { ServerMetrics } from "../metrics.js";

/** Fastify's own error codes for what a caller sent, mapped to the contract's status and code. */
const FASTIFY_CODES: Record<string, { code: ErrorCode; message?: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { code: "body_too_large" },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    code: "unsupported_media_type",
    message: "send JSON with Content-Type: application/json",
  },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { code: "invalid_request" },
  FST_ERR_CTP_EMPTY_JSON_BODY: {
    code: "invalid_request",
    message: "the body is empty; send a JSON object",
  },
  FST_ERR_CTP_INVALID_JSON_BODY: { code: "invalid_json" },
  FST_ERR_CTP_EMPTY_TYPE: {
    code: "unsupported_media_type",
    message: "send JSON with Content-Type: application/json",
  },
  FST_ERR_CTP_INVALID_TYPE: {
    code: "unsupported_media_type",
    message: "send JSON with Content-Type: application/json",
  },
  FST_ERR_BAD_URL: { code: "bad_url" },
  FST_ERR_ASYNC_CONSTRAINT: { code: "invalid_request" },
};

/**
 * Errors Node raises on a connection before there is a request to route (a request that did not arrive
 * in time, headers too large, bytes that are not HTTP), answered in the contract's format and counted
 * like any other caller error; then the connection closes.
 */
export function clientErrorHandler(
  metrics: ServerMetrics,
  limits: { requestTimeoutMs: number; headersTimeoutMs: number },
): (err: NodeJS.ErrnoException, socket: Socket) => void {
  return (err, socket) => {
    // A reset connection is gone: nothing to answer.
    if (err.code === "ECONNRESET" || socket.destroyed) return;
    let body: ErrorBody;
    if (err.code === "ERR_HTTP_REQUEST_TIMEOUT") {
      body = {
        error: {
          code: "request_timeout",
          message:
            `the request did not arrive in time: the headers must arrive within ${limits.headersTimeoutMs} ms ` +
            `(--headers-timeout-ms), the whole request within ${limits.requestTimeoutMs} ms (--request-timeout-ms)`,
        },
      };
    } else if (err.code === "HPE_HEADER_OVERFLOW") {
      body = { error: { code: "headers_too_large", message: "the request headers are over 16 KB" } };
    } else {
      body = {
        error: {
          code: "bad_request",
          message: `the request is not valid HTTP (${err.code ?? "parse error"})`,
        },
      };
    }
    metrics.errors.inc({ cause: body.error.code });
    if (socket.writable) {
      const status = HTTP_STATUS[body.error.code];
      const text = JSON.stringify(body);
      socket.write(
        `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
          `Content-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`,
      );
    }
    socket.destroy();
  };
}

/** Sends an error answer; its status is the code's in the one table (HTTP_STATUS). */
export function sendError(reply: FastifyReply, body: ErrorBody): FastifyReply {
  return reply.code(HTTP_STATUS[body.error.code]).type("application/json; charset=utf-8").send(body);
}

/** 1048576 → "1048576 bytes (1 MiB)": the limit as configured and as a person reads it. */
function bytes(n: number): string {
  const human =
    n >= 1024 * 1024 && n % (1024 * 1024) === 0
      ? ` (${n / (1024 * 1024)} MiB)`
      : n >= 1024 && n % 1024 === 0
        ? ` (${n / 1024} KiB)`
        : "";
  return `${n} bytes${human}`;
}

/** Line and column (1-based) of a character offset in `text`. */
function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const line = before.split("\n").length;
  return { line, column: offset - before.lastIndexOf("\n") };
}

/**
 * Why a body is not JSON, with where: Fastify's own parser says only "Body is not valid JSON". Keeps its
 * protection against `__proto__` and `constructor.prototype` keys (refused as bad input).
 */
export function installJsonBodyParser(app: FastifyInstance): void {
  const parse = app.getDefaultJsonParser("error", "error");
  app.removeContentTypeParser("application/json");
  app.addContentTypeParser("application/json", { parseAs: "string" }, (request, body, done) => {
    parse(request, body as string, (err, value) => {
      if ((err as FastifyError | null)?.code !== "FST_ERR_CTP_INVALID_JSON_BODY") {
        done(err, value);
        return;
      }
      const text = body as string;
      let message = "the body has a field named __proto__ or a constructor.prototype, which is not accepted";
      try {
        JSON.parse(text);
      } catch (syntax) {
        const m = (syntax as Error).message;
        const at = /at position (\d+)/.exec(m);
        const where = at ? lineColumn(text, Number(at[1])) : undefined;
        const detail = m.replace(/ \(line \d+ column \d+\)$/, "");
        message = `the body is not valid JSON: ${detail}${where ? ` (line ${where.line}, column ${where.column})` : ""}`;
      }
      done(new HttpError("invalid_json", message), undefined);
    });
  });
}

/** A route's URL pattern as a regular expression over decoded paths (`:id` one segment, `*` the rest). */
function patternOf(url: string): RegExp {
  const source = url
    .split(/(:[A-Za-z0-9_]+|\*)/)
    .map((part) =>
      part === "*" ? ".*" : part.startsWith(":") ? "[^/]+" : part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"),
    )
    .join("");
  return new RegExp(`^${source}$`);
}

/**
 * One error format everywhere: {"error": {code, message, issues?}}. Caller mistakes get 4xx naming the
 * input; anything else is a 500 with a generic message (details only in the log, never a stack trace).
 */
export function installErrorHandling(app: FastifyInstance, metrics: ServerMetrics): void {
  // Every route's pattern and methods, for 405 (a known path, another method) rather than 404.
  const routes: { pattern: RegExp; methods: string[] }[] = [];
  app.addHook("onRoute", (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    routes.push({ pattern: patternOf(route.url), methods });
  });
  const allowedFor = (path: string): string[] => {
    let decoded: string;
    try {
      decoded = decodeURI(path);
    } catch {
      return [];
    }
    const allowed = new Set<string>();
    for (const r of routes) if (r.pattern.test(decoded)) for (const m of r.methods) allowed.add(m);
    return [...allowed].sort();
  };

  app.setErrorHandler((err: FastifyError | Error, request: FastifyRequest, reply: FastifyReply) => {
    if (isAnswered(err)) {
      // One of ours: its code, its status from the one table, its headers (Retry-After, Connection).
      const answer = errorAnswer(err);
      metrics.errors.inc({ cause: err.code });
      for (const [k, v] of Object.entries(answer.headers)) reply.header(k, v);
      return sendError(reply, answer.body);
    }
    const code = (err as FastifyError).code;
    if (code === "FST_ERR_CTP_BODY_TOO_LARGE") {
      metrics.errors.inc({ cause: "body_too_large" });
      const limit = request.routeOptions.bodyLimit ?? app.initialConfig.bodyLimit ?? 1024 * 1024;
      return sendError(reply, {
        error: {
          code: "body_too_large",
          message: `the body is larger than the limit of ${bytes(limit)}; send less, or raise the service's --body-limit`,
        },
      });
    }
    const mapped = code ? FASTIFY_CODES[code] : undefined;
    if (mapped) {
      metrics.errors.inc({ cause: mapped.code });
      // The rest of a body too large is not worth reading: close the connection after the answer.
      if (mapped.code === "body_too_large") reply.header("connection", "close");
      return sendError(reply, {
        error: { code: mapped.code, message: mapped.message ?? err.message },
      });
    }
    const status = (err as FastifyError).statusCode;
    if (typeof status === "number" && status >= 400 && status < 500) {
      // Another client error raised by Fastify (e.g. a malformed header): keep the status, not a 500.
      metrics.errors.inc({ cause: "client_error" });
      // The one place a status is not the table's: Fastify's own 4xx for what it refused is kept.
      return reply
        .code(status)
        .type("application/json; charset=utf-8")
        .send({ error: { code: "bad_request", message: err.message } } satisfies ErrorBody);
    }
    metrics.errors.inc({ cause: "internal" });
    request.log.error({ err }, "internal error");
    return sendError(reply, {
      error: { code: "internal", message: "internal error; see the service log" },
    });
  });

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split("?")[0] ?? "";
    const allowed = allowedFor(path);
    if (allowed.length > 0 && !allowed.includes(request.method)) {
      metrics.errors.inc({ cause: "method_not_allowed" });
      reply.header("Allow", allowed.join(", "));
      return sendError(reply, {
        error: {
          code: "method_not_allowed",
          message: `${request.method} is not allowed on ${path}; it answers ${allowed.join(", ")}`,
        },
      });
    }
    return sendError(reply, {
      error: { code: "not_found", message: `no route ${request.method} ${path}` },
    });
  });
}
