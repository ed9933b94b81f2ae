import { parseJsonAdvice } from "./json.js";
import type { ParseResult } from "./result.js";
import { parseFreeText } from "./text.js";

export * from "./advice-schema.js";
export * from "./exact.js";
export * from "./json.js";
export * from "./result.js";
export * from "./text.js";

/**
 * Reads advice from any model text. The expected format goes first; the other is tried when the first finds
 * no answer at all (a JSON-prompted model that answered in the text form, or the reverse). A failure of the
 * expected format that found an answer but a bad one stands: a second reading must not rescue a bad answer.
 */
export function parseAdvice(raw: string, expected: "json" | "text" = "json"): ParseResult {
  const first = expected === "json" ? parseJsonAdvice(raw) : parseFreeText(raw);
  if (first.ok) return first;
  if (first.failure.code !== "no_answer" && first.failure.code !== "empty") return first;
  const second = expected === "json" ? parseFreeText(raw) : parseJsonAdvice(raw);
  if (second.ok) return second;
  return first.failure.code === "empty" || second.failure.code === "no_answer" ? first : second;
}
