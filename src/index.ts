// Library entry point: the in-process API for callers that embed the advisor.
export * from "./advisor/types.js";
export * from "./engine/types.js";
export * from "./policy/load.js";
export * from "./policy/schema.js";
export * from "./schemas/index.js";
