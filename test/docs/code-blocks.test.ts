import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import ts from "typescript";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { externalAvailable } from "../helpers/external.js";

/**
 * Every code block of README.md and docs/*.md, by the convention in README.md (Development):
 *
 * - a block tagged `run` (```ts run, ```js run, ```sh run, ```python run) is executed against a fresh
 *   `node dist/cli/main.js serve` (the README's start command), with `localhost:8787` and `127.0.0.1:8787`
 *   pointed at it; it must exit 0, print no error answer of the service, and, when a ```text output block
 *   follows it, print every line of that block. TypeScript `run` blocks must also type-check against the
 *   published types (`policy-advisor` resolves to this package);
 * - every other ts/js, sh and python block must parse (a synopsis with placeholders is still valid syntax);
 * - json, yaml, text and untagged blocks are illustrations and are not checked.
 */

const ROOT = new URL("../../", import.meta.url).pathname;
const BIN = join(ROOT, "dist/cli/main.js");
const WORK = join(ROOT, ".tmp", `doc-blocks-${process.pid}`);
const CODE_LANGS = new Set(["ts", "js", "sh", "python"]);
const KNOWN_TAGS = new Set(["run", "output"]);

interface Block {
  file: string;
  line: number;
  lang: string;
  tags: string[];
  code: string;
  output?: string;
}

function extract(file: string): Block[] {
  const lines = readFileSync(join(ROOT, file), "utf8").split("\n");
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)\s*(.*)$/.exec(lines[i] ?? "");
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i] ?? ""); i++) body.push(lines[i] ?? "");
    const block: Block = {
      file,
      line: start + 1,
      lang: open[1] ?? "",
      tags: (open[2] ?? "").split(/\s+/).filter(Boolean),
      code: `${body.join("\n")}\n`,
    };
    // An output block belongs to the run block right before it.
    const previous = blocks.at(-1);
    if (block.tags.includes("output") && previous?.tags.includes("run")) previous.output = block.code;
    else blocks.push(block);
  }
  return blocks;
}

const FILES = ["README.md", ...readdirSync(join(ROOT, "docs")).map((f) => `docs/${f}`)].filter((f) =>
  f.endsWith(".md"),
);
const BLOCKS = FILES.flatMap(extract);
const RUN = BLOCKS.filter((b) => b.tags.includes("run"));
const PARSE = BLOCKS.filter((b) => !b.tags.includes("run") && CODE_LANGS.has(b.lang));
const nameOf = (b: Block) => `${b.file}:${b.line} (${[b.lang, ...b.tags].join(" ")})`;
const slug = (b: Block) => `${b.file.replace(/[^a-z0-9]+/gi, "-")}-${b.line}`;

const python = spawnSync("python3", ["--version"]).status === 0;

let server: ChildProcess | undefined;
let port = 0;
let startupMs = 0;

/** `node dist/cli/main.js serve` (the README's command, on a free port and a fresh log): how long to listen. */
async function startServe(db: string): Promise<{ child: ChildProcess; port: number; ms: number }> {
  const started = performance.now();
  const child = spawn(process.execPath, [BIN, "serve", "--port", "0", "--db", db], {
    cwd: ROOT,
    env: { ...process.env, POLICY_ADVISOR_TOKEN: "", POLICY_ADVISOR_REVIEWER_TOKEN: "" },
  });
  child.stdout?.resume();
  let err = "";
  const listening = await new Promise<number>((resolve, reject) => {
    child.stderr?.on("data", (d: Buffer) => {
      err += d.toString();
      const m = /listening on http:\/\/[^:]+:(\d+)/.exec(err);
      if (m?.[1]) resolve(Number(m[1]));
    });
    child.on("exit", (code) => reject(new Error(`serve exited ${code}: ${err}`)));
  });
  return { child, port: listening, ms: performance.now() - started };
}

async function stop(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM");
  await exited;
}

