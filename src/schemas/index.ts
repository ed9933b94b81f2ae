export * from "./adapters.js";
export * from "./common.js";
export * from "./decision.js";
export * from "./errors.js";
export * from "./r6.js";
export * from "./request.js";
export * from "./situation.js";
