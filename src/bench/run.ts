import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { runEngineBench } from "./engine.js";
import { runHttpBench, runMemoryBench } from "./http.js";
import { describeMachine, machineInfo } from "./machine.js";
import { runPeersBench } from "./peers/index.js";
import { runQueueBench } from "./queue.js";
import {
  BENCH_SECTIONS,
  type BenchReport,
  type BenchSection,
  type Progress,
  type SkippedSection,
} from "./types.js";

export interface BenchOptions {
  only?: readonly BenchSection[];
  progress?: Progress;
  /** Scale every section's duration (CI smoke runs use < 1). */
  quick?: boolean;
  /** Decision log for the http section (SQLite file or postgres:// URL). */
  db?: string;
  /** llama.cpp threads per context in the llm section; default chosen from the cores and the load. */
  llmThreads?: number;
  /** Told before each section starts (the CLI's progress bar): its name, sections done, sections in all. */
  onSection?: (section: BenchSection, done: number, total: number) => void;
}

type LlmBench = (opts: {
  progress: Progress;
  quick?: boolean;
  threads?: number;
}) => Promise<Record<string, unknown>>;

const skipped = (reason: string): SkippedSection => ({ skipped: true, reason });

/**
 * The LLM section belongs to src/bench/llm.ts (llm-local). It is loaded at run time so the
 * benchmark works, with a clear note, in a build that does not have it.
 */
async function loadLlmBench(): Promise<LlmBench | string> {
  const candidates = ["./llm.js", "./llm.ts"];
  const here = (f: string) => fileURLToPath(new URL(f, import.meta.url));
  const spec = candidates.find((c) => existsSync(here(c)));
  if (!spec) return "src/bench/llm.ts (runLlmBench) is not in this build yet";
  const mod: unknown = await import(spec);
  const fn = (mod as { runLlmBench?: unknown }).runLlmBench;
  if (typeof fn !== "function") return `${spec} does not export runLlmBench`;
  return fn as LlmBench;
}

export async function runBench(opts: BenchOptions = {}): Promise<BenchReport> {
  const progress = opts.progress ?? (() => {});
  const only = new Set(opts.only ?? BENCH_SECTIONS);
  const started = Date.now();
  const info = machineInfo();
  const report: BenchReport = {
    machine: describeMachine(info),
    machineInfo: info,
    startedAt: new Date(started).toISOString(),
    durationSec: 0,
  };
  progress(`bench: ${report.machine}`);
  if (info.loadAverage > 0.5 * info.cores) {
    progress(
      `bench: warning: load average ${info.loadAverage} on ${info.cores} cores: other work skews the numbers`,
    );
  }
  const quick = opts.quick === true;
  // The sections in the order they run; memory is measured inside http when both are asked for.
  const order = BENCH_SECTIONS.filter((x) => only.has(x) && !(x === "memory" && only.has("http")));
  const begin = (section: BenchSection): void =>
    opts.onSection?.(section, order.indexOf(section), order.length);

  if (only.has("engine")) {
    begin("engine");
    report.engine = await runEngineBench({
      progress,
      ...(quick ? { situations: 300, decisions: 5000, advisorDecisions: 2000 } : {}),
    });
  }
  if (only.has("http")) {
    begin("http");
    const out = await runHttpBench({
      progress,
      memory: only.has("memory"),
      ...(opts.db ? { db: opts.db } : {}),
      ...(quick ? { durationSec: 2, warmupSec: 1 } : {}),
    });
    report.http = out.http;
    if (out.memory) report.memory = out.memory;
  } else if (only.has("memory")) {
    begin("memory");
    report.memory = await runMemoryBench({ progress, durationSec: quick ? 2 : 5 });
  }
  if (only.has("llm")) {
    begin("llm");
    const fn = await loadLlmBench();
    if (typeof fn === "string") {
      progress(`llm: skipped: ${fn}`);
      report.llm = skipped(fn);
    } else {
      report.llm = await fn({
        progress,
        quick,
        ...(opts.llmThreads !== undefined ? { threads: opts.llmThreads } : {}),
      });
    }
  }
  if (only.has("peers")) {
    begin("peers");
    report.peers = await runPeersBench({ progress, quick });
  }
  if (only.has("queue")) {
    begin("queue");
    report.queue = await runQueueBench({ progress, quick });
  }
  report.durationSec = Math.round((Date.now() - started) / 100) / 10;
  return report;
}
