export * from "./backend.js";
export * from "./cpu.js";
export * from "./errors.js";
export * from "./generate.js";
export * from "./load.js";
export * from "./prompt-tokens.js";
