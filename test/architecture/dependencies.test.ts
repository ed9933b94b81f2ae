import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

/**
 * Dependencies point one way: the decision pipeline (schemas, policy, engine, advisor) knows nothing of
 * HTTP, SQL or the command line; adapters (server, cli) sit on top. Checked on every import in src/.
 */
const SRC = new URL("../../src/", import.meta.url).pathname;
/** A deliberately crossed tree: the check must find its violations, or it proves nothing. */
const CROSSED = new URL("./fixtures/crossed/", import.meta.url).pathname;

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith(".ts") ? [p] : [];
  });
}

function importsOf(file: string): string[] {
  const sf = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.ES2022, false);
  const out: string[] = [];
  const visit = (n: ts.Node): void => {
    if (
      (ts.isImportDeclaration(n) || ts.isExportDeclaration(n)) &&
      n.moduleSpecifier &&
      ts.isStringLiteral(n.moduleSpecifier)
    )
      out.push(n.moduleSpecifier.text);
    else if (ts.isCallExpression(n) && n.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const a = n.arguments[0];
      if (a && ts.isStringLiteral(a)) out.push(a.text);
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return out;
}

/** The top-level folder (concern) an import lands in, or the package name. */
function target(root: string, file: string, spec: string): { folder?: string; pkg?: string } {
  if (!spec.startsWith("."))
    return { pkg: spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0]! };
  const abs = join(file, "..", spec);
  const rel = relative(root, abs);
  return rel.startsWith("..") ? {} : { folder: rel.split("/")[0]!.replace(/\.js$/, "") };
}

const TRANSPORT_PACKAGES = [
  "fastify",
  "@fastify/static",
  "@fastify/swagger",
  "pg",
  "better-sqlite3",
  "commander",
  "autocannon",
];

/** The bottom layers (schemas, util): they import no other concern and no transport package. */
const VOCABULARY = {
  folders: [
    "server",
    "store",
    "cli",
    "advisor",
    "engine",
    "llm",
    "rollout",
    "eval",
    "bench",
    "doctor",
    "queue",
  ],
  packages: TRANSPORT_PACKAGES,
};

/** For each concern, the concerns and packages it may not import. */
const RULES: Record<string, { folders: string[]; packages: string[] }> = {
  schemas: VOCABULARY,
  util: VOCABULARY,
  policy: {
    folders: ["server", "store", "cli", "advisor", "llm", "rollout", "eval", "bench", "doctor", "queue"],
    packages: TRANSPORT_PACKAGES,
  },
  engine: {
    folders: ["server", "store", "cli", "advisor", "llm", "rollout", "eval", "bench", "doctor", "queue"],
    packages: TRANSPORT_PACKAGES,
  },
  advisor: {
    folders: ["server", "store", "cli", "rollout", "eval", "bench", "doctor", "queue"],
    packages: TRANSPORT_PACKAGES,
  },
  prompts: {
    folders: ["server", "store", "cli", "rollout", "eval", "bench", "doctor", "queue"],
    packages: TRANSPORT_PACKAGES,
  },
  llm: {
    folders: ["server", "store", "cli", "rollout", "eval", "bench", "doctor", "queue"],
    packages: ["fastify", "pg", "better-sqlite3", "commander"],
  },
  eval: {
    folders: ["server", "store", "cli", "queue"],
    packages: ["fastify", "pg", "better-sqlite3", "commander"],
  },
  rollout: { folders: ["server", "cli", "queue"], packages: ["fastify", "commander"] },
  store: { folders: ["server", "cli", "advisor", "rollout", "queue"], packages: ["fastify", "commander"] },
  /**
   * The shared queue (BullMQ on Redis) sits beside the server: it may use the advisor, schemas, store and
   * util layers (through their interfaces), never the HTTP server or the command line above it.
   */
  queue: {
    folders: ["server", "cli", "rollout", "eval", "bench", "doctor"],
    packages: TRANSPORT_PACKAGES,
  },
  telemetry: {
    folders: ["server", "store", "cli", "advisor", "rollout", "eval", "bench"],
    packages: TRANSPORT_PACKAGES,
  },
};

/**
 * Imports allowed for now, each with why, until the move that ends it lands. Every entry must still be
 * needed (a stale one fails the test), so the list can only shrink.
 */
const PENDING: Record<string, string> = {};

/** Every import in `root` that crosses a rule, as "file imports spec (from -> to)". */
function violationsIn(root: string): string[] {
  const violations: string[] = [];
  for (const file of files(root)) {
    const concern = relative(root, file).split("/")[0]!.replace(/\.ts$/, "");
    const rule = RULES[concern];
    if (!rule) continue;
    for (const spec of importsOf(file)) {
      const t = target(root, file, spec);
      if (t.folder && t.folder !== concern && rule.folders.includes(t.folder))
        violations.push(`${relative(root, file)} imports ${spec} (${concern} -> ${t.folder})`);
      if (t.pkg && rule.packages.includes(t.pkg))
        violations.push(`${relative(root, file)} imports the package ${t.pkg}`);
    }
  }
  return violations;
}

describe("dependencies point one way", () => {
  it("no concern imports a layer above it, or a transport package it must not know", () => {
    const found = violationsIn(SRC);
    const pendingKey = (v: string) => v.replace(/ imports (\S+) \(.*$/, " -> $1");
    expect(found.filter((v) => !(pendingKey(v) in PENDING))).toEqual([]);
    // A pending entry that no import needs any more is removed, not kept "just in case".
    const used = new Set(found.map(pendingKey));
    expect(Object.keys(PENDING).filter((k) => !used.has(k))).toEqual([]);
  });

  it("finds a crossed direction: the check fails on a tree that breaks the rules", () => {
    expect(violationsIn(CROSSED).sort()).toEqual([
      "engine/evaluate.ts imports ../server/app.js (engine -> server)",
      "engine/evaluate.ts imports the package fastify",
      "schemas/request.ts imports ../store/types.js (schemas -> store)",
    ]);
  });
});
