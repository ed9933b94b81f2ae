import type { BackendOpener } from "../factory.js";
import { createLlamaBackend } from "./backend.js";

/**
 * Opens the in-process backend for the CLI and the server (loaded lazily by src/llm/factory.ts).
 * Loading errors are LlmLoadError with a message naming the file and a hint.
 */
export const open: BackendOpener = async (opts) => {
  if (!opts.model) throw new Error("--model: expected the path of a GGUF file");
  return createLlamaBackend({
    modelPath: opts.model,
    ...(opts.prompt !== undefined ? { prompt: opts.prompt } : {}),
    ...(opts.gpu === false ? { gpu: false } : {}),
    ...(opts.threads !== undefined ? { threads: opts.threads } : {}),
    ...(opts.contextSize !== undefined ? { contextSize: opts.contextSize } : {}),
    ...(opts.sequences !== undefined ? { sequences: opts.sequences } : {}),
    ...(opts.contexts !== undefined ? { contexts: opts.contexts } : {}),
    ...(opts.temperature !== undefined ? { temperature: opts.temperature } : {}),
  });
};
