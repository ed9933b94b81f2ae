import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

/**
 * Dependencies point one way: the decision pipeline (schemas, policy, engine, advisor) knows nothing of
 * HTTP, SQL or the command line; adapters (server, cli) sit on top. Checked on every import in src/.
 */
const SRC = new URL("../../src/", import.meta.url).pathname;

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
function target(file: string, spec: string): { folder?: string; pkg?: string } {
  if (!spec.startsWith("."))
    return { pkg: spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0]! };
  const abs = join(file, "..", spec);
  const rel = relative(SRC, abs);
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

/** For each concern, the concerns and packages it may not import. */
const RULES: Record<string, { folders: string[]; packages: string[] }> = {
  schemas: {
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
  },
  util: {
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
  },
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
    packages: [
      "fastify",
      "@fastify/static",
      "@fastify/swagger",
      "pg",
      "better-sqlite3",
      "commander",
      "autocannon",
    ],
  },
};

describe("dependencies point one way", () => {
  it("no concern imports a layer above it, or a transport package it must not know", () => {
    const violations: string[] = [];
    for (const file of files(SRC)) {
      const concern = relative(SRC, file).split("/")[0]!.replace(/\.ts$/, "");
      const rule = RULES[concern];
      if (!rule) continue;
      for (const spec of importsOf(file)) {
        const t = target(file, spec);
        if (t.folder && t.folder !== concern && rule.folders.includes(t.folder))
          violations.push(`${relative(SRC, file)} imports ${spec} (${concern} -> ${t.folder})`);
        if (t.pkg && rule.packages.includes(t.pkg))
          violations.push(`${relative(SRC, file)} imports the package ${t.pkg}`);
      }
    }
    expect(violations).toEqual([]);
  });
});
