export interface DoctorOptions {
  model?: string;
  llmUrl?: string;
  llmModel?: string;
  prompt?: string;
  db?: string;
  threads?: number;
  contextSize?: number;
  sequences?: number;
}

export interface Check {
  name: "gpu" | "memory" | "server" | "load" | "inference" | "latency" | "decision_log";
  passed: boolean;
  detail: string;
  /** What to do about it (also given on a pass when there is something worth knowing). */
  hint?: string;
  ms?: number;
}

export interface DoctorReport {
  ok: boolean;
  target: string;
  device: string | null;
  checks: Check[];
}

/** Latency targets of the reference deployment: one advisory within 5 s on a GPU, 15 s on a CPU. */
export const LATENCY_TARGET_MS = { gpu: 5_000, cpu: 15_000 } as const;
