import { createServer } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { LlmHttpError, OpenAiBackend } from "../../../src/llm/openai/index.js";
import { open } from "../../../src/llm/openai/open.js";
import { ADVICE_JSON_SCHEMA, COMPACT_ADVICE_JSON_SCHEMA } from "../../../src/llm/parse/advice-schema.js";
import { AdviceParseError } from "../../../src/llm/parse/result.js";
import { loadVariant } from "../../../src/prompts/index.js";
import { situation, verdictFor } from "../../prompts/fixtures.js";
import { type ChatServer, completion, sendJson, startChatServer } from "./chat-server.js";

const ADVICE = {
  decision: "require_attestation",
  classification: "unusual_timing_commit",
  riskLevel: "medium",
  reasoning: {
    roleCheck: "developers may commit",
    trustCheck: "0.82 meets 0.5",
    environment: "repo",
    context: "06:00",
  },
  policyReferences: ["timing_deviation: off-hours work needs verification"],
};
const COMPACT = {
  classification: "unusual_timing_commit",
  riskLevel: "medium",
  decision: "require_attestation",
  context: "A 06:00 commit from someone who never commits at night.",
};
const TEXT_ANSWER = `**Classification:** unusual timing commit
**Risk Level:** Medium
**Decision:** Require Attestation
**Reasoning:**
1. **Role check:** developers may commit
2. **Trust check:** 0.82 meets 0.5
3. **Environment:** repo
4. **Context:** 06:00
**Policy References:**
- timing_deviation: off-hours work needs verification`;

const request = () => ({ situation: situation(), verdict: verdictFor() });
let server: ChatServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const backend = (url: string, extra: Partial<ConstructorParameters<typeof OpenAiBackend>[0]> = {}) =>
  new OpenAiBackend({
    baseUrl: url,
    model: "test-model",
    retryBaseMs: 10,
    retryMaxMs: 50,
    timeoutMs: 2_000,
    ...extra,
  });

