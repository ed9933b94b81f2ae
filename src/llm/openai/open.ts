import { loadVariant } from "../../prompts/registry.js";
import type { BackendOpener } from "../factory.js";
import { createOpenAiBackend } from "./backend.js";
import { chatCompletionsUrl } from "./protocol.js";

/** The model a server serves when the user did not name one: the first of GET /v1/models. */
async function firstServedModel(baseUrl: string, apiKey: string | undefined): Promise<string> {
  const url = chatCompletionsUrl(baseUrl).replace(/\/chat\/completions$/, "/models");
  const headers: Record<string, string> = apiKey ? { authorization: `Bearer ${apiKey}` } : {};
  try {
    const res = await fetch(url, { headers, signal: AbortSignal.timeout(5_000) });
    const body = (await res.json()) as { data?: Array<{ id?: unknown }> };
    const id = body.data?.[0]?.id;
    if (res.ok && typeof id === "string" && id) return id;
  } catch {
    // fall through to the message below
  }
  throw new Error(`--llm-model: not given, and ${url} did not name a model; pass --llm-model NAME`);
}

/**
 * Opens the HTTP backend for the CLI and the server. The API key comes from the environment
 * (POLICY_ADVISOR_LLM_API_KEY, else OPENAI_API_KEY) so that it never appears in a process list.
 */
export const open: BackendOpener = async (opts) => {
  if (!opts.llmUrl) throw new Error("--llm-url: expected the model server's URL");
  chatCompletionsUrl(opts.llmUrl); // a bad URL is reported before anything is asked of the network
  // A wrong --prompt is a user error worth reporting before any network call.
  const prompt = loadVariant(opts.prompt);
  const apiKey = process.env.POLICY_ADVISOR_LLM_API_KEY ?? process.env.OPENAI_API_KEY;
  const model = opts.llmModel ?? (await firstServedModel(opts.llmUrl, apiKey));
  return createOpenAiBackend({
    baseUrl: opts.llmUrl,
    model,
    ...(apiKey ? { apiKey } : {}),
    prompt,
    ...(opts.temperature !== undefined ? { temperature: opts.temperature } : {}),
    ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
    ...(opts.sequences !== undefined ? { parallelism: opts.sequences } : {}),
    log: (line) => process.stderr.write(`${line}\n`),
  });
};
