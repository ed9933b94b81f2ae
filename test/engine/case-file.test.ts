import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { CaseFileSchema, caseFileJsonSchema, SCHEMA_FILE } from "./case-file.js";

describe("the engine case file format", () => {
  it("the committed JSON Schema is the one zod generates (regenerate: npx tsx test/engine/case-file.ts)", () => {
    expect(JSON.parse(readFileSync(SCHEMA_FILE, "utf8"))).toEqual(caseFileJsonSchema());
  });

  it("refuses a misspelt expectation or fact, naming it, rather than checking nothing", () => {
    const file = (expectation: Record<string, unknown>) => ({
      id: "x",
      version: "1.0.0",
      base: {},
      cases: [{ name: "n", request: {}, expect: { decision: "allow", ...expectation } }],
    });
    expect(CaseFileSchema.safeParse(file({})).success).toBe(true);
    expect(() => CaseFileSchema.parse(file({ signal: ["x"] }))).toThrow(/signal/);
    expect(() => CaseFileSchema.parse(file({ facts: { hardDenied: true } }))).toThrow(/hardDenied/);
    expect(() => CaseFileSchema.parse(file({ reasoning: { role: ["x"] } }))).toThrow(/role/);
    expect(() => CaseFileSchema.parse(file({ decision: "permit" }))).toThrow(/decision/);
  });
});
