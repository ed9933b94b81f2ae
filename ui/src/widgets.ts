import { ApiError } from "./api.js";
import { type Child, h } from "./dom.js";
import { DECISION_LABEL, humanize } from "./format.js";
import type { DecisionValue, Mode, RiskLevel } from "./types.js";

let fieldSeq = 0;
/** A unique id for label/control pairs. */
export const uid = (prefix: string): string => `${prefix}-${++fieldSeq}`;

export function decisionBadge(d: DecisionValue | undefined): HTMLElement {
  if (!d) return h("span", { class: "badge" }, "none");
  return h("span", { class: `badge badge-${d}` }, DECISION_LABEL[d] ?? d);
}

export function riskBadge(r: RiskLevel): HTMLElement {
  return h("span", { class: `badge risk-${r}` }, `${r} risk`);
}

export function modeBadge(m: Mode): HTMLElement {
  return h("span", { class: `badge mode-${m}` }, m);
}

export function pageHeading(text: string, intro?: string): HTMLElement[] {
  const out: HTMLElement[] = [h("h2", { id: "page-title", tabindex: -1 }, text)];
  if (intro) out.push(h("p", { class: "intro" }, intro));
  return out;
}

/** The message shown when there is nothing to list: says why and what to do next. */
export function emptyState(title: string, ...explanation: Child[]): HTMLElement {
  return h(
    "div",
    { class: "empty", role: "status" },
    h("p", { class: "empty-title" }, title),
    ...explanation,
  );
}

/** An API failure: what could not be done (`Could not save the review.`), the server's words, a hint. */
export function errorBox(err: unknown, what: string, action = "load"): HTMLElement {
  if (err instanceof ApiError && (err.status === 401 || err.status === 403)) {
    // Not a failure of the console: it needs (another) token. Said calmly, with what to do.
    return h(
      "div",
      { class: "notice", role: "status" },
      h("strong", {}, `A reviewer token is needed to ${action} ${what}. `),
      `${sentence(err.describe())} Enter it with the Reviewer token button at the top of the page.`,
    );
  }
  const msg = err instanceof ApiError ? err.describe() : String(err);
  const hint =
    err instanceof ApiError && err.status === 404
      ? " This sidecar does not offer that route, or the item does not exist."
      : err instanceof ApiError && err.status === 0
        ? " Check that the sidecar is running."
        : "";
  return h(
    "div",
    { class: "error", role: "alert" },
    h("strong", {}, `Could not ${action} ${what}. `),
    sentence(msg) + hint,
  );
}

/** Ends a server message with a full stop so a hint can follow it. */
function sentence(text: string): string {
  return /[.!?)]$/.test(text.trim()) ? text.trim() : `${text.trim()}.`;
}

export function loading(what: string): HTMLElement {
  return h("p", { class: "loading", role: "status" }, `Loading ${what}…`);
}

export function textField(name: string, label: string, value: string | null, placeholder = ""): HTMLElement {
  const id = uid(name);
  return h(
    "div",
    { class: "field" },
    h("label", { for: id }, label),
    h("input", { id, name, type: "text", value: value ?? "", placeholder, autocomplete: "off" }),
  );
}

export function selectField(
  name: string,
  label: string,
  options: readonly string[],
  value: string | null,
  anyLabel = "Any",
  display: (v: string) => string = humanize,
): HTMLElement {
  const id = uid(name);
  const select = h(
    "select",
    { id, name },
    h("option", { value: "" }, anyLabel),
    options.map((o) => h("option", { value: o, selected: o === value }, display(o))),
  );
  return h("div", { class: "field" }, h("label", { for: id }, label), select);
}

export function decisionSelect(name: string, label: string, value: string | null): HTMLElement {
  return selectField(name, label, ["allow", "deny", "require_attestation"], value, "Any", (v) =>
    v in DECISION_LABEL ? DECISION_LABEL[v as DecisionValue] : v,
  );
}

export interface Column<T> {
  header: string;
  cell: (row: T) => Child | Child[];
  className?: string;
  /** Makes the column sortable: its key in the URL (`sort=risk`) and the value rows compare by. */
  sort?: { key: string; value: (row: T) => string | number; first?: "asc" | "desc" };
}

export interface SortState {
  key: string;
  dir: "asc" | "desc";
}

export interface TableOptions<T> {
  /** A class for a row (e.g. "differs" where advice and control differ). */
  rowClass?: (row: T) => string | undefined;
  /** The sort in effect; rows are shown in this order. */
  sort?: SortState;
  /** The link that sorts by a column: sortable headers are links, so the sort lives in the URL. */
  sortHref?: (s: SortState) => string;
}

/** Rows in the order of `sort` (stable: equal values keep the order they came in). */
export function sortRows<T>(rows: T[], columns: Column<T>[], sort: SortState | undefined): T[] {
  const col = sort ? columns.find((c) => c.sort?.key === sort.key) : undefined;
  if (!sort || !col?.sort) return rows;
  const value = col.sort.value;
  const sign = sort.dir === "asc" ? 1 : -1;
  return rows
    .map((r, i) => ({ r, i, v: value(r) }))
    .sort((a, b) => (a.v < b.v ? -sign : a.v > b.v ? sign : a.i - b.i))
    .map((x) => x.r);
}

function headerCell<T>(c: Column<T>, o: TableOptions<T>): HTMLElement {
  if (!c.sort || !o.sortHref) return h("th", { scope: "col" }, c.header);
  const active = o.sort?.key === c.sort.key ? o.sort.dir : undefined;
  const next: SortState = {
    key: c.sort.key,
    dir: active ? (active === "asc" ? "desc" : "asc") : (c.sort.first ?? "asc"),
  };
  return h(
    "th",
    { scope: "col", "aria-sort": active === "asc" ? "ascending" : active === "desc" ? "descending" : "none" },
    h(
      "a",
      {
        class: "sort",
        href: o.sortHref(next),
        title: `Sort by ${c.header.toLowerCase()}, ${next.dir === "asc" ? "ascending" : "descending"}`,
      },
      // The arrow comes from the stylesheet (by aria-sort), so the header's text stays its name.
      c.header,
    ),
  );
}

export function table<T>(
  caption: string,
  columns: Column<T>[],
  rows: T[],
  opts: TableOptions<T> = {},
): HTMLElement {
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      {},
      h("caption", {}, caption),
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          columns.map((c) => headerCell(c, opts)),
        ),
      ),
      h(
        "tbody",
        {},
        sortRows(rows, columns, opts.sort).map((r) =>
          h(
            "tr",
            { class: opts.rowClass?.(r) },
            columns.map((c) => {
              const v = c.cell(r);
              return h("td", { class: c.className }, ...(Array.isArray(v) ? v : [v]));
            }),
          ),
        ),
      ),
    ),
  );
}

/** A term/value list (<dl>) for measures and metadata. */
export function facts(label: string, pairs: [string, Child | Child[]][]): HTMLElement {
  return h(
    "dl",
    { class: "facts", "aria-label": label },
    pairs.map(([k, v]) =>
      h("div", { class: "fact" }, h("dt", {}, k), h("dd", {}, ...(Array.isArray(v) ? v : [v]))),
    ),
  );
}
