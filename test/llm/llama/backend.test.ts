import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { combine } from "../../../src/advisor/hybrid.js";
import { LlamaBackend } from "../../../src/llm/llama/backend.js";
import { GenerationAbortedError } from "../../../src/llm/llama/generate.js";
import { COMPACT_ADVICE_JSON_SCHEMA, COMPACT_ADVICE_LIMITS } from "../../../src/llm/parse/advice-schema.js";
import { AdviceSchema, CompactAdviceSchema } from "../../../src/schemas/decision.js";
import { TEST_THREADS, tinyModel } from "../../helpers/model.js";
import { sampleRequest } from "./fixtures.js";

let model: ReturnType<typeof tinyModel>;
let backend: LlamaBackend;

beforeAll(async () => {
  model = tinyModel();
  backend = await LlamaBackend.create({
    modelPath: model.path,
    sequences: 2,
    threads: TEST_THREADS,
    temperature: 1,
    seed: 7,
    log: () => {},
  });
});
afterAll(async () => {
  await backend?.close();
  model?.cleanup();
});

/** A classification as the contract shows it, or the stand-in for a label with no letters or digits. */
const SNAKE_LABEL = /^(?:[a-z0-9]+(?:_[a-z0-9]+)*|unclassified)$/;
/** Text with no leading, trailing or repeated whitespace. */
const FOLDED_TEXT = /^\S(?:.*\S)?$/s;

describe("in-process llama backend on the tiny synthetic model", () => {
  it("evaluated the prefix once at warm-up for both sequences (the second got a copy of the state)", () => {
    expect(backend.stats().tokens.evaluated).toBe(backend.prefixTokenCount);
  });

  it("identifies the model and the prompt variant", () => {
    expect(backend.kind).toBe("llama");
    expect(backend.modelId).toContain("tiny.gguf");
    expect(backend.promptVersion).toMatch(/^default@sha256:[0-9a-f]{12}$/);
    expect(backend.parallelism).toBe(2);
  });

  it("answers grammar-constrained compact JSON that always parses against the compact schema", async () => {
    // Random weights at temperature 1: only the grammar stands between the model and garbage.
    for (let i = 0; i < 3; i++) {
      const r = await backend.adviseDetailed(sampleRequest(i));
      const json = JSON.parse(r.raw);
      expect(CompactAdviceSchema.safeParse(json).success).toBe(true);
      expect(Object.keys(json)).toEqual(COMPACT_ADVICE_JSON_SCHEMA.required);
      // The model's verdict as it wrote it; its label as a snake_case classification, its text whitespace-folded.
      expect(r.advice).toMatchObject({ decision: json.decision, riskLevel: json.riskLevel });
      expect(r.advice.classification).toMatch(SNAKE_LABEL);
      expect("context" in r.advice && r.advice.context).toMatch(FOLDED_TEXT);
      expect("context" in r.advice && r.advice.context).not.toMatch(/\s{2}/);
      expect(json.context.length).toBeLessThanOrEqual(COMPACT_ADVICE_LIMITS.context);
      expect(r.finish).toBe("json_complete");
      expect(r.usage.generated).toBeGreaterThan(0);
      expect(r.ms).toBeGreaterThan(0);
    }
  });

  it("a compact answer from the real model becomes a complete decision", async () => {
    const req = sampleRequest(3);
    const r = await backend.advise(req);
    const core = combine(req.verdict, r.advice);
    const { roleCheck, trustCheck, environment } = req.verdict.reasoning;
    expect(core.reasoning).toMatchObject({ roleCheck, trustCheck, environment });
    expect(Object.values(core.reasoning).every((v) => v.length > 0)).toBe(true);
    // The compact grammar has no references: the rules' stand.
    expect(core.policyReferences).toEqual(req.verdict.policyReferences);
  });

  it("evaluates the fixed prefix once per sequence and only the request afterwards", async () => {
    const prefix = backend.prefixTokenCount;
    expect(prefix).toBeGreaterThan(1000);
    const r = await backend.advise(sampleRequest(10));
    expect(r.usage.reused).toBeGreaterThanOrEqual(prefix);
    expect(r.usage.evaluated).toBeLessThan(prefix / 4);

    // The reference pipeline on the same sequence state: the whole prompt again.
    const rendered = backend.tokenizer.chat(backend.variant.prefix, "the same request text");
    const full = await backend.generate({ tokens: rendered, reusePrefix: false, maxTokens: 4 });
    expect(full.usage.reused).toBe(0);
    expect(full.usage.evaluated).toBe(rendered.length);
    expect(full.usage.generated).toBeLessThanOrEqual(4);
  });

  it("runs parallel requests on several sequences, each reusing its prefix", async () => {
    const before = backend.stats().tokens.evaluated;
    const results = await Promise.all([20, 21, 22, 23].map((n) => backend.advise(sampleRequest(n))));
    for (const r of results) {
      expect(CompactAdviceSchema.safeParse(r.advice).success).toBe(true);
      expect(r.usage.reused).toBeGreaterThanOrEqual(backend.prefixTokenCount);
    }
    const stats = backend.stats();
    expect(stats.sequences).toBe(2);
    expect(stats.busy).toBe(0);
    expect(stats.waiting).toBe(0);
    // No sequence evaluated the prefix again: only the requests' own tokens were computed.
    expect(stats.tokens.evaluated - before).toBe(results.reduce((n, r) => n + r.usage.evaluated, 0));
  });

  it("stops on abort with a typed error and stays usable", async () => {
    const ac = new AbortController();
    const p = backend.advise({ ...sampleRequest(30), signal: ac.signal });
    setTimeout(() => ac.abort(), 50);
    await expect(p).rejects.toBeInstanceOf(GenerationAbortedError);
    const r = await backend.advise(sampleRequest(31));
    expect(CompactAdviceSchema.safeParse(r.advice).success).toBe(true);
  });
});

describe("the full variant on the tiny synthetic model", () => {
  let full: LlamaBackend;

  beforeAll(async () => {
    full = await LlamaBackend.create({
      modelPath: model.path,
      prompt: "full",
      threads: TEST_THREADS,
      temperature: 1,
      seed: 11,
      log: () => {},
    });
  });
  afterAll(async () => {
    await full?.close();
  });

  it("answers the four-check JSON of the full schema, and its reasoning is the model's", async () => {
    expect(full.promptVersion).toMatch(/^full@sha256:[0-9a-f]{12}$/);
    const req = sampleRequest(40);
    const r = await full.advise(req);
    const json = JSON.parse(r.raw);
    expect(AdviceSchema.safeParse(json).success).toBe(true);
    expect(Object.keys(json.reasoning)).toEqual(["roleCheck", "trustCheck", "environment", "context"]);
    expect(r.advice).toMatchObject({ decision: json.decision, riskLevel: json.riskLevel });
    expect(r.advice.classification).toMatch(SNAKE_LABEL);
    const reasoning = combine(req.verdict, r.advice).reasoning;
    const own = "reasoning" in r.advice ? r.advice.reasoning : undefined;
    // The model's four checks; a qualified allow only gets a sentence appended to its context.
    expect({ ...reasoning, context: reasoning.context.slice(0, own?.context.length) }).toEqual(own);
    for (const k of ["roleCheck", "trustCheck", "environment", "context"] as const) {
      expect(reasoning[k]).toMatch(FOLDED_TEXT);
      expect(reasoning[k]).not.toMatch(/\s{2}/);
      // The model's words, not the rules' sentences.
      expect(reasoning[k]).not.toBe(req.verdict.reasoning[k]);
    }
  });
});
