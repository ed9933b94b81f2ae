import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    // The LLM and server suites share 2 cores; running files in parallel oversubscribes them.
    fileParallelism: true,
    maxWorkers: 2,
    reporters: ["default"],
  },
});
