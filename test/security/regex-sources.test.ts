import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { findPolicyPatterns, findRegexes } from "./regex-sources.js";

/** The inventory the ReDoS test analyses, on fixtures/ (a src/ and a data/ of its own). */
const root = join(dirname(fileURLToPath(import.meta.url)), "fixtures");

describe("the regex inventory", () => {
  it("finds literals and folds constant RegExp sources: String.raw, templates, imports and .source", () => {
    const { sites, dynamic } = findRegexes(root, "src");
    expect(sites.map(({ file, line, kind, source, flags }) => [file, line, kind, source, flags])).toEqual([
      ["src/b.ts", 3, "literal", "\\bw+\\b", "gi"],
      ["src/b.ts", 4, "constructor", "(\\d[\\d,]*)\\s*\\(", "g"],
      ["src/b.ts", 5, "constructor", "^\\bw+\\b$", ""],
      ["src/b.ts", 7, "constructor", "x|y", ""],
    ]);
    expect(dynamic).toEqual([{ file: "src/b.ts", line: 7, expression: 'new RegExp(p, "i")' }]);
  });

  it("finds every string under a patterns key in policy files, with its path and line", () => {
    expect(findPolicyPatterns(root, "data")).toEqual([
      { file: "data/p.yaml", line: 3, path: "actionClasses.read.patterns[0]", source: "^get_" },
      { file: "data/p.yaml", line: 7, path: "resources[0].patterns[0]", source: "a+" },
      { file: "data/p.yaml", line: 8, path: "resources[0].patterns[1]", source: "b" },
    ]);
  });
});
