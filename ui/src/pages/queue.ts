import { api } from "../api.js";
import { h, render } from "../dom.js";
import { humanize, pct, summarize, when } from "../format.js";
import type { Page } from "../page.js";
import { decisionHref, formParams, href } from "../router.js";
import { TIERS } from "../types.js";
import {
  decisionBadge,
  decisionSelect,
  emptyState,
  errorBox,
  facts,
  loading,
  pageHeading,
  riskBadge,
  selectField,
  table,
  textField,
} from "../widgets.js";

const LIMIT = 50;

/** Advisories awaiting review, newest first, with the review rates so far. */
export const queuePage: Page = async (ctx) => {
  const p = ctx.route.params;
  const filters = {
    tier: p.get("tier") ?? undefined,
    action: p.get("action") ?? undefined,
    actor: p.get("actor") ?? undefined,
    decision: p.get("decision") ?? undefined,
  };
  const filtered = Object.values(filters).some(Boolean);

  const form = h(
    "form",
    { class: "filters", role: "search", "aria-label": "Filter the review queue" },
    selectField("tier", "Tier", TIERS, filters.tier ?? null),
    textField("action", "Action", filters.action ?? null, "e.g. deploy"),
    textField("actor", "Actor", filters.actor ?? null, "e.g. user:alice"),
    decisionSelect("decision", "Advisor decision", filters.decision ?? null),
    h(
      "div",
      { class: "field actions" },
      h("button", { type: "submit" }, "Apply filters"),
      filtered ? h("a", { href: href("/queue") }, "Clear filters") : null,
    ),
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    location.hash = href("/queue", formParams(form));
  });

  const rates = h("section", { class: "panel", "aria-labelledby": "rates-title" }, loading("review rates"));
  const results = h("section", { "aria-labelledby": "queue-results" }, loading("the review queue"));
  render(
    ctx.main,
    ...pageHeading(
      "Review queue",
      "Advisories waiting for a reviewer, newest first. Open one to agree or override.",
    ),
    rates,
    form,
    results,
  );

  const [queue, stats] = await Promise.allSettled([api.queue({ ...filters, limit: LIMIT }), api.stats({})]);
  if (!ctx.isCurrent()) return;

  if (stats.status === "fulfilled") {
    const o = stats.value.overall;
    render(
      rates,
      h("h3", { id: "rates-title" }, "Reviews so far"),
      facts("Review rates", [
        ["Agreement rate", pct(o.agreementRate)],
        ["Override rate", pct(o.overrideRate)],
        ["Decisions logged", String(o.decisions)],
        ["Wrong allows at high risk", String(o.wrongAllowsHighRisk)],
      ]),
    );
  } else {
    render(
      rates,
      h("h3", { id: "rates-title" }, "Reviews so far"),
      errorBox(stats.reason, "the review rates"),
    );
  }

  if (queue.status === "rejected") {
    render(results, h("h3", { id: "queue-results" }, "Waiting"), errorBox(queue.reason, "the review queue"));
    return;
  }
  const { items, total } = queue.value;
  const heading = h("h3", { id: "queue-results" }, `${total} waiting for review`);
  if (items.length === 0) {
    render(
      results,
      heading,
      filtered
        ? emptyState(
            "No advisory matches these filters.",
            h("p", {}, h("a", { href: href("/queue") }, "Show the whole queue")),
          )
        : emptyState(
            "Nothing is waiting for review.",
            h(
              "p",
              {},
              "Decisions made while a tier is in advisory mode appear here until someone reviews them. " +
                "If this stays empty, check on the ",
              h("a", { href: href("/operator") }, "Operator page"),
              " that at least one tier is in advisory mode, and that callers send their requests to POST /v1/advisory. " +
                "Past decisions are in the ",
              h("a", { href: href("/log") }, "decision log"),
              ".",
            ),
          ),
    );
    return;
  }
  render(
    results,
    heading,
    total > items.length
      ? h("p", {}, `Showing the newest ${items.length} of ${total}. Narrow the list with the filters.`)
      : null,
    table(
      "Advisories waiting for review, newest first",
      [
        { header: "Received", cell: (r) => h("time", { datetime: r.createdAt }, when(r.createdAt)) },
        {
          header: "Request",
          cell: (r) => {
            const s = summarize(r);
            return h(
              "a",
              { href: decisionHref(r.decisionId), class: "row-link" },
              `${s.action || "(no action)"} by ${s.actor || "(unknown actor)"}`,
            );
          },
        },
        { header: "Resource", cell: (r) => summarize(r).target || "—", className: "mono" },
        { header: "Tier", cell: (r) => humanize(r.tier) },
        { header: "Advisor recommends", cell: (r) => decisionBadge(r.decision.decision) },
        { header: "Risk", cell: (r) => riskBadge(r.decision.riskLevel) },
        { header: "Classification", cell: (r) => humanize(r.decision.classification) },
      ],
      items,
    ),
  );
};
