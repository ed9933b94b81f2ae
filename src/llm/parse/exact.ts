import {
  AdviceSchema,
  type AnswerShape,
  CompactAdviceSchema,
  isCompactAdvice,
  type ModelAdvice,
} from "../../schemas/decision.js";
import { cleanText, normaliseClassification } from "./normalise.js";
import { failure, type ParseResult } from "./result.js";

/**
 * Reads JSON that a grammar made follow the answer shape's schema, checked against that schema exactly:
 * no search for an object in prose, no second format. Only a cut answer (or a grammar bug) fails.
 */
export function parseExactJson(text: string, answer: AnswerShape): ParseResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return failure("no_answer", `not JSON: ${(err as Error).message}`);
  }
  const r = (answer === "compact" ? CompactAdviceSchema : AdviceSchema).safeParse(value);
  if (!r.success) {
    const issue = r.error.issues[0];
    return failure(
      "invalid_value",
      `the JSON does not match the ${answer} advice schema: ${issue?.path.join(".") || "(root)"}: ${issue?.message}`,
    );
  }
  // The grammar bounds the label's length, not its form: make it the snake_case label the contract shows, as
  // the JSON and free-text parsers do for a server's answer.
  const classification = normaliseClassification(r.data.classification) || "unclassified";
  const advice = r.data;
  // Whitespace-only text reads as missing, as the parsers mark it.
  const said = (t: string) => cleanText(t) || "(not stated)";
  const read: ModelAdvice = isCompactAdvice(advice)
    ? { ...advice, classification, context: said(advice.context) }
    : {
        ...advice,
        classification,
        reasoning: {
          roleCheck: said(advice.reasoning.roleCheck),
          trustCheck: said(advice.reasoning.trustCheck),
          environment: said(advice.reasoning.environment),
          context: said(advice.reasoning.context),
        },
      };
  return { ok: true, advice: read, format: "json", warnings: [] };
}
