import { readFileSync } from "node:fs";
import type { Server } from "node:http";
import type { Socket } from "node:net";
import type { FastifyBaseLogger } from "fastify";
import type { ServerMetrics } from "./metrics.js";

/**
 * How long a client may take and how much of the server it may hold. Each bound closes what a slow or
 * greedy client holds open (a trickled body, an idle keep-alive connection, a socket nobody reads), so
 * that the file descriptors and memory stay for the clients that behave.
 */
export interface ConnectionLimits {
  /** The whole request (headers and body) must arrive within this long: else 408 and the connection closes. */
  requestTimeoutMs: number;
  /** The headers must arrive within this long (at most requestTimeoutMs). */
  headersTimeoutMs: number;
  /** An idle keep-alive connection is closed after this long. */
  keepAliveTimeoutMs: number;
  /** A connection with no traffic either way for this long is closed. */
  connectionTimeoutMs: number;
  /** Requests one connection may carry before it is closed; 0 for no limit. */
  maxRequestsPerSocket: number;
  /** Open connections at most; more are closed at once. */
  maxConnections: number;
  /** Open connections from one client address at most; more are closed at once. */
  maxConnectionsPerClient: number;
}

/** The bounds `serve` applies unless told otherwise (ServeConfigSchema's defaults are these). */
export const DEFAULT_LIMITS: ConnectionLimits = {
  requestTimeoutMs: 30_000,
  headersTimeoutMs: 10_000,
  keepAliveTimeoutMs: 5_000,
  connectionTimeoutMs: 60_000,
  maxRequestsPerSocket: 0,
  maxConnections: 1024,
  maxConnectionsPerClient: 256,
};

/** File descriptors kept free of connections: the decision log, its WAL, the model, the logger, DNS. */
export const RESERVED_FILES = 64;

/** The process's soft limit on open files (Linux: /proc/self/limits), or null where it cannot be read. */
export function openFileLimit(limitsText?: string): number | null {
  let text = limitsText;
  if (text === undefined) {
    try {
      text = readFileSync("/proc/self/limits", "utf8");
    } catch {
      return null;
    }
  }
  const m = /^Max open files\s+(\d+|unlimited)\s/m.exec(text);
  if (!m?.[1] || m[1] === "unlimited") return null;
  return Number(m[1]);
}

export interface EffectiveConnectionCaps {
  maxConnections: number;
  maxConnectionsPerClient: number;
  /** Why the configured values were lowered, for the start-up log; empty when they were not. */
  lowered: string[];
}

/**
 * The caps in force: maxConnections lowered to leave RESERVED_FILES descriptors free under the process's
 * open-file limit (else a connection flood makes the log, not the flood, fail with EMFILE), and the
 * per-client cap at most half of that, so one address can never take every connection.
 */
export function effectiveCaps(limits: ConnectionLimits, fileLimit: number | null): EffectiveConnectionCaps {
  const lowered: string[] = [];
  let maxConnections = limits.maxConnections;
  if (fileLimit !== null && maxConnections > fileLimit - RESERVED_FILES) {
    maxConnections = Math.max(1, fileLimit - RESERVED_FILES);
    lowered.push(
      `--max-connections ${limits.maxConnections} lowered to ${maxConnections}: the open-file limit is ${fileLimit} (raise LimitNOFILE / ulimit -n)`,
    );
  }
  let maxConnectionsPerClient = limits.maxConnectionsPerClient;
  const half = Math.max(1, Math.floor(maxConnections / 2));
  if (maxConnectionsPerClient > half && maxConnections > 1) {
    maxConnectionsPerClient = half;
    lowered.push(
      `--max-connections-per-client ${limits.maxConnectionsPerClient} lowered to ${half}: half of the ${maxConnections} connections`,
    );
  }
  return { maxConnections, maxConnectionsPerClient, lowered };
}

/**
 * Enforces the connection caps on a listening server: Node's own maxConnections for the total (it closes
 * the newest socket at once and emits "drop"), and a count per remote address for the per-client cap.
 * Refused connections are closed without an answer (there is no request yet to answer), counted in
 * policy_advisor_connections_refused_total{reason} and logged at most every 10 s.
 */
export function enforceConnectionCaps(
  server: Server,
  caps: EffectiveConnectionCaps,
  metrics: ServerMetrics,
  log: FastifyBaseLogger,
): { perClient: Map<string, number> } {
  server.maxConnections = caps.maxConnections;
  const perClient = new Map<string, number>();
  const refused = { total: 0, per_client: 0 };
  let lastWarn = 0;
  const warn = (): void => {
    const now = Date.now();
    if (now - lastWarn < 10_000) return;
    lastWarn = now;
    log.warn(
      {
        refusedTotal: refused.total,
        refusedPerClient: refused.per_client,
        maxConnections: caps.maxConnections,
        maxConnectionsPerClient: caps.maxConnectionsPerClient,
      },
      "connections refused: a connection cap is reached",
    );
  };
  server.on("drop", () => {
    refused.total++;
    metrics.connectionsRefused.inc({ reason: "total" });
    warn();
  });
  server.on("connection", (socket: Socket) => {
    const address = socket.remoteAddress ?? "unknown";
    const n = (perClient.get(address) ?? 0) + 1;
    if (n > caps.maxConnectionsPerClient) {
      refused.per_client++;
      metrics.connectionsRefused.inc({ reason: "per_client" });
      warn();
      // A reset, not a close: nothing is left in TIME_WAIT on this side, and the client knows at once.
      socket.resetAndDestroy();
      return;
    }
    perClient.set(address, n);
    metrics.connectionsOpen.inc();
    socket.once("close", () => {
      metrics.connectionsOpen.dec();
      const left = (perClient.get(address) ?? 1) - 1;
      if (left <= 0) perClient.delete(address);
      else perClient.set(address, left);
    });
  });
  return { perClient };
}
