import type { MachineInfo } from "./machine.js";
import type { QueueBenchResult } from "./queue.js";

export type BenchSection = "engine" | "http" | "llm" | "memory" | "peers" | "queue";
export const BENCH_SECTIONS: readonly BenchSection[] = ["engine", "http", "llm", "memory", "peers", "queue"];

/** Where a section reports progress (stderr in the CLI: stdout holds only the result). */
export type Progress = (message: string) => void;

export interface Target {
  name: string;
  /** The measured value against the goal, in words, e.g. "median 12.3 us < 50 us". */
  detail: string;
  met: boolean;
}

export interface EngineBenchResult {
  /** Rules engine alone, per decision, in-process. */
  medianUs: number;
  p99Us: number;
  meanUs: number;
  decisions: number;
  distinctSituations: number;
  /** The full in-process path (validate, decide, assemble the decision JSON), per decision. */
  adviseMedianUs: number;
  adviseP99Us: number;
  distribution: Record<string, number>;
  targets: Target[];
}

export interface HttpRun {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  statusCodes: Record<string, number>;
  errors: number;
  /**
   * The server process's CPU time (all its threads) per request answered, in microseconds. Much steadier
   * than requests/s on a shared machine: it says what a request costs, whatever else holds the cores.
   */
  serverCpuUsPerRequest: number | null;
}

export interface HttpBenchResult {
  /** The sidecar with the decision log on and the cache off (the headline numbers). */
  rps: number;
  p99Ms: number;
  bareRps: number;
  bareP99Ms: number;
  ratio: number;
  /** The bare route's server CPU per request divided by the sidecar's (log on, cache off). */
  cpuRatio: number | null;
  cache: "off";
  cacheOn: HttpRun | null;
  cacheOff: HttpRun;
  bare: HttpRun;
  /** With the cache on, relative to the bare route. */
  cacheOnRatio: number | null;
  /**
   * Cache off with the decision log on a RAM disk (/dev/shm): the same work without the disk's fsync,
   * which shows how much of the gap to the bare route is durability and how much is CPU.
   */
  ramLog: HttpRun | null;
  ramLogRatio: number | null;
  connections: number;
  durationSec: number;
  db: string;
  notes: string[];
  targets: Target[];
}

export interface MemoryBenchResult {
  idleRssMb: number;
  loadedRssMb: number;
  /** Requests sent while measuring the loaded RSS (0 when the http section supplied it). */
  loadRequests: number;
  targets: Target[];
}

export interface SkippedSection {
  skipped: true;
  reason: string;
}

/** A comparison that could not be made fairly: the peer decided the benchmark requests differently. */
export interface FailedSection {
  failed: true;
  reason: string;
  mismatches: Array<{ id: string; ours: string; peer: string }>;
}

/** One round of the sidecar against Cerbos: the same connections, duration and requests, back to back. */
export interface PeerHttpRound {
  /** Which ran first in this round ("ours, cerbos" or "cerbos, ours"). */
  order: string;
  ours: HttpRun;
  peer: HttpRun;
  /** Our requests/s over the peer's. */
  rpsRatio: number;
  /** The peer's server CPU per decision over ours (above 1: ours costs less). */
  cpuRatio: number | null;
}

export interface CerbosPeerResult {
  version: string;
  /** Benchmark requests, each decided the same by both before timing. */
  requests: number;
  distribution: Record<string, number>;
  equivalent: true;
  connections: number;
  durationSec: number;
  rounds: PeerHttpRound[];
  /** Medians over the rounds. */
  rps: number;
  peerRps: number;
  /** Ours over Cerbos's requests/s (median of the rounds' ratios). */
  rpsRatio: number;
  p50Ms: number;
  peerP50Ms: number;
  p99Ms: number;
  peerP99Ms: number;
  cpuUsPerDecision: number | null;
  peerCpuUsPerDecision: number | null;
  /** Cerbos's server CPU per decision over ours (median of the rounds). */
  cpuRatio: number | null;
  targets: Target[];
  notes: string[];
}

export interface CedarPeerResult {
  version: string;
  requests: number;
  distribution: Record<string, number>;
  equivalent: true;
  decisionsPerRound: number;
  /** Medians over the rounds, per decision, in microseconds. */
  oursMedianUs: number;
  oursP99Us: number;
  /** Ours with the request's validation, as the advisor runs it on a body it received. */
  oursValidatedMedianUs: number;
  peerMedianUs: number;
  peerP99Us: number;
  /** Cedar's median time per decision over ours (median of the rounds' ratios). */
  latencyRatio: number;
  /** Cedar's over ours with validation. */
  validatedLatencyRatio: number;
  rounds: Array<{
    order: string;
    oursMedianUs: number;
    oursP99Us: number;
    oursValidatedMedianUs: number;
    peerMedianUs: number;
    peerP99Us: number;
    latencyRatio: number;
  }>;
  notes: string[];
}

export interface PeersBenchResult {
  /** The ids of the benchmark requests both sides answer (src/bench/peers/requests.ts). */
  requestIds: string[];
  cerbos: CerbosPeerResult | SkippedSection | FailedSection;
  cedar: CedarPeerResult | SkippedSection | FailedSection;
}

export interface BenchReport {
  machine: string;
  machineInfo: MachineInfo;
  startedAt: string;
  durationSec: number;
  engine?: EngineBenchResult | SkippedSection;
  http?: HttpBenchResult | SkippedSection;
  llm?: Record<string, unknown> | SkippedSection;
  memory?: MemoryBenchResult | SkippedSection;
  peers?: PeersBenchResult;
  /** The shared queue (src/bench/queue.ts): workers' throughput and the queue's added latency. */
  queue?: QueueBenchResult | SkippedSection;
}

export const isSkipped = (v: unknown): v is SkippedSection =>
  typeof v === "object" && v !== null && (v as { skipped?: unknown }).skipped === true;

export const isFailed = (v: unknown): v is FailedSection =>
  typeof v === "object" && v !== null && (v as { failed?: unknown }).failed === true;
