import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { createEngine } from "../engine/index.js";
import type { EngineVerdict } from "../engine/types.js";
import { LlamaBackend } from "../llm/llama/backend.js";
import { physicalCores } from "../llm/llama/cpu.js";
import { dataPath } from "../paths.js";
import { loadPolicy } from "../policy/load.js";
import { loadVariant, renderRequest } from "../prompts/index.js";
import { parseRequest } from "../schemas/request.js";
import type { Situation } from "../schemas/situation.js";
import { makeModel } from "../testing/gguf/model.js";
import type { PresetName } from "../testing/gguf/presets.js";
import type { Progress, Target } from "./types.js";

export interface LlmBenchOptions {
  progress: Progress;
  /** Tiny model and fewer requests: a smoke test of the mechanics, not meaningful numbers. */
  quick?: boolean;
  /** A GGUF to measure instead of the synthetic bench model (also POLICY_ADVISOR_BENCH_MODEL). */
  modelPath?: string;
  threads?: number;
}

interface PipelineStats {
  runs: number;
  msPerAdvisory: number;
  /** Prompt tokens evaluated per request (a reused prefix is not evaluated). */
  evaluatedTokens: number;
  reusedTokens: number;
  generatedTokens: number;
  /** Milliseconds to the first answer token: what the request paid for its prompt. */
  firstTokenMs: number;
}

export interface LlmBenchResult {
  model: string;
  parameters: number | null;
  device: string;
  threads: number;
  baselineMsPerAdvisory: number;
  msPerAdvisory: number;
  speedup: number;
  baselineTokensPerRequest: number;
  tokensPerRequest: number;
  tokenRatio: number;
  /** Throughput with PARALLEL requests in flight over the same backend's with one at a time (the target). */
  parallelSpeedup: number;
  /** The same throughput over one request at a time with every thread on one sequence (the fastest single request). */
  parallelVsFastestSingle: number;
  /** Time to the first answer token, reference over ours: the part of the latency prefix reuse removes. */
  firstTokenSpeedup: number;
  baseline: PipelineStats & { prompt: string; maxTokens: number };
  /** `answer`: the default variant's answer shape, which sets how many tokens the grammar lets it write. */
  ours: PipelineStats & { prompt: string; answer: string; prefixTokens: number; warmupMs: number };
  parallel: {
    concurrency: number;
    /** Contexts the sequences were spread over, and llama.cpp threads per context. */
    contexts: number;
    threadsPerContext: number;
    requests: number;
    seconds: number;
    throughputPerSec: number;
    /** The same backend, one request in flight. */
    oneAtATimeMsPerAdvisory: number;
    sequentialThroughputPerSec: number;
    /** One request at a time on one sequence with every thread (the "ours" runs). */
    fastestSingleThroughputPerSec: number;
  };
  targets: Target[];
  notes: string[];
}

const BASELINE_MAX_TOKENS = 512;
const PARALLEL = 4;

const round = (n: number, digits = 1): number => Math.round(n * 10 ** digits) / 10 ** digits;
const mean = (xs: number[]): number => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);

/** The seed scenarios with the rules engine's findings: the requests both pipelines answer. */
function benchRequests(): Array<{ situation: Situation; verdict: EngineVerdict }> {
  const suite = JSON.parse(readFileSync(dataPath("scenarios", "seed-basic.json"), "utf8")) as {
    scenarios: Array<{ situation: unknown }>;
  };
  const engine = createEngine(loadPolicy());
  return suite.scenarios.map((s) => {
    const { situation } = parseRequest(s.situation);
    return { situation, verdict: engine.evaluate(situation) };
  });
}

/**
 * The LLM section of `policy-advisor bench`: on one loaded model and context, the reference pipeline
 * (whole free-text prompt evaluated every time, free-text answer up to 512 tokens, one request at a time)
 * against ours (the default variant: prompt prefix evaluated once per sequence and reused, grammar-bounded
 * JSON answer in the variant's shape, compact), then ours with 4 requests in flight on 4 sequences against
 * one at a time.
 */
