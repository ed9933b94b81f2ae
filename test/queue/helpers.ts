import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { Redis } from "ioredis";
import { cleanEnv } from "../server/serve-child.js";

const ROOT = new URL("../../", import.meta.url).pathname;

export const REDIS_URL = process.env.POLICY_ADVISOR_TEST_REDIS ?? "redis://127.0.0.1:6379";

/** True when the test Redis answers. */
export async function redisUp(): Promise<boolean> {
  const r = new Redis(REDIS_URL, { lazyConnect: true, connectTimeout: 2000, maxRetriesPerRequest: 0 });
  r.on("error", () => undefined);
  try {
    await r.connect();
    return (await r.ping()) === "PONG";
  } catch {
    return false;
  } finally {
    r.disconnect();
  }
}

/** A key prefix of its own per test run, so that runs (and the developers' own queues) never meet. */
export function uniquePrefix(): string {
  return `pa-test-${process.pid}-${randomUUID().slice(0, 8)}`;
}

/** The --queue URL of a prefix. */
export const queueUrl = (prefix: string): string => `${REDIS_URL}?prefix=${prefix}`;

/** Deletes every key of a test run's prefix. */
export async function dropPrefix(prefix: string): Promise<void> {
  const r = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  try {
    let cursor = "0";
    do {
      const [next, keys] = await r.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000);
      cursor = next;
      if (keys.length > 0) await r.del(...keys);
    } while (cursor !== "0");
  } finally {
    r.disconnect();
  }
}

export interface WorkerChild {
  child: ChildProcess;
  name: string;
  /** Everything written to stdout so far (the JSON log). */
  stdout(): string;
  stop(): Promise<void>;
}

/** `policy-advisor worker` as its own process; resolves once it is connected and takes jobs. */
export function workerChild(name: string, args: string[]): Promise<WorkerChild> {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", join(ROOT, "src/cli/main.ts"), "worker", "--name", name, ...args],
    { cwd: ROOT, env: cleanEnv() },
  );
  let out = "";
  let err = "";
  child.stdout?.on("data", (d: Buffer) => {
    out += d.toString();
  });
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    await exited;
  };
  return new Promise((resolve, reject) => {
    child.stderr?.on("data", (d: Buffer) => {
      err += d.toString();
      if (err.includes("worker ready on")) resolve({ child, name, stdout: () => out, stop });
    });
    child.on("exit", (code) => reject(new Error(`worker ${name} exited ${code}: ${err}`)));
  });
}

/** Polls `check` until it returns a value (not undefined) or the time is up. */
export async function until<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs: number,
  everyMs = 250,
  progress: () => Promise<string> | string = () => "",
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > end)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} ${await progress()}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
