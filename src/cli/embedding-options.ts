import type { Command } from "commander";
import type { EngineKind } from "../advisor/types.js";
import {
  createEmbeddingMatcher,
  DEFAULT_SIMILARITY_THRESHOLD,
  type EmbeddingMatcher,
} from "../eval/embedding.js";
import { UsageError } from "./errors.js";

export interface EmbeddingCliOptions {
  engine: EngineKind;
  model?: string;
  embeddingModel?: string;
  similarityThreshold?: number;
  embeddingThreads?: number;
  lexical?: boolean;
}

/** The eval options for reasoning coverage by embeddings. */
export function addEmbeddingOptions(cmd: Command): Command {
  return cmd
    .option(
      "--embedding-model <gguf>",
      "GGUF model for reasoning coverage by embeddings (default: the --model of engine llm/hybrid; else lexical)",
    )
    .option(
      "--similarity-threshold <x>",
      `cosine similarity at which a reasoning chunk expresses an element (default ${DEFAULT_SIMILARITY_THRESHOLD})`,
      (v) => {
        const n = Number(v);
        if (!Number.isFinite(n) || n <= -1 || n > 1) {
          throw new UsageError(`--similarity-threshold: expected a number from -1 to 1, got "${v}"`);
        }
        return n;
      },
    )
    .option(
      "--embedding-threads <n>",
      "CPU threads of the embedding context (default: physical cores; 1 is faster on a busy shared machine)",
      (v) => {
        const n = Number(v);
        if (!Number.isInteger(n) || n < 1)
          throw new UsageError(`--embedding-threads: expected a whole number >= 1, got "${v}"`);
        return n;
      },
    )
    .option("--lexical", "measure reasoning coverage with the lexical matcher even when a model is loaded");
}

/**
 * The embedding matcher the options call for, or undefined for the lexical matcher: `--embedding-model`
 * first, else the policy model of engine llm/hybrid (loaded a second time for embeddings; llama.cpp maps
 * the file, so the weights are shared in memory), else none.
 */
export async function embeddingMatcherFrom(
  o: EmbeddingCliOptions,
  log?: (line: string) => void,
): Promise<EmbeddingMatcher | undefined> {
  if (o.lexical) return undefined;
  const path = o.embeddingModel ?? (o.engine !== "rules" ? o.model : undefined);
  if (!path) return undefined;
  // Loaded lazily: the rules-only eval never pays for node-llama-cpp.
  const { openEmbeddingModel } = await import("../eval/embedding-llama.js");
  const embedder = await openEmbeddingModel(path, log, o.embeddingThreads);
  return createEmbeddingMatcher(
    embedder,
    o.similarityThreshold !== undefined ? { threshold: o.similarityThreshold } : {},
  );
}
