import { createHash } from "node:crypto";
import fastifyRateLimit from "@fastify/rate-limit";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { RateLimiterMemory, RateLimiterRes } from "rate-limiter-flexible";
import { formatBytes } from "../store/errors.js";
import type { TokenSet } from "./auth.js";
import { HttpError } from "./errors.js";

export interface RateLimitOptions {
  /** Requests one client may send per window; null: no request limit. */
  max: number | null;
  windowMs: number;
  /** Body bytes one client may send per window (declared Content-Length); null: no byte limit. */
  maxBytes?: number | null;
  /** The body size limit: what a body of unknown length (chunked) counts for. */
  bodyLimit?: number;
}

/** Probes stay answerable whatever a client sharing the prober's address sends. */
const EXEMPT = new Set(["/health", "/ready"]);

const bearerOf = (request: FastifyRequest): string | undefined => {
  const header = request.headers.authorization;
  const m = typeof header === "string" ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  return m?.[1];
};

/**
 * Who a request counts against: its bearer token (as a SHA-256 digest, never the token itself) when the
 * token is one the service knows, else the client's address. An unknown or made-up token counts against
 * the address, so rotating garbage tokens cannot open fresh buckets.
 */
export function clientKey(request: FastifyRequest, tokens: TokenSet | undefined): string {
  const token = bearerOf(request);
  if (token !== undefined && tokens && tokens.size > 0 && tokens.verify(token)) {
    return `token:${createHash("sha256").update(token, "utf8").digest("hex").slice(0, 32)}`;
  }
  return `address:${request.ip}`;
}

const windowText = (ms: number): string =>
  ms % 86_400_000 === 0
    ? `${ms / 86_400_000} d`
    : ms % 3_600_000 === 0
      ? `${ms / 3_600_000} h`
      : ms % 60_000 === 0
        ? `${ms / 60_000} min`
        : ms % 1000 === 0
          ? `${ms / 1000} s`
          : `${ms} ms`;

/**
 * Per-client rate limits with @fastify/rate-limit (an in-process store: one sidecar, one count). Over
 * the limit a client gets 429 `rate_limited` with Retry-After in the contract's error format, while every
 * other client is served as before. Install before auth, whose hook must run after this one.
 */
export async function installRateLimit(
  app: FastifyInstance,
  opts: RateLimitOptions,
  tokens: TokenSet | undefined,
): Promise<void> {
  const who = (request: FastifyRequest): string =>
    clientKey(request, tokens).startsWith("token:") ? "this token" : `address ${request.ip}`;
  await app.register(fastifyRateLimit, {
    // Not per route: one hook for every request, routed or not, run before the token check so that
    // guessing tokens is limited too (per address, as a guessed token is unknown).
    global: false,
    max: opts.max ?? 0,
    timeWindow: opts.windowMs,
    // Bounded memory: the least recently seen clients are forgotten first.
    cache: 10_000,
    keyGenerator: (request) => clientKey(request, tokens),
    allowList: (request) => EXEMPT.has(request.url.split("?")[0] ?? ""),
    addHeadersOnExceeding: {
      "x-ratelimit-limit": false,
      "x-ratelimit-remaining": false,
      "x-ratelimit-reset": false,
    },
    errorResponseBuilder: (request, context) => {
      const retry = Math.max(1, Math.ceil(context.ttl / 1000));
      return new HttpError(
        "rate_limited",
        `too many requests from ${who(request)}: at most ${context.max} per ${windowText(opts.windowMs)} (--rate-limit); retry in ${retry} s`,
        { "Retry-After": String(retry) },
      );
    },
  });
  if (opts.max !== null) app.addHook("onRequest", app.rateLimit());
  if (opts.maxBytes) {
    // Weighted: each request consumes its body's bytes. @fastify/rate-limit counts requests only.
    const budget = new RateLimiterMemory({ points: opts.maxBytes, duration: opts.windowMs / 1000 });
    const bodyLimit = opts.bodyLimit ?? 1024 * 1024;
    const maxBytes = opts.maxBytes;
    // Counted from the declared length, before any of the body is read: refusing costs nothing.
    app.addHook("onRequest", async (request) => {
      if (EXEMPT.has(request.url.split("?")[0] ?? "")) return;
      const declared = Number(request.headers["content-length"]);
      const bytes = Number.isFinite(declared)
        ? declared
        : request.headers["transfer-encoding"]
          ? bodyLimit
          : 0;
      if (bytes <= 0) return;
      try {
        await budget.consume(clientKey(request, tokens), Math.min(bytes, maxBytes));
      } catch (err) {
        if (!(err instanceof RateLimiterRes)) throw err;
        const retry = Math.max(1, Math.ceil(err.msBeforeNext / 1000));
        throw new HttpError(
          "rate_limited",
          `too many body bytes from ${who(request)}: at most ${formatBytes(maxBytes)} per ${windowText(opts.windowMs)} (--body-rate-limit); retry in ${retry} s`,
          { "Retry-After": String(retry), Connection: "close" },
        );
      }
    });
  }
}
