import { readFileSync } from "node:fs";
import { pino, stdTimeFunctions } from "pino";
import { createAdvisor } from "../advisor/create.js";
import type { Advisor } from "../advisor/types.js";
import { CircuitBreakerBackend } from "../llm/circuit.js";
import type { LlmBackend } from "../llm/types.js";
import { packageRoot } from "../paths.js";
import { loadPolicy } from "../policy/load.js";
import { parseQueueUrl, QueueConfigError } from "../queue/connection.js";
import { createRemoteInterpreter } from "../queue/remote-interpreter.js";
import { SharedQueue } from "../queue/shared-queue.js";
import { DEFAULT_ROLLOUT, loadRolloutConfig } from "../rollout/config.js";
import { Rollout, type StartupOptions } from "../rollout/controller.js";
import { RolloutError } from "../rollout/errors.js";
import { rolloutMetrics } from "../rollout/metrics.js";
import type { DecisionRecord } from "../schemas/records.js";
import { openStore } from "../store/index.js";
import { telemetryFromEnv } from "../telemetry/index.js";
import { type BuiltApp, buildApp } from "./app.js";
import { ConfigError, type ServeConfig } from "./config.js";
import { meteredLlm } from "./metered-llm.js";
import { ServerMetrics } from "./metrics.js";
import { checkServeConfig } from "./preflight.js";
import { startRetention } from "./retention.js";
import { reviewRoutesFor } from "./routes/review.js";
import { rolloutRoutesFor } from "./routes/rollout.js";
import { statsRoutesFor } from "./routes/stats.js";
import { uiRoutes } from "./routes/ui.js";
import { VersionManager } from "./versions.js";

/** A sidecar without a model: how many calls it has in flight to the workers at most (each one waits). */
const REMOTE_CONCURRENCY = 64;

export interface RunningService extends BuiltApp {
  url: string;
  /** Reloads the policy file (SIGHUP); the cache empties when its revision changed. */
  reload(): Promise<void>;
  close(): Promise<void>;
}

/** This package's version, for the telemetry resource. */
function packageVersion(): string | undefined {
  try {
    return (JSON.parse(readFileSync(`${packageRoot}package.json`, "utf8")) as { version?: string }).version;
  } catch {
    return undefined;
  }
}

/** A start-up mode the log refuses, as a configuration error naming where the mode came from. */
function startupError(config: ServeConfig, err: RolloutError): ConfigError {
  const source = config.mode
    ? `--mode ${config.mode}`
    : config.rollout
      ? `--rollout ${config.rollout}`
      : "start-up modes";
  if (err.code === "note_required") return new ConfigError(`--force: ${err.message}; add --note "why"`);
  if (err.code !== "gates_not_passed") return new ConfigError(`${source}: ${err.message}`);
  return new ConfigError(
    `${source}: ${err.message.split("\n").join(`\n${source}: `)}\n` +
      "Promote the tier through its gates (policy-advisor rollout promote TIER --note WHY), or start with " +
      '--force --note "why" to record the mode past them.',
  );
}

/**
 * Everything `policy-advisor serve` does before it answers: checks the configuration (tokens required
 * off loopback), loads the policy and the rollout file, opens the decision log and the model, builds the
 * app and listens. Fails with a message naming the bad setting; nothing is left open on failure.
 *
 * The decision log is shared with the sidecars already running on it, so nothing is written to it
 * before this process can serve: start-up modes are checked (read-only) before binding and recorded
 * only once the port is bound, the store open and the policy loaded. A mode above the log's needs its
 * gates, or `startup.force` with a note.
 */
