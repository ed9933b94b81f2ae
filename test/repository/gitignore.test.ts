import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";

const ROOT = new URL("../../", import.meta.url).pathname;
const git = spawnSync("git", ["rev-parse", "--is-inside-work-tree"], { cwd: ROOT, encoding: "utf8" });
if (git.status !== 0) console.warn("skipping the .gitignore test: not a git checkout, or git is absent");

describe.skipIf(git.status !== 0)(".gitignore", () => {
  it("covers the Python client's build output", () => {
    // What `pip install ./clients/python` and `python -m build` leave beside the sources.
    const outputs = [
      "clients/python/build/lib/policy_advisor_client/__init__.py",
      "clients/python/policy_advisor_client.egg-info/PKG-INFO",
      "clients/python/dist/policy_advisor_client-0.1.0-py3-none-any.whl",
      "clients/python/policy_advisor_client/__pycache__/client.cpython-312.pyc",
    ];
    const r = spawnSync("git", ["check-ignore", "--no-index", ...outputs], { cwd: ROOT, encoding: "utf8" });
    expect(r.stdout.trim().split("\n").sort()).toEqual([...outputs].sort());
    // The sources themselves are not ignored.
    const src = spawnSync(
      "git",
      ["check-ignore", "--no-index", "clients/python/policy_advisor_client/client.py"],
      {
        cwd: ROOT,
      },
    );
    expect(src.status).toBe(1);
  });
});
