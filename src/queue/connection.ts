import type { ConnectionOptions } from "bullmq";

/** A --queue value that cannot be used: names the value and what is wrong with it. */
export class QueueConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "QueueConfigError";
  }
}

/** The one BullMQ queue every sidecar and worker of a deployment shares. */
export const QUEUE_NAME = "advisories";
/** The key prefix when the URL names none: every key of a deployment starts with it. */
export const DEFAULT_PREFIX = "policy-advisor";

/** Where the shared queue lives: a Redis URL, and the key prefix that separates deployments on one Redis. */
export interface QueueTarget {
  /** The Redis URL as ioredis takes it (without the prefix parameter). */
  url: string;
  prefix: string;
  /** The URL as shown in logs, /ready and messages: without the password. */
  display: string;
}

/**
 * Parses `redis://[user:password@]host:port[/db][?prefix=name]` (or `rediss://` for TLS). The prefix
 * parameter lets several deployments (or test runs) share one Redis; it is a plain name, not a pattern.
 */
export function parseQueueUrl(raw: string): QueueTarget {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new QueueConfigError(`--queue ${raw}: not a URL (expected redis://HOST:PORT)`);
  }
  if (u.protocol !== "redis:" && u.protocol !== "rediss:") {
    throw new QueueConfigError(`--queue ${raw}: expected a redis:// or rediss:// URL, got ${u.protocol}//`);
  }
  if (!u.hostname) throw new QueueConfigError(`--queue ${raw}: no host (expected redis://HOST:PORT)`);
  const db = u.pathname.replace(/^\//, "");
  if (db !== "" && !/^\d{1,2}$/.test(db)) {
    throw new QueueConfigError(`--queue ${raw}: the path must be a database number (/0 to /15), got /${db}`);
  }
  const prefix = u.searchParams.get("prefix") ?? DEFAULT_PREFIX;
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(prefix)) {
    throw new QueueConfigError(
      `--queue ${raw}: prefix "${prefix}" must be 1 to 64 letters, digits, dots, dashes or underscores`,
    );
  }
  const extra = [...u.searchParams.keys()].filter((k) => k !== "prefix");
  if (extra.length > 0) {
    throw new QueueConfigError(`--queue ${raw}: unknown parameter ${extra.join(", ")} (only prefix)`);
  }
  u.search = "";
  const display = new URL(u.toString());
  if (display.password) display.password = "***";
  return {
    url: u.toString(),
    prefix,
    display: `${display.toString()}${prefix === DEFAULT_PREFIX ? "" : ` (prefix ${prefix})`}`,
  };
}

/**
 * BullMQ's connection options for one role. A producer (the sidecar's queue) fails fast when Redis is
 * unreachable, so that a caller is told at once (503, or the fail-closed answer) instead of hanging;
 * blocking readers (workers, queue events) retry forever, as BullMQ requires.
 */
export function connectionFor(target: QueueTarget, role: "producer" | "blocking"): ConnectionOptions {
  return role === "producer"
    ? { url: target.url, maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 5000 }
    : { url: target.url, maxRetriesPerRequest: null, connectTimeout: 5000 };
}
