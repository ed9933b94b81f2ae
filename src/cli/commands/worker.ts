import { hostname } from "node:os";
import type { Command } from "commander";
import { pino, stdTimeFunctions } from "pino";
import { createAdvisor } from "../../advisor/create.js";
import type { Advisor, EngineKind } from "../../advisor/types.js";
import { CircuitBreakerBackend } from "../../llm/circuit.js";
import { openLlmBackend } from "../../llm/factory.js";
import { LlmLoadError } from "../../llm/llama/errors.js";
import { parseQueueUrl, QueueConfigError } from "../../queue/connection.js";
import { startQueueWorker } from "../../queue/worker.js";
import { loadRolloutConfig } from "../../rollout/config.js";
import { DEFAULT_DB, Masker, openStore } from "../../store/index.js";
import { type EngineCliOptions, llmOptionsFrom, policyFromOptions, positiveInt } from "../engine-options.js";
import { action, UsageError } from "../errors.js";

interface WorkerCliOptions extends Omit<EngineCliOptions, "engine"> {
  queue?: string;
  db?: string;
  rollout?: string;
  concurrency?: number;
  lockMs?: number;
  maxStalls?: number;
  name?: string;
  logLevel: string;
  shutdownGraceMs: number;
}

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];

export function registerWorker(program: Command): void {
  program
    .command("worker")
    .description(
      "Load the model and answer advisories from the shared queue (serve --queue): as many workers as model machines",
    )
    .option(
      "--queue <redis-url>",
      "the sidecars' shared queue, redis://HOST:PORT[/db][?prefix=name] [POLICY_ADVISOR_QUEUE]",
    )
    .option(
      "--db <file|url>",
      `the sidecars' decision log, where async jobs are logged: postgres://... or a SQLite file [POLICY_ADVISOR_DB] (default ${DEFAULT_DB})`,
    )
    .option("--policy <file>", "policy file (YAML/JSON); give the sidecars' (default: the packaged policy)")
    .option("--rollout <file>", "the sidecars' rollout file: its masking applies to what this worker logs")
    .option("--model <gguf>", "local GGUF model (in-process llama.cpp)")
    .option("--llm-url <url>", "OpenAI-compatible model server instead of --model")
    .option("--llm-model <name>", "model name to ask the --llm-url server for")
    .option("--prompt <variant>", "prompt variant (default: the registry's default)")
    .option("--temperature <t>", "LLM sampling temperature, 0 to 2", (v) => {
      const n = Number(v);
      if (!Number.isFinite(n) || n < 0 || n > 2)
        throw new UsageError(`--temperature: expected a number from 0 to 2, got "${v}"`);
      return n;
    })
    .option("--context-size <tokens>", "LLM context size in tokens", positiveInt("--context-size"))
    .option(
      "--sequences <n>",
      "parallel LLM sequences (in-process) or requests (server)",
      positiveInt("--sequences"),
    )
    .option(
      "--contexts <n>",
      "in-process: contexts the sequences are spread over; must divide --sequences",
      positiveInt("--contexts"),
    )
    .option("--threads <n>", "CPU threads for llama.cpp (default: physical cores)", positiveInt("--threads"))
    .option(
      "--llm-timeout-ms <ms>",
      "per-request timeout of the model server",
      positiveInt("--llm-timeout-ms"),
    )
    .option(
      "--concurrency <n>",
      "jobs at once (default: the model's parallel sequences)",
      positiveInt("--concurrency"),
    )
    .option(
      "--lock-ms <ms>",
      "job lock: a worker that dies mid-job has its job retried by another after about twice this (default 30000)",
      positiveInt("--lock-ms"),
    )
    .option(
      "--max-stalls <n>",
      "times a job may be found stalled (its worker gone) and retried before it fails (default 2)",
      positiveInt("--max-stalls"),
    )
    .option("--name <name>", "this worker's name in Redis and its log (default HOST:PID)")
    .option("--log-level <level>", "fatal | error | warn | info | debug | trace | silent", "info")
    .option(
      "--shutdown-grace-ms <ms>",
      "longest a graceful stop (SIGTERM) waits for the jobs running (default 30000)",
      positiveInt("--shutdown-grace-ms"),
      30_000,
    )
    .action(action(async (o: WorkerCliOptions) => runWorker(o)));
}

