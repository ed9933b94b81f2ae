import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { z } from "zod";
import { dataPath } from "../../src/paths.js";
import { DecisionValueSchema } from "../../src/schemas/common.js";
import { contentHash } from "../../src/util/hash.js";
import { signalIds, verdict } from "../helpers/engine.js";

/** Engine cases are data (data/engine-cases/*.yaml): a request over a base, and what the verdict must hold. */
const CaseFileSchema = z.strictObject({
  id: z.string().min(1),
  version: z.string().min(1),
  base: z.record(z.string(), z.unknown()),
  cases: z.array(
    z.strictObject({
      name: z.string().min(1),
      request: z.record(z.string(), z.unknown()),
      expect: z.strictObject({
        decision: DecisionValueSchema,
        classification: z.string().optional(),
        actionClass: z.string().optional(),
        effectiveClass: z.string().optional(),
        signals: z.array(z.string()).optional(),
        relaxable: z.boolean().optional(),
        needsNuance: z.boolean().optional(),
        unexplained: z.array(z.string()).optional(),
      }),
    }),
  ),
});

const dir = dataPath("engine-cases");
for (const file of readdirSync(dir).filter((f) => f.endsWith(".yaml"))) {
  const doc = CaseFileSchema.parse(parse(readFileSync(`${dir}/${file}`, "utf8")));
  describe(`engine cases ${doc.id}@${doc.version} (${contentHash(doc)})`, () => {
    it.each(doc.cases.map((c) => [c.name, c] as const))("%s", (_name, c) => {
      const request: Record<string, unknown> = { ...doc.base, ...c.request };
      for (const [k, v] of Object.entries(request)) if (v === null) delete request[k];
      const v = verdict(request);
      const e = c.expect;
      expect(v.decision, v.classification).toBe(e.decision);
      if (e.classification) expect(v.classification).toBe(e.classification);
      if (e.actionClass) expect(v.facts.actionClass).toBe(e.actionClass);
      if (e.effectiveClass) expect(v.facts.effectiveClass).toBe(e.effectiveClass);
      for (const id of e.signals ?? []) expect(signalIds(v)).toContain(id);
      if (e.relaxable !== undefined) expect(v.facts.relaxable).toBe(e.relaxable);
      if (e.needsNuance !== undefined) expect(v.facts.needsNuance).toBe(e.needsNuance);
      if (e.unexplained) expect(v.facts.unexplained).toEqual(e.unexplained);
    });
  });
}
