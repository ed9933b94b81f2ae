import { api } from "../api.js";
import { mountChart } from "../charts.js";
import { h, render } from "../dom.js";
import { humanize, ms, pct, RATES_EXPLAINED } from "../format.js";
import type { Page, PageContext } from "../page.js";
import { href } from "../router.js";
import type { Runtime, SeriesPoint, Stats, Tier } from "../types.js";
import { emptyState, errorBox, facts, loading, pageHeading, uid } from "../widgets.js";
import { COLORS, MILLISECONDS, measureFacts, PERCENT, perBucket, rateChart } from "./measures-view.js";
import { tierCard } from "./tier-card.js";

const PERIODS: Record<string, { label: string; hours: number; bucket: "hour" | "day" }> = {
  "24h": { label: "Last 24 hours", hours: 24, bucket: "hour" },
  "7d": { label: "Last 7 days", hours: 24 * 7, bucket: "day" },
  "30d": { label: "Last 30 days", hours: 24 * 30, bucket: "day" },
};

function runtimePanel(rt: Runtime): HTMLElement {
  const pairs: [string, string][] = [
    ["Cache", rt.cache.enabled ? `on, ${rt.cache.size} entries` : "off"],
    [
      "Cache hit rate",
      rt.cache.enabled
        ? `${pct(rt.cache.hitRate)} (${rt.cache.hits} hits, ${rt.cache.misses} misses)`
        : "cache off",
    ],
    ["Queue depth", `${rt.queue.depth} waiting of ${rt.queue.capacity}`],
    ["Running", `${rt.queue.running} of ${rt.queue.concurrency}`],
    ["Engine", rt.engine ?? "n/a"],
    [
      "Model",
      rt.llm
        ? `${rt.llm.model} (${rt.llm.kind}, ${rt.llm.parallelism} parallel)` +
          (rt.versions?.modelSynthetic ? ": synthetic model, random weights" : "")
        : "none (rules only)",
    ],
    ["Model circuit", rt.circuit ? humanize(rt.circuit) : "no model"],
  ];
  if (rt.llm) pairs.push(["Prompt", rt.llm.prompt]);
  if (rt.versions) pairs.push(["Policy version", rt.versions.policy]);
  if (rt.jobs) pairs.push(["Async jobs", `${rt.jobs.pending} pending, ${rt.jobs.finished} finished`]);
  const q = rt.sharedQueue;
  if (q && "error" in q) pairs.push(["Shared queue", `${q.url}: unreachable (${q.error})`]);
  else if (q) {
    pairs.push(
      ["Shared queue", q.url],
      [
        "Workers alive",
        q.workers === 0 ? "none: advice that needs the model fails closed" : String(q.workers),
      ],
      [
        "Queue depth",
        `${q.waiting} waiting of ${q.capacity}, ${q.active} running, ${q.delayed} waiting to retry`,
      ],
      ["Shared queue wait", `oldest waiting ${ms(q.oldestWaitSeconds * 1000)}`],
      [
        "Drain rate",
        q.drainPerSecond === null
          ? "no job finished in the last minute"
          : `${q.drainPerSecond.toFixed(2)} jobs/s`,
      ],
      ["Stalls and retries", `${q.stalled} stalled (worker gone mid-job), ${q.retries} retried`],
      ["Jobs finished", `${q.completed} done, ${q.failed} failed (kept for --job-ttl)`],
    );
  }
  return facts("Runtime", pairs);
}

const RUNTIME_POLL_MS = 5_000;

/** Cache and queue numbers move by the second: keep them current while the page is open. */
function watchRuntime(ctx: PageContext, panel: HTMLElement): void {
  const timer = setInterval(async () => {
    if (!ctx.isCurrent() || !panel.isConnected) {
      clearInterval(timer);
      return;
    }
    try {
      const rt = await api.runtime();
      if (!ctx.isCurrent()) return;
      panel.querySelector("dl.facts")?.replaceWith(runtimePanel(rt));
    } catch {
      // Keep the last numbers; the next tick tries again.
    }
  }, RUNTIME_POLL_MS);
}

