import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cli } from "../helpers/cli.js";

/** `policy-advisor worker` refuses what it cannot run with, naming the flag, exit 2, before loading anything. */
describe("policy-advisor worker: usage errors", () => {
  const env = { POLICY_ADVISOR_QUEUE: "", POLICY_ADVISOR_DB: "" };
  const dir = mkdtempSync(join(tmpdir(), "pa-worker-cli-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("needs the queue", () => {
    const r = cli(["worker", "--model", "x.gguf"], undefined, env);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--queue redis:\/\/HOST:PORT is required/);
  });

  it("needs a model", () => {
    const r = cli(["worker", "--queue", "redis://127.0.0.1:6379"], undefined, env);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/a worker needs a model: --model FILE \(GGUF\) or --llm-url URL/);
  });

  it("names a queue URL that is not Redis's", () => {
    const r = cli(["worker", "--queue", "http://127.0.0.1:6379", "--model", "x.gguf"], undefined, env);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--queue http:\/\/127\.0\.0\.1:6379: expected a redis:\/\/ or rediss:\/\/ URL/);
  });

  it("names a model file that is not there", () => {
    const r = cli(
      [
        "worker",
        "--queue",
        "redis://127.0.0.1:6379",
        "--model",
        "/nonexistent/model.gguf",
        "--db",
        join(dir, "d.db"),
      ],
      undefined,
      env,
    );
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--model: /);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