async function runWorker(o: WorkerCliOptions): Promise<void> {
  const queueUrl = o.queue ?? process.env.POLICY_ADVISOR_QUEUE;
  if (!queueUrl) throw new UsageError("--queue redis://HOST:PORT is required: the sidecars' shared queue");
  if (!LOG_LEVELS.includes(o.logLevel))
    throw new UsageError(`--log-level: expected one of ${LOG_LEVELS.join(", ")}, got "${o.logLevel}"`);
  if (!o.model && !o.llmUrl)
    throw new UsageError("a worker needs a model: --model FILE (GGUF) or --llm-url URL");
  let target: ReturnType<typeof parseQueueUrl>;
  try {
    target = parseQueueUrl(queueUrl);
  } catch (err) {
    if (err instanceof QueueConfigError) throw new UsageError(err.message);
    throw err;
  }
  const policy = policyFromOptions(o);
  const mask = o.rollout ? loadRolloutConfig(o.rollout).mask : [];
  const name = o.name ?? `${hostname()}:${process.pid}`;
  const destination = pino.destination({ dest: 1, sync: false });
  const log = pino(
    {
      level: o.logLevel,
      base: { service: "policy-advisor-worker", worker: name },
      timestamp: stdTimeFunctions.isoTime,
    },
    destination,
  );
  const store = await openStore(o.db ?? process.env.POLICY_ADVISOR_DB ?? DEFAULT_DB, { mask });
  let llm: CircuitBreakerBackend;
  try {
    llm = new CircuitBreakerBackend(await openLlmBackend(llmOptionsFrom({ ...o, engine: "hybrid" })));
  } catch (err) {
    await store.close();
    if (err instanceof LlmLoadError && (err.code === "model_not_found" || err.code === "not_gguf"))
      throw new UsageError(`--model: ${err.message}${err.hint ? ` (${err.hint})` : ""}`);
    throw err;
  }
  // One model, each engine a sidecar may ask for: the job says which.
  const advisors = Object.fromEntries(
    (["rules", "llm", "hybrid"] as const).map((engine) => [engine, createAdvisor({ policy, engine, llm })]),
  ) as Record<EngineKind, Advisor>;
  let worker: Awaited<ReturnType<typeof startQueueWorker>>;
  try {
    worker = await startQueueWorker({
      target,
      advisors,
      store,
      masker: new Masker(mask),
      concurrency: o.concurrency ?? Math.max(1, llm.parallelism),
      lockMs: o.lockMs ?? 30_000,
      maxStalls: o.maxStalls ?? 2,
      name,
      log,
    });
  } catch (err) {
    await llm.close();
    await store.close();
    throw err;
  }
  log.info(
    { queue: target.display, model: llm.modelId, prompt: llm.promptVersion, policy: policy.revision },
    "worker ready",
  );
  process.stderr.write(`policy-advisor worker ready on ${target.display} (${name}, model ${llm.modelId})\n`);

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "stopping: finishing the jobs running");
    const force = setTimeout(() => {
      log.error(
        { graceMs: o.shutdownGraceMs },
        "stop took too long; exiting (running jobs go back to the queue)",
      );
      destination.flushSync();
      process.exit(1);
    }, o.shutdownGraceMs);
    force.unref();
    (async () => {
      await worker.close();
      await store.close();
      await llm.close();
    })().then(
      () => {
        log.info("stopped");
        destination.flushSync();
        process.exitCode = 0;
      },
      (err: unknown) => {
        log.error({ err: (err as Error).message }, "stop failed");
        process.exitCode = 1;
      },
    );
  };
  process.once("SIGTERM", () => stop("SIGTERM"));
  process.once("SIGINT", () => stop("SIGINT"));
}
