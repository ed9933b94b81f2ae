import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import type { Signal } from "../../src/schemas/decision.js";
import { contentHash } from "../../src/util/hash.js";
import { signalIds, verdict } from "../helpers/engine.js";
import { CASES_DIR, type Case, CaseFileSchema } from "./case-file.js";

/**
 * Engine cases are data (test/engine/cases/*.yaml, format in case-file.ts): a request over a base, and what
 * the verdict must hold. Each file is named in the output by its id, version and content hash.
 */

const SEVERITY: Record<Signal["severity"], number> = { info: 0, warn: 1, critical: 2 };
const STEPS = ["roleCheck", "trustCheck", "environment", "context"];
/** A policy reference: the rule id (a dotted path into the policy) and what the rule says. */
const RULE_REFERENCE = /^([a-z][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)+): \S/;

function requestOf(base: Record<string, unknown>, c: Case): Record<string, unknown> {
  const request: Record<string, unknown> = c.standalone ? { ...c.request } : { ...base, ...c.request };
  for (const [k, v] of Object.entries(request)) if (v === null) delete request[k];
  return request;
}

const files = readdirSync(CASES_DIR).filter((f) => f.endsWith(".yaml"));

it("the case files are there", () => {
  expect(files.length).toBeGreaterThan(0);
});

for (const file of files) {
  const doc = CaseFileSchema.parse(parse(readFileSync(`${CASES_DIR}${file}`, "utf8")));
  describe(`engine cases ${doc.id}@${doc.version} (${contentHash(doc)})`, () => {
    it("is named by its id, and its case names are distinct", () => {
      expect(file).toBe(`${doc.id}.yaml`);
      const names = doc.cases.map((c) => c.name);
      expect(names.filter((n, i) => names.indexOf(n) !== i)).toEqual([]);
    });

    it.each(doc.cases.map((c) => [c.name, c] as const))("%s", (_name, c) => {
      const v = verdict(requestOf(doc.base, c));
      const e = c.expect;
      const ids = signalIds(v);
      if (typeof e.decision === "string") expect(v.decision, v.classification).toBe(e.decision);
      else expect(e.decision, v.classification).toContain(v.decision);
      if (e.classification) expect(v.classification).toBe(e.classification);
      if (e.riskLevel) expect(v.riskLevel).toBe(e.riskLevel);
      if (e.tier) expect(v.tier).toBe(e.tier);
      for (const id of e.signals ?? []) expect(ids).toContain(id);
      for (const id of e.absentSignals ?? []) expect(ids).not.toContain(id);
      if (e.noSignalsAbove) {
        const limit = SEVERITY[e.noSignalsAbove];
        expect(v.signals.filter((s) => SEVERITY[s.severity] > limit)).toEqual([]);
      }
      if (e.facts) {
        const named = Object.fromEntries(
          Object.keys(e.facts).map((k) => [k, v.facts[k as keyof typeof v.facts]]),
        );
        expect(named).toEqual(e.facts);
      }
      if (e.rules) expect(v.policyReferences.map((r) => RULE_REFERENCE.exec(r)?.[1])).toEqual(e.rules);
      for (const [step, fragments] of Object.entries(e.reasoning ?? {})) {
        for (const fragment of fragments ?? []) {
          expect(v.reasoning[step as keyof typeof v.reasoning]).toContain(fragment);
        }
      }
      // Every verdict: one reasoning sentence per step, and policy references that cite rule ids.
      expect(Object.keys(v.reasoning)).toEqual(STEPS);
      for (const step of STEPS) expect(v.reasoning[step as keyof typeof v.reasoning]).not.toBe("");
      for (const ref of v.policyReferences) expect(ref).toMatch(RULE_REFERENCE);
    });
  });
}
