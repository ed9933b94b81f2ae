import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { InsufficientMemoryError } from "node-llama-cpp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LlamaBackend } from "../../../src/llm/llama/backend.js";
import { LlmLoadError } from "../../../src/llm/llama/errors.js";
import { classifyLoadError, loadModel } from "../../../src/llm/llama/load.js";
import { TEST_THREADS, tinyModel } from "../../helpers/model.js";

let model: ReturnType<typeof tinyModel>;
beforeAll(() => {
  model = tinyModel();
});
afterAll(() => model.cleanup());

const quiet = () => {};

async function loadError(p: Promise<unknown>): Promise<LlmLoadError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(LlmLoadError);
  return err as LlmLoadError;
}

describe("model loading errors", () => {
  it("names a missing file", async () => {
    const path = join(model.dir, "nope.gguf");
    const err = await loadError(loadModel({ modelPath: path, gpu: false, log: quiet }));
    expect(err.code).toBe("model_not_found");
    expect(err.message).toContain(path);
    expect(err.hint).toMatch(/--model/);
  });

  it("says when a file is not GGUF", async () => {
    const path = join(model.dir, "weights.safetensors");
    writeFileSync(path, '{"__metadata__": {}}');
    const err = await loadError(loadModel({ modelPath: path, gpu: false, log: quiet }));
    expect(err.code).toBe("not_gguf");
    expect(err.message).toContain(path);
    expect(err.message).toMatch(/not a GGUF file/);
  });

  it("reports a truncated GGUF as a load failure naming the file, not a crash", async () => {
    const path = join(model.dir, "truncated.gguf");
    const { readFileSync } = await import("node:fs");
    writeFileSync(path, readFileSync(model.path).subarray(0, 4096));
    const err = await loadError(loadModel({ modelPath: path, gpu: false, log: quiet }));
    expect(err.code).toBe("load_failed");
    expect(err.message).toContain(path);
  });

  it("reports a context too large for memory as out of memory, with a hint", async () => {
    const err = await loadError(
      LlamaBackend.create({
        modelPath: model.path,
        gpu: false,
        threads: TEST_THREADS,
        // ~100 TB of KV cache: no machine has it, and node-llama-cpp refuses before allocating.
        contextSize: 16384,
        sequences: 1 << 20,
        warmup: false,
        log: quiet,
      }),
    );
    expect(err.code).toBe("out_of_memory");
    expect(err.message).toMatch(/not enough memory/);
    expect(err.hint).toMatch(/context-size|sequences|quantisation/);
  });

  it("classifies memory errors from llama.cpp by type and by message", () => {
    expect(classifyLoadError(new InsufficientMemoryError("too big"), "x").code).toBe("out_of_memory");
    expect(classifyLoadError(new Error("ggml_backend_alloc: failed to allocate buffer"), "x").code).toBe(
      "out_of_memory",
    );
    expect(classifyLoadError(new Error("CUDA malloc: allocation of 4 GiB FAILED"), "x").code).toBe(
      "out_of_memory",
    );
    // "alloc ... fail" counts on one line only, as the message's own wording.
    expect(classifyLoadError(new Error("alloc ok\nverify failed"), "x").code).toBe("load_failed");
    expect(classifyLoadError(new Error("unknown model architecture: 'foo'"), "m.gguf").code).toBe(
      "load_failed",
    );
  });

  it("classifies a long hostile message quickly (no backtracking over repeated alloc)", () => {
    const started = performance.now();
    expect(classifyLoadError(new Error("alloc ".repeat(50_000)), "x").code).toBe("load_failed");
    expect(performance.now() - started).toBeLessThan(500);
  });
});
