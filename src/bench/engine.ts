import { createAdvisor } from "../advisor/create.js";
import { createEngine } from "../engine/index.js";
import { type LoadedPolicy, loadPolicy } from "../policy/load.js";
import { parseRequest } from "../schemas/request.js";
import type { Situation } from "../schemas/situation.js";
import { percentileSorted, round, sortedCopy } from "./stats.js";
import type { EngineBenchResult, Progress } from "./types.js";
import { workload } from "./workload.js";

export interface EngineBenchOptions {
  policy?: LoadedPolicy;
  /** Distinct situations (seeds plus variations). */
  situations?: number;
  /** Timed decisions for the engine alone. */
  decisions?: number;
  /** Timed decisions for the full advisor path. */
  advisorDecisions?: number;
  progress?: Progress;
}

const TARGET_MEDIAN_US = 50;
const TARGET_P99_US = 200;

/** Times the rules engine in-process, one decision at a time, after a warm-up pass. */
export async function runEngineBench(opts: EngineBenchOptions = {}): Promise<EngineBenchResult> {
  const progress = opts.progress ?? (() => {});
  const policy = opts.policy ?? loadPolicy();
  const n = opts.situations ?? 2000;
  const decisions = opts.decisions ?? 50_000;
  const advisorDecisions = opts.advisorDecisions ?? 20_000;
  const raw = workload(n);
  const situations: Situation[] = raw.map((r) => parseRequest(r).situation);

  const engine = createEngine(policy);
  progress(`engine: warming up on ${situations.length} situations`);
  const distribution: Record<string, number> = {};
  for (const s of situations) {
    const v = engine.evaluate(s);
    distribution[v.decision] = (distribution[v.decision] ?? 0) + 1;
  }

  progress(`engine: timing ${decisions} decisions`);
  const samples = new Float64Array(decisions);
  let sink = 0;
  for (let i = 0; i < decisions; i++) {
    const s = situations[i % situations.length]!;
    const t0 = process.hrtime.bigint();
    const v = engine.evaluate(s);
    const t1 = process.hrtime.bigint();
    samples[i] = Number(t1 - t0) / 1000;
    sink += v.reasoning.roleCheck.length;
  }
  const sorted = sortedCopy(samples);
  let total = 0;
  for (const x of samples) total += x;

  progress(`engine: timing ${advisorDecisions} decisions through the advisor (validate, decide, assemble)`);
  const advisor = createAdvisor({ policy, engine: "rules" });
  for (let i = 0; i < Math.min(2000, raw.length); i++) await advisor.advise(raw[i]);
  const adviseSamples = new Float64Array(advisorDecisions);
  for (let i = 0; i < advisorDecisions; i++) {
    const input = raw[i % raw.length];
    const t0 = process.hrtime.bigint();
    const d = await advisor.advise(input);
    const t1 = process.hrtime.bigint();
    adviseSamples[i] = Number(t1 - t0) / 1000;
    sink += d.decisionId.length;
  }
  await advisor.close();
  const adviseSorted = sortedCopy(adviseSamples);
  if (sink < 0) progress("unreachable"); // keeps the timed work observable

  const medianUs = percentileSorted(sorted, 50);
  const p99Us = percentileSorted(sorted, 99);
  return {
    medianUs: round(medianUs),
    p99Us: round(p99Us),
    meanUs: round(total / decisions),
    decisions,
    distinctSituations: situations.length,
    adviseMedianUs: round(percentileSorted(adviseSorted, 50)),
    adviseP99Us: round(percentileSorted(adviseSorted, 99)),
    distribution,
    targets: [
      {
        name: "engine median",
        detail: `${round(medianUs)} us (target < ${TARGET_MEDIAN_US} us)`,
        met: medianUs < TARGET_MEDIAN_US,
      },
      {
        name: "engine p99",
        detail: `${round(p99Us)} us (target < ${TARGET_P99_US} us)`,
        met: p99Us < TARGET_P99_US,
      },
    ],
  };
}
