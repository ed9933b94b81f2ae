import { h } from "../dom.js";
import { humanize, summarize, when } from "../format.js";
import { decisionHref, href } from "../router.js";
import { type DecisionRecord, type DecisionValue, type RiskLevel, TIERS } from "../types.js";
import { type Column, decisionBadge, riskBadge, type SortState } from "../widgets.js";

/** The columns the lists of decisions share, each sortable; time is the log's own order. */

const RISK_ORDER: Record<RiskLevel, number> = { low: 0, medium: 1, high: 2, critical: 3 };
/** Strictest first: deny, attest, allow. */
const DECISION_ORDER: Record<DecisionValue, number> = { deny: 0, require_attestation: 1, allow: 2 };

/** True when the caller sent its own decision and the advice differs from it. */
export const differs = (r: DecisionRecord): boolean =>
  r.control !== undefined && r.control !== r.decision.decision;

/** When the decision was received: the first column of every list of decisions. */
export const receivedColumn: Column<DecisionRecord> = {
  header: "Received",
  cell: (r) => h("time", { datetime: r.createdAt }, when(r.createdAt)),
  sort: { key: "time", value: (r) => r.createdAt, first: "desc" },
};

/** "action by actor", linking to the decision's page; `linkClass` styles the link (e.g. a whole-row link). */
export function requestColumn(linkClass?: string): Column<DecisionRecord> {
  const text = (r: DecisionRecord): string => {
    const s = summarize(r);
    return `${s.action || "(no action)"} by ${s.actor || "(unknown actor)"}`;
  };
  return {
    header: "Request",
    cell: (r) =>
      h("a", { href: decisionHref(r.decisionId), ...(linkClass ? { class: linkClass } : {}) }, text(r)),
    sort: { key: "request", value: text },
  };
}

export const tierColumn: Column<DecisionRecord> = {
  header: "Tier",
  cell: (r) => humanize(r.tier),
  sort: { key: "tier", value: (r) => TIERS.indexOf(r.tier) },
};

export const riskColumn: Column<DecisionRecord> = {
  header: "Risk",
  cell: (r) => riskBadge(r.decision.riskLevel),
  sort: { key: "risk", value: (r) => RISK_ORDER[r.decision.riskLevel], first: "desc" },
};

export function adviceColumn(header = "Advice"): Column<DecisionRecord> {
  return {
    header,
    cell: (r) => decisionBadge(r.decision.decision),
    sort: { key: "advice", value: (r) => DECISION_ORDER[r.decision.decision] },
  };
}

/** The caller's own decision; where it differs from the advice the cell says so in words too. */
export function controlColumn(header = "Control"): Column<DecisionRecord> {
  return {
    header,
    cell: (r) =>
      r.control
        ? [decisionBadge(r.control), differs(r) ? h("span", { class: "differs-mark" }, " ≠ advice") : null]
        : "—",
    sort: { key: "control", value: (r) => (r.control ? DECISION_ORDER[r.control] : 9) },
  };
}

/** The rows where advice and control differ stand out (and say so in the control cell). */
export const rowClass = (r: DecisionRecord): string | undefined => (differs(r) ? "differs" : undefined);

/** Sort and page from the route: `sort=risk&dir=desc&offset=50`; newest first by default. */
export interface ListState {
  sort: SortState;
  offset: number;
}

export function listState(params: URLSearchParams, keys: readonly string[]): ListState {
  const key = params.get("sort") ?? "time";
  const dir = params.get("dir") === "asc" ? "asc" : "desc";
  return {
    sort: keys.includes(key) ? { key, dir } : { key: "time", dir: "desc" },
    offset: Math.max(0, Number.parseInt(params.get("offset") ?? "0", 10) || 0),
  };
}

/** The log's order for the API: time as asked, else newest first (other columns sort within a page). */
export const apiOrder = (s: ListState): "asc" | "desc" => (s.sort.key === "time" ? s.sort.dir : "desc");

/** What the order of the rows is, for the table's caption. */
export function orderText(s: ListState, columns: Column<DecisionRecord>[]): string {
  if (s.sort.key === "time") return s.sort.dir === "asc" ? "oldest first" : "newest first";
  const col = columns.find((c) => c.sort?.key === s.sort.key);
  const name = (col?.header ?? s.sort.key).toLowerCase();
  return `by ${name} (${s.sort.dir === "asc" ? "ascending" : "descending"}) within this page, pages newest first`;
}

/** A link to the same list with other params (a page, a sort), keeping the filters. */
export function listHref(path: string, params: URLSearchParams, change: Record<string, string | undefined>) {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of params.entries()) out[k] = v;
  return href(path, { ...out, ...change });
}

/** Previous and next page links and "Showing 51–100 of 230". */
export function pager(
  path: string,
  params: URLSearchParams,
  state: ListState,
  shown: number,
  total: number,
  limit: number,
  label: string,
): HTMLElement {
  const link = (o: number, text: string) =>
    h("a", { href: listHref(path, params, { offset: o > 0 ? String(o) : undefined }) }, text);
  const { offset } = state;
  const newest = state.sort.key !== "time" || state.sort.dir === "desc";
  return h(
    "nav",
    { class: "pager", "aria-label": label },
    offset > 0 ? link(Math.max(0, offset - limit), newest ? "← Newer" : "← Older") : null,
    h("span", {}, `Showing ${offset + 1}–${offset + shown} of ${total}`),
    offset + shown < total ? link(offset + limit, newest ? "Older →" : "Newer →") : null,
  );
}
