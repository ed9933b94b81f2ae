import { api } from "../api.js";
import { mountChart } from "../charts.js";
import { h, render, statusLine } from "../dom.js";
import { humanize, ms, pct, RATES_EXPLAINED, rateOf, when } from "../format.js";
import type { Page, PageContext } from "../page.js";
import { href } from "../router.js";
import {
  type Measures,
  MODES,
  type Mode,
  type Runtime,
  type SeriesPoint,
  type Stats,
  type Tier,
  type TierRollout,
} from "../types.js";
import { emptyState, errorBox, facts, loading, modeBadge, pageHeading, table, uid } from "../widgets.js";

const PERIODS: Record<string, { label: string; hours: number; bucket: "hour" | "day" }> = {
  "24h": { label: "Last 24 hours", hours: 24, bucket: "hour" },
  "7d": { label: "Last 7 days", hours: 24 * 7, bucket: "day" },
  "30d": { label: "Last 30 days", hours: 24 * 30, bucket: "day" },
};

const COLORS = {
  allow: "#1a7f37",
  deny: "#c62828",
  require_attestation: "#b26a00",
  agreement: "#1f5fbf",
  override: "#8e24aa",
  error: "#c62828",
};

const rate = (v: number): string => `${(v * 100).toFixed(0)} %`;

function measureFacts(label: string, m: Measures): HTMLElement {
  return facts(label, [
    ["Sample size", `${m.decisions} decision${m.decisions === 1 ? "" : "s"}`],
    ["Agreement rate", rateOf(m.agreementRate, m.samples?.withControl, "with a control")],
    ["Override rate", rateOf(m.overrideRate, m.samples?.reviewed, "reviewed")],
    ["Error rate", pct(m.errorRate)],
    ["Wrong allows at high risk", String(m.wrongAllowsHighRisk)],
    [
      "Allow / deny / attest",
      `${m.distribution.allow} / ${m.distribution.deny} / ${m.distribution.require_attestation}`,
    ],
    ["Latency p50 / p95 / p99", `${ms(m.latencyMs.p50)} / ${ms(m.latencyMs.p95)} / ${ms(m.latencyMs.p99)}`],
  ]);
}

function rateChart(
  container: HTMLElement,
  title: string,
  series: SeriesPoint[],
  period: [string, string],
): void {
  mountChart(container, {
    title,
    period,
    times: series.map((s) => s.t),
    series: [
      { label: "Agreement rate", values: series.map((s) => s.agreementRate), color: COLORS.agreement },
      {
        label: "Override rate",
        values: series.map((s) => s.overrideRate),
        color: COLORS.override,
        dash: [6, 4],
      },
    ],
    format: rate,
    yRange: [0, 1],
  });
}

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
      rt.llm ? `${rt.llm.model} (${rt.llm.kind}, ${rt.llm.parallelism} parallel)` : "none (rules only)",
    ],
    ["Model circuit", rt.circuit ? humanize(rt.circuit) : "no model"],
  ];
  if (rt.llm) pairs.push(["Prompt", rt.llm.prompt]);
  if (rt.versions) pairs.push(["Policy version", rt.versions.policy]);
  if (rt.jobs) pairs.push(["Async jobs", `${rt.jobs.pending} pending, ${rt.jobs.finished} finished`]);
  return facts("Runtime", pairs);
}

/**
 * Promote or roll back a tier. Both change what callers apply, so both ask why (the note or reason is
 * recorded with the event); who is taken from the reviewer token when auth is on.
 */
function modeControls(t: TierRollout, onDone: () => void): HTMLElement {
  const msg = h("div", { "aria-live": "polite" });
  const byId = uid("by");
  const noteId = uid("note");
  const reasonId = uid("reason");
  const toId = uid("to");
  const lower = MODES.filter((m) => MODES.indexOf(m) < MODES.indexOf(t.mode));
  const promote = h(
    "form",
    { class: "inline-form", "aria-label": `Promote ${humanize(t.tier)}` },
    h(
      "div",
      { class: "field" },
      h("label", { for: noteId }, "Why promote (recorded)"),
      h("input", { id: noteId, name: "note", required: true }),
    ),
    h(
      "div",
      { class: "field" },
      h("label", { for: byId }, "By (optional with a token)"),
      h("input", { id: byId, name: "by" }),
    ),
    h(
      "button",
      { type: "submit", disabled: !t.mayPromote },
      t.nextMode ? `Promote to ${t.nextMode}` : "Already at the highest mode",
    ),
  );
  const rollback = h(
    "form",
    { class: "inline-form", "aria-label": `Roll back ${humanize(t.tier)}` },
    h(
      "div",
      { class: "field" },
      h("label", { for: reasonId }, "Why roll back (recorded)"),
      h("input", { id: reasonId, name: "reason", required: true }),
    ),
    h(
      "div",
      { class: "field" },
      h("label", { for: toId }, "Back to"),
      h(
        "select",
        { id: toId, name: "to", disabled: lower.length === 0 },
        lower.map((m) => h("option", { value: m, selected: m === "shadow" }, m)),
      ),
    ),
    h("button", { type: "submit", class: "danger", disabled: lower.length === 0 }, "Roll back"),
  );
  const run = async (action: "promote" | "roll back", fn: () => Promise<unknown>): Promise<void> => {
    const tierName = `the ${humanize(t.tier)} tier`;
    render(msg, statusLine(`Asking to ${action} ${tierName}…`));
    try {
      await fn();
      render(msg, statusLine(`Done: ${action} ${tierName}.`, "success"));
      onDone();
    } catch (err) {
      render(msg, errorBox(err, tierName, action));
    }
  };
  promote.addEventListener("submit", (e) => {
    e.preventDefault();
    const f = new FormData(promote);
    const by = String(f.get("by") ?? "").trim();
    void run("promote", () =>
      api.promote(t.tier, { note: String(f.get("note") ?? ""), ...(by ? { by } : {}) }),
    );
  });
  rollback.addEventListener("submit", (e) => {
    e.preventDefault();
    const f = new FormData(rollback);
    const to = String(f.get("to") ?? "shadow") as Mode;
    void run("roll back", () => api.rollback(t.tier, { reason: String(f.get("reason") ?? ""), to }));
  });
  return h("details", { class: "mode-controls" }, h("summary", {}, "Change mode"), promote, rollback, msg);
}

