import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createAdvisor } from "../../src/advisor/create.js";
import { fixedModes } from "../../src/advisor/modes.js";
import type { Advisor } from "../../src/advisor/types.js";
import type { Mode } from "../../src/schemas/common.js";
import { type AppOptions, type BuiltApp, buildApp } from "../../src/server/app.js";
import { openStore } from "../../src/store/index.js";
import type { DecisionStore } from "../../src/store/types.js";

/** The real app (rules engine unless told otherwise, a real SQLite decision log in a temp dir), not listening. */
export interface TestApp extends BuiltApp {
  store: DecisionStore;
  dir: string;
  close(): Promise<void>;
}

/** The one in-process app builder of the tests: inject requests with `app.inject`, or listen on it. */
export async function buildTestApp(
  opts: Partial<AppOptions> & { mode?: Mode; advisor?: Advisor } = {},
): Promise<TestApp> {
  const dir = mkdtempSync(join(tmpdir(), "pa-server-"));
  const store = opts.store ?? (await openStore(join(dir, "decisions.db")));
  const advisor = opts.advisor ?? createAdvisor();
  const built = await buildApp({
    ...opts,
    advisor,
    store,
    modes: opts.modes ?? fixedModes(opts.mode ?? "enforce"),
  });
  await built.app.ready();
  return {
    ...built,
    store,
    dir,
    close: async () => {
      await built.app.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface TestServer extends TestApp {
  url: string;
}

/** Starts the real app on a free port with a real SQLite decision log in a temp dir. */
export async function startTestServer(
  opts: Partial<AppOptions> & { mode?: Mode; advisor?: Advisor } = {},
): Promise<TestServer> {
  const built = await buildTestApp(opts);
  await built.app.listen({ host: "127.0.0.1", port: 0 });
  const address = built.app.server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return { ...built, url: `http://127.0.0.1:${port}` };
}

export async function post(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

/** A situation the default policy allows (a member reading public docs with good trust, working hours). */
export const readSituation = {
  action_type: "read",
  actor_role: "member",
  actor_id: "user:alice",
  t3_tensor: { competence: 0.8, reliability: 0.8, integrity: 0.9 },
  resource: "docs/public/readme.md",
  timestamp: "2026-03-03T15:00:00Z",
};

/** The same request as hardbound sends it. */
export const readR6 = {
  requestId: "req-1",
  actorId: "user:alice",
  action: { type: "read", target: "docs/public/readme.md" },
  context: {},
  trustState: { competence: 0.8, reliability: 0.8, integrity: 0.9 },
  timestamp: "2026-03-03T15:00:00Z",
};

/**
 * A JSON answer read back for assertions. They probe arbitrary paths of many answer shapes, and a wrong
 * path fails the assertion at run time, so the type is deliberately open (fetch's json() is unknown).
 */
// biome-ignore lint/suspicious/noExplicitAny: test-only view of arbitrary JSON answers
export type Json = any;
export const loose = (v: unknown): Json => v;
