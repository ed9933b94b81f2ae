import Table from "cli-table3";
import { tableStyle } from "../util/colour.js";
import { type BenchReport, type HttpRun, isSkipped, type Target } from "./types.js";

type Row = [string, string, string];

/** ", server CPU 212 us/request" when the run measured it. */
const cpu = (run: HttpRun | null): string =>
  run?.serverCpuUsPerRequest != null ? `, server CPU ${run.serverCpuUsPerRequest} us/request` : "";

const mark = (t: Target): string => `${t.met ? "met" : "MISSED"}: ${t.detail}`;

function sectionRows(name: string, value: unknown, rows: Row[]): Row[] {
  if (value === undefined) return [];
  if (isSkipped(value)) return [[name, "skipped", value.reason]];
  return rows;
}

/** The readable report: one table, a row per measure, targets marked met or MISSED. */
export function formatBench(r: BenchReport): string {
  // Colours only on a terminal without NO_COLOR: a table piped to a file or BENCHMARKS.md stays plain text.
  const style = tableStyle();
  const table = new Table({
    head: ["section", "measure", "value"],
    wordWrap: true,
    colWidths: [10, 34, 60],
    ...style,
  });
  const rows: Row[] = [];
  const e = r.engine;
  if (e && !isSkipped(e)) {
    rows.push(
      ["engine", "median per decision", `${e.medianUs} us`],
      ["engine", "p99 per decision", `${e.p99Us} us`],
      ["engine", "advisor path median / p99", `${e.adviseMedianUs} us / ${e.adviseP99Us} us`],
      ["engine", "decisions timed", `${e.decisions} over ${e.distinctSituations} situations`],
      ...e.targets.map((t): Row => ["engine", t.name, mark(t)]),
    );
  } else rows.push(...sectionRows("engine", e, []));
  const h = r.http;
  if (h && !isSkipped(h)) {
    rows.push(
      ["http", "bare Fastify route", `${h.bareRps} req/s, p99 ${h.bareP99Ms} ms${cpu(h.bare)}`],
      [
        "http",
        "sidecar, log on, cache off",
        `${h.rps} req/s, p99 ${h.p99Ms} ms (ratio ${h.ratio})${cpu(h.cacheOff)}`,
      ],
      [
        "http",
        "sidecar, log on, cache on",
        h.cacheOn
          ? `${h.cacheOn.rps} req/s, p99 ${h.cacheOn.p99Ms} ms (ratio ${h.cacheOnRatio})${cpu(h.cacheOn)}`
          : "not run",
      ],
      [
        "http",
        "sidecar, log on RAM disk (no fsync)",
        h.ramLog
          ? `${h.ramLog.rps} req/s, p99 ${h.ramLog.p99Ms} ms (ratio ${h.ramLogRatio})${cpu(h.ramLog)}`
          : "not run",
      ],
      [
        "http",
        "server CPU per request, bare / sidecar",
        h.cpuRatio === null ? "not measured" : `ratio ${h.cpuRatio}`,
      ],
      ["http", "conditions", `${h.connections} connections, ${h.durationSec}s each, decision log ${h.db}`],
      ...h.targets.map((t): Row => ["http", t.name, mark(t)]),
      ...h.notes.map((n): Row => ["http", "note", n]),
    );
  } else rows.push(...sectionRows("http", h, []));
  const l = r.llm;
  if (l && !isSkipped(l)) {
    // The section is llm-local's: show its scalar fields, then its targets and notes when it has them.
    for (const [k, v] of Object.entries(l)) {
      if (v === null || typeof v !== "object") rows.push(["llm", k, String(v)]);
    }
    if (Array.isArray(l.targets)) {
      for (const t of l.targets as Target[]) rows.push(["llm", t.name, mark(t)]);
    }
    if (Array.isArray(l.notes)) for (const n of l.notes) rows.push(["llm", "note", String(n)]);
  } else rows.push(...sectionRows("llm", l, []));
  const m = r.memory;
  if (m && !isSkipped(m)) {
    rows.push(
      ["memory", "idle RSS (no model)", `${m.idleRssMb} MB`],
      ["memory", "loaded RSS (peak under load)", `${m.loadedRssMb} MB`],
      ...m.targets.map((t): Row => ["memory", t.name, mark(t)]),
    );
  } else rows.push(...sectionRows("memory", m, []));
  table.push(...rows);
  return `machine: ${r.machine}\n${table.toString()}\ntotal ${r.durationSec}s\n`;
}
