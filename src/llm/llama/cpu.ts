import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";

/**
 * Physical core count: llama.cpp generation on hyper-threads is far slower than on one thread per core.
 * Linux: distinct (physical id, core id) pairs of /proc/cpuinfo; elsewhere, or when the file lacks them,
 * the logical count (the safe upper bound).
 */
export function physicalCores(): number {
  const logical = availableParallelism();
  try {
    const info = readFileSync("/proc/cpuinfo", "utf8");
    const cores = new Set<string>();
    for (const block of info.split(/\n\s*\n/)) {
      const phys = /^physical id\s*:\s*(\d+)/m.exec(block)?.[1];
      const core = /^core id\s*:\s*(\d+)/m.exec(block)?.[1];
      if (phys !== undefined && core !== undefined) cores.add(`${phys}:${core}`);
    }
    // A container may see fewer logical CPUs than the host's core list: never exceed what we may use.
    if (cores.size > 0) return Math.max(1, Math.min(cores.size, logical));
  } catch {
    // not Linux
  }
  return Math.max(1, logical);
}
