import Table from "cli-table3";
import { tableStyle } from "../util/colour.js";
import {
  type BenchReport,
  type HttpRun,
  isFailed,
  isSkipped,
  type PeersBenchResult,
  type Target,
} from "./types.js";

type Row = [string, string, string];

/** ", server CPU 212 us/request" when the run measured it. */
const cpu = (run: HttpRun | null): string =>
  run?.serverCpuUsPerRequest != null ? `, server CPU ${run.serverCpuUsPerRequest} us/request` : "";

const mark = (t: Target): string => `${t.met ? "met" : "MISSED"}: ${t.detail}`;

function sectionRows(name: string, value: unknown, rows: Row[]): Row[] {
  if (value === undefined) return [];
  if (isSkipped(value)) return [[name, "skipped", value.reason]];
  if (isFailed(value)) return [[name, "FAILED", value.reason]];
  return rows;
}

const cpuText = (us: number | null) => (us === null ? "CPU not measured" : `${us} us CPU per decision`);

function peerRows(p: PeersBenchResult): Row[] {
  const rows: Row[] = [["peers", "requests", `${p.requestIds.length}: ${p.requestIds.join(", ")}`]];
  const c = p.cerbos;
  if (isSkipped(c) || isFailed(c))
    rows.push(...sectionRows("peers", c, []).map((r): Row => [r[0], `cerbos: ${r[1]}`, r[2]]));
  else {
    rows.push(
      ["peers", `cerbos ${c.version}: equivalence`, `the same decision on all ${c.requests} requests`],
      [
        "peers",
        "sidecar (log on disk, cache off)",
        `${c.rps} req/s, p50 ${c.p50Ms} ms, p99 ${c.p99Ms} ms, ${cpuText(c.cpuUsPerDecision)}`,
      ],
      [
        "peers",
        "Cerbos server (audit log on)",
        `${c.peerRps} req/s, p50 ${c.peerP50Ms} ms, p99 ${c.peerP99Ms} ms, ${cpuText(c.peerCpuUsPerDecision)}`,
      ],
      [
        "peers",
        "ours / Cerbos requests/s",
        `${c.rpsRatio}x (rounds: ${c.rounds.map((r) => r.rpsRatio).join(", ")})`,
      ],
      ["peers", "Cerbos / ours CPU per decision", c.cpuRatio === null ? "not measured" : `${c.cpuRatio}x`],
      [
        "peers",
        "conditions",
        `${c.rounds.length} rounds alternating, ${c.connections} connections, ${c.durationSec}s each side`,
      ],
      ...c.targets.map((t): Row => ["peers", t.name, mark(t)]),
      ...c.notes.map((n): Row => ["peers", "note", n]),
    );
  }
  const d = p.cedar;
  if (isSkipped(d) || isFailed(d))
    rows.push(...sectionRows("peers", d, []).map((r): Row => [r[0], `cedar: ${r[1]}`, r[2]]));
  else {
    rows.push(
      ["peers", `cedar ${d.version}: equivalence`, `the same decision on all ${d.requests} requests`],
      [
        "peers",
        "rules engine, in-process",
        `median ${d.oursMedianUs} us, p99 ${d.oursP99Us} us (with validation: median ${d.oursValidatedMedianUs} us)`,
      ],
      ["peers", "Cedar wasm, pre-parsed policy set", `median ${d.peerMedianUs} us, p99 ${d.peerP99Us} us`],
      [
        "peers",
        "Cedar / ours per decision",
        `${d.latencyRatio}x (rounds: ${d.rounds.map((r) => r.latencyRatio).join(", ")}; with validation ${d.validatedLatencyRatio}x)`,
      ],
      ...d.notes.map((n): Row => ["peers", "note", n]),
    );
  }
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
    const fair = l.fair as { timeRatio?: number; tokenRatio?: number; answerTokens?: number } | undefined;
    if (fair && typeof fair === "object") {
      rows.push([
        "llm",
        "fair reference / ours",
        `time ${fair.timeRatio}x, evaluated prompt tokens ${fair.tokenRatio}x (reference: longest common prefix reused, ${fair.answerTokens}-token answers)`,
      ]);
    }
    const mix = l.mix as { toModel?: number; requests?: number } | undefined;
    if (mix && typeof mix === "object") {
      rows.push([
        "llm",
        "requests the hybrid engine sends to the model",
        `${mix.toModel} of ${mix.requests} (seed, generalization and blind suites): share ${l.modelShare}, ${l.msPerRequestInMix} ms of model time per request of the mix`,
      ]);
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
  if (r.peers) rows.push(...peerRows(r.peers));
  const q = r.queue;
  if (q && !isSkipped(q)) {
    const w = (t: typeof q.oneWorker) =>
      `${t.advisoriesPerSecond} advisories/s (${t.advisories} in ${t.seconds} s)`;
    rows.push(
      ["queue", "one worker", w(q.oneWorker)],
      ["queue", "two workers", `${w(q.twoWorkers)}, ${q.scaling}x`],
      [
        "queue",
        "latency, in-process model",
        `p50 ${q.latency.inProcessP50Ms} ms, p90 ${q.latency.inProcessP90Ms} ms`,
      ],
      [
        "queue",
        "latency through the queue",
        `p50 ${q.latency.queueP50Ms} ms, p90 ${q.latency.queueP90Ms} ms (+${q.latency.addedP50Ms} ms at p50)`,
      ],
      ["queue", "conditions", `${q.model}, ${q.threadsPerWorker} thread(s) per worker`],
      ...q.notes.map((n): Row => ["queue", "note", n]),
    );
  } else rows.push(...sectionRows("queue", q, []));
  table.push(...rows);
  return `machine: ${r.machine}\n${table.toString()}\ntotal ${r.durationSec}s\n`;
}
