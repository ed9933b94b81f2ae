import autocannon from "autocannon";

export interface LoadOptions {
  /** Base URL, e.g. http://127.0.0.1:8787 */
  url: string;
  path: string;
  /** JSON bodies sent in turn on each connection. */
  bodies: unknown[];
  connections: number;
  durationSec: number;
  headers?: Record<string, string>;
  /** Requests per second over all connections; unset = as fast as the server answers. */
  overallRate?: number;
  /** Seconds before a request counts as a timeout. */
  timeoutSec?: number;
}

export interface LoadResult {
  /** Successful (2xx) answers per second. */
  rps: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  requests: number;
  ok: number;
  /** Answers by status code, e.g. {"200": 5000, "429": 12}. */
  statusCodes: Record<string, number>;
  /** Connection errors and timeouts. */
  errors: number;
  timeouts: number;
  durationSec: number;
}

/** Drives a server with autocannon from this process (the server runs in another one). */
export async function runLoad(opts: LoadOptions): Promise<LoadResult> {
  const headers = { "content-type": "application/json", ...(opts.headers ?? {}) };
  const requests = opts.bodies.map((b) => ({
    method: "POST" as const,
    path: opts.path,
    headers,
    body: JSON.stringify(b),
  }));
  const result = await autocannon({
    url: opts.url,
    connections: opts.connections,
    duration: opts.durationSec,
    requests,
    timeout: opts.timeoutSec ?? 10,
    ...(opts.overallRate !== undefined ? { overallRate: opts.overallRate } : {}),
  });
  const statusCodes: Record<string, number> = {};
  for (const [code, v] of Object.entries(result.statusCodeStats ?? {})) {
    if (v?.count) statusCodes[code] = v.count;
  }
  const ok = result["2xx"];
  const duration = result.duration > 0 ? result.duration : opts.durationSec;
  return {
    rps: ok / duration,
    p50Ms: result.latency.p50,
    p90Ms: result.latency.p90,
    p99Ms: result.latency.p99,
    maxMs: result.latency.max,
    requests: result.requests.total,
    ok,
    statusCodes,
    errors: result.errors,
    timeouts: result.timeouts,
    durationSec: duration,
  };
}
