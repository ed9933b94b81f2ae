import { performance } from "node:perf_hooks";
import { loadVariant, type PromptVariant, renderPrompt, toChatMessages } from "../../prompts/index.js";
import { backoffMs, sleep } from "../../util/backoff.js";
import { answerJsonSchema } from "../parse/advice-schema.js";
import { parseAdvice } from "../parse/index.js";
import { AdviceParseError } from "../parse/result.js";
import type { LlmAdviceRequest, LlmAdviceResult, LlmBackend, TokenUsage } from "../types.js";
import { LlmHttpError } from "./errors.js";
import {
  type ChatCompletion,
  ChatCompletionSchema,
  chatCompletionsUrl,
  parseRetryAfter,
  refusesResponseFormat,
} from "./protocol.js";

export interface OpenAiBackendOptions {
  /** Server base URL: "http://127.0.0.1:8080", ".../v1" or the full chat-completions URL. */
  baseUrl: string;
  /** Model name as the server knows it; recorded in versions.model. */
  model: string;
  /** Sent as a bearer token when set. */
  apiKey?: string;
  /** A prompt variant, or its id / file path (default "default"). */
  prompt?: PromptVariant | string;
  /** Milliseconds per attempt before it is abandoned (default 15000, the CPU latency target). */
  timeoutMs?: number;
  /** Further attempts after a 429, a 5xx or a network error (default 2). */
  maxRetries?: number;
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** Default 0: the same request gives the same answer. */
  temperature?: number;
  maxTokens?: number;
  /**
   * "auto" (default): ask for JSON-schema output and drop it for good on the first 400 that blames it;
   * "json_schema": always ask; "off": never ask (free text + parser).
   */
  responseFormat?: "auto" | "json_schema" | "off";
  /** Requests the sidecar may run at once against this server (default 4). */
  parallelism?: number;
  log?: (line: string) => void;
}

export interface OpenAiRuntimeStats {
  url: string;
  model: string;
  /** true: the server does JSON-schema output; false: it refused and free text is parsed; null: not yet known. */
  structuredOutput: boolean | null;
  requests: number;
  retries: number;
  failures: number;
  tokens: TokenUsage;
}

/** A chat completion is a few kilobytes; a server sending megabytes is broken and must not fill memory. */
export const MAX_RESPONSE_BYTES = 1 << 20;

