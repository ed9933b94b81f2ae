import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { failureOf } from "../../src/advisor/hybrid.js";
import { withCircuitBreaker } from "../../src/llm/circuit.js";
import { Interpreter } from "../../src/llm/interpreter.js";
import { LlamaBackend } from "../../src/llm/llama/backend.js";
import { OpenAiBackend } from "../../src/llm/openai/index.js";
import { COMPACT_ADVICE_JSON_SCHEMA } from "../../src/llm/parse/advice-schema.js";
import { AdviceParseError } from "../../src/llm/parse/result.js";
import type { LlmBackend } from "../../src/llm/types.js";
import { TEST_THREADS, tinyModel } from "../helpers/model.js";
import { sampleRequest } from "./llama/fixtures.js";
import { type ChatServer, completion, sendJson, startChatServer } from "./openai/chat-server.js";

/**
 * The in-process model and a model server are two completers under one interpreter: the same answer text
 * becomes the same advice, and a bad answer the same failure, whichever completed it.
 */

let model: ReturnType<typeof tinyModel>;
let llama: LlamaBackend;
/** The same model with room for six answer tokens: every grammar answer is cut. */
let cut: LlamaBackend;
let server: ChatServer | undefined;

beforeAll(async () => {
  model = tinyModel();
  llama = await LlamaBackend.create({ modelPath: model.path, threads: TEST_THREADS, log: () => {} });
  cut = await LlamaBackend.create({
    modelPath: model.path,
    threads: TEST_THREADS,
    maxTokens: 6,
    warmup: false,
    log: () => {},
  });
});
afterAll(async () => {
  await llama?.close();
  await cut?.close();
  model?.cleanup();
});
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const openai = (url: string): OpenAiBackend =>
  new OpenAiBackend({ baseUrl: url, model: "m", retryBaseMs: 5, timeoutMs: 10_000 });

const failureFrom = async (backend: LlmBackend) => {
  const err = await backend.advise(sampleRequest(1)).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(AdviceParseError);
  return { failure: (err as AdviceParseError).failure, advisor: failureOf(err) };
};

describe("one interpreter over the llama.cpp and the OpenAI-compatible completers", () => {
  it("both backends are the interpreter, asking for the same answer schema", async () => {
    const text = JSON.stringify({ classification: "x", riskLevel: "low", decision: "deny", context: "c" });
    server = await startChatServer((_r, _n, res) => sendJson(res, 200, completion(text)));
    const http = openai(server.url);
    expect(llama).toBeInstanceOf(Interpreter);
    expect(http).toBeInstanceOf(Interpreter);
    // The default variant's compact schema: the llama grammar is made from it, the server is sent it.
    expect(llama.answerSchema).toBe(COMPACT_ADVICE_JSON_SCHEMA);
    expect(http.answerSchema).toBe(llama.answerSchema);
    await http.advise(sampleRequest(0));
    const body = server.received[0]?.body as {
      response_format: { json_schema: { schema: unknown } };
      messages: Array<{ content: string }>;
    };
    expect(body.response_format.json_schema.schema).toEqual(llama.answerSchema);
    expect(body.messages[0]?.content).toBe(llama.variant.prefix);
  });

  it("the real model's answer, served by a model server, becomes the same advice", async () => {
    const fromLlama = await llama.advise(sampleRequest(2));
    server = await startChatServer((_r, _n, res) => sendJson(res, 200, completion(fromLlama.raw)));
    const fromServer = await openai(server.url).advise(sampleRequest(2));
    expect(fromServer.raw).toBe(fromLlama.raw);
    // Random weights write noise; what matters is that both read it the same way: a snake_case label,
    // whitespace-folded text, the model's decision and risk.
    const { decision, riskLevel, classification } = fromLlama.advice;
    expect(fromServer.advice).toMatchObject({ decision, riskLevel, classification });
    expect(classification).toMatch(/^[a-z0-9]+(?:_[a-z0-9]+)*$|^unclassified$/);
    const context = (a: typeof fromLlama.advice) => ("context" in a ? a.context : undefined);
    expect(context(fromServer.advice)).toBe(context(fromLlama.advice));
    expect(context(fromLlama.advice)).not.toMatch(/^\s|\s$|\s{2}/);
  });

  it("an answer cut at the token cap is the same parse failure from either backend, and trips either circuit", async () => {
    server = await startChatServer((_r, _n, res) => {
      const body = completion('{"classification": "unusual_ti');
      sendJson(res, 200, { ...body, choices: [{ ...body.choices[0], finish_reason: "length" }] });
    });
    const fromLlama = await failureFrom(cut);
    const fromServer = await failureFrom(openai(server.url));
    for (const f of [fromLlama, fromServer]) {
      expect(f.failure.code).toBe("no_answer");
      expect(f.failure.message).toMatch(/\(the answer was cut at max_tokens\)$/);
      expect(f.advisor.cause).toBe("parse_failure");
      expect(f.advisor.detail).toMatch(/^no_answer: .*cut at max_tokens/);
    }
    // The breaker wraps either backend alike: one unusable answer opens a circuit of threshold 1.
    for (const backend of [cut, openai(server.url)]) {
      const circuit = withCircuitBreaker(backend, { failureThreshold: 1, cooldownMs: 60_000 });
      await expect(circuit.advise(sampleRequest(3))).rejects.toBeInstanceOf(AdviceParseError);
      expect(circuit.state).toBe("open");
    }
  });
});
