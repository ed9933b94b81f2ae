import type { Command } from "commander";
import { LlmLoadError } from "../../llm/llama/errors.js";
import type { StartupOptions } from "../../rollout/controller.js";
import { ConfigError, ENV_NAMES, resolveServeConfig, type ServeConfig } from "../../server/config.js";
import { startService } from "../../server/start.js";
import { action, UsageError } from "../errors.js";

interface OptionSpec {
  key: keyof ServeConfig;
  flag: string;
  help: string;
}

/** Every serve option: flag, help, and (in the help text) its environment variable and default. */
const OPTIONS: OptionSpec[] = [
  {
    key: "host",
    flag: "--host <address>",
    help: "address to bind; anything but loopback requires API tokens (default 127.0.0.1)",
  },
  { key: "port", flag: "--port <n>", help: "port to listen on, 0 for any free port (default 8787)" },
  {
    key: "db",
    flag: "--db <file|url>",
    help: "decision log: a SQLite file or postgres://user@host:port/db (default ./policy-advisor.db)",
  },
  {
    key: "dbSync",
    flag: "--db-sync <normal|full>",
    help:
      "SQLite commit durability: normal = an answered decision survives a crash or kill -9 of the service, " +
      "but a power loss or OS crash may lose the last few; full = also survives those, one fsync per " +
      "group commit, several times slower (default normal)",
  },
  {
    key: "mode",
    flag: "--mode <mode>",
    help: "shadow | advisory | enforce for every tier (admin never above advisory); overrides --rollout",
  },
  {
    key: "rollout",
    flag: "--rollout <file>",
    help: "rollout file (YAML/JSON): mode per tier, gates, rollback, masking (default: every tier shadow)",
  },
  {
    key: "policy",
    flag: "--policy <file>",
    help: "policy file (YAML/JSON) (default: the packaged default policy); reloaded on SIGHUP",
  },
  { key: "engine", flag: "--engine <kind>", help: "rules | llm | hybrid (default rules)" },
  {
    key: "model",
    flag: "--model <gguf>",
    help: "local GGUF model for engine llm/hybrid (in-process llama.cpp)",
  },
  { key: "llmUrl", flag: "--llm-url <url>", help: "OpenAI-compatible model server for engine llm/hybrid" },
  { key: "llmModel", flag: "--llm-model <name>", help: "model name to ask the --llm-url server for" },
  { key: "prompt", flag: "--prompt <variant>", help: "prompt variant (default: the registry's default)" },
  {
    key: "temperature",
    flag: "--temperature <t>",
    help: "LLM sampling temperature, 0 to 2 (default: the backend's, 0)",
  },
  {
    key: "contextSize",
    flag: "--context-size <tokens>",
    help: "LLM context size in tokens (in-process model)",
  },
  {
    key: "sequences",
    flag: "--sequences <n>",
    help: "parallel LLM sequences (in-process) or requests (server); the default concurrency",
  },
  {
    key: "contexts",
    flag: "--contexts <n>",
    help: "in-process: contexts the sequences are spread over (default: one per core on a CPU); must divide --sequences",
  },
  { key: "threads", flag: "--threads <n>", help: "CPU threads for llama.cpp (default: physical cores)" },
  {
    key: "llmTimeoutMs",
    flag: "--llm-timeout-ms <ms>",
    help: "per-request timeout of the model server (engine llm/hybrid with --llm-url)",
  },
  {
    key: "cache",
    flag: "--cache <on|off|auto>",
    help: "cache confident decisions: on, off, or auto = on with a model, off with the rules engine (default auto)",
  },
  {
    key: "cacheTtl",
    flag: "--cache-ttl <seconds>",
    help: "how long a cached decision is served (default 300)",
  },
  { key: "cacheSize", flag: "--cache-size <entries>", help: "most cached decisions (default 10000)" },
  {
    key: "deadlineMs",
    flag: "--deadline-ms <ms>",
    help: "per-request deadline; past it the fail-closed fallback answers (default 10000)",
  },
  {
    key: "queueSize",
    flag: "--queue-size <n>",
    help: "advisories that may wait for a slot; beyond, 429 with Retry-After (default 256)",
  },
  {
    key: "concurrency",
    flag: "--concurrency <n>",
    help: "advisories run at once (default: the model's parallel sequences, 4 for rules)",
  },
  {
    key: "queue",
    flag: "--queue <redis-url>",
    help:
      "share the work through Redis (BullMQ): async jobs survive this process and any sidecar reads them; " +
      "without --model, advice that needs the model goes to policy-advisor worker processes " +
      "(redis://HOST:PORT[/db][?prefix=name]; default: the in-process queue)",
  },
  {
    key: "queueMax",
    flag: "--queue-max <n>",
    help: "with --queue: most jobs waiting in the shared queue; beyond, 429 with Retry-After (default 1000)",
  },
  {
    key: "queuePerCaller",
    flag: "--queue-per-caller <n>",
    help: "with --queue: most async jobs one caller (token, else address) may have waiting or running (default 250)",
  },
  {
    key: "batchMax",
    flag: "--batch-max <n>",
    help: "most requests in one POST /v1/advisory/batch (default 100)",
  },
  {
    key: "bodyLimit",
    flag: "--body-limit <size>",
    help: "largest request body, e.g. 65536, 64kb, 1mb; beyond, 413 (default 1mb)",
  },
  {
    key: "tokensFile",
    flag: "--tokens-file <file>",
    help: 'API tokens, one "caller|reviewer <token> [name]" a line',
  },
  {
    key: "logLevel",
    flag: "--log-level <level>",
    help: "fatal | error | warn | info | debug | trace | silent (default info)",
  },
  {
    key: "jobTtl",
    flag: "--job-ttl <seconds>",
    help: "how long a finished async job's result is kept (default 3600)",
  },
  {
    key: "shutdownGraceMs",
    flag: "--shutdown-grace-ms <ms>",
    help: "longest a graceful shutdown may take before exit (default 10000)",
  },
  {
    key: "requestTimeoutMs",
    flag: "--request-timeout-ms <ms>",
    help: "the whole request, headers and body, must arrive within this; else 408 and the connection closes (default 30000)",
  },
  {
    key: "headersTimeoutMs",
    flag: "--headers-timeout-ms <ms>",
    help: "the request headers must arrive within this, at most --request-timeout-ms (default 10000)",
  },
  {
    key: "keepAliveTimeoutMs",
    flag: "--keep-alive-timeout-ms <ms>",
    help: "an idle keep-alive connection is closed after this (default 5000)",
  },
  {
    key: "connectionTimeoutMs",
    flag: "--connection-timeout-ms <ms>",
    help: "a connection with no traffic either way for this long is closed; more than --deadline-ms (default 60000)",
  },
  {
    key: "maxRequestsPerSocket",
    flag: "--max-requests-per-socket <n>",
    help: "requests one connection may carry before it is closed, 0 for no limit (default 0)",
  },
  {
    key: "maxConnections",
    flag: "--max-connections <n>",
    help: "open connections at most, lowered to fit the open-file limit (ulimit -n) less 64; more are closed at once (default 1024)",
  },
  {
    key: "maxConnectionsPerClient",
    flag: "--max-connections-per-client <n>",
    help: "open connections from one client address at most, and at most half of --max-connections (default 256)",
  },
  {
    key: "rateLimit",
    flag: "--rate-limit <n|off>",
    help: "requests per client (its bearer token, else its address) per --rate-limit-window; beyond, 429 rate_limited with Retry-After (default 1000)",
  },
  {
    key: "rateLimitWindow",
    flag: "--rate-limit-window <duration>",
    help: "the window of --rate-limit: 500ms, 1s, 1m, ... (default 1s)",
  },
  {
    key: "bodyRateLimit",
    flag: "--body-rate-limit <size|off>",
    help: "request body bytes per client per --rate-limit-window, counted from Content-Length before the body is read; beyond, 429 rate_limited (default 4mb)",
  },
  {
    key: "retain",
    flag: "--retain <duration|off>",
    help: "prune decisions older than this from the log, at start and periodically: 30d, 12h, 2w, or off to keep all (default 30d)",
  },
  {
    key: "maxLogSize",
    flag: "--max-log-size <size|off>",
    help: "largest decision log, e.g. 500mb, 1gb; a full log refuses new decisions with 503 log_full, never drops one (default 1gb)",
  },
  {
    key: "publicUrl",
    flag: "--public-url <url>",
    help: "the URL callers use, published as the AuthZEN policy_decision_point (default: from each request)",
  },
];

