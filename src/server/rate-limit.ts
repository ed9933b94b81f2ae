import { createHash } from "node:crypto";
import fastifyRateLimit from "@fastify/rate-limit";
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { TokenSet } from "./auth.js";
import { HttpError } from "./errors.js";

export interface RateLimitOptions {
  /** Requests one client may send per window. */
  max: number;
  windowMs: number;
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
  await app.register(fastifyRateLimit, {
    // Not per route: one hook for every request, routed or not, run before the token check so that
    // guessing tokens is limited too (per address, as a guessed token is unknown).
    global: false,
    max: opts.max,
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
      const who = clientKey(request, tokens).startsWith("token:") ? "this token" : `address ${request.ip}`;
      const retry = Math.max(1, Math.ceil(context.ttl / 1000));
      return new HttpError(
        429,
        "rate_limited",
        `too many requests from ${who}: at most ${context.max} per ${windowText(opts.windowMs)} (--rate-limit); retry in ${retry} s`,
        { "Retry-After": String(retry) },
      );
    },
  });
  app.addHook("onRequest", app.rateLimit());
}