describe("OpenAI-compatible backend against a real local server", () => {
  it("sends the fixed prefix as the system message and the compact schema as response_format, and reads the answer", async () => {
    server = await startChatServer((_r, _n, res) => sendJson(res, 200, completion(JSON.stringify(COMPACT))));
    const b = backend(`${server.url}/v1`, { apiKey: "k-123" });
    const r = await b.advise(request());
    expect(r.advice).toEqual({ ...COMPACT, policyReferences: [] });
    expect(r.usage).toEqual({ evaluated: 100, reused: 800, generated: 120 });
    expect(r.raw).toBe(JSON.stringify(COMPACT));
    const sent = server.received[0];
    expect(sent?.path).toBe("/v1/chat/completions");
    expect(sent?.headers.authorization).toBe("Bearer k-123");
    const body = sent?.body as {
      model: string;
      messages: Array<{ role: string; content: string }>;
      response_format: { type: string; json_schema: { schema: unknown } };
      temperature: number;
    };
    expect(body.model).toBe("test-model");
    expect(body.temperature).toBe(0);
    expect(body.messages[0]).toEqual({ role: "system", content: loadVariant("default").prefix });
    expect(body.messages[1]?.role).toBe("user");
    expect(body.messages[1]?.content).toContain('"actor_id":"user:sam"');
    expect(body.response_format.type).toBe("json_schema");
    // The default variant declares the compact answer: decision and context, no reasoning object.
    expect(body.response_format.json_schema.schema).toEqual(COMPACT_ADVICE_JSON_SCHEMA);
    expect(b.promptVersion).toMatch(/^default@sha256:[0-9a-f]{12}$/);
    expect(b.runtime().structuredOutput).toBe(true);
  });

  it("the full variant sends the four-check schema and reads the full answer", async () => {
    server = await startChatServer((_r, _n, res) => sendJson(res, 200, completion(JSON.stringify(ADVICE))));
    const b = backend(server.url, { prompt: "full" });
    expect((await b.advise(request())).advice).toEqual(ADVICE);
    const body = server.received[0]?.body as { response_format: { json_schema: { schema: unknown } } };
    expect(body.response_format.json_schema.schema).toEqual(ADVICE_JSON_SCHEMA);
    expect(b.promptVersion).toMatch(/^full@sha256:[0-9a-f]{12}$/);
  });

  it("falls back to free text and the parser, once, when the server refuses response_format", async () => {
    server = await startChatServer((r, _n, res) => {
      if ("response_format" in r.body) {
        sendJson(res, 400, {
          error: { message: "Unsupported parameter: 'response_format'", type: "invalid_request_error" },
        });
      } else sendJson(res, 200, completion(TEXT_ANSWER));
    });
    const b = backend(server.url);
    const first = await b.advise(request());
    expect(first.advice.decision).toBe("require_attestation");
    expect(first.advice.classification).toBe("unusual_timing_commit");
    const second = await b.advise(request());
    expect(second.advice).toEqual(first.advice);
    // One refused request, then every request without response_format.
    expect(server.received.map((r) => "response_format" in r.body)).toEqual([true, false, false]);
    expect(b.runtime().structuredOutput).toBe(false);
  });

  it("retries a 500 and a 429 (honouring Retry-After) with backoff, then succeeds", async () => {
    const times: number[] = [];
    server = await startChatServer((_r, n, res) => {
      times.push(performance.now());
      if (n === 0) sendJson(res, 500, { error: { message: "model crashed" } });
      else if (n === 1) sendJson(res, 429, { error: { message: "busy" } }, { "retry-after": "0.2" });
      else sendJson(res, 200, completion(JSON.stringify(ADVICE)));
    });
    const b = backend(server.url, { retryMaxMs: 1_000 });
    const r = await b.advise(request());
    expect(r.advice.decision).toBe("require_attestation");
    expect(server.received).toHaveLength(3);
    expect((times[2] ?? 0) - (times[1] ?? 0)).toBeGreaterThanOrEqual(190);
    expect(b.runtime()).toMatchObject({ retries: 2, failures: 0 });
  });

  it("gives up after the bounded number of retries with the last status", async () => {
    server = await startChatServer((_r, _n, res) =>
      sendJson(res, 503, { error: { message: "loading model" } }),
    );
    const b = backend(server.url, { maxRetries: 3 });
    const err = await b.advise(request()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LlmHttpError);
    expect(err).toMatchObject({ code: "http_status", status: 503 });
    expect((err as Error).message).toMatch(/answered 503: .*loading model/);
    expect(server.received).toHaveLength(4);
  });

  it("does not retry a client error such as an unknown model", async () => {
    server = await startChatServer((_r, _n, res) =>
      sendJson(res, 404, { error: { message: "model 'x' not found" } }),
    );
    const err = await backend(server.url)
      .advise(request())
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "http_status", status: 404, retryable: false });
    expect(server.received).toHaveLength(1);
  });

  it("times out a slow server per request", async () => {
    server = await startChatServer((_r, _n, res) => {
      setTimeout(() => sendJson(res, 200, completion(JSON.stringify(ADVICE))), 3_000).unref();
    });
    const t0 = performance.now();
    const err = await backend(server.url, { timeoutMs: 300 })
      .advise(request())
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "timeout" });
    expect(performance.now() - t0).toBeLessThan(1_500);
  });

  it("times out a server that accepts the connection and never answers", async () => {
    server = await startChatServer(() => {
      /* never answers */
    });
    const err = await backend(server.url, { timeoutMs: 250 })
      .advise(request())
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "timeout" });
  });

  it("stops at once when the caller aborts", async () => {
    server = await startChatServer(() => {});
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    const t0 = performance.now();
    const err = await backend(server.url, { timeoutMs: 5_000 })
      .advise({ ...request(), signal: ac.signal })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "aborted" });
    expect(performance.now() - t0).toBeLessThan(1_000);
  });

  it("retries when nothing listens, then reports the network error", async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createServer();
      s.listen(0, "127.0.0.1", () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const err = await backend(`http://127.0.0.1:${port}`, { maxRetries: 1 })
      .advise(request())
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "network", retryable: true });
    expect((err as Error).message).toMatch(/ECONNREFUSED/);
  });

  it.each([
    [
      "a body that is not JSON",
      (res: Parameters<Parameters<typeof startChatServer>[0]>[2]) => {
        res.writeHead(200, { "content-type": "text/html" });
        res.end("<html>gateway</html>");
      },
      "bad_response",
    ],
    [
      "JSON that is not a chat completion",
      (res: Parameters<Parameters<typeof startChatServer>[0]>[2]) => sendJson(res, 200, { ok: true }),
      "bad_response",
    ],
  ])("rejects %s", async (_name, reply, code) => {
    server = await startChatServer((_r, _n, res) => reply(res));
    const err = await backend(server.url)
      .advise(request())
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code });
    expect(server.received).toHaveLength(1);
  });

  it("stops reading a response larger than 1 MB", async () => {
    server = await startChatServer((_r, _n, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(`{"choices": [{"message": {"content": "${"x".repeat(3 << 20)}"}}]}`);
    });
    const err = await backend(server.url)
      .advise(request())
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "bad_response", retryable: false });
    expect((err as Error).message).toMatch(/more than 1048576 bytes/);
  });

  it("turns garbage model output into a typed parse failure", async () => {
    server = await startChatServer((_r, _n, res) =>
      sendJson(res, 200, completion("I think it is fine, go ahead {{{")),
    );
    const err = await backend(server.url)
      .advise(request())
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AdviceParseError);
    expect((err as AdviceParseError).failure.code).toBe("no_answer");
  });

  it("reads a hostile reply of nested braces and blanks in well under a second, as a typed parse failure", async () => {
    // Quadratic in the old extractor: about 10 s of the decision thread for this one reply.
    const hostile = `${"{".repeat(31_000)}${"}".repeat(31_000)}\`\`\`json\n${" ".repeat(900_000)}`;
    server = await startChatServer((_r, _n, res) => sendJson(res, 200, completion(hostile)));
    const started = performance.now();
    const err = await backend(server.url)
      .advise(request())
      .catch((e: unknown) => e);
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(err).toBeInstanceOf(AdviceParseError);
    expect((err as AdviceParseError).failure.code).toBe("no_answer");
  });

  it("the text variant never asks for response_format", async () => {
    server = await startChatServer((_r, _n, res) => sendJson(res, 200, completion(TEXT_ANSWER)));
    const b = backend(server.url, { prompt: "free-text" });
    expect((await b.advise(request())).advice.decision).toBe("require_attestation");
    expect("response_format" in (server.received[0]?.body ?? {})).toBe(false);
    expect(b.promptVersion).toMatch(/^free-text@sha256:/);
  });

  it("the opener asks the server for its model when none is named, and rejects a bad URL", async () => {
    server = await startChatServer((_r, _n, res) => sendJson(res, 200, completion(JSON.stringify(ADVICE))));
    const b = await open({ llmUrl: server.url });
    expect(b.modelId).toBe("served-model");
    await expect(open({ llmUrl: "ftp://x" })).rejects.toThrow(/--llm-url: expected an http\(s\) URL/);
    await expect(open({ llmUrl: "not a url" })).rejects.toThrow(/--llm-url/);
  });
});
