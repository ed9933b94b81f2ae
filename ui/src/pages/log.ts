import { api, type DecisionFilters } from "../api.js";
import { h, render } from "../dom.js";
import { CATEGORY_LABEL, zoneName } from "../format.js";
import type { Page } from "../page.js";
import { formParams, href } from "../router.js";
import { type DecisionRecord, MODES, TIERS } from "../types.js";
import {
  type Column,
  decisionBadge,
  decisionSelect,
  emptyState,
  errorBox,
  loading,
  modeBadge,
  pageHeading,
  selectField,
  table,
  textField,
  uid,
} from "../widgets.js";
import {
  adviceColumn,
  apiOrder,
  controlColumn,
  listHref,
  listState,
  orderText,
  pager,
  receivedColumn,
  requestColumn,
  rowClass,
  tierColumn,
} from "./record-columns.js";

const COLUMNS: Column<DecisionRecord>[] = [
  receivedColumn,
  requestColumn(),
  tierColumn,
  {
    header: "Mode",
    cell: (r) => modeBadge(r.mode),
    sort: { key: "mode", value: (r) => MODES.indexOf(r.mode) },
  },
  adviceColumn(),
  controlColumn(),
  { header: "Applied", cell: (r) => decisionBadge(r.effectiveDecision) },
  { header: "Review", cell: (r) => (r.review ? CATEGORY_LABEL[r.review.category] : "—") },
];
const SORT_KEYS = COLUMNS.flatMap((c) => (c.sort ? [c.sort.key] : []));

const LIMIT = 50;

/** Converts a datetime-local value (local time, no zone) to ISO for the API; keeps what it cannot read. */
function toIso(local: string | undefined): string | undefined {
  if (!local) return undefined;
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? local : d.toISOString();
}

function dateField(name: string, label: string, value: string | null): HTMLElement {
  const id = uid(name);
  return h(
    "div",
    { class: "field" },
    h("label", { for: id }, label),
    h("input", { id, name, type: "datetime-local", value: value ?? "", step: 1 }),
  );
}

/** Search the decision log: free text plus the structured filters, paged. */
export const logPage: Page = async (ctx) => {
  const p = ctx.route.params;
  const get = (k: string): string | undefined => p.get(k) ?? undefined;
  const state = listState(p, SORT_KEYS);
  const offset = state.offset;
  const reviewed = get("reviewed");
  const filters: DecisionFilters = {
    q: get("q"),
    tier: get("tier"),
    action: get("action"),
    actor: get("actor"),
    decision: get("decision"),
    mode: get("mode"),
    since: toIso(get("since")),
    until: toIso(get("until")),
    reviewed: reviewed === "true" || reviewed === "false" ? reviewed : undefined,
    mismatches: get("mismatches") === "true",
    order: apiOrder(state),
    limit: LIMIT,
    offset,
  };
  const filtered = [...p.keys()].some((k) => !["offset", "sort", "dir"].includes(k));

  const qId = uid("q");
  const mmId = uid("mismatches");
  const form = h(
    "form",
    { class: "filters", role: "search", "aria-label": "Search the decision log" },
    h(
      "div",
      { class: "field wide" },
      h("label", { for: qId }, "Search text"),
      h("input", {
        id: qId,
        name: "q",
        type: "search",
        value: get("q") ?? "",
        placeholder: "words in the request or the reasoning",
      }),
    ),
    selectField("tier", "Tier", TIERS, get("tier") ?? null),
    selectField("mode", "Mode", MODES, get("mode") ?? null),
    textField("action", "Action", get("action") ?? null),
    textField("actor", "Actor", get("actor") ?? null),
    decisionSelect("decision", "Advisor decision", get("decision") ?? null),
    selectField("reviewed", "Reviewed", ["true", "false"], reviewed ?? null, "Either", (v) =>
      v === "true" ? "Reviewed" : "Not reviewed",
    ),
    // datetime-local fields hold the reader's local time: the label names the zone.
    dateField("since", `From (${zoneName()})`, get("since") ?? null),
    dateField("until", `Until (${zoneName()})`, get("until") ?? null),
    h(
      "div",
      { class: "field checkbox" },
      h("input", {
        id: mmId,
        name: "mismatches",
        type: "checkbox",
        value: "true",
        checked: filters.mismatches,
      }),
      h("label", { for: mmId }, "Only control/advice mismatches"),
    ),
    h(
      "div",
      { class: "field actions" },
      h("button", { type: "submit" }, "Search"),
      filtered ? h("a", { href: href("/log") }, "Clear") : null,
    ),
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    location.hash = href("/log", formParams(form));
  });

  const results = h("section", { "aria-labelledby": "log-results" }, loading("the decision log"));
  render(
    ctx.main,
    ...pageHeading("Decision log", "Every decision the sidecar made, newest first."),
    form,
    results,
  );

  let page: Awaited<ReturnType<typeof api.decisions>>;
  try {
    page = await api.decisions(filters);
  } catch (err) {
    if (ctx.isCurrent())
      render(results, h("h3", { id: "log-results" }, "Results"), errorBox(err, "the decision log"));
    return;
  }
  if (!ctx.isCurrent()) return;
  const { items, total } = page;
  const heading = h("h3", { id: "log-results" }, `${total} decision${total === 1 ? "" : "s"}`);
  if (items.length === 0) {
    render(
      results,
      heading,
      filtered || offset > 0
        ? emptyState(
            "No decision matches this search.",
            h("p", {}, h("a", { href: href("/log") }, "Show every decision")),
          )
        : emptyState(
            "The decision log is empty.",
            h(
              "p",
              {},
              "Each request a caller sends to POST /v1/advisory is logged here with its decision, " +
                "whatever the mode. Send one (for example with the TypeScript or Python client) and reload this page.",
            ),
          ),
    );
    return;
  }

  render(
    results,
    heading,
    pager("/log", p, state, items.length, total, LIMIT, "Decision log pages"),
    table(`Decisions, ${orderText(state, COLUMNS)}`, COLUMNS, items, {
      rowClass,
      sort: state.sort,
      sortHref: (s) =>
        listHref("/log", p, {
          sort: s.key,
          dir: s.dir,
          offset: s.key === "time" ? undefined : get("offset"),
        }),
    }),
  );
};
