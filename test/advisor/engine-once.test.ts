import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { ServeConfigSchema } from "../../src/server/config.js";
import { type RunningService, startService } from "../../src/server/start.js";
import { loose, post, readSituation } from "../server/helpers.js";
import { type ModelServer, startModelServer } from "../server/model-server.js";

// Every rules evaluation goes through this one function: wrap it to count the calls per request.
const calls = vi.hoisted(() => ({ n: 0 }));
vi.mock("../../src/engine/evaluate.js", async (importOriginal) => {
  const real = await importOriginal<typeof import("../../src/engine/evaluate.js")>();
  return {
    ...real,
    evaluate: (...args: Parameters<typeof real.evaluate>) => {
      calls.n++;
      return real.evaluate(...args);
    },
  };
});

/** A request the hybrid engine sends to the interpreter: the rules ask for an attestation. */
const attest = {
  ...readSituation,
  action_type: "write",
  actor_role: "developer",
  resource: "src/billing/invoice.ts",
  details: "fix the rounding of totals, reviewed by bob",
};

describe("the rules engine runs once per request", () => {
  let model: ModelServer;
  let dir: string;
  let svc: RunningService;
  beforeAll(async () => {
    model = await startModelServer(0);
    dir = mkdtempSync(join(tmpdir(), "pa-once-"));
    svc = await startService(
      ServeConfigSchema.parse({
        port: 0,
        db: join(dir, "d.db"),
        engine: "hybrid",
        llmUrl: model.url,
        llmModel: "once-model",
        mode: "enforce",
        logLevel: "silent",
        cache: "off",
      }),
      {},
    );
  });
  afterAll(async () => {
    await svc?.close();
    await model.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it.each([
    ["decided by the rules alone", readSituation, "engine"],
    ["sent to the interpreter", attest, "llm"],
  ])("%s", async (_name, body, source) => {
    calls.n = 0;
    const answer = await (await post(`${svc.url}/v1/advisory`, body)).json().then(loose);
    expect(answer.source).toBe(source);
    expect(calls.n).toBe(1);
  });
});
