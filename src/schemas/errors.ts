import { z } from "zod";
import { CodedError } from "./error-codes.js";

export interface FieldIssue {
  path: string;
  message: string;
}

/** Bad input from a caller: each bad field by path. Never carries a stack trace to the user. */
export class InvalidRequestError extends CodedError<"invalid_request"> {
  constructor(
    readonly issues: FieldIssue[],
    summary = "invalid request",
  ) {
    super(
      "invalid_request",
      `${summary}: ${issues.map((i) => `${i.path || "(root)"}: ${i.message}`).join("; ")}`,
    );
    this.name = "InvalidRequestError";
  }
}

export function pathToString(path: ReadonlyArray<PropertyKey>): string {
  let out = "";
  for (const p of path) {
    if (typeof p === "number") out += `[${p}]`;
    else out += out ? `.${String(p)}` : String(p);
  }
  return out;
}

export function issuesFromZod(error: z.ZodError, prefix = ""): FieldIssue[] {
  return error.issues.map((i) => {
    const path = pathToString(i.path);
    let message = i.message;
    if (i.code === "invalid_type" && /received undefined/.test(message)) message = "required";
    return { path: prefix && path ? `${prefix}.${path}` : prefix || path, message };
  });
}

/** What a value is, in words: "a string", "an array", "null". NaN only comes from coercing text (a query). */
function kindOf(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "number" && Number.isNaN(v)) return "text that is not a number";
  if (typeof v === "object") return "an object";
  if (typeof v === "string") return v === "" ? "an empty string" : "a string";
  return `a ${typeof v}`;
}

const article = (noun: string) => (/^[aeiou]/.test(noun) ? `an ${noun}` : `a ${noun}`);
const EXPECTED: Record<string, string> = {
  int: "a whole number",
  nan: "NaN",
  null: "null",
  undefined: "nothing",
  never: "nothing here",
  record: "an object",
  nonoptional: "a value",
};
const UNITS: Record<string, string> = { string: "characters", array: "items", set: "items", file: "bytes" };

/**
 * Messages in this project's words for every zod issue whose schema sets none of its own: what was
 * expected, and what came instead, never the validation library's phrasing ("Invalid input: ...").
 */
export function plainMessage(issue: z.core.$ZodRawIssue): string | undefined {
  switch (issue.code) {
    case "invalid_type": {
      if (issue.input === undefined) return "required";
      const expected = EXPECTED[issue.expected] ?? article(issue.expected);
      return `expected ${expected}, got ${kindOf(issue.input)}`;
    }
    case "too_small":
    case "too_big": {
      const small = issue.code === "too_small";
      const bound = small ? issue.minimum : issue.maximum;
      const unit = UNITS[issue.origin];
      const exclusive = issue.inclusive === false;
      const what = unit ? `${bound} ${unit}` : String(bound);
      if (issue.exact) return `expected exactly ${what}`;
      if (unit)
        return `expected ${small ? "at least" : "at most"} ${exclusive ? `${small ? "more" : "fewer"} than ` : ""}${what}`;
      return `expected a number ${small ? (exclusive ? "above" : "of at least") : exclusive ? "below" : "of at most"} ${what}`;
    }
    case "invalid_value":
      return issue.values.length === 1
        ? `expected ${JSON.stringify(issue.values[0])}`
        : `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
    case "invalid_format":
      return issue.format === "regex" ? "not in the expected format" : `expected a valid ${issue.format}`;
    case "unrecognized_keys":
      return `unknown field${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => `"${k}"`).join(", ")}`;
    case "not_multiple_of":
      return `expected a multiple of ${issue.divisor}`;
    case "invalid_union":
      return "matches none of the accepted shapes";
    case "invalid_key":
      return "a key is not valid";
    case "invalid_element":
      return "an element is not valid";
    case "custom":
      return "not a valid value";
    default:
      return undefined;
  }
}

// A schema's own message always wins; this replaces only the library's defaults, everywhere.
z.config({ customError: plainMessage });
