import { Counter, Gauge, type Registry, register } from "prom-client";
import type { Mode } from "../schemas/common.js";
import type { Tier } from "../schemas/decision.js";
import { modeRank } from "./config.js";

/**
 * Rollout metrics: each tier's mode, promotions and rollbacks (by trigger). On the default prom-client
 * registry unless the server passes its own.
 */
export class RolloutMetrics {
  readonly mode: Gauge<"tier">;
  readonly rollbacks: Counter<"tier" | "trigger">;
  readonly promotions: Counter<"tier">;

  constructor(registry: Registry = register) {
    this.mode = new Gauge({
      name: "policy_advisor_rollout_mode",
      help: "Current mode per tier: 0 shadow, 1 advisory, 2 enforce",
      labelNames: ["tier"] as const,
      registers: [registry],
    });
    this.rollbacks = new Counter({
      name: "policy_advisor_rollout_rollbacks_total",
      help: "Rollbacks per tier by trigger (manual, error_rate, latency_p95, distribution_shift, wrong_allow_high_risk)",
      labelNames: ["tier", "trigger"] as const,
      registers: [registry],
    });
    this.promotions = new Counter({
      name: "policy_advisor_rollout_promotions_total",
      help: "Promotions per tier (human decisions)",
      labelNames: ["tier"] as const,
      registers: [registry],
    });
  }

  setMode(tier: Tier, mode: Mode): void {
    this.mode.set({ tier }, modeRank(mode));
  }
}

const instances = new WeakMap<Registry, RolloutMetrics>();

/** One RolloutMetrics per registry: prom-client refuses to register a metric name twice. */
export function rolloutMetrics(registry: Registry = register): RolloutMetrics {
  let m = instances.get(registry);
  if (!m) {
    m = new RolloutMetrics(registry);
    instances.set(registry, m);
  }
  return m;
}
