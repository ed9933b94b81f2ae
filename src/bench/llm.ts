import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { routesToLlm } from "../advisor/hybrid.js";
import { createEngine } from "../engine/index.js";
import type { EngineVerdict } from "../engine/types.js";
import { isRefused, loadSuite } from "../eval/suite.js";
import { LlamaBackend } from "../llm/llama/backend.js";
import { physicalCores } from "../llm/llama/cpu.js";
import { dataPath } from "../paths.js";
import { loadPolicy } from "../policy/load.js";
import { loadVariant, type PromptVariant, renderRequest } from "../prompts/index.js";
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

/** How much of a realistic mix of requests the hybrid engine sends to the interpreter. */
export interface ModelShare {
  /** The suites of the mix, with how many of their requests go to the model. */
  /** `refused`: requests the service answers 400 (blank ids), which never reach the engine or the model. */
  suites: Array<{ suite: string; requests: number; refused: number; toModel: number }>;
  requests: number;
  toModel: number;
  /** toModel / requests. */
  share: number;
}

export interface LlmBenchResult {
  model: string;
  parameters: number | null;
  device: string;
  threads: number;
  /** The fair reference's time per advisory (llm.fair), under INTERFACES.md's name. */
  baselineMsPerAdvisory: number;
  msPerAdvisory: number;
  /** The fair reference's time over ours (= fair.timeRatio). */
  speedup: number;
  baselineTokensPerRequest: number;
  tokensPerRequest: number;
  /** The fair reference's evaluated prompt tokens over ours (= fair.tokenRatio). */
  tokenRatio: number;
  /**
   * The fraction of a realistic mix (seed, generalization and blind suites) that the hybrid engine routes to
   * the interpreter (routesToLlm); the rest is decided by the rules in microseconds.
   */
  modelShare: number;
  /** What a request of that mix costs on average in model time: modelShare x msPerAdvisory. */
  msPerRequestInMix: number;
  mix: ModelShare;
  /** Throughput with PARALLEL requests in flight over the same backend's with one at a time. */
  parallelSpeedup: number;
  /** The same throughput over one request at a time with every thread on one sequence: the target's denominator. */
  parallelVsFastestSingle: number;
  /** Time to the first answer token, reference over ours. */
  firstTokenSpeedup: number;
  /**
   * The reference as it ran on llama-cpp-python, with the same work as ours: the same requests, the same
   * number of runs, alternating; the longest common prefix with its previous call reused (llama-cpp-python's
   * default), and an answer of the mean token length of its format's own example answers.
   */
  fair: {
    timeRatio: number;
    tokenRatio: number;
    /** The answer length the reference generates: the mean of its prompt's example answers, in tokens. */
    answerTokens: number;
    exampleAnswerTokens: number[];
    requests: string[];
  };
  baseline: PipelineStats & { prompt: string; maxTokens: number; prefixReuse: "longest common prefix" };
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

const PARALLEL = 4;
/** The suites of the realistic mix (issue 16): the seed suite, its rewording, and the blind suite. */
export const MIX_SUITES = ["seed-basic", "generalization", "blind-2026-12"] as const;

const round = (n: number, digits = 1): number => Math.round(n * 10 ** digits) / 10 ** digits;
const mean = (xs: number[]): number => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);

interface BenchRequest {
  id: string;
  situation: Situation;
  verdict: EngineVerdict;
}

/** A suite's requests with the rules engine's verdicts; `refused` counts those the service answers 400. */
function suiteRequests(
  suite: string,
  engine = createEngine(loadPolicy()),
): { requests: BenchRequest[]; refused: number } {
  const loaded = loadSuite(dataPath("scenarios", `${suite}.json`));
  const requests: BenchRequest[] = [];
  loaded.requests.forEach((r, i) => {
    if (isRefused(r)) return;
    const id = loaded.suite.scenarios[i]?.id ?? `${suite}[${i}]`;
    requests.push({ id, situation: r.situation, verdict: engine.evaluate(r.situation) });
  });
  return { requests, refused: loaded.requests.length - requests.length };
}

/** The share of the mix the hybrid engine sends to the model, by the service's own routing rule. */
export function modelShare(suites: readonly string[] = MIX_SUITES): ModelShare {
  const engine = createEngine(loadPolicy());
  const rows = suites.map((suite) => {
    const { requests: reqs, refused } = suiteRequests(suite, engine);
    return {
      suite,
      requests: reqs.length + refused,
      refused,
      toModel: reqs.filter((r) => routesToLlm("hybrid", r.verdict)).length,
    };
  });
  const requests = rows.reduce((a, r) => a + r.requests, 0);
  const toModel = rows.reduce((a, r) => a + r.toModel, 0);
  return { suites: rows, requests, toModel, share: requests ? toModel / requests : 0 };
}

