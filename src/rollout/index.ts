// Modes, tiers, measures, gates and rollback: the rollout plan as software (docs/rollout.md).

export * from "./candidate.js";
export * from "./config.js";
export * from "./controller.js";
export * from "./duration.js";
export * from "./errors.js";
export * from "./export.js";
export * from "./gates.js";
export * from "./measures.js";
export * from "./metrics.js";
export * from "./replay.js";
export * from "./report.js";
export * from "./stats.js";
export * from "./versions.js";
