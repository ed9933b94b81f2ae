import { toChatMessages } from "../../prompts/index.js";
import { backoffMs, sleep } from "../../util/backoff.js";
import type { Completion, CompletionRequest, TextCompleter } from "../completer.js";
import type { AnswerJsonSchema } from "../parse/advice-schema.js";
import type { TokenUsage } from "../types.js";
import { LlmHttpError } from "./errors.js";
import {
  type ChatCompletion,
  ChatCompletionSchema,
  chatCompletionsUrl,
  parseRetryAfter,
  refusesResponseFormat,
} from "./protocol.js";

export interface OpenAiCompleterOptions {
  /** Server base URL: "http://127.0.0.1:8080", ".../v1" or the full chat-completions URL. */
  baseUrl: string;
  /** Model name as the server knows it. */
  model: string;
  /** Sent as a bearer token when set. */
  apiKey?: string;
  /** Milliseconds per attempt before it is abandoned (default 15000, the CPU latency target). */
  timeoutMs?: number;
  /** Further attempts after a 429, a 5xx or a network error (default 2). */
  maxRetries?: number;
  retryBaseMs?: number;
  retryMaxMs?: number;
  /**
   * "auto" (default): send a schema as response_format and drop it for good on the first 400 that blames it;
   * "json_schema": always send it; "off": never send it (free text).
   */
  responseFormat?: "auto" | "json_schema" | "off";
  log?: (line: string) => void;
}

export interface OpenAiCompleterStats {
  url: string;
  model: string;
  /** true: the server does JSON-schema output; false: it refused (or is never asked); null: not yet known. */
  structuredOutput: boolean | null;
  requests: number;
  retries: number;
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

/**
 * Completes text on an OpenAI-compatible chat-completions server (llama.cpp server, vLLM, Ollama, ...),
 * with bounded retries and backoff. A JSON schema goes out as response_format; a server that refuses it is
 * asked in free text from then on, and its completions say so (constraint "none").
 */
export class OpenAiCompleter implements TextCompleter {
  readonly url: string;
  private readonly opts: Required<Omit<OpenAiCompleterOptions, "apiKey" | "log" | "baseUrl">>;
  private structured: boolean | null;
  private readonly stats = { requests: 0, retries: 0, evaluated: 0, reused: 0, generated: 0 };
  private closed = false;
  private readonly apiKey: string | undefined;
  private readonly log: (line: string) => void;

  constructor(options: OpenAiCompleterOptions) {
    this.apiKey = options.apiKey;
    this.log = options.log ?? (() => {});
    this.url = chatCompletionsUrl(options.baseUrl);
    this.opts = {
      model: options.model,
      timeoutMs: options.timeoutMs ?? 15_000,
      maxRetries: options.maxRetries ?? 2,
      retryBaseMs: options.retryBaseMs ?? 250,
      retryMaxMs: options.retryMaxMs ?? 4_000,
      responseFormat: options.responseFormat ?? "auto",
    };
    this.structured = this.opts.responseFormat === "off" ? false : null;
  }

  runtime(): OpenAiCompleterStats {
    const s = this.stats;
    return {
      url: this.url,
      model: this.opts.model,
      structuredOutput: this.structured,
      requests: s.requests,
      retries: s.retries,
      tokens: { evaluated: s.evaluated, reused: s.reused, generated: s.generated },
    };
  }

  async complete(req: CompletionRequest): Promise<Completion> {
    if (this.closed) throw new LlmHttpError("aborted", "the model server backend is closed", false);
    this.stats.requests++;
    const messages = toChatMessages(req.prompt);
    let attempt = 0;
    for (;;) {
      const schema = this.structured !== false ? req.jsonSchema : undefined;
      try {
        const completion = await this.post(this.body(messages, req, schema), req.signal);
        if (schema && this.structured === null) this.structured = true;
        return this.toCompletion(completion, schema !== undefined);
      } catch (err) {
        if (!(err instanceof LlmHttpError)) throw err;
        if (schema && this.opts.responseFormat === "auto" && err.refusedFormat) {
          // Detected once per server: from now on every request goes out as free text.
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
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private body(
    messages: ReturnType<typeof toChatMessages>,
    req: CompletionRequest,
    schema: AnswerJsonSchema | undefined,
  ): Record<string, unknown> {
    const body: Record<string, unknown> = {
      model: this.opts.model,
      messages,
      temperature: req.temperature,
      max_tokens: req.maxTokens,
      stream: false,
    };
    if (schema) {
      // The interpreter's parser reads either answer shape should a server ignore the schema.
      body.response_format = {
        type: "json_schema",
        json_schema: { name: "policy_advice", strict: true, schema },
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

  private toCompletion(completion: ChatCompletion, withSchema: boolean): Completion {
    const choice = completion.choices[0];
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
    const refusal = choice?.message.refusal;
    return {
      text: choice?.message.content ?? "",
      usage,
      // The server ended the answer itself unless it says it hit max_tokens.
      finish: choice?.finish_reason === "length" ? "max_tokens" : "eog",
      constraint: withSchema ? "requested" : "none",
      ...(refusal ? { refusal } : {}),
    };
  }
}
