import { existsSync } from "node:fs";
import { basename } from "node:path";
import type { LlamaEmbeddingContext, LlamaModel } from "node-llama-cpp";
import type { Embedder } from "./embedding.js";

/** Longest text embedded: reasoning chunks are short; this keeps a runaway one inside the context. */
const MAX_EMBED_CHARS = 1_500;

/**
 * An embedder on a node-llama-cpp model: a dedicated embedding GGUF, or the policy model itself.
 * `ownsModel`: dispose the model on close (true when it was loaded just for this).
 */
export async function llamaEmbedder(
  model: LlamaModel,
  name: string,
  ownsModel: boolean,
  threads?: number,
): Promise<Embedder> {
  const context: LlamaEmbeddingContext = await model.createEmbeddingContext({
    contextSize: Math.min(1024, model.trainContextSize),
    ...(threads !== undefined ? { threads } : {}),
  });
  // The context embeds one text at a time; callers may not overlap.
  let queue: Promise<unknown> = Promise.resolve();
  return {
    name,
    embed(text: string) {
      const run = queue.then(async () => {
        const e = await context.getEmbeddingFor(text.slice(0, MAX_EMBED_CHARS));
        return e.vector;
      });
      queue = run.catch(() => {});
      return run;
    },
    async close() {
      await queue;
      await context.dispose();
      if (ownsModel) await model.dispose();
    },
  };
}

/**
 * Loads a GGUF file for embeddings only (`--embedding-model`, or the `--model` of an eval run). Threads
 * default to node-llama-cpp's choice, the physical core count.
 */
export async function openEmbeddingModel(
  path: string,
  log: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
  threads?: number,
): Promise<Embedder> {
  if (!existsSync(path)) throw new Error(`embedding model not found: ${path}`);
  const { getLlama, LlamaLogLevel } = await import("node-llama-cpp");
  const llama = await getLlama({
    gpu: "auto",
    logLevel: LlamaLogLevel.error,
    logger: (_level, message) => log(message),
  });
  let model: LlamaModel;
  try {
    model = await llama.loadModel({ modelPath: path });
  } catch (err) {
    throw new Error(`cannot load embedding model ${path}: ${(err as Error).message}`);
  }
  return llamaEmbedder(model, basename(path), true, threads);
}