function tierCard(t: TierRollout, onDone: () => void): HTMLElement {
  const titleId = `tier-${t.tier}`;
  const failing = t.gates.filter((g) => !g.passed).length;
  return h(
    "article",
    { class: "panel tier-card", "aria-labelledby": titleId },
    h("h3", { id: titleId }, humanize(t.tier), " ", modeBadge(t.mode)),
    t.since || (t.configuredMode && t.configuredMode !== t.mode)
      ? h(
          "p",
          { class: "muted" },
          t.since ? `In ${t.mode} mode since ${when(t.since)}.` : "",
          t.configuredMode && t.configuredMode !== t.mode
            ? ` The rollout file says ${t.configuredMode}.`
            : "",
        )
      : null,
    h(
      "p",
      { class: t.mayPromote ? "promote yes" : "promote no" },
      t.mayPromote
        ? `May be promoted to ${t.nextMode ?? "the next mode"}: every gate passes.`
        : !t.nextMode
          ? "At its highest allowed mode."
          : failing > 0
            ? `May not be promoted to ${t.nextMode} yet: ${failing} of ${t.gates.length} gate${t.gates.length === 1 ? "" : "s"} failing.`
            : `May not be promoted to ${t.nextMode}.`,
    ),
    measureFacts(`Measures for ${humanize(t.tier)}`, t.measures),
    t.gates.length
      ? table(
          `Gates for ${humanize(t.tier)}`,
          [
            { header: "Gate", cell: (g) => humanize(g.name) },
            {
              header: "Status",
              cell: (g) =>
                h(
                  "span",
                  { class: g.passed ? "gate pass" : "gate fail" },
                  g.passed ? "✔ passed" : "✘ failing",
                ),
            },
            { header: "Detail", cell: (g) => g.detail },
          ],
          t.gates,
        )
      : h("p", { class: "muted" }, "No gate applies to this mode."),
    t.rollbacks.length
      ? table(
          `Rollback events for ${humanize(t.tier)}`,
          [
            { header: "When", cell: (r) => h("time", { datetime: r.at }, when(r.at)) },
            { header: "From → to", cell: (r) => `${r.from ?? "(none)"} → ${r.to}` },
            { header: "Reason", cell: (r) => r.reason },
          ],
          t.rollbacks,
        )
      : h("p", { class: "muted" }, "No rollback so far."),
    h("div", { class: "tier-chart", "data-tier": t.tier }),
    modeControls(t, onDone),
  );
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
  const now = new Date().toISOString();
  const since = new Date(Date.now() - period.hours * 3600_000).toISOString();
  const span: [string, string] = [since, now];

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
    renderOverall(overall, stats.value, span);
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
            h("p", { class: "muted" }, "No reviewed decision in this period: no rate to chart yet."),
          );
        } else {
          rateChart(box, `${humanize(t.tier)}: agreement and override rate`, s.series, span);
        }
      } catch (err) {
        if (ctx.isCurrent()) box.appendChild(errorBox(err, `the ${t.tier} statistics`));
      }
    }),
  );
};

/** A bucket without decisions has no latency or error rate: a gap in the chart, not a zero. */
const busy = (p: SeriesPoint, v: number | null): number | null => (p.decisions > 0 ? v : null);

function renderOverall(container: HTMLElement, stats: Stats, period: [string, string]): void {
  const o = stats.overall;
  container.appendChild(measureFacts("Measures for all tiers", o));
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
  const count = (v: number): string => (Number.isInteger(v) ? String(v) : v.toFixed(1));
  mountChart(charts, {
    title: "Decision distribution over time",
    period,
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
    format: count,
  });
  rateChart(charts, "Agreement and override rate", series, period);
  mountChart(charts, {
    title: "Latency",
    period,
    times,
    series: [
      { label: "p50", values: series.map((s) => busy(s, s.p50)), color: "#1f5fbf" },
      { label: "p95", values: series.map((s) => busy(s, s.p95)), color: "#b26a00", dash: [6, 4] },
      { label: "p99", values: series.map((s) => busy(s, s.p99)), color: "#c62828", dash: [2, 3] },
    ],
    format: (v) => ms(v),
  });
  mountChart(charts, {
    title: "Error rate",
    period,
    times,
    series: [{ label: "Error rate", values: series.map((s) => busy(s, s.errorRate)), color: COLORS.error }],
    format: rate,
    yRange: [0, 1],
  });
}
