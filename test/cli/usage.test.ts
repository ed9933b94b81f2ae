import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command } from "commander";
import { afterAll, describe, expect, it } from "vitest";
import { UsageError } from "../../src/cli/errors.js";
import { strictUsage } from "../../src/cli/usage.js";
import { openStore } from "../../src/store/index.js";
import { colourEnabled } from "../../src/util/colour.js";
import { BIN, cli } from "../helpers/cli.js";

const dir = mkdtempSync(join(tmpdir(), "pa-usage-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("usage errors exit 2", () => {
  const cases: [string[], RegExp][] = [
    [["decide", "--bogus"], /unknown option '--bogus'/],
    [["eval", "--scenarios", "x.json", "--nope"], /unknown option '--nope'/],
    [["eval"], /required option '--scenarios <file>' not specified/],
    [
      ["eval", "--engine", "llm"],
      /required options '--scenarios <file>', '--model <gguf>' or '--llm-url <url>' \(for --engine llm\) not specified/,
    ],
    [
      ["decide", "--engine", "hybrid"],
      /required option '--model <gguf>' or '--llm-url <url>' \(for --engine hybrid\)/,
    ],
    [["rollout", "promote"], /missing required argument 'tier'/],
    [["rollout", "promote", "write", "--db", join(dir, "x.db")], /required option '--note <text>'/],
    [["testing", "make-model"], /required option '--out <file>'/],
    [["rollout"], /Usage: policy-advisor rollout/],
    [["no-such-command"], /unknown command 'no-such-command'/],
  ];
  it.each(cases)("policy-advisor %j exits 2 with commander's message", (args, message) => {
    const r = cli(args);
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it("help and the version asked for are not errors", () => {
    for (const args of [["--help"], ["decide", "--help"], ["--version"]]) expect(cli(args).status).toBe(0);
  });

  it("every missing required option is reported at once", async () => {
    const program = new Command().exitOverride();
    const run = new Command("run")
      .requiredOption("--alpha <a>", "first")
      .requiredOption("--beta <b>", "second")
      .option("--gamma <c>", "optional")
      .action(() => undefined);
    program.addCommand(run);
    strictUsage(program);
    await expect(program.parseAsync(["node", "x", "run", "--gamma", "1"])).rejects.toThrow(
      new UsageError("required options '--alpha <a>', '--beta <b>' not specified"),
    );
    await expect(program.parseAsync(["node", "x", "run", "--beta", "1"])).rejects.toThrow(
      "required option '--alpha <a>' not specified",
    );
    await expect(program.parseAsync(["node", "x", "run", "--alpha", "1", "--beta", "2"])).resolves.toBe(
      program,
    );
  });
});

describe("colour", () => {
  it("only on a terminal, never with NO_COLOR or TERM=dumb", () => {
    expect(colourEnabled({ isTTY: true }, {})).toBe(true);
    expect(colourEnabled({ isTTY: false }, {})).toBe(false);
    expect(colourEnabled({}, {})).toBe(false);
    expect(colourEnabled({ isTTY: true }, { NO_COLOR: "1" })).toBe(false);
    expect(colourEnabled({ isTTY: true }, { NO_COLOR: "" })).toBe(true);
    expect(colourEnabled({ isTTY: true }, { TERM: "dumb" })).toBe(false);
  });

  const script = spawnSync("script", ["--version"]).status === 0;
  if (!script)
    console.warn("skipping the terminal colour test: util-linux `script` (a pseudo-terminal) is absent");
  it.skipIf(!script)(
    "a table on a terminal has colour codes unless NO_COLOR is set; piped, none",
    async () => {
      const db = join(dir, "colour.db");
      await (await openStore(db)).close();
      const env: Record<string, string> = {};
      // Neither NO_COLOR nor CI: cli-table3's colour library turns colour off on an unknown CI (CI=true in
      // .ci/run), which is not what this test is about.
      for (const [k, v] of Object.entries(process.env))
        if (v !== undefined && k !== "NO_COLOR" && k !== "CI") env[k] = v;
      const onTty = (extra: Record<string, string>) =>
        spawnSync(
          "script",
          ["-qec", `"${process.execPath}" "${BIN}" rollout status --db "${db}"`, "/dev/null"],
          {
            encoding: "utf8",
            env: { ...env, TERM: "xterm", ...extra },
          },
        );
      const ESC = "\u001b[";
      const piped = cli(["rollout", "status", "--db", db]);
      expect(piped.status).toBe(0);
      expect(piped.stdout).toContain("tier");
      expect(piped.stdout).not.toContain(ESC);
      const tty = onTty({});
      expect(tty.stdout).toContain("tier");
      expect(tty.stdout).toContain(ESC);
      const noColour = onTty({ NO_COLOR: "1" });
      expect(noColour.stdout).toContain("tier");
      expect(noColour.stdout).not.toContain(ESC);
    },
  );
});