async function readCapped(res: Response, max: number): Promise<string> {
  if (!res.body) return "";
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel();
      throw new LlmHttpError(
        "bad_response",
        `${res.url} sent more than ${max} bytes: not a chat completion`,
        false,
        res.status,
      );
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** The policy interpreter on an OpenAI-compatible model server (llama.cpp server, vLLM, Ollama, ...). */
export class OpenAiBackend implements LlmBackend {
  readonly kind = "openai" as const;
  readonly modelId: string;
  readonly promptVersion: string;
  readonly parallelism: number;
  readonly variant: PromptVariant;
  private readonly url: string;
  private readonly opts: Required<Omit<OpenAiBackendOptions, "apiKey" | "prompt" | "log" | "baseUrl">>;
  private structured: boolean | null;
  private readonly stats = { requests: 0, retries: 0, failures: 0, evaluated: 0, reused: 0, generated: 0 };
  private closed = false;

  private readonly apiKey: string | undefined;
  private readonly log: (line: string) => void;

  constructor(options: OpenAiBackendOptions) {
    this.apiKey = options.apiKey;
    this.log = options.log ?? (() => {});
    this.url = chatCompletionsUrl(options.baseUrl);
    this.variant = typeof options.prompt === "object" ? options.prompt : loadVariant(options.prompt);
    this.modelId = options.model;
    this.promptVersion = this.variant.version;
    this.parallelism = options.parallelism ?? 4;
    this.opts = {
      model: options.model,
      timeoutMs: options.timeoutMs ?? 15_000,
      maxRetries: options.maxRetries ?? 2,
      retryBaseMs: options.retryBaseMs ?? 250,
      retryMaxMs: options.retryMaxMs ?? 4_000,
      temperature: options.temperature ?? 0,
      maxTokens: options.maxTokens ?? (this.variant.format === "json" ? 1024 : 512),
      responseFormat: options.responseFormat ?? "auto",
      parallelism: this.parallelism,
    };
    // Structured output only fits a JSON variant; a text variant is always parsed.
    this.structured = this.variant.format === "text" || this.opts.responseFormat === "off" ? false : null;
  }

  runtime(): OpenAiRuntimeStats {
    const s = this.stats;
    return {
      url: this.url,
      model: this.modelId,
      structuredOutput: this.structured,
      requests: s.requests,
      retries: s.retries,
      failures: s.failures,
      tokens: { evaluated: s.evaluated, reused: s.reused, generated: s.generated },
    };
  }

  async advise(req: LlmAdviceRequest): Promise<LlmAdviceResult> {
    if (this.closed) throw new LlmHttpError("aborted", "the model server backend is closed", false);
    const started = performance.now();
    this.stats.requests++;
    const rendered = renderPrompt(this.variant, { situation: req.situation, verdict: req.verdict });
    const messages = toChatMessages(rendered);
    let attempt = 0;
    try {
      for (;;) {
        const withSchema = this.structured !== false;
        try {
          const completion = await this.post(this.body(messages, withSchema), req.signal);
          if (withSchema && this.structured === null) this.structured = true;
          return this.toResult(completion, started);
        } catch (err) {
          if (!(err instanceof LlmHttpError)) throw err;
          if (withSchema && this.opts.responseFormat === "auto" && err.refusedFormat) {
            // Detected once per backend: from now on every request goes out as free text.
            this.structured = false;
            this.log(
              `llm server ${this.url} refuses response_format (${err.message}); using free text and the parser`,
            );
            continue;
          }
          if (!err.retryable || attempt >= this.opts.maxRetries) throw err;
          const wait = Math.min(
            this.opts.retryMaxMs,
            Math.max(
              backoffMs(attempt, this.opts.retryBaseMs, this.opts.retryMaxMs),
              (err.retryAfterS ?? 0) * 1000,
            ),
          );
          attempt++;
          this.stats.retries++;
          try {
            await sleep(wait, req.signal);
          } catch {
            throw new LlmHttpError("aborted", "the request was aborted while waiting to retry", false);
          }
        }
      }
    } catch (err) {
      this.stats.failures++;
      throw err;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private body(messages: ReturnType<typeof toChatMessages>, withSchema: boolean): Record<string, unknown> {
    const body: Record<string, unknown> = {
      model: this.opts.model,
      messages,
      temperature: this.opts.temperature,
      max_tokens: this.opts.maxTokens,
      stream: false,
    };
    if (withSchema) {
      body.response_format = {
        type: "json_schema",
        // The variant's answer shape; the parser reads either shape should a server ignore the schema.
        json_schema: { name: "policy_advice", strict: true, schema: answerJsonSchema(this.variant.answer) },
      };
    }
    return body;
  }

  private async post(body: Record<string, unknown>, callerSignal?: AbortSignal): Promise<ChatCompletion> {
    const timeout = AbortSignal.timeout(this.opts.timeoutMs);
    const signal = callerSignal ? AbortSignal.any([callerSignal, timeout]) : timeout;
    const headers: Record<string, string> = {
      "content-type": "application/json",
      accept: "application/json",
    };
    if (this.apiKey) headers.authorization = `Bearer ${this.apiKey}`;
    let status: number;
    let text: string;
    let retryAfter: string | null;
    try {
      const res = await fetch(this.url, { method: "POST", headers, body: JSON.stringify(body), signal });
      status = res.status;
      retryAfter = res.headers.get("retry-after");
      text = await readCapped(res, MAX_RESPONSE_BYTES);
    } catch (err) {
      if (err instanceof LlmHttpError) throw err;
      if (callerSignal?.aborted) throw new LlmHttpError("aborted", "the request was aborted", false);
      if (timeout.aborted) {
        // Not retried: a server this slow would only make the caller wait longer for the same fallback.
        throw new LlmHttpError(
          "timeout",
          `no answer from ${this.url} within ${this.opts.timeoutMs} ms`,
          false,
        );
      }
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new LlmHttpError(
        "network",
        `cannot reach ${this.url}: ${cause?.code ?? cause?.message ?? (err as Error).message}`,
        true,
      );
    }
    if (status < 200 || status >= 300) {
      const snippet = text.slice(0, 300).replace(/\s+/g, " ");
      const retryable = status === 429 || status === 408 || (status >= 500 && status !== 501);
      const e = new LlmHttpError(
        "http_status",
        `${this.url} answered ${status}: ${snippet}`,
        retryable,
        status,
        parseRetryAfter(retryAfter),
      );
      e.refusedFormat = "response_format" in body && refusesResponseFormat(status, text);
      throw e;
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new LlmHttpError(
        "bad_response",
        `${this.url} answered ${status} with a body that is not JSON: ${text.slice(0, 120)}`,
        false,
        status,
      );
    }
    const r = ChatCompletionSchema.safeParse(json);
    if (!r.success) {
      throw new LlmHttpError(
        "bad_response",
        `${this.url} answered ${status} without choices[0].message: not a chat completion`,
        false,
        status,
      );
    }
    return r.data;
  }

  private toResult(completion: ChatCompletion, started: number): LlmAdviceResult {
    const choice = completion.choices[0];
    const raw = choice?.message.content ?? "";
    const u = completion.usage;
    const reused = u?.prompt_tokens_details?.cached_tokens ?? 0;
    const usage: TokenUsage = {
      evaluated: Math.max(0, (u?.prompt_tokens ?? 0) - reused),
      reused,
      generated: u?.completion_tokens ?? 0,
    };
    this.stats.evaluated += usage.evaluated;
    this.stats.reused += usage.reused;
    this.stats.generated += usage.generated;
    if (!raw && choice?.message.refusal) {
      throw new AdviceParseError({
        code: "no_answer",
        message: `the model refused: ${choice.message.refusal.slice(0, 200)}`,
      });
    }
    const parsed = parseAdvice(raw, this.variant.format);
    if (!parsed.ok) {
      const cut = choice?.finish_reason === "length" ? " (the answer was cut at max_tokens)" : "";
      throw new AdviceParseError({ ...parsed.failure, message: `${parsed.failure.message}${cut}` });
    }
    return { advice: parsed.advice, usage, ms: performance.now() - started, raw };
  }
}

export function createOpenAiBackend(options: OpenAiBackendOptions): OpenAiBackend {
  return new OpenAiBackend(options);
}
