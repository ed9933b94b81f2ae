// Library entry point: the in-process API for callers that embed the advisor (README, Library).
export { createAdvisor, verdictToDecision } from "./advisor/create.js";
export * from "./advisor/types.js";
export * from "./engine/types.js";
export type { LlmBackend } from "./llm/types.js";
export * from "./policy/load.js";
export * from "./policy/schema.js";
export * from "./schemas/index.js";
