import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ChildHandle, freePort, startProcess, waitForHttp } from "../child.js";
import { CERBOS_POLICY, cerbosConfig } from "./cerbos-policy.js";

export const CERBOS_PACKAGE = "@cerbos/cerbos-linux-x64";

/**
 * Where the Cerbos server binary is: POLICY_ADVISOR_CERBOS_BIN, else the optional dev dependency
 * @cerbos/cerbos-linux-x64. A string that starts with "skip:" says why there is none.
 */
export function findCerbos(given = process.env.POLICY_ADVISOR_CERBOS_BIN): string {
  if (given) return existsSync(given) ? given : `skip: POLICY_ADVISOR_CERBOS_BIN=${given} does not exist`;
  if (process.platform !== "linux" || process.arch !== "x64")
    return `skip: ${CERBOS_PACKAGE} is for linux x64 and this is ${process.platform} ${process.arch}`;
  try {
    // The package's main is the binary itself.
    const bin = createRequire(import.meta.url).resolve(CERBOS_PACKAGE);
    return existsSync(bin) ? bin : `skip: ${bin} is missing`;
  } catch {
    return `skip: ${CERBOS_PACKAGE} is not installed (an optional dev dependency: npm install --include=dev)`;
  }
}

export interface CerbosServer {
  url: string;
  child: ChildHandle;
  /** The binary's version line, e.g. "0.55.0". */
  version: string;
  stop(): Promise<void>;
}

/** Starts `cerbos server` on free loopback ports with the bench's policy on disk and its audit log on. */
export async function startCerbos(bin: string, policy = CERBOS_POLICY): Promise<CerbosServer> {
  const dir = mkdtempSync(join(tmpdir(), "pa-bench-cerbos-"));
  const policyDir = join(dir, "policies");
  const auditDir = join(dir, "audit");
  mkdirSync(policyDir);
  mkdirSync(auditDir);
  writeFileSync(join(policyDir, "action_target.yaml"), policy);
  const [httpPort, grpcPort] = [await freePort(), await freePort()];
  const configFile = join(dir, "cerbos.yaml");
  writeFileSync(configFile, cerbosConfig({ httpPort, grpcPort, policyDir, auditDir }));
  const child = startProcess(
    bin,
    ["server", `--config=${configFile}`, "--log-level=warn"],
    { CERBOS_NO_TELEMETRY: "1" },
    { label: "cerbos server", cwd: dir, keepStdout: true },
  );
  const url = `http://127.0.0.1:${httpPort}`;
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  try {
    await waitForHttp(`${url}/_cerbos/health`, child, 30_000);
  } catch (e) {
    await child.stop();
    cleanup();
    throw new Error(`${(e as Error).message}\n${child.stdout().trim()}`);
  }
  return {
    url,
    child,
    version: await cerbosVersion(bin),
    async stop() {
      await child.stop();
      cleanup();
    },
  };
}

async function cerbosVersion(bin: string): Promise<string> {
  const child = startProcess(bin, ["--version"], {}, { label: "cerbos --version", keepStdout: true });
  await new Promise<void>((resolve) => child.proc.once("exit", () => resolve()));
  const text = `${child.stdout()} ${child.stderr()}`;
  return /(\d{1,6}\.\d{1,6}\.\d{1,6})/.exec(text)?.[1] ?? text.trim().slice(0, 80);
}
