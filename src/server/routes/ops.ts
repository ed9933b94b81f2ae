import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import type { Mode } from "../../schemas/common.js";
import { type Tier, TierSchema } from "../../schemas/decision.js";
import { formatBytes } from "../../store/errors.js";
import type { ServerContext } from "../context.js";
import { HttpError } from "../errors.js";
import { auditIdentity } from "../plugins/auth.js";
import { ErrorSchema, HealthSchema, ReadySchema, RuntimeSchema } from "../schemas.js";

type CircuitState = "closed" | "open" | "half_open";

/** /ready warns from this share of --max-log-size on, and is not ready from LOG_FULL_SHARE on. */
export const LOG_WARN_SHARE = 0.9;
/** Less room than this and no ordinary decision (a few KB) fits any more: /ready says not ready. */
const LOG_FULL_MARGIN_BYTES = 64 * 1024;

function circuitOf(ctx: ServerContext): CircuitState | null {
  return ctx.circuit ? ctx.circuit() : null;
}

/** The shared queue's numbers for /v1/runtime, or why they cannot be read. */
async function sharedQueueState(ctx: ServerContext) {
  const shared = ctx.sharedQueue;
  if (!shared) return undefined;
  try {
    return await shared.snapshot();
  } catch (err) {
    return { url: shared.target.display, error: (err as Error).message };
  }
}

/** Liveness, readiness, metrics, runtime state, OpenAPI, and policy reload. */
export async function opsRoutes(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.get(
    "/health",
    {
      config: { role: "public" },
      schema: { summary: "200 while the process lives", response: { 200: HealthSchema } },
    },
    async () => ({ status: "ok" as const }),
  );

  r.get(
    "/ready",
    {
      config: { role: "public" },
      schema: {
        summary: "200 when the service can decide (policy, model, store, circuit), else 503 with the reason",
        response: { 200: ReadySchema, 503: ReadySchema },
      },
    },
    async (_request, reply) => {
      const advisor = ctx.service.currentAdvisor;
      const circuit = circuitOf(ctx);
      const checks: {
        policy: string;
        model: string | null;
        store: string;
        logSize: string;
        circuit: CircuitState | null;
        queue?: string;
      } = {
        policy: `${advisor.policy.doc.id}@${advisor.policy.revision}`,
        model: ctx.llm ? ctx.llm.modelId : null,
        store: "ok",
        logSize: "unknown",
        circuit,
      };
      const reasons: string[] = [];
      const warnings: string[] = [];
      if (ctx.closing) reasons.push("shutting down");
      try {
        await ctx.store.ping();
        const { bytes, limit } = await ctx.store.size();
        if (limit === null) {
          checks.logSize = `${formatBytes(bytes)} (no limit)`;
        } else {
          const share = bytes / limit;
          checks.logSize = `${formatBytes(bytes)} of ${formatBytes(limit)} (${Math.floor(share * 100)}%)`;
          // Full: every new decision would be refused. Near full: still deciding, but not for long.
          if (limit - bytes < LOG_FULL_MARGIN_BYTES)
            reasons.push(`decision log full: ${checks.logSize}, new decisions are refused`);
          else if (share >= LOG_WARN_SHARE)
            warnings.push(
              `decision log at ${checks.logSize} of --max-log-size: at the limit new decisions are refused; shorten --retain or raise the limit`,
            );
        }
      } catch (err) {
        checks.store = `not writable: ${(err as Error).message}`;
        reasons.push(`decision log ${checks.store}`);
      }
      if (ctx.sharedQueue) {
        const q = await ctx.sharedQueue.health();
        const where = ctx.sharedQueue.target.display;
        if (!q.ok) {
          checks.queue = `${where}: unreachable (${q.error})`;
          reasons.push(`the shared queue ${checks.queue}; jobs cannot be accepted`);
        } else {
          checks.queue = `${where}: ${q.workers} worker${q.workers === 1 ? "" : "s"}`;
          // Without a worker, whatever needs the model fails closed and jobs wait: with the LLM as the
          // only engine that is every answer; otherwise the rules still decide what they decide alone.
          const none = `no worker is connected to the shared queue ${where}: advice that needs the model fails closed and jobs wait; start policy-advisor worker`;
          if (q.workers === 0) (advisor.engine === "llm" ? reasons : warnings).push(none);
        }
      }
      // With the LLM as the only engine an open circuit means every answer would be a fallback.
      if (circuit === "open" && advisor.engine === "llm")
        reasons.push("the policy interpreter's circuit is open");
      const warned = warnings.length > 0 ? { warnings } : {};
      if (reasons.length > 0) {
        reply.code(503);
        return { ready: false, reason: reasons.join("; "), ...warned, checks };
      }
      return { ready: true, ...warned, checks };
    },
  );

  app.get(
    "/metrics",
    { config: { role: "caller" }, schema: { summary: "Prometheus metrics (text format)" } },
    async (_request, reply) => {
      reply.type(ctx.metrics.registry.contentType);
      return ctx.metrics.registry.metrics();
    },
  );

  r.get(
    "/v1/runtime",
    {
      config: { role: "caller" },
      schema: { summary: "Cache, queue, model and circuit state", response: { 200: RuntimeSchema } },
    },
    async () => {
      const advisor = ctx.service.currentAdvisor;
      const modes = Object.fromEntries(
        TierSchema.options.map((t: Tier) => [t, ctx.modes.modeFor(t)]),
      ) as Record<Tier, Mode>;
      return {
        cache: ctx.cache ? ctx.cache.stats() : { enabled: false, size: 0, hits: 0, misses: 0, hitRate: null },
        queue: {
          depth: ctx.queue.waiting,
          running: ctx.queue.running,
          capacity: ctx.queue.capacity,
          concurrency: ctx.queue.concurrency,
        },
        llm: ctx.llm
          ? {
              kind: ctx.llm.kind,
              model: ctx.llm.modelId,
              prompt: ctx.llm.promptVersion,
              parallelism: ctx.llm.parallelism,
            }
          : null,
        circuit: circuitOf(ctx),
        engine: advisor.engine,
        versions: advisor.versions(),
        jobs: await ctx.jobStore.counts(),
        modes,
        ...(ctx.sharedQueue ? { sharedQueue: await sharedQueueState(ctx) } : {}),
      };
    },
  );

  app.get("/openapi.json", { config: { role: "public" }, schema: { hide: true } }, async () => app.swagger());

  r.post(
    "/v1/admin/reload",
    {
      config: { role: "reviewer" },
      schema: {
        summary: "Reload the policy (and prompt) from their files; the cache empties if a version changed",
        response: {
          200: z.object({ versions: RuntimeSchema.shape.versions, changed: z.boolean() }),
          409: ErrorSchema,
          422: ErrorSchema,
        },
      },
    },
    async (request) => {
      if (!ctx.reload)
        throw new HttpError("not_reloadable", "this service was started without a reloadable policy");
      const before = ctx.service.currentAdvisor.versions();
      // A policy that does not load is refused (422 invalid_policy); the running one stays.
      const next = await ctx.reload();
      ctx.service.replaceAdvisor(next);
      const versions = next.versions();
      const changed = JSON.stringify(before) !== JSON.stringify(versions);
      request.log.info({ before, versions, by: auditIdentity(request) }, "advisor reloaded");
      return { versions, changed };
    },
  );
}
