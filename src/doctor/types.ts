export interface DoctorOptions {
  /** The serve configuration to check (YAML/JSON, as serve --config); else POLICY_ADVISOR_CONFIG. */
  config?: string;
  /** The policy to check; else the configuration's, else the packaged default. */
  policy?: string;
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
  name: "policy" | "config" | "gpu" | "memory" | "server" | "load" | "inference" | "latency" | "decision_log";
  passed: boolean;
  detail: string;
  /** What to do about it (also given on a pass when there is something worth knowing). */
  hint?: string;
  ms?: number;
}

export interface DoctorReport {
  ok: boolean;
  /** The model file or server checked; "" when there is none (the policy, configuration and log only). */
  target: string;
  device: string | null;
  checks: Check[];
}

/** Latency targets of the reference deployment: one advisory within 5 s on a GPU, 15 s on a CPU. */
export const LATENCY_TARGET_MS = { gpu: 5_000, cpu: 15_000 } as const;

/** Told before each check starts: its name, how many are done and how many there are. */
export type DoctorStep = (name: Check["name"], done: number, total: number) => void;