beforeAll(async () => {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run "npm run build" first (npm test does)`);
  mkdirSync(join(WORK, "bin"), { recursive: true });
  // `policy-advisor` in a shell block is the checkout's bin, as the README says.
  const shim = join(WORK, "bin", "policy-advisor");
  writeFileSync(shim, `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`);
  chmodSync(shim, 0o755);
  const first = await startServe(join(WORK, "decisions.db"));
  server = first.child;
  port = first.port;
  startupMs = first.ms;
}, 60_000);

afterAll(async () => {
  await stop(server);
  rmSync(WORK, { recursive: true, force: true });
});

const pointAtServer = (code: string) =>
  code.replace(/\b(localhost|127\.0\.0\.1):8787\b/g, `127.0.0.1:${port}`);

function write(block: Block, ext: string): string {
  const file = join(WORK, `${slug(block)}.${ext}`);
  writeFileSync(file, pointAtServer(block.code));
  return file;
}

function execute(block: Block): { status: number | null; stdout: string; stderr: string } {
  const env = {
    ...process.env,
    PATH: `${join(WORK, "bin")}:${process.env.PATH ?? ""}`,
    PYTHONPATH: join(ROOT, "clients/python"),
    POLICY_ADVISOR_TOKEN: "",
  };
  const command: Record<string, () => [string, string[]]> = {
    ts: () => [process.execPath, ["--import", "tsx", write(block, "ts")]],
    js: () => [process.execPath, [write(block, "mjs")]],
    sh: () => ["bash", ["-euo", "pipefail", write(block, "sh")]],
    python: () => ["python3", [write(block, "py")]],
  };
  const make = command[block.lang];
  if (!make) throw new Error(`${nameOf(block)}: no way to run a ${block.lang} block`);
  const [cmd, args] = make();
  const r = spawnSync(cmd, args, { cwd: ROOT, env, encoding: "utf8", timeout: 60_000 });
  return { status: r.status, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
}

describe("code blocks of README.md and docs/*.md", () => {
  it("use the convention: known tags only, run blocks in a language that runs, and there are some", () => {
    for (const b of BLOCKS) {
      for (const tag of b.tags) expect(KNOWN_TAGS.has(tag), `${nameOf(b)}: unknown tag ${tag}`).toBe(true);
      if (b.tags.includes("run")) expect(CODE_LANGS.has(b.lang), nameOf(b)).toBe(true);
      if (b.tags.includes("output")) expect.fail(`${nameOf(b)}: an output block must follow a run block`);
    }
    expect(RUN.length).toBeGreaterThanOrEqual(7);
  });

  it("the README's start command is listening within 5 s", async () => {
    // The suite shares the machine with load tests: a slow start is tried again (twice at most) before it
    // counts. A start that needs an install or a build first (npx in the checkout: 44 s) fails every try.
    const tries = [startupMs];
    for (let i = 1; i < 3 && Math.min(...tries) >= 5000; i++) {
      const again = await startServe(join(WORK, `startup-${i}.db`));
      tries.push(again.ms);
      await stop(again.child);
    }
    expect(Math.min(...tries), `tries: ${tries.map((t) => Math.round(t)).join(", ")} ms`).toBeLessThan(5000);
  }, 60_000);

  for (const block of RUN) {
    const skip = block.lang === "python" && !externalAvailable("python3", python, "python3 is not installed");
    it.skipIf(skip)(`${nameOf(block)} runs`, () => {
      const r = execute(block);
      const where = `${nameOf(block)}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`;
      expect(r.status, where).toBe(0);
      expect(r.stdout, where).not.toMatch(/"error":\s*\{\s*"code"/);
      for (const line of (block.output ?? "").split("\n").filter((l) => l.trim())) {
        expect(r.stdout, where).toContain(line.trim());
      }
    });
  }

  it("TypeScript run blocks type-check against the package's published types", () => {
    const blocks = RUN.filter((b) => b.lang === "ts");
    const files = blocks.map((b) => write(b, "ts"));
    const program = ts.createProgram(files, {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      lib: ["lib.es2023.d.ts"],
      types: ["node"],
      strict: true,
      noEmit: true,
      skipLibCheck: true,
    });
    const problems = files.flatMap((f, i) =>
      ts
        .getPreEmitDiagnostics(program, program.getSourceFile(f))
        .map((d) => `${nameOf(blocks[i]!)}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`),
    );
    expect(problems).toEqual([]);
  }, 60_000);

  for (const block of PARSE) {
    const skip = block.lang === "python" && !externalAvailable("python3", python, "python3 is not installed");
    it.skipIf(skip)(`${nameOf(block)} parses`, () => {
      if (block.lang === "ts" || block.lang === "js") {
        const out = ts.transpileModule(block.code, {
          reportDiagnostics: true,
          compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext },
        });
        const messages = (out.diagnostics ?? []).map((d) =>
          ts.flattenDiagnosticMessageText(d.messageText, "\n"),
        );
        expect(messages, nameOf(block)).toEqual([]);
        return;
      }
      const r =
        block.lang === "sh"
          ? spawnSync("bash", ["-n"], { input: block.code, encoding: "utf8" })
          : spawnSync("python3", ["-c", "import ast, sys; ast.parse(sys.stdin.read())"], {
              input: block.code,
              encoding: "utf8",
            });
      expect(r.status, `${nameOf(block)}: ${r.stderr}`).toBe(0);
    });
  }
});