const HELP_FOOTER = `
Every option can also come from an environment variable (shown in brackets) or from a config file
(--config FILE, YAML or JSON, keys named as the options in camelCase: port, deadlineMs, ...).
Precedence: flag > environment > config file > default.

API tokens: POLICY_ADVISOR_TOKEN (caller role) and POLICY_ADVISOR_REVIEWER_TOKEN (reviewer role), or
--tokens-file. With any token configured, every route except /health, /ready, /openapi.json and /ui
needs "Authorization: Bearer <token>"; the decision log, review, stats, rollout and reload routes need
a reviewer token. Reviews, promotions and rollbacks are recorded under the token's name ("anonymous"
with no token configured).

Modes: the decision log holds each tier's mode, shared by every sidecar on it. Without --mode (or a
mode in the rollout file) a tier keeps the log's mode. A different mode is recorded only once this
process listens; one above the log's must pass the tier's gates, one mode at a time, or start is
refused (exit 2) unless --force --note "why".

Signals: SIGTERM/SIGINT shut down gracefully (stop accepting, fail closed whatever is queued, finish
what runs, flush the decision log); SIGHUP reloads the policy file.
`;

export function registerServe(program: Command): void {
  const cmd = program
    .command("serve")
    .description("Run the sidecar HTTP service (POST /v1/advisory and friends)")
    .option(
      "--config <file>",
      "config file (YAML or JSON) with any of the options below [POLICY_ADVISOR_CONFIG]",
    );
  for (const o of OPTIONS) cmd.option(o.flag, `${o.help} [${ENV_NAMES[o.key]}]`);
  // Flags only, never from the environment or a config file: forcing a mode is a one-off human decision.
  cmd.option("--force", "record a start-up mode above the log's although its gates fail (needs --note)");
  cmd.option("--note <why>", "why, recorded with the start-up modes (required with --force)");
  cmd.addHelpText("after", HELP_FOOTER);
  cmd.action(
    action(async (flags: Record<string, unknown> & { config?: string; force?: boolean; note?: string }) => {
      const { config: configFile, force, note, ...rest } = flags;
      if (note !== undefined && !note.trim()) throw new UsageError("--note: say why (the note is recorded)");
      if (force && note === undefined) {
        throw new UsageError('--force needs --note "why": the reason is recorded with the modes it forces');
      }
      const file = configFile ?? process.env.POLICY_ADVISOR_CONFIG;
      let config: ServeConfig;
      try {
        config = resolveServeConfig(rest, file ? { configFile: file } : {});
      } catch (err) {
        if (err instanceof ConfigError) throw new UsageError(err.message);
        throw err;
      }
      await serve(config, { ...(force ? { force: true } : {}), ...(note ? { note } : {}) });
    }),
  );
}

