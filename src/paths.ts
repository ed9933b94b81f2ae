import { fileURLToPath } from "node:url";

/** The package root, both from src/ (tests) and from dist/ (installed). */
export const packageRoot = fileURLToPath(new URL("../", import.meta.url));

/** Data shipped with the package: default policy, prompt variants, scenario suites. */
export const dataPath = (...parts: string[]): string =>
  [packageRoot.replace(/\/$/, ""), "data", ...parts].join("/");
