import { STATUS_CODES } from "node:http";
import type { Socket } from "node:net";
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { QueueFullError } from "../../advisor/patterns/queue.js";
import { InvalidRequestError } from "../../schemas/errors.js";
import { type ErrorBody, HttpError } from "../errors.js";
import type { ServerMetrics } from "../metrics.js";

/** Fastify's own error codes for what a caller sent, mapped to the contract's status and code. */
const FASTIFY_CODES: Record<string, { status: number; code: string; message?: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, code: "body_too_large" },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    status: 415,
    code: "unsupported_media_type",
    message: "send JSON with Content-Type: application/json",
  },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, code: "invalid_request" },
  FST_ERR_CTP_EMPTY_JSON_BODY: {
    status: 400,
    code: "invalid_request",
    message: "the body is empty; send a JSON object",
  },
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, code: "invalid_json" },
  FST_ERR_CTP_EMPTY_TYPE: {
    status: 415,
    code: "unsupported_media_type",
    message: "send JSON with Content-Type: application/json",
  },
  FST_ERR_CTP_INVALID_TYPE: {
    status: 415,
    code: "unsupported_media_type",
    message: "send JSON with Content-Type: application/json",
  },
  FST_ERR_BAD_URL: { status: 400, code: "bad_url" },
  FST_ERR_ASYNC_CONSTRAINT: { status: 400, code: "invalid_request" },
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
    let status: number;
    let body: ErrorBody;
    if (err.code === "ERR_HTTP_REQUEST_TIMEOUT") {
      status = 408;
      body = {
        error: {
          code: "request_timeout",
          message:
            `the request did not arrive in time: the headers must arrive within ${limits.headersTimeoutMs} ms ` +
            `(--headers-timeout-ms), the whole request within ${limits.requestTimeoutMs} ms (--request-timeout-ms)`,
        },
      };
    } else if (err.code === "HPE_HEADER_OVERFLOW") {
      status = 431;
      body = { error: { code: "headers_too_large", message: "the request headers are over 16 KB" } };
    } else {
      status = 400;
      body = {
        error: {
          code: "bad_request",
          message: `the request is not valid HTTP (${err.code ?? "parse error"})`,
        },
      };
    }
    metrics.errors.inc({ cause: body.error.code });
    if (socket.writable) {
      const text = JSON.stringify(body);
      socket.write(
        `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
          `Content-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`,
      );
    }
    socket.destroy();
  };
}

export function sendError(reply: FastifyReply, status: number, body: ErrorBody): FastifyReply {
  return reply.code(status).type("application/json; charset=utf-8").send(body);
}

/**
 * One error format everywhere: {"error": {code, message, issues?}}. Caller mistakes get 4xx naming the
 * input; anything else is a 500 with a generic message (details only in the log, never a stack trace).
 */
export function installErrorHandling(app: FastifyInstance, metrics: ServerMetrics): void {
  app.setErrorHandler((err: FastifyError | Error, request: FastifyRequest, reply: FastifyReply) => {
    if (err instanceof InvalidRequestError) {
      metrics.errors.inc({ cause: "invalid_request" });
      return sendError(reply, 400, { error: { code: err.code, message: err.message, issues: err.issues } });
    }
    if (err instanceof QueueFullError) {
      metrics.errors.inc({ cause: "queue_full" });
      reply.header("Retry-After", String(err.retryAfterSeconds));
      return sendError(reply, 429, { error: { code: err.code, message: err.message } });
    }
    if (err instanceof HttpError) {
      metrics.errors.inc({ cause: err.code });
      for (const [k, v] of Object.entries(err.headers)) reply.header(k, v);
      return sendError(reply, err.statusCode, { error: { code: err.code, message: err.message } });
    }
    const code = (err as FastifyError).code;
    const mapped = code ? FASTIFY_CODES[code] : undefined;
    if (mapped) {
      metrics.errors.inc({ cause: mapped.code });
      // The rest of a body too large is not worth reading: close the connection after the answer.
      if (mapped.code === "body_too_large") reply.header("connection", "close");
      return sendError(reply, mapped.status, {
        error: { code: mapped.code, message: mapped.message ?? err.message },
      });
    }
    const status = (err as FastifyError).statusCode;
    if (typeof status === "number" && status >= 400 && status < 500) {
      // Another client error raised by Fastify (e.g. a malformed header): keep the status, not a 500.
      metrics.errors.inc({ cause: "client_error" });
      return sendError(reply, status, { error: { code: "bad_request", message: err.message } });
    }
    metrics.errors.inc({ cause: "internal" });
    request.log.error({ err }, "internal error");
    return sendError(reply, 500, {
      error: { code: "internal", message: "internal error; see the service log" },
    });
  });

  app.setNotFoundHandler((request, reply) =>
    sendError(reply, 404, {
      error: { code: "not_found", message: `no route ${request.method} ${request.url.split("?")[0]}` },
    }),
  );
}
