import { randomUUID } from "node:crypto";
import { setMaxListeners } from "node:events";
import fastifySwagger from "@fastify/swagger";
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyServerOptions,
  LogController,
} from "fastify";
import { jsonSchemaTransform } from "fastify-type-provider-zod";
import { Gauge } from "prom-client";
import { capMode, type ModeResolver } from "../advisor/modes.js";
import { DecisionCache } from "../advisor/patterns/cache.js";
import { AdvisoryQueue } from "../advisor/patterns/queue.js";
import { DecisionPipeline } from "../advisor/pipeline.js";
import type { Advisor } from "../advisor/types.js";
import { registerCircuitGauge } from "../llm/circuit-metrics.js";
import type { LlmBackend } from "../llm/types.js";
import { type JobClassification, SharedJobStore } from "../queue/jobs.js";
import { registerQueueMetrics } from "../queue/metrics.js";
import type { SharedQueue } from "../queue/shared-queue.js";
import type { DecisionRecord } from "../schemas/records.js";
import { Masker, scrubberOf } from "../store/mask.js";
import type { DecisionStore } from "../store/types.js";
import type { Telemetry } from "../telemetry/index.js";
import type { TokenSet } from "./auth.js";
import { ConnectionTracker } from "./connections.js";
import type { ServerContext } from "./context.js";
import { HttpError } from "./errors.js";
import { JobTable, LocalJobStore } from "./jobs.js";
import { shapeCheckedStream } from "./json-limits.js";
import {
  type ConnectionLimits,
  DEFAULT_LIMITS,
  effectiveCaps,
  enforceConnectionCaps,
  openFileLimit,
} from "./limits.js";
import { ServerMetrics } from "./metrics.js";
import { type DeclaredRoute, installRouteRoles } from "./plugins/auth.js";
import {
  clientErrorHandler,
  installErrorHandling,
  installJsonBodyParser,
  sendError,
} from "./plugins/errors.js";
import { installTracing } from "./plugins/tracing.js";
import { installRateLimit, type RateLimitOptions } from "./rate-limit.js";
import { advisoryRoutes } from "./routes/advisory.js";
import { type AuthzenOptions, authzenRoutes } from "./routes/authzen.js";
import { opsRoutes } from "./routes/ops.js";
import { validatorCompiler } from "./validation.js";

/**
 * The service-wide shutdown signal. Every advisory in flight listens on it, so more than ten at once is
 * normal: without lifting the limit Node would warn of a listener leak that is not one.
 */
function shutdownController(): AbortController {
  const controller = new AbortController();
  setMaxListeners(0, controller.signal);
  return controller;
}

export interface AppOptions {
  advisor: Advisor;
  /** Called with each decision record once it is committed to the log. */
  onLogged?: (record: DecisionRecord) => void;
  store: DecisionStore;
  modes: ModeResolver;
  /** The model behind the advisor, for /ready, /v1/runtime and metrics (already metered by the caller). */
  llm?: LlmBackend | null;
  /** State of the circuit breaker in front of the model, for /ready and /v1/runtime. */
  circuit?: () => "closed" | "open" | "half_open";
  /** Tokens; when non-empty, every non-public route needs a bearer token. */
  tokens?: TokenSet;
  metrics?: ServerMetrics;
  cache?: { enabled: boolean; ttlSeconds: number; size: number };
  deadlineMs?: number;
  queueSize?: number;
  concurrency?: number;
  batchMax?: number;
  bodyLimit?: number;
  /** Timeouts and connection caps; each one unset takes DEFAULT_LIMITS' value. */
  limits?: Partial<ConnectionLimits>;
  /** The decision log's mask paths: error messages quoting a request are masked before they are logged. */
  mask?: string[];
  /** Per-client rate limit; none when absent (serve's default is on: --rate-limit). */
  rateLimit?: RateLimitOptions | null;
  jobTtlSeconds?: number;
  /** Fastify logger options (pino); false for none. */
  logger?: FastifyServerOptions["logger"];
  /** A pino logger to use instead (shared with components built before the app). */
  loggerInstance?: FastifyBaseLogger;
  reload?: () => Promise<Advisor>;
  /** OpenTelemetry (off when absent): a trace per request and decision, decisions as OTLP log records. */
  telemetry?: Telemetry | null;
  /** The AuthZEN 1.0 routes' options (docs/authzen.md). */
  authzen?: AuthzenOptions;
  /**
   * The shared queue (serve --queue): async jobs go there for the workers, and any sidecar reads them.
   * Closed with the app, after the last caller waiting on it was answered.
   */
  sharedQueue?: SharedQueue | null;
  /** Extra route plugins (review, stats, rollout, ui), registered after the core routes. */
  plugins?: Array<(app: FastifyInstance, ctx: ServerContext) => Promise<void>>;
}

