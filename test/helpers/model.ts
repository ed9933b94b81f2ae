import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeModel } from "../../src/testing/gguf/model.js";

/**
 * llama.cpp threads spin at barriers: when vitest runs other files on the same 2 cores, 2 threads per
 * model is ~100x slower than 1. Tests use 1 thread; the default (physical cores) is for real use.
 */
export const TEST_THREADS = 1;

/** Writes the tiny synthetic model into a fresh temp dir; call the returned cleanup in afterAll. */
export function tinyModel(): { dir: string; path: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), "pa-llm-test-"));
  const path = join(dir, "tiny.gguf");
  makeModel({ out: path, preset: "tiny" });
  return { dir, path, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
