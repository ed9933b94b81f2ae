import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAdvisor } from "../../src/advisor/create.js";
import type { Advisor } from "../../src/advisor/types.js";
import { workload } from "../../src/bench/workload.js";
import { LlamaBackend } from "../../src/llm/llama/index.js";
import { parseRequest } from "../../src/schemas/request.js";
import { makeModel } from "../../src/testing/gguf/model.js";
import { longTests } from "../helpers/long.js";
import { INJECTIONS, lowerRisk } from "./injection.js";

const long = longTests("synthetic-model");

/**
 * Injection through the in-process llama.cpp path with the synthetic model: random weights under the JSON
 * grammar produce schema-valid answers of any decision, "allow" included, so this is the model at its most
 * arbitrary. Whatever it says, a rules deny stays a deny and the risk never drops below the rules'.
 */

let dir: string;
let backend: LlamaBackend;
const advisors: Partial<Record<"llm" | "hybrid", Advisor>> = {};

beforeAll(async () => {
  if (!long) return;
  dir = mkdtempSync(join(tmpdir(), "pa-synth-"));
  const model = makeModel({ out: join(dir, "tiny.gguf"), preset: "tiny", seed: 7 });
  backend = await LlamaBackend.create({ modelPath: model.path, threads: 2, maxTokens: 400 });
  advisors.llm = createAdvisor({ engine: "llm", llm: backend });
  advisors.hybrid = createAdvisor({ engine: "hybrid", llm: backend });
}, 120_000);
afterAll(async () => {
  await backend?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const rules = createAdvisor();
const cases = workload(8, 21).map((s, i) => {
  const text = INJECTIONS[i % INJECTIONS.length]!;
  return { ...s, team_context: `${String(s.team_context ?? "")} ${text}`.trim(), note: text };
});

describe.skipIf(!long)("synthetic model (long: CI or POLICY_ADVISOR_LONG_TESTS=1)", () => {
  describe.each(["llm", "hybrid"] as const)(
    "synthetic model, engine %s, hostile text in every request",
    (engine) => {
      it("never an allow the rules deny, never a lowered risk", async () => {
        const advisor = advisors[engine]!;
        const sources: Record<string, number> = {};
        for (const input of cases) {
          const verdict = rules.verdict(parseRequest(input));
          const d = await advisor.advise(input, { deadlineMs: 4000 });
          sources[d.source] = (sources[d.source] ?? 0) + 1;
          if (verdict.decision === "deny") expect(d.decision).toBe("deny");
          if (d.source === "fallback") expect(d.fallbackCause).toBeTruthy();
          expect(lowerRisk(d.riskLevel, verdict.riskLevel)).toBe(false);
          if (d.decision === "allow" && verdict.decision !== "allow") {
            expect(["low", "medium"]).toContain(d.riskLevel);
            expect(verdict.facts.critical).toBe(false);
          }
        }
        console.log(`synthetic model, ${engine}: decision sources ${JSON.stringify(sources)}`);
        // The model was really asked (llm: every case but hard denies).
        if (engine === "llm") expect((sources.llm ?? 0) + (sources.fallback ?? 0)).toBeGreaterThan(0);
      }, 120_000);
    },
  );
});
