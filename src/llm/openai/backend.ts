import { loadVariant, type PromptVariant } from "../../prompts/index.js";
import { answerSchemaOf, Interpreter } from "../interpreter.js";
import type { TokenUsage } from "../types.js";
import { OpenAiCompleter, type OpenAiCompleterOptions } from "./completer.js";

export { MAX_RESPONSE_BYTES } from "./completer.js";

export interface OpenAiBackendOptions extends OpenAiCompleterOptions {
  /** Model name as the server knows it; recorded in versions.model. */
  model: string;
  /** A prompt variant, or its id / file path (default "default"). */
  prompt?: PromptVariant | string;
  /** Default 0: the same request gives the same answer. */
  temperature?: number;
  maxTokens?: number;
  /** Requests the sidecar may run at once against this server (default 4). */
  parallelism?: number;
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

/** The policy interpreter over an OpenAI-compatible model server (llama.cpp server, vLLM, Ollama, ...). */
export class OpenAiBackend extends Interpreter {
  declare readonly kind: "openai";
  private readonly server: OpenAiCompleter;

  constructor(options: OpenAiBackendOptions) {
    const variant = typeof options.prompt === "object" ? options.prompt : loadVariant(options.prompt);
    const { prompt: _prompt, temperature, maxTokens, parallelism, ...http } = options;
    // A variant whose answers are never constrained never asks for response_format.
    const server = new OpenAiCompleter({
      ...http,
      ...(answerSchemaOf(variant) ? {} : { responseFormat: "off" }),
    });
    super(server, {
      kind: "openai",
      modelId: options.model,
      variant,
      parallelism: parallelism ?? 4,
      maxTokens: maxTokens ?? (variant.format === "json" ? 1024 : 512),
      temperature: temperature ?? 0,
    });
    this.server = server;
  }

  runtime(): OpenAiRuntimeStats {
    const { tokens, ...s } = this.server.runtime();
    return { ...s, failures: this.failures, tokens };
  }
}

export function createOpenAiBackend(options: OpenAiBackendOptions): OpenAiBackend {
  return new OpenAiBackend(options);
}
