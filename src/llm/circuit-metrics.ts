import { Gauge, type Registry } from "prom-client";
import { type CircuitState, circuitStateValue } from "./circuit.js";

/**
 * Exposes a circuit breaker's state as the gauge policy_advisor_llm_circuit_state (0 closed, 1 half_open,
 * 2 open), read at scrape time so it is never stale.
 */
export function registerCircuitGauge(registry: Registry, state: () => CircuitState): Gauge {
  const name = "policy_advisor_llm_circuit_state";
  // Idempotent: an app rebuilt on the same registry watches its newest circuit.
  if (registry.getSingleMetric(name)) registry.removeSingleMetric(name);
  return new Gauge({
    name,
    help: "Circuit breaker in front of the policy interpreter: 0 closed, 1 half_open, 2 open",
    registers: [registry],
    collect() {
      this.set(circuitStateValue[state()]);
    },
  });
}