export interface BuiltApp {
  app: FastifyInstance;
  ctx: ServerContext;
  /** Every route registered, with the role it declared: what auth enforces, for tests and the docs. */
  routes: readonly DeclaredRoute[];
}

/**
 * Builds the sidecar: JSON-only body parsing with a size limit, zod validation, auth, metrics, the
 * advisory routes with the three patterns, and a shutdown sequence (onClose) that fails closed whatever
 * is still queued, waits for running work, and closes the decision log last.
 */
export async function buildApp(opts: AppOptions): Promise<BuiltApp> {
  const metrics = opts.metrics ?? new ServerMetrics();
  if (opts.circuit) registerCircuitGauge(metrics.registry, opts.circuit);
  const limits: ConnectionLimits = { ...DEFAULT_LIMITS, ...opts.limits };
  const app = Fastify({
    ...(opts.loggerInstance ? { loggerInstance: opts.loggerInstance } : { logger: opts.logger ?? false }),
    bodyLimit: opts.bodyLimit ?? 1024 * 1024,
    // A caller's X-Request-Id becomes the reqId on every log line of its request (else a fresh UUID).
    requestIdHeader: "x-request-id",
    genReqId: () => randomUUID(),
    // One log line per decision (with its decisionId) instead of two per request; requests at debug.
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: true,
    // Errors Fastify raises before routing (a path with invalid percent-encoding, an over-long
    // parameter) come in the contract's format too, counted like any other caller error.
    frameworkErrors: (error, _request, reply) => {
      metrics.errors.inc({ cause: "bad_url" });
      // The reply's generic type parameters are the route's; this handler runs before there is one.
      sendError(reply as unknown as FastifyReply, {
        error: { code: "bad_url", message: `the request path is not valid: ${error.message}` },
      });
    },
    forceCloseConnections: "idle",
    // Without these a client holds a connection (and a file descriptor) as long as it likes: a body
    // trickled a byte at a time, headers never finished, a keep-alive connection left idle.
    requestTimeout: limits.requestTimeoutMs,
    connectionTimeout: limits.connectionTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    maxRequestsPerSocket: limits.maxRequestsPerSocket,
    http: {
      requestTimeout: limits.requestTimeoutMs,
      headersTimeout: limits.headersTimeoutMs,
      // Node checks the two timeouts above only this often (30 s by default): a timeout is kept within a second.
      connectionsCheckingInterval: Math.min(1000, limits.headersTimeoutMs),
    },
    clientErrorHandler: clientErrorHandler(metrics, limits),
  });
  // Before any route: a route registered without a declared role must fail, and with tokens each one
  // gets the check of its role.
  const routes: DeclaredRoute[] = [];
  installRouteRoles(app, { ...(opts.tokens ? { tokens: opts.tokens } : {}), metrics, routes });
  app.setValidatorCompiler(validatorCompiler);
  // Answers are built from typed values; re-validating them could only turn a good answer into a 500.
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  app.removeContentTypeParser("text/plain");
  // JSON bodies are scanned as they arrive: one nested or wide enough to stall the event loop while it
  // parses is refused at the first byte past a limit (json-limits.ts), and its connection closed rather
  // than read to the end.
  app.addHook("preParsing", (request, _reply, payload, done) => {
    if (!/json/i.test(request.headers["content-type"] ?? "")) return done(null, payload);
    const checked = shapeCheckedStream(
      (problem) =>
        new HttpError("invalid_request", `${problem}: refused before parsing`, { Connection: "close" }),
    );
    payload.on("error", (err) => checked.destroy(err));
    done(null, payload.pipe(checked));
  });
  installJsonBodyParser(app);

  const llm = opts.llm ?? null;
  const concurrency = opts.concurrency ?? (llm ? Math.max(1, llm.parallelism) : 4);
  const queue = new AdvisoryQueue({
    concurrency,
    capacity: opts.queueSize ?? 256,
    onWait: (ms) => metrics.queueWait.observe(ms / 1000),
    onDepth: (waiting, running) => {
      metrics.queueDepth.set(waiting);
      metrics.queueRunning.set(running);
    },
  });
  const cacheOpts = opts.cache ?? { enabled: true, ttlSeconds: 300, size: 10_000 };
  const cache = cacheOpts.enabled
    ? new DecisionCache({ max: cacheOpts.size, ttlMs: cacheOpts.ttlSeconds * 1000 })
    : null;
  const service = new DecisionPipeline({
    advisor: opts.advisor,
    store: opts.store,
    modes: opts.modes,
    cache,
    queue,
    metrics,
    deadlineMs: opts.deadlineMs ?? 10_000,
    log: app.log,
    scrub: scrubberOf(new Masker(opts.mask ?? [])),
    ...(opts.onLogged ? { onLogged: opts.onLogged } : {}),
    telemetry: opts.telemetry ?? null,
  });
  // The decision log's size against its limit, read at each scrape.
  const { store } = opts;
  new Gauge({
    name: "policy_advisor_log_size_bytes",
    help: "Size of the decision log (SQLite: pages in use; PostgreSQL: the records' counted bytes)",
    registers: [metrics.registry],
    async collect() {
      this.set((await store.size()).bytes);
    },
  });
  new Gauge({
    name: "policy_advisor_log_size_limit_bytes",
    help: "The decision log's size limit (--max-log-size); 0 when there is none",
    registers: [metrics.registry],
    async collect() {
      this.set((await store.size()).limit ?? 0);
    },
  });
  const jobs = new JobTable({ max: 100_000, ttlMs: (opts.jobTtlSeconds ?? 3600) * 1000 }, (c) => {
    metrics.jobs.set({ status: "pending" }, c.pending);
    metrics.jobs.set({ status: "finished" }, c.finished);
  });
  const shutdown = shutdownController();
  const sharedQueue = opts.sharedQueue ?? null;
  if (sharedQueue) registerQueueMetrics(metrics.registry, sharedQueue);
  /** What the accepting sidecar fixes about a queued job: its tier and mode now, and its engine. */
  const classify = (parsed: Parameters<typeof service.currentAdvisor.verdict>[0]): JobClassification => {
    const advisor = service.currentAdvisor;
    const tier = advisor.verdict(parsed).tier;
    return {
      tier,
      mode: capMode(tier, opts.modes.modeFor(tier)),
      engine: advisor.engine,
      policy: advisor.policy.revision,
    };
  };
  const ctx: ServerContext = {
    service,
    store: opts.store,
    queue,
    cache,
    jobs,
    jobStore: sharedQueue
      ? new SharedJobStore(sharedQueue, classify, opts.jobTtlSeconds ?? 3600)
      : new LocalJobStore(jobs, { service, queue, shutdown: shutdown.signal }),
    sharedQueue,
    metrics,
    modes: opts.modes,
    llm,
    circuit: opts.circuit ?? null,
    batchMax: opts.batchMax ?? 100,
    jobTtlMs: (opts.jobTtlSeconds ?? 3600) * 1000,
    authEnabled: (opts.tokens?.size ?? 0) > 0,
    shutdown,
    closing: false,
    ...(opts.reload ? { reload: opts.reload } : {}),
  };

  installErrorHandling(app, metrics);
  const caps = effectiveCaps(limits, openFileLimit());
  for (const why of caps.lowered) app.log.warn(why);
  enforceConnectionCaps(app.server, caps, metrics, app.log);
  // Before auth: a flood of bad tokens is limited like any other.
  if (opts.rateLimit) {
    await installRateLimit(app, { bodyLimit: opts.bodyLimit ?? 1024 * 1024, ...opts.rateLimit }, opts.tokens);
  }
  installTracing(app, opts.telemetry);

  // Callback-style hooks: on every request, an async hook costs a promise and a microtask turn.
  app.addHook("onResponse", (request, reply, done) => {
    const route = request.routeOptions.url ?? "unmatched";
    metrics.httpDuration.observe(
      { route, method: request.method, status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
    request.log.debug({ route, status: reply.statusCode, ms: reply.elapsedTime }, "request");
    done();
  });

  await app.register(fastifySwagger, {
    openapi: {
      openapi: "3.1.0",
      info: {
        title: "policy-advisor",
        description: "Decides whether an actor may perform an action, with auditable reasoning.",
        version: "1",
      },
      components: { securitySchemes: { bearer: { type: "http", scheme: "bearer" } } },
    },
    transform: jsonSchemaTransform,
  });

  await app.register(async (scope) => {
    await opsRoutes(scope, ctx);
    await advisoryRoutes(scope, ctx);
    await authzenRoutes(scope, ctx, opts.authzen);
    for (const plugin of opts.plugins ?? []) await plugin(scope, ctx);
  });

  app.addHook("onSend", (_request, reply, payload, done) => {
    // While shutting down, close each connection after its answer so keep-alive clients cannot hold it open.
    if (ctx.closing) reply.header("connection", "close");
    done(null, payload);
  });

  const connections = new ConnectionTracker(app.server);
  let idleSweep: NodeJS.Timeout | undefined;
  app.addHook("preClose", async () => {
    // Stop taking work: new requests get 503, queued work fails closed, running advisories finish.
    ctx.closing = true;
    void queue.close();
    // Node closes the connections idle when close() is called; one that goes idle later, or that never
    // carried a request, would hold the server open for up to a minute. Sweep them as they idle.
    connections.closeIdle();
    idleSweep = setInterval(() => connections.closeIdle(), 100);
    idleSweep.unref();
  });
  app.addHook("onClose", async () => {
    if (idleSweep) clearInterval(idleSweep);
    await queue.close();
    await service.drain();
    await opts.store.close();
    await service.currentAdvisor.close();
    await sharedQueue?.close();
  });

  return { app, ctx, routes };
}
