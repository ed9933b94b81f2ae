import { readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { parseDuration } from "../rollout/duration.js";
import { ModeSchema } from "../schemas/common.js";
import { CodedError } from "../schemas/error-codes.js";
import { issuesFromZod } from "../schemas/errors.js";
import { DEFAULT_SQLITE_SYNC, SQLITE_SYNC_VALUES } from "../store/sqlite-options.js";

/** A configuration that cannot be used: names the source and each bad setting. */
export class ConfigError extends CodedError<"invalid_config"> {
  constructor(message: string) {
    super("invalid_config", message);
    this.name = "ConfigError";
  }
}

const int = (what: string, min: number, max: number) =>
  z.coerce
    .number({ error: `expected ${what}` })
    .int({ error: `expected ${what} (a whole number)` })
    .min(min, { error: `expected ${what} of at least ${min}` })
    .max(max, { error: `expected ${what} of at most ${max}` });

const onOff = z.union([
  z.boolean(),
  z
    .enum(["on", "off", "true", "false", "1", "0", "yes", "no"])
    .transform((s) => ["on", "true", "1", "yes"].includes(s)),
]);

const UNIT_BYTES: Record<string, number> = { b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** Sizes as bytes or with a unit: 65536, "64kb", "1mb", "1gb". */
const size = z.union([z.number().int().positive(), z.string()]).transform((v, ctx) => {
  if (typeof v === "number") return v;
  const m = /^(\d+(?:\.\d+)?)\s*(b|kb?|mb?|gb?|tb?)?$/i.exec(v.trim());
  if (!m) {
    ctx.addIssue({
      code: "custom",
      message: `expected a size such as 65536, "64kb", "1mb" or "1gb", got "${v}"`,
    });
    return z.NEVER;
  }
  const bytes = Math.round(Number(m[1]) * (UNIT_BYTES[(m[2] ?? "b").charAt(0).toLowerCase()] ?? 1));
  if (bytes < 1) {
    ctx.addIssue({ code: "custom", message: `expected a size of at least 1 byte, got "${v}"` });
    return z.NEVER;
  }
  return bytes;
});

/** "off" (or 0, "none") turns a bound off: null. Off is allowed, but never the default. */
const OFF = ["off", "none", "0"];
const isOff = (v: unknown): boolean =>
  v === 0 || (typeof v === "string" && OFF.includes(v.trim().toLowerCase()));

/** A bound that may be turned off with "off" (or 0, "none"): null. Off is allowed, never the default. */
const orOff = <T extends z.ZodType>(schema: T) =>
  z.preprocess((v) => (isOff(v) ? null : v), schema.nullable());

/** Durations as people write them: "500ms", "90s", "15m", "1h", "30d", "2w", or a number of seconds. In ms. */
const duration = (what: string, minMs: number) =>
  z.union([z.number().positive(), z.string()]).transform((v, ctx) => {
    let ms: number;
    const millis = typeof v === "string" ? /^\s*(\d+)\s*ms\s*$/i.exec(v) : null;
    try {
      ms = millis ? Number(millis[1]) : parseDuration(v, what);
    } catch {
      ctx.addIssue({ code: "custom", message: `expected ${what} such as 1s, 15m, 1h or 30d, got "${v}"` });
      return z.NEVER;
    }
    if (ms < minMs) {
      ctx.addIssue({ code: "custom", message: `expected ${what} of at least ${minMs} ms, got "${v}"` });
      return z.NEVER;
    }
    return ms;
  });

/** Every setting of `policy-advisor serve`, from flags, POLICY_ADVISOR_* variables and a config file. */
export const ServeConfigSchema = z
  .strictObject({
    host: z.string().min(1).default("127.0.0.1"),
    port: int("a port", 0, 65535).default(8787),
    db: z.string().min(1).default("./policy-advisor.db"),
    /** SQLite commit durability: normal survives a crash of the service, full also a power loss. */
    dbSync: z.enum(SQLITE_SYNC_VALUES).default(DEFAULT_SQLITE_SYNC),
    mode: ModeSchema.optional(),
    rollout: z.string().min(1).optional(),
    policy: z.string().min(1).optional(),
    engine: z.enum(["rules", "llm", "hybrid"]).default("rules"),
    model: z.string().min(1).optional(),
    llmUrl: z.url({ error: "expected a URL such as http://127.0.0.1:8080/v1" }).optional(),
    llmModel: z.string().min(1).optional(),
    prompt: z.string().min(1).optional(),
    temperature: z.coerce
      .number({ error: "expected a number from 0 to 2" })
      .min(0, { error: "expected a number from 0 to 2" })
      .max(2, { error: "expected a number from 0 to 2" })
      .optional(),
    contextSize: int("a context size in tokens", 256, 1_048_576).optional(),
    sequences: int("a number of parallel sequences", 1, 64).optional(),
    contexts: int("a number of contexts", 1, 64).optional(),
    threads: int("a thread count", 1, 1024).optional(),
    llmTimeoutMs: int("an LLM timeout in milliseconds", 1, 600_000).optional(),
    /** auto: on with a model (engine llm/hybrid), off with the rules engine, whose decisions cost less than a lookup. */
    cache: z.union([z.literal("auto"), onOff]).default("auto"),
    cacheTtl: int("a cache TTL in seconds", 1, 86_400 * 7).default(300),
    cacheSize: int("a cache size (entries)", 1, 10_000_000).default(10_000),
    deadlineMs: int("a deadline in milliseconds", 1, 600_000).default(10_000),
    queueSize: int("a queue size", 0, 1_000_000).default(256),
    concurrency: int("a concurrency", 1, 1024).optional(),
    /** The shared queue on Redis (redis://HOST:PORT): async jobs and model calls go to policy-advisor workers. */
    queue: z
      .string()
      .regex(/^rediss?:\/\//i, { error: "expected a Redis URL such as redis://127.0.0.1:6379" })
      .optional(),
    /** Most jobs waiting in the shared queue across every sidecar; one more is refused with 429. */
    queueMax: int("a shared queue length", 1, 10_000_000).default(1000),
    /** Most async jobs one caller may have waiting or running in the shared queue. */
    queuePerCaller: int("a number of jobs per caller", 1, 10_000_000).default(250),
    batchMax: int("a batch limit", 1, 10_000).default(100),
    bodyLimit: size.default(1024 * 1024),
    tokensFile: z.string().min(1).optional(),
    logLevel: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
    jobTtl: int("a job retention in seconds", 1, 86_400 * 7).default(3600),
    shutdownGraceMs: int("a shutdown grace in milliseconds", 0, 600_000).default(10_000),
    // Resource bounds (docs/security.md, "Resource bounds"): every one on by default.
    /** The whole request, headers and body, must arrive within this long, else 408 and the connection closes. */
    requestTimeoutMs: int("a request timeout in milliseconds", 100, 600_000).default(30_000),
    /** The headers must arrive within this long (at most requestTimeoutMs). */
    headersTimeoutMs: int("a headers timeout in milliseconds", 100, 600_000).default(10_000),
    /** An idle keep-alive connection is closed after this long. */
    keepAliveTimeoutMs: int("a keep-alive timeout in milliseconds", 100, 600_000).default(5_000),
    /** A connection with no traffic either way for this long is closed (longer than deadlineMs). */
    connectionTimeoutMs: int("a connection timeout in milliseconds", 1_000, 3_600_000).default(60_000),
    /** Requests one keep-alive connection may carry before it is closed; 0 for no limit. */
    maxRequestsPerSocket: int("a number of requests per connection", 0, 1_000_000_000).default(0),
    /** Open connections at most (lowered at start to fit the process's open-file limit). */
    maxConnections: int("a number of connections", 1, 1_000_000).default(1024),
    /** Open connections from one client address at most (and at most half of maxConnections). */
    maxConnectionsPerClient: int("a number of connections per client", 1, 1_000_000).default(256),
    /** Requests per client (bearer token, else address) per rateLimitWindow; null: off. */
    rateLimit: orOff(int("a number of requests per window", 1, 1_000_000_000)).default(1000),
    rateLimitWindow: duration("a rate-limit window", 100).default(1000),
    /** Request body bytes per client per rateLimitWindow (the declared Content-Length); null: off. */
    bodyRateLimit: orOff(size).default(4 * 1024 ** 2),
    /** Decisions older than this are pruned from the log (periodically and at start); null: kept forever. */
    retain: orOff(duration("a retention", 1000)).default(30 * 86_400_000),
    /** The decision log's largest size; a full log refuses new decisions (503 log_full). null: no limit. */
    maxLogSize: orOff(size).default(1024 ** 3),
    /** The URL callers use, published as the AuthZEN PDP identifier (default: from each metadata request). */
    publicUrl: z
      .url({ error: "expected the service's URL as callers use it, such as https://pdp.example.com" })
      .refine((u) => !/[?#]/.test(u), { error: "expected a URL without a query or fragment" })
      .optional(),
  })
  .superRefine((c, ctx) => {
    if (c.headersTimeoutMs > c.requestTimeoutMs) {
      ctx.addIssue({
        code: "custom",
        path: ["headersTimeoutMs"],
        message: `expected at most the request timeout (${c.requestTimeoutMs} ms), got ${c.headersTimeoutMs}`,
      });
    }
    // A connection quiet while its advisory runs must not be cut before the deadline answers it.
    if (c.connectionTimeoutMs <= c.deadlineMs) {
      ctx.addIssue({
        code: "custom",
        path: ["connectionTimeoutMs"],
        message: `expected more than the deadline (${c.deadlineMs} ms), got ${c.connectionTimeoutMs}`,
      });
    }
  });
export type ServeConfig = z.infer<typeof ServeConfigSchema>;
export type ServeConfigInput = z.input<typeof ServeConfigSchema>;

/** Option name -> environment variable. */
export const ENV_NAMES: Record<keyof ServeConfig, string> = {
  host: "POLICY_ADVISOR_HOST",
  port: "POLICY_ADVISOR_PORT",
  db: "POLICY_ADVISOR_DB",
  dbSync: "POLICY_ADVISOR_DB_SYNC",
  mode: "POLICY_ADVISOR_MODE",
  rollout: "POLICY_ADVISOR_ROLLOUT",
  policy: "POLICY_ADVISOR_POLICY",
  engine: "POLICY_ADVISOR_ENGINE",
  model: "POLICY_ADVISOR_MODEL",
  llmUrl: "POLICY_ADVISOR_LLM_URL",
  llmModel: "POLICY_ADVISOR_LLM_MODEL",
  prompt: "POLICY_ADVISOR_PROMPT",
  temperature: "POLICY_ADVISOR_TEMPERATURE",
  contextSize: "POLICY_ADVISOR_CONTEXT_SIZE",
  sequences: "POLICY_ADVISOR_SEQUENCES",
  contexts: "POLICY_ADVISOR_CONTEXTS",
  threads: "POLICY_ADVISOR_THREADS",
  llmTimeoutMs: "POLICY_ADVISOR_LLM_TIMEOUT_MS",
  cache: "POLICY_ADVISOR_CACHE",
  cacheTtl: "POLICY_ADVISOR_CACHE_TTL",
  cacheSize: "POLICY_ADVISOR_CACHE_SIZE",
  deadlineMs: "POLICY_ADVISOR_DEADLINE_MS",
  queueSize: "POLICY_ADVISOR_QUEUE_SIZE",
  concurrency: "POLICY_ADVISOR_CONCURRENCY",
  queue: "POLICY_ADVISOR_QUEUE",
  queueMax: "POLICY_ADVISOR_QUEUE_MAX",
  queuePerCaller: "POLICY_ADVISOR_QUEUE_PER_CALLER",
  batchMax: "POLICY_ADVISOR_BATCH_MAX",
  bodyLimit: "POLICY_ADVISOR_BODY_LIMIT",
  tokensFile: "POLICY_ADVISOR_TOKENS_FILE",
  logLevel: "POLICY_ADVISOR_LOG_LEVEL",
  jobTtl: "POLICY_ADVISOR_JOB_TTL",
  shutdownGraceMs: "POLICY_ADVISOR_SHUTDOWN_GRACE_MS",
  requestTimeoutMs: "POLICY_ADVISOR_REQUEST_TIMEOUT_MS",
  headersTimeoutMs: "POLICY_ADVISOR_HEADERS_TIMEOUT_MS",
  keepAliveTimeoutMs: "POLICY_ADVISOR_KEEP_ALIVE_TIMEOUT_MS",
  connectionTimeoutMs: "POLICY_ADVISOR_CONNECTION_TIMEOUT_MS",
  maxRequestsPerSocket: "POLICY_ADVISOR_MAX_REQUESTS_PER_SOCKET",
  maxConnections: "POLICY_ADVISOR_MAX_CONNECTIONS",
  maxConnectionsPerClient: "POLICY_ADVISOR_MAX_CONNECTIONS_PER_CLIENT",
  rateLimit: "POLICY_ADVISOR_RATE_LIMIT",
  rateLimitWindow: "POLICY_ADVISOR_RATE_LIMIT_WINDOW",
  bodyRateLimit: "POLICY_ADVISOR_BODY_RATE_LIMIT",
  retain: "POLICY_ADVISOR_RETAIN",
  maxLogSize: "POLICY_ADVISOR_MAX_LOG_SIZE",
  publicUrl: "POLICY_ADVISOR_PUBLIC_URL",
};

/** The kebab-case flag of an option, for messages. */
export const flagOf = (key: string): string => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new ConfigError(
      `cannot read config file ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
    );
  }
  let raw: unknown;
  try {
    raw = path.endsWith(".json") ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new ConfigError(
      `config file ${path} is not valid ${path.endsWith(".json") ? "JSON" : "YAML"}: ${(err as Error).message}`,
    );
  }
  if (raw === null || raw === undefined) return {};
  if (typeof raw !== "object" || Array.isArray(raw))
    throw new ConfigError(`config file ${path}: expected a mapping of option names to values`);
  return raw as Record<string, unknown>;
}

function fromEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, name] of Object.entries(ENV_NAMES)) {
    const v = env[name];
    if (v !== undefined && v !== "") out[key] = v;
  }
  return out;
}

/**
 * Merges defaults < config file < environment < flags, then validates. Each bad setting is named with
 * where it came from, so `--port abc` and `POLICY_ADVISOR_PORT=abc` give different, precise messages.
 */
export function resolveServeConfig(
  flags: Record<string, unknown>,
  opts: { configFile?: string; env?: NodeJS.ProcessEnv } = {},
): ServeConfig {
  const file = opts.configFile ? readConfigFile(opts.configFile) : {};
  const env = fromEnv(opts.env ?? process.env);
  const definedFlags = Object.fromEntries(Object.entries(flags).filter(([, v]) => v !== undefined));
  const merged = { ...file, ...env, ...definedFlags };
  const r = ServeConfigSchema.safeParse(merged);
  if (r.success) return r.data;
  const where = (key: string): string => {
    if (key in definedFlags) return flagOf(key);
    if (key in env) return ENV_NAMES[key as keyof ServeConfig];
    if (key in file) return `${opts.configFile}: ${key}`;
    return key;
  };
  const lines = issuesFromZod(r.error).map((i) => {
    const key = i.path.split(".")[0] ?? "";
    if (i.message.startsWith("unknown field")) return `  ${opts.configFile ?? "config"}: ${i.message}`;
    return `  ${where(key)}: ${i.message}`;
  });
  throw new ConfigError(`invalid serve configuration:\n${lines.join("\n")}`);
}

export const isLoopback = (host: string): boolean =>
  host === "localhost" || host === "::1" || host === "[::1]" || /^127\.\d+\.\d+\.\d+$/.test(host);