export async function runLlmBench(opts: LlmBenchOptions): Promise<LlmBenchResult> {
  const { progress } = opts;
  const quick = opts.quick === true;
  const notes: string[] = [];
  const given = opts.modelPath ?? process.env.POLICY_ADVISOR_BENCH_MODEL;
  const dir = given ? undefined : mkdtempSync(join(tmpdir(), "pa-bench-llm-"));
  try {
    let modelPath: string;
    let modelName: string;
    let parameters: number | null = null;
    if (given) {
      modelPath = given;
      modelName = given;
    } else {
      const preset: PresetName = quick ? "tiny" : "bench";
      modelPath = join(dir as string, `${preset}.gguf`);
      progress(`llm: writing the synthetic ${preset} model`);
      const made = makeModel({ out: modelPath, preset });
      modelName = `synthetic ${preset} preset`;
      parameters = made.parameters;
      if (quick) notes.push("quick run on the tiny model: checks the mechanics, the ratios mean little");
    }
    const requests = benchRequests();
    const pick = (i: number) => requests[i % requests.length]!;
    // llama.cpp's worker threads spin at barriers: on cores already busy with other work, 2 threads can be
    // 100x slower than 1. When the machine is loaded, measure with 1 thread and say so.
    const busy = loadavg()[0] ?? 0;
    const cores = physicalCores();
    const threads = opts.threads ?? (busy >= cores ? 1 : cores);
    if (opts.threads === undefined && threads !== cores) {
      notes.push(
        `load average ${busy.toFixed(1)} on ${cores} cores: measured with 1 llama.cpp thread (spinning threads on busy cores stall)`,
      );
    }

    // One request at a time runs on a one-sequence context with every thread. The parallel run loads the
    // backend as a sidecar with PARALLEL sequences would: on the CPU, the sequences spread over one context
    // per core (one thread each), see LlamaBackendOptions.contexts.
    progress(`llm: loading ${modelName} (${threads} threads, 1 sequence)`);
    const warmStart = performance.now();
    const backend = await LlamaBackend.create({
      modelPath,
      sequences: 1,
      threads,
      log: (line) => progress(line),
    });
    const warmupMs = performance.now() - warmStart;
    try {
      const reference = loadVariant("free-text");
      const baselineRuns = quick ? 1 : 2;
      const oursRuns = quick ? 2 : 3;
      const parallelRequests = PARALLEL;

      // Ours, one at a time.
      const ours: Array<{ ms: number; evaluated: number; reused: number; generated: number; first: number }> =
        [];
      for (let i = 0; i < oursRuns; i++) {
        const t = performance.now();
        const r = await backend.adviseDetailed(pick(i));
        ours.push({ ms: performance.now() - t, ...r.usage, first: r.firstTokenMs });
        progress(
          `llm: ours ${i + 1}/${oursRuns}: ${(ours.at(-1)!.ms / 1000).toFixed(1)} s, ${r.usage.evaluated} evaluated ` +
            `+ ${r.usage.reused} reused prompt tokens, ${r.usage.generated} generated`,
        );
      }
      // Reference last: it overwrites a sequence's prefix. The whole prompt from an empty state, free text, no grammar.
      const base: Array<{ ms: number; evaluated: number; generated: number; first: number }> = [];
      for (let i = 0; i < baselineRuns; i++) {
        const tokens = backend.tokenizer.chat(reference.prefix, renderRequest(reference, pick(i)));
        const t = performance.now();
        const r = await backend.generate({ tokens, reusePrefix: false, maxTokens: BASELINE_MAX_TOKENS });
        base.push({
          ms: performance.now() - t,
          evaluated: r.usage.evaluated,
          generated: r.usage.generated,
          first: r.firstTokenMs,
        });
        progress(
          `llm: reference ${i + 1}/${baselineRuns}: ${(base.at(-1)!.ms / 1000).toFixed(1)} s, ` +
            `${r.usage.evaluated} prompt + ${r.usage.generated} generated tokens`,
        );
      }
      // Ours, PARALLEL requests in flight on PARALLEL sequences (prefix warmed once, copied to the others).
      await backend.close();
      progress(`llm: loading ${modelName} (${PARALLEL} sequences)`);
      const parallelBackend = await LlamaBackend.create({
        modelPath,
        sequences: PARALLEL,
        ...(opts.threads !== undefined ? { threads: opts.threads } : {}),
        log: (line) => progress(line),
      });
      const parallelShape = parallelBackend.stats();
      if (parallelShape.contexts * parallelShape.threads !== threads) {
        notes.push(
          `one at a time used ${threads} llama.cpp thread(s); the parallel run ${parallelShape.contexts} context(s) ` +
            `of ${parallelShape.threads} thread(s), as a sidecar with ${PARALLEL} sequences loads it on this machine`,
        );
      }
      // The service's own one-at-a-time throughput: the same loaded backend, one request in flight. The
      // target compares concurrency 4 with concurrency 1 of one deployment; the run above (every thread on
      // one sequence) is the fastest single request, reported beside it.
      const oneAtATime: number[] = [];
      let parallelSec: number;
      try {
        for (let i = 0; i < (quick ? 1 : 2); i++) {
          const t = performance.now();
          await parallelBackend.advise(pick(i));
          oneAtATime.push(performance.now() - t);
        }
        progress(
          `llm: the same backend one request at a time: ${(mean(oneAtATime) / 1000).toFixed(1)} s per advisory`,
        );
        const t = performance.now();
        await Promise.all(
          Array.from({ length: parallelRequests }, (_, i) => parallelBackend.advise(pick(i))),
        );
        parallelSec = (performance.now() - t) / 1000;
      } finally {
        await parallelBackend.close();
      }
      progress(
        `llm: ${parallelRequests} requests, ${PARALLEL} in flight on ${parallelShape.contexts} context(s) x ` +
          `${parallelShape.threads} thread(s): ${parallelSec.toFixed(1)} s`,
      );

      const baselineMs = mean(base.map((b) => b.ms));
      const oursMs = mean(ours.map((o) => o.ms));
      const baselineTokens = mean(base.map((b) => b.evaluated));
      const oursTokens = mean(ours.map((o) => o.evaluated));
      const throughput = parallelRequests / parallelSec;
      const sequentialThroughput = 1000 / mean(oneAtATime);
      const fastestSingleThroughput = 1000 / oursMs;
      const speedup = baselineMs / oursMs;
      const tokenRatio = baselineTokens / Math.max(1, oursTokens);
      const parallelSpeedup = throughput / sequentialThroughput;
      const oursGenerated = mean(ours.map((o) => o.generated));
      if (!given) {
        notes.push(
          `random weights never close a JSON string early, so every answer runs to the grammar's length bounds ` +
            `(${round(oursGenerated, 0)} tokens here); a trained model stops sooner`,
        );
      }
      const device = backend.loaded.device;
      return {
        model: modelName,
        parameters,
        device,
        threads,
        baselineMsPerAdvisory: round(baselineMs, 0),
        msPerAdvisory: round(oursMs, 0),
        speedup: round(speedup, 2),
        baselineTokensPerRequest: round(baselineTokens, 0),
        tokensPerRequest: round(oursTokens, 0),
        tokenRatio: round(tokenRatio, 2),
        parallelSpeedup: round(parallelSpeedup, 2),
        parallelVsFastestSingle: round(throughput / fastestSingleThroughput, 2),
        firstTokenSpeedup: round(
          mean(base.map((b) => b.first)) / Math.max(1, mean(ours.map((o) => o.first))),
          2,
        ),
        baseline: {
          prompt: reference.version,
          maxTokens: BASELINE_MAX_TOKENS,
          runs: base.length,
          msPerAdvisory: round(baselineMs, 0),
          evaluatedTokens: round(baselineTokens, 0),
          reusedTokens: 0,
          generatedTokens: round(mean(base.map((b) => b.generated)), 0),
          firstTokenMs: round(mean(base.map((b) => b.first)), 0),
        },
        ours: {
          prompt: backend.promptVersion,
          answer: backend.variant.answer,
          prefixTokens: backend.prefixTokenCount,
          warmupMs: round(warmupMs, 0),
          runs: ours.length,
          msPerAdvisory: round(oursMs, 0),
          evaluatedTokens: round(oursTokens, 0),
          reusedTokens: round(mean(ours.map((o) => o.reused)), 0),
          generatedTokens: round(oursGenerated, 0),
          firstTokenMs: round(mean(ours.map((o) => o.first)), 0),
        },
        parallel: {
          concurrency: PARALLEL,
          contexts: parallelShape.contexts,
          threadsPerContext: parallelShape.threads,
          requests: parallelRequests,
          seconds: round(parallelSec, 2),
          throughputPerSec: round(throughput, 3),
          oneAtATimeMsPerAdvisory: round(mean(oneAtATime), 0),
          sequentialThroughputPerSec: round(sequentialThroughput, 3),
          fastestSingleThroughputPerSec: round(fastestSingleThroughput, 3),
        },
        targets: [
          {
            name: "time per advisory",
            detail: `${round(speedup, 2)}x less than the reference (target >= 5x)`,
            met: speedup >= 5,
          },
          {
            name: "tokens evaluated per request",
            detail: `${round(tokenRatio, 2)}x fewer than the reference (target >= 5x)`,
            met: tokenRatio >= 5,
          },
          {
            name: "parallel throughput",
            detail:
              `${round(parallelSpeedup, 2)}x the same backend's one-at-a-time throughput with ${PARALLEL} in flight ` +
              `(target >= 1.5x; ${round(throughput / fastestSingleThroughput, 2)}x the fastest single-request setup)`,
            met: parallelSpeedup >= 1.5,
          },
        ],
        notes,
      };
    } finally {
      await backend.close();
    }
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}
