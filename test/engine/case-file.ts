/**
 * The format of the engine case files (test/engine/cases/*.yaml). case-file.schema.json beside them is
 * generated from this schema for editors and readers; regenerate it after a change here with
 * `npx tsx test/engine/case-file.ts` (test/engine/case-file.test.ts fails while the two differ).
 */
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import type { EngineFacts } from "../../src/engine/types.js";
import { ActionClassSchema } from "../../src/policy/schema.js";
import { DecisionValueSchema, RiskLevelSchema } from "../../src/schemas/common.js";
import { ReasoningSchema, SignalSchema, TierSchema } from "../../src/schemas/decision.js";

export const CASES_DIR = fileURLToPath(new URL("cases/", import.meta.url));
export const SCHEMA_FILE = fileURLToPath(new URL("cases/case-file.schema.json", import.meta.url));

const word = z.string().min(1);

/** Facts of the verdict (EngineFacts); each one given must equal the verdict's. */
const FactsSchema = z
  .strictObject({
    role: word.nullable(),
    roleKnown: z.boolean(),
    rolePermits: z.boolean(),
    actionClass: ActionClassSchema,
    effectiveClass: ActionClassSchema,
    resourceIds: z.array(word),
    production: z.boolean(),
    critical: z.boolean(),
    trust: z.number(),
    threshold: z.number(),
    trustBand: z.enum(["far_below", "borderline", "narrow", "meets"]),
    hardDeny: z.boolean(),
    needsNuance: z.boolean(),
    confident: z.boolean(),
    uncertain: z.boolean(),
    unexplained: z.array(word),
    relaxable: z.boolean(),
  })
  .partial()
  .describe("Facts of the verdict that must equal these (arrays in order)");

// Every fact named here is one the engine reports, and with the engine's type.
type _FactsFit =
  z.infer<typeof FactsSchema> extends Partial<EngineFacts>
    ? Exclude<keyof z.infer<typeof FactsSchema>, keyof EngineFacts> extends never
      ? true
      : never
    : never;
const _factsFit: _FactsFit = true;
void _factsFit;

const ReasoningFragmentsSchema = z
  .partialRecord(ReasoningSchema.keyof(), z.array(word).min(1))
  .describe("Per reasoning step, substrings its sentence must contain");

export const ExpectSchema = z
  .strictObject({
    decision: z
      .union([DecisionValueSchema, z.array(DecisionValueSchema).min(2)])
      .describe("The decision, or the decisions of which it must be one"),
    classification: word.optional(),
    riskLevel: RiskLevelSchema.optional(),
    tier: TierSchema.optional(),
    signals: z.array(word).optional().describe("Signal ids that must be raised"),
    absentSignals: z.array(word).optional().describe("Signal ids that must not be raised"),
    noSignalsAbove: SignalSchema.shape.severity
      .optional()
      .describe("No signal may be more severe than this (info: nothing that warns)"),
    facts: FactsSchema.optional(),
    rules: z
      .array(word)
      .optional()
      .describe("The rule ids the verdict's policy references cite, exactly and in order"),
    reasoning: ReasoningFragmentsSchema.optional(),
  })
  .describe("What must hold of the verdict");

export const CaseSchema = z.strictObject({
  name: word.describe("The test's name"),
  standalone: z
    .boolean()
    .optional()
    .describe("The request is the whole input (e.g. an R6Request), not merged over the file's base"),
  request: z
    .record(z.string(), z.unknown())
    .describe("Fields merged over the file's base; a field set to null is removed"),
  expect: ExpectSchema,
});

export const CaseFileSchema = z
  .strictObject({
    id: z
      .string()
      .regex(/^[a-z][a-z0-9-]*$/)
      .describe("The file's name without .yaml"),
    version: z
      .string()
      .regex(/^\d+\.\d+\.\d+$/)
      .describe("Raised when a case changes; with the content hash it names the file in the test output"),
    base: z.record(z.string(), z.unknown()).describe("The request every case starts from"),
    cases: z.array(CaseSchema).min(1),
  })
  .describe("Engine cases: requests the rules engine must answer in a stated way");

export type CaseFile = z.infer<typeof CaseFileSchema>;
export type Case = z.infer<typeof CaseSchema>;

/** The JSON Schema of a case file, as zod exports it. */
export function caseFileJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(CaseFileSchema, { target: "draft-2020-12" }),
    title: "policy-advisor engine case file",
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(SCHEMA_FILE, `${JSON.stringify(caseFileJsonSchema(), null, 2)}\n`);
  console.log(`wrote ${SCHEMA_FILE}`);
}
