import { api } from "../api.js";
import { h, render } from "../dom.js";
import { humanize } from "../format.js";
import type { Page } from "../page.js";
import { formParams, href } from "../router.js";
import { TIERS } from "../types.js";
import {
  decisionBadge,
  emptyState,
  errorBox,
  loading,
  pageHeading,
  riskBadge,
  selectField,
  table,
} from "../widgets.js";
import { receivedColumn, requestColumn } from "./record-columns.js";

const LIMIT = 100;

/** Shadow-mode disagreements: what the caller's current engine decided next to what the advisor advised. */
export const mismatchesPage: Page = async (ctx) => {
  const tier = ctx.route.params.get("tier") ?? undefined;
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
      "Requests where the caller's current engine (control) and the advisor decided differently, side by side.",
    ),
    form,
    results,
  );

  let page: Awaited<ReturnType<typeof api.decisions>>;
  try {
    page = await api.decisions({ mismatches: true, tier, limit: LIMIT });
  } catch (err) {
    if (ctx.isCurrent())
      render(results, h("h3", { id: "mm-results" }, "Mismatches"), errorBox(err, "the mismatches"));
    return;
  }
  if (!ctx.isCurrent()) return;
  const heading = h("h3", { id: "mm-results" }, `${page.total} mismatch${page.total === 1 ? "" : "es"}`);
  if (page.items.length === 0) {
    render(
      results,
      heading,
      emptyState(
        "No mismatch between control and advice.",
        h(
          "p",
          {},
          "Mismatches come from requests that carry the caller's own decision as " +
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
    table(
      "Control and advice side by side, newest first",
      [
        receivedColumn,
        requestColumn(),
        { header: "Tier", cell: (r) => humanize(r.tier) },
        { header: "Control", cell: (r) => decisionBadge(r.control), className: "side-cell" },
        { header: "Advice", cell: (r) => decisionBadge(r.decision.decision), className: "side-cell" },
        { header: "Risk", cell: (r) => riskBadge(r.decision.riskLevel) },
        { header: "Why (advisor)", cell: (r) => humanize(r.decision.classification) },
      ],
      page.items,
    ),
  );
};
