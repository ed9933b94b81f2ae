import { closeSync, openSync, readSync, statSync } from "node:fs";
import {
  getLlama,
  InsufficientMemoryError,
  type Llama,
  LlamaLogLevel,
  type LlamaModel,
} from "node-llama-cpp";
import { physicalCores } from "./cpu.js";
import { LlmLoadError } from "./errors.js";

export type GpuChoice = "auto" | false | "cuda" | "vulkan" | "metal";

export interface LoadModelOptions {
  modelPath: string;
  /** "auto" (default): the GPU when one is usable, else the CPU. false forces the CPU. */
  gpu?: GpuChoice;
  /** CPU threads the caller will use (for the log line); default the physical core count. */
  threads?: number;
  /** Where the "which device" line and llama.cpp warnings go; stderr by default. */
  log?: (line: string) => void;
}

export interface LoadedModel {
  llama: Llama;
  model: LlamaModel;
  /** "cpu" or the GPU backend used ("cuda", "vulkan", "metal"). */
  device: string;
  /** Layers offloaded to the GPU (0 on the CPU). */
  gpuLayers: number;
  threads: number;
  loadMs: number;
}

const GGUF_MAGIC = Buffer.from("GGUF", "ascii");

/** Checks the file before llama.cpp sees it, so a wrong path or file type gets a message that says so. */
export function checkModelFile(path: string): void {
  let size: number;
  try {
    const st = statSync(path);
    if (!st.isFile()) throw new LlmLoadError("model_not_found", `model ${path} is not a file`);
    size = st.size;
  } catch (err) {
    if (err instanceof LlmLoadError) throw err;
    throw new LlmLoadError(
      "model_not_found",
      `model file not found: ${path}`,
      "pass --model with the path of a .gguf file (npx node-llama-cpp pull --dir models <url> downloads one)",
    );
  }
  const head = Buffer.alloc(4);
  const fd = openSync(path, "r");
  try {
    readSync(fd, head, 0, 4, 0);
  } finally {
    closeSync(fd);
  }
  if (size < 4 || !head.equals(GGUF_MAGIC)) {
    throw new LlmLoadError(
      "not_gguf",
      `model ${path} is not a GGUF file (it does not start with the GGUF magic bytes)`,
      "llama.cpp reads only .gguf models; convert the model or download a GGUF build of it",
    );
  }
}

// getLlama loads the native binding and probes GPUs (~1 s): once per process and GPU choice.
const llamas = new Map<string, Promise<Llama>>();

/** The process-wide llama.cpp binding for a GPU choice (loaded once). */
export function sharedLlama(
  gpu: GpuChoice,
  log: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): Promise<Llama> {
  const key = String(gpu);
  let p = llamas.get(key);
  if (!p) {
    p = getLlama({
      gpu,
      // Prebuilt binaries only: a silent multi-minute compile inside a request path is worse than an error.
      build: "never",
      logLevel: LlamaLogLevel.error,
      logger: (level, message) => {
        if (level === LlamaLogLevel.error || level === LlamaLogLevel.fatal)
          log(`llama.cpp: ${message.trim()}`);
      },
    });
    llamas.set(key, p);
    p.catch(() => llamas.delete(key));
  }
  return p;
}

const OUT_OF_MEMORY =
  /out of memory|insufficient memory|not enough (?:v?ram|memory)|failed to allocate|enomem/;

function isOutOfMemory(err: unknown): boolean {
  if (err instanceof InsufficientMemoryError) return true;
  const msg = (err instanceof Error ? err.message : String(err)).toLowerCase();
  if (OUT_OF_MEMORY.test(msg)) return true;
  // "alloc" then "fail" on one line, by search: /alloc.*fail/ rescans the line from every "alloc".
  return msg.split(/[\n\r\u2028\u2029]/).some((line) => {
    const at = line.indexOf("alloc");
    return at >= 0 && line.includes("fail", at + 5);
  });
}

/** Translates node-llama-cpp/llama.cpp failures into LlmLoadError with a hint. */
export function classifyLoadError(err: unknown, what: string): LlmLoadError {
  if (err instanceof LlmLoadError) return err;
  const msg = err instanceof Error ? err.message : String(err);
  if (isOutOfMemory(err)) {
    return new LlmLoadError(
      "out_of_memory",
      `not enough memory to load ${what}: ${msg}`,
      "use a smaller quantisation (e.g. Q4_K_M), a smaller --context-size or fewer --sequences, or free memory",
    );
  }
  return new LlmLoadError("load_failed", `cannot load ${what}: ${msg}`);
}

/** Loads a GGUF model, on the GPU when asked and possible, else on the CPU, and says which. */
export async function loadModel(opts: LoadModelOptions): Promise<LoadedModel> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  checkModelFile(opts.modelPath);
  const started = performance.now();
  let llama: Llama;
  try {
    llama = await sharedLlama(opts.gpu ?? "auto", log);
  } catch (err) {
    if (opts.gpu === false) throw classifyLoadError(err, "llama.cpp");
    // A broken GPU driver must not take the advisor down: fall back to the CPU build.
    log(
      `llm: GPU backend unavailable (${err instanceof Error ? err.message : String(err)}); falling back to CPU`,
    );
    llama = await sharedLlama(false, log);
  }
  let model: LlamaModel;
  try {
    model = await llama.loadModel({ modelPath: opts.modelPath });
  } catch (err) {
    throw classifyLoadError(err, `model ${opts.modelPath}`);
  }
  const device = llama.gpu === false ? "cpu" : llama.gpu;
  const threads = opts.threads ?? physicalCores();
  const loadMs = performance.now() - started;
  if (device === "cpu") {
    log(
      `llm: running on CPU (no usable GPU), ${threads} threads; loaded ${opts.modelPath} in ${loadMs.toFixed(0)} ms`,
    );
  } else {
    log(
      `llm: running on GPU (${device}), ${model.gpuLayers} layers offloaded; loaded ${opts.modelPath} in ${loadMs.toFixed(0)} ms`,
    );
  }
  return { llama, model, device, gpuLayers: model.gpuLayers, threads, loadMs };
}