async function serve(config: ServeConfig, startup: StartupOptions): Promise<void> {
  let service: Awaited<ReturnType<typeof startService>>;
  try {
    service = await startService(config, process.env, startup);
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(err.message);
    // A model file that is missing or not a GGUF is a mistake in the flags, not a crash.
    if (err instanceof LlmLoadError && (err.code === "model_not_found" || err.code === "not_gguf")) {
      throw new UsageError(`--model: ${err.message}${err.hint ? ` (${err.hint})` : ""}`);
    }
    throw err;
  }
  const log = service.app.log;
  const advisor = service.ctx.service.currentAdvisor;
  log.info(
    {
      url: service.url,
      engine: advisor.engine,
      versions: advisor.versions(),
      db: config.db,
      auth: service.ctx.authEnabled,
    },
    "policy-advisor listening",
  );
  process.stderr.write(`policy-advisor listening on ${service.url}\n`);

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "shutting down");
    const force = setTimeout(() => {
      log.error({ graceMs: config.shutdownGraceMs }, "shutdown took too long; exiting");
      process.exit(1);
    }, config.shutdownGraceMs);
    force.unref();
    service.close().then(
      () => {
        log.info("stopped");
        process.exitCode = 0;
      },
      (err: unknown) => {
        log.error({ err }, "shutdown failed");
        process.exitCode = 1;
      },
    );
  };
  process.once("SIGTERM", () => stop("SIGTERM"));
  process.once("SIGINT", () => stop("SIGINT"));
  process.on("SIGHUP", () => {
    service.reload().then(
      () => log.info({ versions: service.ctx.service.currentAdvisor.versions() }, "policy reloaded"),
      (err: unknown) =>
        log.error({ err: (err as Error).message }, "policy reload failed; keeping the old policy"),
    );
  });
}
