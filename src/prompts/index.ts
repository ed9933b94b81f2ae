export * from "./registry.js";
export * from "./render.js";
export * from "./variant.js";
