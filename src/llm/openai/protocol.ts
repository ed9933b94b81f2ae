import { z } from "zod";
import { trimEndChar } from "../../util/text.js";

/** The parts of a chat-completions response we read; servers add much more, which is ignored. */
export const ChatCompletionSchema = z.object({
  model: z.string().optional(),
  choices: z
    .array(
      z.object({
        message: z.object({
          content: z.string().nullable().optional(),
          refusal: z.string().nullable().optional(),
        }),
        finish_reason: z.string().nullable().optional(),
      }),
    )
    .min(1),
  usage: z
    .object({
      prompt_tokens: z.number().optional(),
      completion_tokens: z.number().optional(),
      prompt_tokens_details: z.object({ cached_tokens: z.number().optional() }).nullable().optional(),
    })
    .nullable()
    .optional(),
});
export type ChatCompletion = z.infer<typeof ChatCompletionSchema>;

/** The chat-completions endpoint for a base URL given as "http://host:port", ".../v1" or the full path. */
export function chatCompletionsUrl(base: string): string {
  let url: URL;
  try {
    url = new URL(base);
  } catch {
    throw new Error(`--llm-url: expected an http(s) URL such as http://127.0.0.1:8080/v1, got "${base}"`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new Error(`--llm-url: expected an http(s) URL, got "${base}"`);
  }
  const path = trimEndChar(url.pathname, "/");
  if (path.endsWith("/chat/completions")) return url.toString();
  url.pathname = path.endsWith("/v1") ? `${path}/chat/completions` : `${path}/v1/chat/completions`;
  return url.toString();
}

/**
 * A 400 that blames response_format: the server does not do structured output (older llama.cpp servers,
 * some Ollama and vLLM versions, proxies). Matched on the error text, as servers word it differently.
 */
export function refusesResponseFormat(status: number, body: string): boolean {
  return (
    (status === 400 || status === 422 || status === 501) &&
    /response_format|json_schema|structured output|grammar/i.test(body)
  );
}

/** Retry-After in seconds (delta form; an HTTP date is converted), or undefined. */
export function parseRetryAfter(header: string | null): number | undefined {
  if (!header) return undefined;
  const n = Number(header);
  if (Number.isFinite(n) && n >= 0) return n;
  const t = Date.parse(header);
  return Number.isNaN(t) ? undefined : Math.max(0, (t - Date.now()) / 1000);
}
