import { api } from "../api.js";
import { h, render } from "../dom.js";
import { humanize } from "../format.js";
import type { Page } from "../page.js";
import { formParams, href } from "../router.js";
import { type DecisionRecord, TIERS } from "../types.js";
import { type Column, emptyState, errorBox, loading, pageHeading, selectField, table } from "../widgets.js";
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
  riskColumn,
  rowClass,
  tierColumn,
} from "./record-columns.js";

const LIMIT = 50;

const COLUMNS: Column<DecisionRecord>[] = [
  receivedColumn,
  requestColumn(),
  tierColumn,
  { ...controlColumn(), className: "side-cell" },
  { ...adviceColumn(), className: "side-cell" },
  riskColumn,
  {
    header: "Why (advisor)",
    cell: (r) => humanize(r.decision.classification),
    sort: { key: "classification", value: (r) => r.decision.classification },
  },
];
const SORT_KEYS = COLUMNS.flatMap((c) => (c.sort ? [c.sort.key] : []));

/**
 * Shadow-mode disagreements only: what the caller's current engine decided (and applied) next to what the
 * advisor advised. Advisory and enforce mismatches are in the decision log (filter "Only mismatches").
 */
export const mismatchesPage: Page = async (ctx) => {
  const p = ctx.route.params;
  const tier = p.get("tier") ?? undefined;
  const state = listState(p, SORT_KEYS);
  const form = h(
    "form",
    { class: "filters", role: "search", "aria-label": "Filter mismatches" },
    selectField("tier", "Tier", TIERS, tier ?? null),
    h("div", { class: "field actions" }, h("button", { type: "submit" }, "Apply")),
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    location.hash = href("/mismatches", formParams(form));
  });
  const results = h("section", { "aria-labelledby": "mm-results" }, loading("mismatches"));
  render(
    ctx.main,
    ...pageHeading(
      "Shadow mismatches",
      "Requests decided in shadow mode where the caller's current engine (control, which the caller applied) " +
        "and the advisor decided differently, side by side. Mismatches in advisory or enforce mode are in the " +
        "decision log.",
    ),
    form,
    results,
  );

  let page: Awaited<ReturnType<typeof api.decisions>>;
  try {
    page = await api.decisions({
      mismatches: true,
      mode: "shadow",
      tier,
      order: apiOrder(state),
      limit: LIMIT,
      offset: state.offset,
    });
  } catch (err) {
    if (ctx.isCurrent())
      render(results, h("h3", { id: "mm-results" }, "Mismatches"), errorBox(err, "the mismatches"));
    return;
  }
  if (!ctx.isCurrent()) return;
  const heading = h(
    "h3",
    { id: "mm-results" },
    `${page.total} shadow mismatch${page.total === 1 ? "" : "es"}`,
  );
  if (page.items.length === 0) {
    render(
      results,
      heading,
      emptyState(
        state.offset > 0
          ? "No mismatch on this page."
          : "No mismatch between control and advice in shadow mode.",
        h(
          "p",
          {},
          "Mismatches come from shadow-mode requests that carry the caller's own decision as " +
            '{"request": ..., "control": {"decision": ...}}. None disagreed so far' +
            (tier ? ` in tier ${humanize(tier)}.` : "."),
        ),
      ),
    );
    return;
  }
  render(
    results,
    heading,
    pager("/mismatches", p, state, page.items.length, page.total, LIMIT, "Mismatch pages"),
    table(`Control and advice side by side, ${orderText(state, COLUMNS)}`, COLUMNS, page.items, {
      rowClass,
      sort: state.sort,
      sortHref: (s) =>
        listHref("/mismatches", p, {
          sort: s.key,
          dir: s.dir,
          offset: s.key === "time" ? undefined : (p.get("offset") ?? undefined),
        }),
    }),
  );
};