/** Rollout state per tier, and the service's numbers over time. */
export const operatorPage: Page = async (ctx) => {
  const periodKey = ctx.route.params.get("period") ?? "24h";
  const period = PERIODS[periodKey] ?? PERIODS["24h"]!;
  const since = new Date(Date.now() - period.hours * 3600_000).toISOString();

  const periodId = uid("period");
  const form = h(
    "form",
    { class: "filters", "aria-label": "Period" },
    h(
      "div",
      { class: "field" },
      h("label", { for: periodId }, "Period"),
      h(
        "select",
        { id: periodId, name: "period" },
        Object.entries(PERIODS).map(([k, v]) =>
          h("option", { value: k, selected: k === periodKey }, v.label),
        ),
      ),
    ),
    h("div", { class: "field actions" }, h("button", { type: "submit" }, "Show")),
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const v = (form.elements.namedItem("period") as HTMLSelectElement).value;
    location.hash = href("/operator", { period: v });
  });

  const runtime = h("section", { class: "panel", "aria-labelledby": "runtime-title" }, loading("runtime"));
  const overall = h("section", { class: "panel", "aria-labelledby": "overall-title" }, loading("statistics"));
  const tiers = h("section", { "aria-labelledby": "tiers-title" }, loading("the rollout"));
  render(
    ctx.main,
    ...pageHeading("Operator", "Rollout mode and gates per tier, and how the service is doing."),
    form,
    runtime,
    overall,
    tiers,
  );

  const [rt, stats, rollout] = await Promise.allSettled([
    api.runtime(),
    api.stats({ since, bucket: period.bucket }),
    api.rollout(),
  ]);
  if (!ctx.isCurrent()) return;

  render(
    runtime,
    h("h3", { id: "runtime-title" }, "Runtime now"),
    rt.status === "fulfilled"
      ? runtimePanel(rt.value)
      : errorBox(rt.reason, "the runtime numbers (GET /v1/runtime)"),
  );
  if (rt.status === "fulfilled") watchRuntime(ctx, runtime);

  render(overall, h("h3", { id: "overall-title" }, `All tiers, ${period.label.toLowerCase()}`));
  if (stats.status === "rejected") {
    overall.appendChild(errorBox(stats.reason, "the statistics"));
  } else {
    renderOverall(overall, stats.value, since, period.bucket);
  }

  render(tiers, h("h3", { id: "tiers-title" }, "Tiers"));
  if (rollout.status === "rejected") {
    tiers.appendChild(errorBox(rollout.reason, "the rollout state"));
    return;
  }
  const grid = h("div", { class: "tier-grid" });
  tiers.appendChild(grid);
  for (const t of rollout.value.tiers) grid.appendChild(tierCard(t, ctx.refresh));
  await Promise.all(
    rollout.value.tiers.map(async (t) => {
      const box = grid.querySelector<HTMLElement>(`.tier-chart[data-tier="${t.tier}"]`);
      if (!box) return;
      try {
        const s = await api.stats({ since, bucket: period.bucket, tier: t.tier as Tier });
        if (!ctx.isCurrent()) return;
        if (s.series.every((p) => p.agreementRate === null && p.overrideRate === null)) {
          box.appendChild(
            h(
              "p",
              { class: "muted" },
              `No sample for the rates ${period.label.toLowerCase()}: no decision with a control and none reviewed.`,
            ),
          );
        } else {
          rateChart(
            box,
            `${humanize(t.tier)}: agreement and override rate, ${period.label.toLowerCase()}`,
            s.series,
          );
        }
      } catch (err) {
        if (ctx.isCurrent()) box.appendChild(errorBox(err, `the ${t.tier} statistics`));
      }
    }),
  );
};

/** A bucket without decisions has no latency or error rate: a gap in the chart, not a zero. */
const busy = (p: SeriesPoint, v: number | null): number | null => (p.decisions > 0 ? v : null);

function renderOverall(container: HTMLElement, stats: Stats, since: string, bucket: "hour" | "day"): void {
  const o = stats.overall;
  container.appendChild(measureFacts("Measures for all tiers", o, since));
  container.appendChild(h("p", { class: "muted small" }, RATES_EXPLAINED));
  const series = stats.series;
  if (o.decisions === 0 || series.length === 0) {
    container.appendChild(
      emptyState(
        "No decision in this period.",
        h(
          "p",
          {},
          "The charts fill in as callers send requests to POST /v1/advisory. Try a longer period, or check the ",
          h("a", { href: href("/log") }, "decision log"),
          ".",
        ),
      ),
    );
    return;
  }
  const charts = h("div", { class: "chart-grid" });
  container.appendChild(charts);
  const times = series.map((s) => s.t);
  // Counts in a bucket without decisions are a true zero (the rates and latencies there have no sample);
  // the time axis spans the buckets with decisions.
  mountChart(charts, {
    title: "Decision distribution over time",
    times,
    series: [
      { label: "Allow", values: series.map((s) => s.allow), color: COLORS.allow },
      { label: "Deny", values: series.map((s) => s.deny), color: COLORS.deny, dash: [6, 4] },
      {
        label: "Require attestation",
        values: series.map((s) => s.require_attestation),
        color: COLORS.require_attestation,
        dash: [2, 3],
      },
    ],
    unit: perBucket(bucket),
    hasData: (i) => (series[i]?.decisions ?? 0) > 0,
  });
  rateChart(charts, "Agreement and override rate", series);
  mountChart(charts, {
    title: "Latency",
    times,
    series: [
      { label: "p50", values: series.map((s) => busy(s, s.p50)), color: "#1f5fbf" },
      { label: "p95", values: series.map((s) => busy(s, s.p95)), color: "#b26a00", dash: [6, 4] },
      { label: "p99", values: series.map((s) => busy(s, s.p99)), color: "#c62828", dash: [2, 3] },
    ],
    unit: MILLISECONDS,
  });
  mountChart(charts, {
    title: "Error rate",
    times,
    series: [{ label: "Error rate", values: series.map((s) => busy(s, s.errorRate)), color: COLORS.error }],
    unit: PERCENT,
    yRange: [0, 1],
  });
}
