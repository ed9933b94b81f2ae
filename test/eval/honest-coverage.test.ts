import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { createAdvisor } from "../../src/advisor/create.js";
import { loadSuite } from "../../src/eval/suite.js";
import { dataPath } from "../../src/paths.js";

/**
 * Coverage that is true by construction measures nothing: the rules' reasoning and the lexical scorer
 * must express the seed's expected elements in their own words, never by quoting them.
 */
describe("reasoning coverage is earned, not quoted", () => {
  const loaded = loadSuite(dataPath("scenarios", "seed-basic.json"));
  const multiWord = (e: string) => e.trim().split(/[\s-]+/).length > 1;

  it("no seed reasoning contains a multi-word expected element verbatim", async () => {
    const advisor = createAdvisor();
    for (const sc of loaded.suite.scenarios) {
      const d = await advisor.advise(sc.situation);
      const text = Object.values(d.reasoning).join(" ").toLowerCase();
      for (const e of sc.expected.reasoningElements.filter(multiWord))
        expect(text, `${sc.id}: "${e}"`).not.toContain(e.toLowerCase());
    }
  });

  it("the lexical scorer's synonym table quotes no expected element", () => {
    const source = readFileSync(new URL("../../src/eval/lexical.ts", import.meta.url), "utf8").toLowerCase();
    for (const sc of loaded.suite.scenarios)
      for (const e of sc.expected.reasoningElements.filter(multiWord))
        expect(source, `${sc.id}: "${e}"`).not.toContain(e.toLowerCase());
  });
});
