import { api } from "../api.js";
import { h, render } from "../dom.js";
import { RATES_EXPLAINED, rateOf, summarize, when } from "../format.js";
import type { Page, PageContext } from "../page.js";
import { formParams, href } from "../router.js";
import { type DecisionRecord, TIERS } from "../types.js";
import {
  type Column,
  decisionSelect,
  emptyState,
  errorBox,
  facts,
  loading,
  pageHeading,
  selectField,
  table,
  textField,
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
  riskColumn,
  rowClass,
  tierColumn,
} from "./record-columns.js";

const LIMIT = 50;
/** The review rates beside the queue cover this many days back, and say so. */
const RATE_DAYS = 30;

const resourceColumn: Column<DecisionRecord> = {
  header: "Resource",
  cell: (r) => summarize(r).target || "—",
  className: "mono",
  sort: { key: "resource", value: (r) => summarize(r).target },
};
const classificationColumn: Column<DecisionRecord> = {
  header: "Classification",
  cell: (r) => r.decision.classification.replace(/_/g, " "),
  sort: { key: "classification", value: (r) => r.decision.classification },
};
const SORT_KEYS = ["time", "request", "resource", "tier", "advice", "control", "risk", "classification"];
/** How often an open queue checks for new or reviewed advisories. */
const POLL_MS = 10_000;

/**
 * Tells the reviewer when the queue changed (new advisories, or someone else reviewed one) without
 * re-rendering under their hands: a notice with a button, announced once by the status region.
 */
function watchQueue(
  ctx: PageContext,
  filters: Parameters<typeof api.queue>[0],
  shown: { total: number; newest: string | null | undefined },
  notice: HTMLElement,
): void {
  let said = "";
  let baseline = shown.newest;
  const timer = setInterval(async () => {
    if (!ctx.isCurrent() || !notice.isConnected) {
      clearInterval(timer);
      return;
    }
    try {
      const latest = await api.queue({ ...filters, limit: 1 });
      if (!ctx.isCurrent()) return;
      const newest = latest.items[0]?.decisionId ?? null;
      if (baseline === undefined) baseline = newest;
      if (latest.total === shown.total && newest === baseline) return;
      const text = `The queue has changed: ${latest.total} waiting now.`;
      if (text === said) return;
      said = text;
      render(
        notice,
        h(
          "p",
          { class: "status status-info" },
          `${text} `,
          h(
            "button",
            { type: "button", class: "secondary", onclick: () => ctx.refresh(true) },
            "Show the current queue",
          ),
        ),
      );
    } catch {
      // A failed check changes nothing on screen; the next one tries again.
    }
  }, POLL_MS);
}

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
  const state = listState(p, SORT_KEYS);
  const ratesSince = new Date(Date.now() - RATE_DAYS * 86_400_000).toISOString();

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
  const notice = h("div", { class: "queue-notice", role: "status" });
  render(
    ctx.main,
    ...pageHeading(
      "Review queue",
      "Advisories waiting for a reviewer, newest first. Open one to agree or override.",
    ),
    rates,
    form,
    notice,
    results,
  );

  const [queue, stats] = await Promise.allSettled([
    api.queue({ ...filters, order: apiOrder(state), limit: LIMIT, offset: state.offset }),
    api.stats({ since: ratesSince }),
  ]);
  if (!ctx.isCurrent()) return;

  if (stats.status === "fulfilled") {
    const o = stats.value.overall;
    render(
      rates,
      h("h3", { id: "rates-title" }, `Reviews in the last ${RATE_DAYS} days`),
      facts("Review rates", [
        ["Agreement rate", rateOf(o.agreementRate, o.samples?.withControl, "with a control")],
        ["Override rate", rateOf(o.overrideRate, o.samples?.reviewed, "reviewed")],
        ["Decisions logged, all tiers and modes", String(o.decisions)],
        ["Wrong allows at high risk", String(o.wrongAllowsHighRisk)],
      ]),
      h(
        "p",
        { class: "muted small" },
        `Counted over the decisions logged since ${when(ratesSince)}. ${RATES_EXPLAINED}`,
      ),
    );
  } else {
    render(
      rates,
      h("h3", { id: "rates-title" }, `Reviews in the last ${RATE_DAYS} days`),
      errorBox(stats.reason, "the review rates"),
    );
  }

  if (queue.status === "rejected") {
    render(results, h("h3", { id: "queue-results" }, "Waiting"), errorBox(queue.reason, "the review queue"));
    return;
  }
  const { items, total } = queue.value;
  watchQueue(ctx, { ...filters, limit: 1 }, { total, newest: newestShown(items, state) }, notice);
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
  const columns: Column<DecisionRecord>[] = [
    receivedColumn,
    requestColumn("row-link"),
    resourceColumn,
    tierColumn,
    adviceColumn("Advisor recommends"),
    // The caller's own decision, next to the advice, when any advisory in view carries one.
    ...(items.some((r) => r.control) ? [controlColumn("Caller's decision")] : []),
    riskColumn,
    classificationColumn,
  ];
  render(
    results,
    heading,
    pager("/queue", p, state, items.length, total, LIMIT, "Review queue pages"),
    table(`Advisories waiting for review, ${orderText(state, columns)}`, columns, items, {
      rowClass,
      sort: state.sort,
      sortHref: (s) =>
        listHref("/queue", p, {
          sort: s.key,
          dir: s.dir,
          offset: s.key === "time" ? undefined : (p.get("offset") ?? undefined),
        }),
    }),
  );
};

/**
 * The newest advisory of the queue, when this page shows it (the first page, newest first); undefined
 * otherwise, and the watcher takes its first look as the baseline.
 */
function newestShown(
  items: DecisionRecord[],
  state: { offset: number; sort: { key: string; dir: string } },
): string | null | undefined {
  if (state.offset !== 0 || state.sort.key !== "time" || state.sort.dir !== "desc") return undefined;
  return items[0]?.decisionId ?? null;
}
