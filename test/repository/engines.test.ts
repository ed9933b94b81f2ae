import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";

const require = createRequire(import.meta.url);
const semver = require("semver") as {
  satisfies(version: string, range: string): boolean;
  minVersion(range: string): { version: string } | null;
};

const ROOT = new URL("../../", import.meta.url).pathname;
const pkg = JSON.parse(readFileSync(`${ROOT}package.json`, "utf8")) as { engines: { node: string } };
const lock = JSON.parse(readFileSync(`${ROOT}package-lock.json`, "utf8")) as {
  packages: Record<string, { version?: string; engines?: { node?: string } | string[]; optional?: boolean }>;
};

/** The lowest Node of each alternative of the range ("^20.19.0 || >=22.12.0": 20.19.0 and 22.12.0). */
const lowest = (range: string): string[] =>
  range.split("||").map((part) => semver.minVersion(part.trim())?.version ?? part);

describe("the dependency set and engines", () => {
  it("every locked package runs on the oldest Node that package.json's engines admit", () => {
    const oldest = lowest(pkg.engines.node);
    expect(oldest).toContain("20.19.0");
    const misfits: string[] = [];
    for (const [path, entry] of Object.entries(lock.packages)) {
      const node = !Array.isArray(entry.engines) ? entry.engines?.node : undefined;
      if (!path || !node) continue;
      for (const version of oldest) {
        if (!semver.satisfies(version, node))
          misfits.push(`${path}@${entry.version} needs node ${node}, not ${version}`);
      }
    }
    expect(misfits).toEqual([]);
  });
});