export async function startService(
  config: ServeConfig,
  env: NodeJS.ProcessEnv = process.env,
  startup: StartupOptions = {},
): Promise<RunningService> {
  const tokens = checkServeConfig(config, env);
  let queueTarget: ReturnType<typeof parseQueueUrl> | undefined;
  try {
    queueTarget = config.queue ? parseQueueUrl(config.queue) : undefined;
  } catch (err) {
    if (err instanceof QueueConfigError) throw new ConfigError(err.message);
    throw err;
  }
  // A sidecar with the shared queue and no model of its own: the workers interpret (queue/remote-interpreter.ts).
  const remote = queueTarget !== undefined && config.engine !== "rules" && !config.model && !config.llmUrl;
  const policy = loadPolicy(config.policy);
  const rollout = config.rollout ? loadRolloutConfig(config.rollout) : DEFAULT_ROLLOUT;
  const metrics = new ServerMetrics();
  // Asynchronous writes: a synchronous write per decision line costs more than the decision. Lines that
  // arrive while a write is in flight go out together in the next; what is left is flushed at close.
  const destination = pino.destination({ dest: 1, sync: false });
  const logger = pino(
    { level: config.logLevel, base: { service: "policy-advisor" }, timestamp: stdTimeFunctions.isoTime },
    destination,
  );

  const store = await openStore(config.db, {
    mask: rollout.mask,
    sync: config.dbSync,
    maxBytes: config.maxLogSize,
  });
  if (config.retain !== null && config.retain < rollout.gates.window) {
    logger.warn(
      { retainMs: config.retain, gatesWindowMs: rollout.gates.window },
      "--retain is shorter than the rollout gates' evidence window: promotions will see less evidence",
    );
  }
  // Pruned once before the service answers, then periodically; stopped before the log closes.
  const retention =
    config.retain === null ? null : startRetention({ store, retainMs: config.retain, log: logger, metrics });
  try {
    await retention?.pruneNow();
  } catch (err) {
    retention?.stop();
    await store.close();
    throw err;
  }
  // Modes live in the decision log (promotions and rollbacks by any sidecar or the CLI); the controller
  // refreshes them and runs the automatic rollback checks. Read-only until this process listens.
  let modes: Rollout;
  try {
    modes = await Rollout.open({
      store,
      config: rollout,
      ...(config.mode ? { modeOverride: config.mode } : {}),
      metrics: rolloutMetrics(metrics.registry),
      log: logger,
    });
    // Refuse a mode the gates block now, before a model loads or the port is taken.
    await modes.checkStartupModes(startup);
  } catch (err) {
    await store.close();
    if (err instanceof RolloutError) throw startupError(config, err);
    throw err;
  }
  let shared: SharedQueue | null = null;
  if (queueTarget) {
    try {
      shared = await SharedQueue.open({
        target: queueTarget,
        maxWaiting: config.queueMax,
        perCaller: config.queuePerCaller,
        jobTtlSeconds: config.jobTtl,
      });
    } catch (err) {
      modes.stop();
      await store.close();
      if (err instanceof QueueConfigError) throw new ConfigError(err.message);
      throw err;
    }
    logger.info({ queue: queueTarget.display, remote }, "shared queue connected");
  }
  let llm: LlmBackend | null = null;
  let circuit: CircuitBreakerBackend | null = null;
  let currentPolicy = policy;
  // Prompt/model versions: the live one and a shadow candidate (docs/rollout.md, "Version changes").
  const versions =
    config.engine === "rules" || remote
      ? null
      : new VersionManager({
          config,
          rollout,
          store,
          log: logger,
          wrapLive: (backend) => {
            circuit = new CircuitBreakerBackend(backend);
            return meteredLlm(circuit, metrics);
          },
          makeAdvisor: (backend) =>
            createAdvisor({ policy: currentPolicy, engine: config.engine, llm: backend }),
        });
  if (!versions && rollout.versions.candidate) {
    logger.warn(
      "the rollout file names a candidate version, but the rules engine uses no prompt or model: ignored",
    );
  }
  try {
    if (versions) {
      const started = performance.now();
      llm = await versions.openLive();
      metrics.modelLoad.set((performance.now() - started) / 1000);
      await versions.syncCandidate();
    } else {
      metrics.modelLoad.set(0);
    }
  } catch (err) {
    await versions?.close();
    await shared?.close();
    await store.close();
    throw err;
  }
  const makeAdvisor = (p = policy): Advisor =>
    remote && shared && config.engine !== "rules"
      ? createRemoteInterpreter({ policy: p, engine: config.engine, shared, maxWaitMs: config.deadlineMs })
      : createAdvisor({ policy: p, engine: config.engine, ...(llm ? { llm } : {}) });
  /** A new policy file, and the live version the log names (a promotion or rollback switches models). */
  const reloadAdvisor = async (): Promise<Advisor> => {
    currentPolicy = loadPolicy(config.policy);
    if (versions && (await versions.liveChanged())) {
      llm = await versions.openLive();
      logger.info({ versions: llm.promptVersion, model: llm.modelId }, "live prompt/model version switched");
    }
    await versions?.syncCandidate();
    return makeAdvisor(currentPolicy);
  };

  // OpenTelemetry, when an OTEL_EXPORTER_OTLP_*ENDPOINT variable asks for it (docs/server.md).
  const telemetry = telemetryFromEnv(env, { serviceVersion: packageVersion() });
  if (telemetry) logger.info({ otlp: telemetry.endpoints }, "OpenTelemetry export on");
  let built: BuiltApp;
  try {
    built = await buildApp({
      telemetry,
      advisor: makeAdvisor(),
      store,
      modes,
      llm,
      ...(circuit ? { circuit: () => (circuit as CircuitBreakerBackend).state } : {}),
      tokens,
      metrics,
      cache: {
        enabled: config.cache === "auto" ? config.engine !== "rules" : config.cache,
        ttlSeconds: config.cacheTtl,
        size: config.cacheSize,
      },
      deadlineMs: config.deadlineMs,
      queueSize: config.queueSize,
      // Without a model here, the calls in flight to the workers: each only waits for its reply.
      ...(config.concurrency !== undefined
        ? { concurrency: config.concurrency }
        : remote
          ? { concurrency: REMOTE_CONCURRENCY }
          : {}),
      sharedQueue: shared,
      batchMax: config.batchMax,
      bodyLimit: config.bodyLimit,
      mask: rollout.mask,
      limits: {
        requestTimeoutMs: config.requestTimeoutMs,
        headersTimeoutMs: config.headersTimeoutMs,
        keepAliveTimeoutMs: config.keepAliveTimeoutMs,
        connectionTimeoutMs: config.connectionTimeoutMs,
        maxRequestsPerSocket: config.maxRequestsPerSocket,
        maxConnections: config.maxConnections,
        maxConnectionsPerClient: config.maxConnectionsPerClient,
      },
      rateLimit:
        config.rateLimit === null && config.bodyRateLimit === null
          ? null
          : {
              max: config.rateLimit,
              windowMs: config.rateLimitWindow,
              maxBytes: config.bodyRateLimit,
              bodyLimit: config.bodyLimit,
            },
      jobTtlSeconds: config.jobTtl,
      ...(config.publicUrl ? { authzen: { publicUrl: config.publicUrl } } : {}),
      // The same asynchronous logger: Fastify's own would write each decision line synchronously.
      loggerInstance: logger,
      reload: reloadAdvisor,
      ...(versions ? { onLogged: (record: DecisionRecord) => versions.offer(record) } : {}),
      plugins: [
        reviewRoutesFor({ store, rollout: modes }),
        statsRoutesFor({ store }),
        rolloutRoutesFor({ rollout: modes, store }),
        async (app) => uiRoutes(app),
      ],
    });
  } catch (err) {
    await store.close();
    await llm?.close();
    await shared?.close();
    await telemetry?.shutdown();
    throw err;
  }
  const { app, ctx } = built;
  // A promotion or rollback recorded by another sidecar or the CLI switches this one's live version too.
  const versionWatch = versions
    ? setInterval(() => {
        void versions
          .liveChanged()
          .then(async (changed) => {
            if (changed) ctx.service.replaceAdvisor(await reloadAdvisor());
          })
          .catch((err: unknown) => logger.warn({ err: (err as Error).message }, "version check failed"));
      }, rollout.rollback.interval)
    : undefined;
  versionWatch?.unref();
  app.addHook("preClose", async () => {
    retention?.stop();
    if (versionWatch) clearInterval(versionWatch);
    await versions?.stopCandidate();
  });
  app.addHook("onClose", async () => {
    modes.stop();
    await versions?.close();
    await telemetry?.shutdown();
    try {
      destination.flushSync();
    } catch {
      // Nothing buffered, or stdout already gone: nothing more can be written anyway.
    }
  });
  try {
    await app.listen({ host: config.host, port: config.port });
  } catch (err) {
    await app.close();
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "EADDRINUSE")
      throw new ConfigError(`--port ${config.port}: already in use on ${config.host}`);
    if (code === "EADDRNOTAVAIL" || code === "ENOTFOUND")
      throw new ConfigError(`--host ${config.host}: not an address of this machine`);
    throw err;
  }
  // Now this process can serve: record its start-up modes (checked again: the log may have changed).
  try {
    await modes.applyStartupModes(startup);
  } catch (err) {
    await app.close();
    if (err instanceof RolloutError) throw startupError(config, err);
    throw err;
  }
  modes.start();
  const address = app.server.address();
  const port = typeof address === "object" && address ? address.port : config.port;
  const host = config.host.includes(":") ? `[${config.host}]` : config.host;
  return {
    ...built,
    url: `http://${host}:${port}`,
    reload: async () => {
      ctx.service.replaceAdvisor(await reloadAdvisor());
    },
    close: async () => {
      await app.close();
    },
  };
}
