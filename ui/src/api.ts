import { getToken, requestToken } from "./auth.js";
import type {
  DecisionRecord,
  DecisionValue,
  Mode,
  Page,
  ReviewCategory,
  Rollout,
  Runtime,
  Stats,
} from "./types.js";

/** An error answered by the server ({"error": {code, message, issues}}) or the network. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly issues: { path: string; message: string }[] = [],
  ) {
    super(message);
    this.name = "ApiError";
  }

  /** A sentence for the user: what failed and, when the server said, which field. */
  describe(): string {
    const fields = this.issues.map((i) => `${i.path || "(request)"}: ${i.message}`).join("; ");
    return fields ? `${this.message} (${fields})` : this.message;
  }
}

// Relative to the console's own URL (/ui/), so the console also works behind a path prefix.
const apiUrl = (path: string): string =>
  new URL(`../${path.replace(/^\//, "")}`, document.baseURI).toString();

type Query = Record<string, string | number | boolean | undefined | null>;

export function withQuery(path: string, query: Query): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined || v === null || v === "") continue;
    params.set(k, String(v));
  }
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

async function call<T>(method: "GET" | "POST", path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: "application/json" };
  const token = getToken();
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  let res: Response;
  try {
    res = await fetch(apiUrl(path), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    throw new ApiError(0, "network", `The sidecar did not answer ${method} ${path}: ${String(err)}`);
  }
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (!res.ok) {
    const e = (
      json as { error?: { code?: string; message?: string; issues?: { path: string; message: string }[] } }
    )?.error;
    if (res.status === 401) requestToken("missing");
    if (res.status === 403) requestToken("refused");
    throw new ApiError(
      res.status,
      e?.code ?? `http_${res.status}`,
      e?.message ?? `${method} ${path} answered ${res.status} ${res.statusText}`,
      e?.issues ?? [],
    );
  }
  if (json === undefined)
    throw new ApiError(res.status, "bad_response", `${method} ${path} answered no JSON`);
  return json as T;
}

export interface DecisionFilters {
  tier?: string;
  action?: string;
  actor?: string;
  decision?: string;
  mode?: string;
  since?: string;
  until?: string;
  mismatches?: boolean;
  reviewed?: "true" | "false";
  q?: string;
  /** By time: newest first (desc, the default) or oldest first. */
  order?: "asc" | "desc";
  limit?: number;
  offset?: number;
}

/** What a review caused beyond being saved: its tier rolled back at once (a wrong allow at high risk). */
export interface ReviewEffects {
  rollback?: { tier: string; from: Mode; to: Mode; reason: string; at: string };
}

export const api = {
  decisions: (f: DecisionFilters) =>
    call<Page<DecisionRecord>>(
      "GET",
      withQuery("/v1/decisions", { ...f, mismatches: f.mismatches || undefined }),
    ),
  decision: (id: string) => call<DecisionRecord>("GET", `/v1/decisions/${encodeURIComponent(id)}`),
  queue: (f: {
    tier?: string;
    action?: string;
    actor?: string;
    decision?: string;
    order?: "asc" | "desc";
    limit?: number;
    offset?: number;
  }) => call<Page<DecisionRecord>>("GET", withQuery("/v1/reviews/queue", f)),
  review: (id: string, body: { finalDecision: DecisionValue; category: ReviewCategory; notes: string }) =>
    call<DecisionRecord & ReviewEffects>("POST", `/v1/decisions/${encodeURIComponent(id)}/review`, body),
  stats: (q: { since?: string; until?: string; tier?: string; bucket?: "hour" | "day" }) =>
    call<Stats>("GET", withQuery("/v1/stats", q)),
  rollout: () => call<Rollout>("GET", "/v1/rollout"),
  promote: (tier: string, body: { note: string }) =>
    call<unknown>("POST", `/v1/rollout/${encodeURIComponent(tier)}/promote`, body),
  rollback: (tier: string, body: { reason: string; to?: Mode }) =>
    call<unknown>("POST", `/v1/rollout/${encodeURIComponent(tier)}/rollback`, body),
  runtime: () => call<Runtime>("GET", "/v1/runtime"),
};
