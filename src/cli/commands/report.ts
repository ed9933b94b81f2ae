import Table from "cli-table3";
import { Command } from "commander";
import { buildReport, type Report } from "../../rollout/report.js";
import type { Measures } from "../../schemas/rollout.js";
import { tableStyle } from "../../util/colour.js";
import { action } from "../errors.js";
import { addDbOption, type LogCliOptions, openLog, rolloutConfigFrom, timeOption } from "./rollout.js";

const pct = (x: number | null) => (x === null ? "-" : `${(x * 100).toFixed(1)}%`);

function measuresRow(label: string, m: Measures): (string | number)[] {
  return [
    label,
    m.decisions,
    `${m.distribution.allow}/${m.distribution.deny}/${m.distribution.require_attestation}`,
    pct(m.agreementRate),
    pct(m.overrideRate),
    pct(m.errorRate),
    m.wrongAllowsHighRisk,
    `${m.latencyMs.p50}/${m.latencyMs.p95}/${m.latencyMs.p99}`,
  ];
}

const HEAD = [
  "",
  "decisions",
  "allow/deny/attest",
  "agreement",
  "overrides",
  "errors",
  "wrong allows (high risk)",
  "p50/p95/p99 ms",
];

function printReport(r: Report): void {
  const out = (s = "") => process.stdout.write(`${s}\n`);
  out(`decision log report ${r.since ? `from ${r.since} ` : ""}to ${r.until}`);
  const main = new Table({ head: HEAD, ...tableStyle() });
  main.push(measuresRow("period", { ...r, samples: { withControl: 0, reviewed: 0 } }));
  main.push(measuresRow("last 7 days", r.lastWeek));
  main.push(measuresRow("last 30 days", r.lastMonth));
  for (const [tier, m] of Object.entries(r.perTier)) main.push(measuresRow(`tier ${tier}`, m));
  out(main.toString());
  if (r.weekly.length > 1) {
    const w = new Table({ head: ["week of", ...HEAD.slice(1)], ...tableStyle() });
    for (const p of r.weekly) w.push(measuresRow(p.start.slice(0, 10), p));
    out("\nweekly");
    out(w.toString());
  }
  if (r.monthly.length > 1) {
    const mt = new Table({ head: ["month", ...HEAD.slice(1)], ...tableStyle() });
    for (const p of r.monthly) mt.push(measuresRow(p.start.slice(0, 7), p));
    out("\nmonthly");
    out(mt.toString());
  }
  if (Object.keys(r.perVersion).length > 1) {
    const v = new Table({ head: ["version", ...HEAD.slice(1)], ...tableStyle() });
    for (const [k, m] of Object.entries(r.perVersion)) v.push(measuresRow(k, m));
    out("\nper version");
    out(v.toString());
  }
  if (r.topMismatches.length > 0) {
    out("\ntop mismatches (control vs advice)");
    for (const x of r.topMismatches)
      out(
        `  ${x.count} x ${x.tier} ${x.action}: control ${x.control}, advice ${x.decision} (e.g. ${x.example})`,
      );
  }
  if (r.topOverrides.length > 0) {
    out("\ntop overrides (advice vs reviewer)");
    for (const x of r.topOverrides)
      out(
        `  ${x.count} x ${x.tier} ${x.action}: advice ${x.advice}, final ${x.final}, ${x.category} (e.g. ${x.example})`,
      );
  }
  out("\nsuccess criteria");
  for (const c of r.criteria)
    out(`  [${c.met === null ? "n/a " : c.met ? "met " : "MISS"}] ${c.name}: ${c.detail}`);
}

export function registerReport(program: Command): void {
  const cmd = addDbOption(new Command("report"))
    .description(
      "numbers from the decision log: rates, distribution, latency, weekly/monthly, top mismatches and overrides, success criteria",
    )
    .option(
      "--since <when>",
      "ISO 8601 date-time or a duration back from now (7d, 24h); default: the whole log",
    )
    .option("--until <when>", "end of the period (default now)")
    .option("--json", "print one JSON object")
    .action(
      action(async (o: LogCliOptions & { since?: string; until?: string; json?: boolean }) => {
        const since = timeOption(o.since, "--since");
        const until = timeOption(o.until, "--until");
        const config = rolloutConfigFrom(o);
        const store = await openLog(o, config);
        try {
          const report = await buildReport(store, {
            ...(since ? { since } : {}),
            ...(until ? { until } : {}),
            config,
          });
          if (o.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
          else printReport(report);
        } finally {
          await store.close();
        }
      }),
    );
  program.addCommand(cmd);
}
