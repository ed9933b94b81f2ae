/** The real sidecar app (rules engine, SQLite decision log in a temp dir) for in-process HTTP tests. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createAdvisor } from "../../src/advisor/create.js";
import { fixedModes } from "../../src/advisor/modes.js";
import { type AppOptions, type BuiltApp, buildApp } from "../../src/server/app.js";
import { openStore } from "../../src/store/index.js";

export interface ReliabilityApp extends BuiltApp {
  dir: string;
  close(): Promise<void>;
}

export async function reliabilityApp(opts: Partial<AppOptions> = {}): Promise<ReliabilityApp> {
  const dir = mkdtempSync(join(tmpdir(), "pa-rel-"));
  const store = opts.store ?? (await openStore(join(dir, "decisions.db")));
  const built = await buildApp({
    advisor: opts.advisor ?? createAdvisor(),
    modes: opts.modes ?? fixedModes("enforce"),
    ...opts,
    store,
  });
  await built.app.ready();
  return {
    ...built,
    dir,
    async close() {
      await built.app.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
