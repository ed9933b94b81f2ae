import { readFileSync } from "node:fs";
import { freemem } from "node:os";
import { GgufInsights, type Llama, readGgufFileInfo } from "node-llama-cpp";

export interface MemoryNeeds {
  /** Bytes of RAM the model and a context need (on the CPU, or what stays in RAM with GPU offload). */
  ramBytes: number;
  /** Bytes of VRAM with every layer offloaded (0 on the CPU). */
  vramBytes: number;
  /** Bytes available now. */
  freeRamBytes: number;
  freeVramBytes: number;
}

/** RAM the kernel could hand out now: MemAvailable (counts reclaimable cache), else os.freemem(). */
export function availableRam(): number {
  try {
    const m = /^MemAvailable:\s+(\d+) kB/m.exec(readFileSync("/proc/meminfo", "utf8"));
    if (m?.[1]) return Number(m[1]) * 1024;
  } catch {
    // not Linux
  }
  return freemem();
}

/**
 * llama.cpp's own estimate (through node-llama-cpp's GGUF insights) of what loading the model and a context
 * of `contextSize` x `sequences` would take, read from the file's header without loading the weights.
 */
export async function estimateMemoryNeeds(
  llama: Llama,
  modelPath: string,
  contextSize: number,
  sequences: number,
): Promise<MemoryNeeds> {
  const insights = await GgufInsights.from(await readGgufFileInfo(modelPath), llama);
  const gpuLayers = llama.gpu === false ? 0 : insights.totalLayers;
  const model = await insights.estimateModelResourceRequirementsV2({ gpuLayers });
  const context = await insights.estimateContextResourceRequirementsV2({
    contextSize: Math.min(contextSize, insights.trainContextSize ?? contextSize),
    modelGpuLayers: gpuLayers,
    sequences,
  });
  const vram = llama.gpu === false ? { free: 0 } : await llama.getVramState();
  return {
    ramBytes: model.cpuRam + context.cpuRam,
    vramBytes: model.gpuVram + context.gpuVram,
    freeRamBytes: availableRam(),
    freeVramBytes: vram.free,
  };
}