/** The example answers of a text variant's prompt (the text after each "ANSWER:" up to the next heading). */
export function exampleAnswers(variant: PromptVariant): string[] {
  return variant.prefix
    .split(/^ANSWER:[ \t]*\n/m)
    .slice(1)
    .map((part) => (part.split(/\n#{2,3} /)[0] ?? "").trim())
    .filter(Boolean);
}

/**
 * The LLM section of `policy-advisor bench`, on the same model, requests and number of runs for both
 * pipelines. Ours: the default variant, its prefix evaluated once per sequence and reused, a grammar-bounded
 * JSON answer in the variant's (compact) shape. The reference: the five-example free-text prompt as it ran on
 * llama-cpp-python, which keeps the longest common prefix with the previous call (reproduced here on one
 * sequence of its own), answering in free text with as many tokens as its own example answers have on
 * average (random weights never stop early, so a cap of 512 would measure the cap). The two alternate
 * request by request. Then ours with 4 requests in flight, against the fastest single-request setup (the
 * target) and against the same backend one at a time.
 */
export async function runLlmBench(opts: LlmBenchOptions): Promise<LlmBenchResult> {
  const { progress } = opts;
  const quick = opts.quick === true;
  const notes: string[] = [];
  const mix = modelShare();
  progress(
    `llm: the hybrid engine sends ${mix.toModel} of ${mix.requests} requests of the mix (${MIX_SUITES.join(", ")}) ` +
      `to the model: ${round(mix.share * 100, 1)}%`,
  );
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
    // The requests the model is actually asked: the seed scenarios the hybrid engine routes to it.
    const routed = suiteRequests("seed-basic").requests.filter((r) => routesToLlm("hybrid", r.verdict));
    const pick = (i: number) => routed[i % routed.length]!;
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

    const reference = loadVariant("free-text");
    progress(`llm: loading ${modelName} twice (ours and the reference, ${threads} threads, 1 sequence each)`);
    const warmStart = performance.now();
    const backend = await LlamaBackend.create({
      modelPath,
      sequences: 1,
      threads,
      log: (line) => progress(line),
    });
    const warmupMs = performance.now() - warmStart;
    const examples = exampleAnswers(reference).map((a) => backend.loaded.model.tokenize(a).length);
    if (examples.length === 0)
      throw new Error(`${reference.id}: no example answers ("ANSWER:") in the prompt`);
    const answerTokens = Math.round(mean(examples));
    progress(
      `llm: the reference's ${examples.length} example answers have ${examples.join(", ")} tokens: it answers with ${answerTokens}`,
    );
    // The reference on a sequence of its own, so each side keeps the prefix its previous call left.
    const refBackend = await LlamaBackend.create({
      modelPath,
      sequences: 1,
      threads,
      prompt: reference,
      maxTokens: answerTokens,
      log: (line) => progress(line),
    });
    const device = backend.loaded.device;
    let parallelSec: number;
    const oneAtATime: number[] = [];
    const ours: Array<{ ms: number; evaluated: number; reused: number; generated: number; first: number }> =
      [];
    const base: Array<{ ms: number; evaluated: number; reused: number; generated: number; first: number }> =
      [];
    try {
      const runs = quick ? 2 : 3;
      const runOurs = async (i: number) => {
        const t = performance.now();
        const r = await backend.adviseDetailed(pick(i));
        ours.push({ ms: performance.now() - t, ...r.usage, first: r.firstTokenMs });
        progress(
          `llm: ours ${i + 1}/${runs} (${pick(i).id}): ${(ours.at(-1)!.ms / 1000).toFixed(1)} s, ${r.usage.evaluated} evaluated ` +
            `+ ${r.usage.reused} reused prompt tokens, ${r.usage.generated} generated`,
        );
      };
      const runReference = async (i: number) => {
        const tokens = refBackend.tokenizer.chat(reference.prefix, renderRequest(reference, pick(i)));
        const t = performance.now();
        const r = await refBackend.generate({ tokens, reusePrefix: true, maxTokens: answerTokens });
        base.push({ ms: performance.now() - t, ...r.usage, first: r.firstTokenMs });
        progress(
          `llm: reference ${i + 1}/${runs} (${pick(i).id}): ${(base.at(-1)!.ms / 1000).toFixed(1)} s, ` +
            `${r.usage.evaluated} evaluated + ${r.usage.reused} reused prompt tokens, ${r.usage.generated} generated`,
        );
      };
      // The same request on both sides, alternating which goes first.
      for (let i = 0; i < runs; i++) {
        if (i % 2 === 0) {
          await runOurs(i);
          await runReference(i);
        } else {
          await runReference(i);
          await runOurs(i);
        }
      }
    } finally {
      await refBackend.close();
      await backend.close();
    }

    // Ours, PARALLEL requests in flight on PARALLEL sequences (prefix warmed once, copied to the others).
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
      await Promise.all(Array.from({ length: PARALLEL }, (_, i) => parallelBackend.advise(pick(i))));
      parallelSec = (performance.now() - t) / 1000;
    } finally {
      await parallelBackend.close();
    }
    progress(
      `llm: ${PARALLEL} requests, ${PARALLEL} in flight on ${parallelShape.contexts} context(s) x ` +
        `${parallelShape.threads} thread(s): ${parallelSec.toFixed(1)} s`,
    );

    const baselineMs = mean(base.map((b) => b.ms));
    const oursMs = mean(ours.map((o) => o.ms));
    const baselineTokens = mean(base.map((b) => b.evaluated));
    const oursTokens = mean(ours.map((o) => o.evaluated));
    const throughput = PARALLEL / parallelSec;
    const sequentialThroughput = 1000 / mean(oneAtATime);
    const fastestSingleThroughput = 1000 / oursMs;
    const timeRatio = baselineMs / oursMs;
    const tokenRatio = baselineTokens / Math.max(1, oursTokens);
    const vsFastest = throughput / fastestSingleThroughput;
    const oursGenerated = mean(ours.map((o) => o.generated));
    if (!given) {
      notes.push(
        `random weights never close a JSON string early, so every answer of ours runs to the grammar's length bounds ` +
          `(${round(oursGenerated, 0)} tokens here) and the reference's to its ${answerTokens} tokens; a trained model stops sooner`,
      );
    }
    return {
      model: modelName,
      parameters,
      device,
      threads,
      baselineMsPerAdvisory: round(baselineMs, 0),
      msPerAdvisory: round(oursMs, 0),
      speedup: round(timeRatio, 2),
      baselineTokensPerRequest: round(baselineTokens, 0),
      tokensPerRequest: round(oursTokens, 0),
      tokenRatio: round(tokenRatio, 2),
      modelShare: round(mix.share, 3),
      msPerRequestInMix: round(mix.share * oursMs, 0),
      mix: { ...mix, share: round(mix.share, 3) },
      parallelSpeedup: round(throughput / sequentialThroughput, 2),
      parallelVsFastestSingle: round(vsFastest, 2),
      firstTokenSpeedup: round(
        mean(base.map((b) => b.first)) / Math.max(1, mean(ours.map((o) => o.first))),
        2,
      ),
      fair: {
        timeRatio: round(timeRatio, 2),
        tokenRatio: round(tokenRatio, 2),
        answerTokens,
        exampleAnswerTokens: examples,
        requests: Array.from({ length: ours.length }, (_, i) => pick(i).id),
      },
      baseline: {
        prompt: reference.version,
        maxTokens: answerTokens,
        prefixReuse: "longest common prefix",
        runs: base.length,
        msPerAdvisory: round(baselineMs, 0),
        evaluatedTokens: round(baselineTokens, 0),
        reusedTokens: round(mean(base.map((b) => b.reused)), 0),
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
        requests: PARALLEL,
        seconds: round(parallelSec, 2),
        throughputPerSec: round(throughput, 3),
        oneAtATimeMsPerAdvisory: round(mean(oneAtATime), 0),
        sequentialThroughputPerSec: round(sequentialThroughput, 3),
        fastestSingleThroughputPerSec: round(fastestSingleThroughput, 3),
      },
      targets: [
        {
          name: "time per advisory",
          detail: `${round(timeRatio, 2)}x less than the fair reference (target >= 5x)`,
          met: timeRatio >= 5,
        },
        {
          name: "tokens evaluated per request",
          detail: `${round(tokenRatio, 2)}x fewer than the fair reference (target >= 5x)`,
          met: tokenRatio >= 5,
        },
        {
          name: "parallel throughput",
          detail:
            `${round(vsFastest, 2)}x the fastest single-request setup (1 sequence, ${threads} thread(s)) with ${PARALLEL} ` +
            `in flight (target >= 1.5x; ${round(throughput / sequentialThroughput, 2)}x the same backend one at a time)`,
          met: vsFastest >= 1.5,
        },
      ],
      notes,
    };
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}
