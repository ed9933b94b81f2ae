import { spawn, spawnSync } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TokenSet } from "../../src/server/auth.js";
import { externalAvailable } from "../helpers/external.js";
import { startTestServer, type TestServer } from "../server/helpers.js";

const ROOT = new URL("../../", import.meta.url).pathname;
const probe = spawnSync("python3", ["-c", "import sys; assert sys.version_info >= (3, 9)"], {
  encoding: "utf8",
});
const hasPython = externalAvailable("python3", probe.status === 0, "python3 (3.9+) not found on PATH");
const TOKEN = "python-client-caller-token";

describe.skipIf(!hasPython)("Python client (clients/python) against the real sidecar", () => {
  let s: TestServer;
  beforeAll(async () => {
    const tokens = new TokenSet();
    tokens.add("caller", TOKEN, "web4");
    s = await startTestServer({ mode: "advisory", tokens });
  });
  afterAll(async () => {
    await s.close();
  });

  it("python3 -m unittest passes", async () => {
    // Asynchronous: the server answering the Python tests runs in this process.
    const child = spawn("python3", ["-m", "unittest", "discover", "-s", "tests", "-v"], {
      cwd: join(ROOT, "clients/python"),
      env: {
        ...process.env,
        POLICY_ADVISOR_URL: s.url,
        POLICY_ADVISOR_TEST_TOKEN: TOKEN,
        PYTHONDONTWRITEBYTECODE: "1",
      },
      timeout: 60_000,
    });
    let out = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      out += d.toString();
    });
    const status = await new Promise<number | null>((resolve) => child.on("close", resolve));
    expect(status, out).toBe(0);
    expect(out).toMatch(/Ran 12 tests/);
    expect(out).not.toMatch(/skipped/);
  });
});
