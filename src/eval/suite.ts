import { readFileSync } from "node:fs";
import { z } from "zod";
import { DecisionValueSchema, RiskLevelSchema } from "../schemas/common.js";
import { InvalidRequestError, issuesFromZod } from "../schemas/errors.js";
import { type ParsedRequest, parseRequest } from "../schemas/request.js";
import { contentHash } from "../util/hash.js";

/** A scenario suite as FORMAT.md describes it. Unknown fields are kept. */
export const ScenarioSchema = z.looseObject({
  id: z.string().min(1),
  difficulty: z.string().default("unspecified"),
  description: z.string().optional(),
  situation: z.record(z.string(), z.unknown()),
  expected: z.looseObject({
    decision: DecisionValueSchema,
    classification: z.string().optional(),
    riskLevel: RiskLevelSchema.optional(),
    reasoningElements: z.array(z.string()).default([]),
    alsoAcceptable: z.array(DecisionValueSchema).default([]),
  }),
});
export const SuiteSchema = z.looseObject({
  suite: z.string().min(1),
  description: z.string().optional(),
  scenarios: z.array(ScenarioSchema).min(1, { error: "a suite needs at least one scenario" }),
});
export type Scenario = z.infer<typeof ScenarioSchema>;
export type Suite = z.infer<typeof SuiteSchema>;

export interface LoadedSuite {
  suite: Suite;
  /**
   * Each scenario's request, validated and in both shapes; or, for a request the service itself would
   * refuse (a blank actor id, say), the 400 it would answer. A refusal is scored as the caller sees it:
   * nothing is allowed.
   */
  requests: Array<ParsedRequest | RefusedRequest>;
  revision: string;
  source: string;
}

export interface RefusedRequest {
  refused: InvalidRequestError["issues"];
}

export const isRefused = (r: ParsedRequest | RefusedRequest): r is RefusedRequest => "refused" in r;

/** Loads and validates a suite; every bad field is named by its path in the file (scenarios[2].situation.t3_tensor...). */
export function loadSuite(path: string): LoadedSuite {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new InvalidRequestError(
      [
        {
          path: "",
          message: e.code ? `cannot read ${path} (${e.code})` : `${path} is not valid JSON: ${e.message}`,
        },
      ],
      "invalid scenario suite",
    );
  }
  const r = SuiteSchema.safeParse(raw);
  if (!r.success) throw new InvalidRequestError(issuesFromZod(r.error), `invalid scenario suite ${path}`);
  const requests: LoadedSuite["requests"] = [];
  const issues: InvalidRequestError["issues"] = [];
  r.data.scenarios.forEach((sc, i) => {
    try {
      requests.push(parseRequest(sc.situation));
    } catch (err) {
      if (!(err instanceof InvalidRequestError)) throw err;
      // A request that is well-formed JSON but names nobody (blank ids) is a case the suite tests:
      // the service refuses it. Any other invalid request is a mistake in the suite.
      if (err.issues.every((is) => /only whitespace or invisible characters/.test(is.message))) {
        requests.push({ refused: err.issues });
        return;
      }
      for (const is of err.issues)
        issues.push({
          path: `scenarios[${i}].situation${is.path ? `.${is.path}` : ""}`,
          message: is.message,
        });
    }
  });
  if (issues.length) throw new InvalidRequestError(issues, `invalid scenario suite ${path}`);
  return { suite: r.data, requests, revision: contentHash(r.data), source: path };
}
