import { configDefaults, defineConfig } from "vitest/config";

/** Tests that assert latency under load: run after the rest, alone, so the suite's own files do not load the cores they measure. */
const ALONE = ["test/server/attack.test.ts"];

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 120_000,
    // The LLM and server suites share 2 cores; running files in parallel oversubscribes them.
    fileParallelism: true,
    maxWorkers: 2,
    reporters: ["default"],
    projects: [
      {
        extends: true,
        test: {
          name: "suite",
          include: ["test/**/*.test.ts"],
          exclude: [...configDefaults.exclude, ...ALONE],
          sequence: { groupOrder: 0 },
        },
      },
      { extends: true, test: { name: "alone", include: ALONE, sequence: { groupOrder: 1 } } },
    ],
  },
});
