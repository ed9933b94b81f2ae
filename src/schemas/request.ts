import { z } from "zod";
import { r6ToSituation } from "./adapters.js";
import { type FieldIssue, InvalidRequestError, issuesFromZod } from "./errors.js";
import { type R6Request, R6RequestSchema } from "./r6.js";
import { type Situation, SituationSchema } from "./situation.js";

/** The two request shapes a decision may be asked in. */
export const RequestShapeSchema = z.enum(["situation", "r6"]);
export type RequestShape = z.infer<typeof RequestShapeSchema>;

/** A validated request in both forms: the engine reads the situation, the log keeps the original. */
export interface ParsedRequest {
  shape: RequestShape;
  situation: Situation;
  original: Situation | R6Request;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** Which shape a body claims to be, from the fields only one of them has. */
export function detectShape(input: Record<string, unknown>): RequestShape | undefined {
  if ("action_type" in input || "t3_tensor" in input || "actor_role" in input) return "situation";
  if ("requestId" in input || "trustState" in input || "actorId" in input || isObject(input.action))
    return "r6";
  return undefined;
}

/** Deepest nesting a request may have: real requests are a few levels deep; deeper ones would exhaust the stack. */
export const MAX_REQUEST_DEPTH = 32;

/**
 * Refuses what no schema should see: nesting deeper than MAX_REQUEST_DEPTH, and "__proto__" keys, which
 * copying would turn into an inherited (invisible) field. Iterative, so hostile depth cannot overflow it.
 */
function checkStructure(input: unknown): FieldIssue[] {
  const issues: FieldIssue[] = [];
  const stack: Array<[unknown, string, number]> = [[input, "", 0]];
  while (stack.length) {
    const [value, path, depth] = stack.pop()!;
    if (typeof value !== "object" || value === null) continue;
    if (depth >= MAX_REQUEST_DEPTH) {
      throw new InvalidRequestError([{ path, message: `nested more than ${MAX_REQUEST_DEPTH} levels deep` }]);
    }
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) stack.push([value[i], `${path}[${i}]`, depth + 1]);
      continue;
    }
    for (const key of Object.keys(value)) {
      const p = path ? `${path}.${key}` : key;
      if (key === "__proto__") issues.push({ path: p, message: "a field may not be named __proto__" });
      else stack.push([(value as Record<string, unknown>)[key], p, depth + 1]);
    }
  }
  return issues;
}

/** Validates a situation or an R6Request; throws InvalidRequestError naming each bad field. */
export function parseRequest(input: unknown): ParsedRequest {
  if (!isObject(input)) {
    throw new InvalidRequestError([
      { path: "", message: "expected a JSON object (a situation or an R6Request)" },
    ]);
  }
  const structural = checkStructure(input);
  const shape = detectShape(input);
  if (shape === undefined) {
    throw new InvalidRequestError([
      {
        path: "",
        message:
          "not a recognisable request: a situation needs action_type, actor_role, actor_id and t3_tensor; " +
          "an R6Request needs requestId, actorId, action, context, trustState and timestamp",
      },
    ]);
  }
  if (shape === "situation") {
    const r = SituationSchema.safeParse(input);
    if (!r.success)
      throw new InvalidRequestError([...issuesFromZod(r.error), ...structural], "invalid situation");
    if (structural.length) throw new InvalidRequestError(structural, "invalid situation");
    return { shape, situation: r.data, original: r.data };
  }
  const r = R6RequestSchema.safeParse(input);
  if (!r.success)
    throw new InvalidRequestError([...issuesFromZod(r.error), ...structural], "invalid R6Request");
  if (structural.length) throw new InvalidRequestError(structural, "invalid R6Request");
  const situation = r6ToSituation(r.data);
  // An R6Request carries no role unless the caller added actorRole; the directory may fill it in later.
  if (situation.actor_role === undefined) (situation as Record<string, unknown>).actor_role = "";
  return { shape, situation: situation as Situation, original: r.data };
}
