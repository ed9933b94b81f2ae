import { createEngine } from "../engine/index.js";
import type { LoadedPolicy } from "../policy/load.js";
import { type ChatMessage, renderPrompt, toChatMessages } from "../prompts/render.js";
import type { PromptVariant } from "../prompts/variant.js";
import type { Advice, CompactAdvice } from "../schemas/decision.js";
import { CodedError } from "../schemas/error-codes.js";
import { InvalidRequestError } from "../schemas/errors.js";
import type { DecisionRecord } from "../schemas/records.js";
import { parseRequest } from "../schemas/request.js";
import type { DecisionLog } from "../store/types.js";
import { isOverride } from "./measures.js";

/** Fewer corrections than this and a fine-tune learns more noise than policy: refuse unless forced. */
export const MIN_CORRECTIONS = 50;

export interface ExportOptions {
  since?: string;
  until?: string;
  force?: boolean;
  /** The policy the rules findings in each prompt come from (the service's). */
  policy: LoadedPolicy;
  /** The prompt variant whose messages the examples reproduce. */
  variant: PromptVariant;
}

export interface ExportResult {
  /** One JSON object per line: {"messages": [...], "metadata": {...}}. */
  lines: string[];
  reviewed: number;
  corrections: number;
  agreements: number;
  skipped: { decisionId: string; reason: string }[];
}

export class NotEnoughCorrectionsError extends CodedError<"not_enough_corrections"> {
  constructor(readonly corrections: number) {
    super(
      "not_enough_corrections",
      `only ${corrections} correction${corrections === 1 ? "" : "s"} in the reviewed decisions (reviews whose final decision differs from the advice); ` +
        `at least ${MIN_CORRECTIONS} are needed for a useful fine-tuning set. Use --force to export anyway.`,
    );
    this.name = "NotEnoughCorrectionsError";
  }
}

/**
 * The answer a reviewer would have wanted: the advice with the reviewer's final decision, in the answer
 * shape of the variant the examples are for. For a correction the reviewer's category and notes lead the
 * context step, so that the example does not teach the old argument for the new decision.
 */
function correctedAdvice(
  r: DecisionRecord,
  variant: PromptVariant,
): Advice | Omit<CompactAdvice, "policyReferences"> {
  const d = r.decision;
  const review = r.review!;
  const corrected = review.finalDecision !== d.decision;
  const note = corrected
    ? `Reviewer correction (${review.category.replace("_", " ")}): the decision is ${review.finalDecision}, not ${d.decision}.${review.notes ? ` ${review.notes}` : ""} `
    : "";
  const context = `${note}${d.reasoning.context}`.trim();
  if (variant.answer === "compact") {
    // What the compact grammar lets the model write: references and the fact checks are the rules'.
    return {
      classification: d.classification,
      riskLevel: d.riskLevel,
      decision: review.finalDecision,
      context,
    };
  }
  return {
    decision: review.finalDecision,
    classification: d.classification,
    riskLevel: d.riskLevel,
    reasoning: { ...d.reasoning, context },
    policyReferences: d.policyReferences,
  };
}

/**
 * Reviewed decisions as chat examples for fine-tuning: the same system and user messages the model
 * sees at inference (prompt variant + rules findings for the logged request), and the reviewed answer
 * as the assistant message. Requests that no longer validate (masked fields) are skipped and listed.
 */
export async function exportExamples(store: DecisionLog, opts: ExportOptions): Promise<ExportResult> {
  const records = await store.query({
    reviewed: true,
    ...(opts.since ? { since: opts.since } : {}),
    ...(opts.until ? { until: opts.until } : {}),
    order: "asc",
  });
  const corrections = records.filter(isOverride).length;
  if (corrections < MIN_CORRECTIONS && !opts.force) throw new NotEnoughCorrectionsError(corrections);
  const engine = createEngine(opts.policy);
  const lines: string[] = [];
  const skipped: ExportResult["skipped"] = [];
  for (const r of records) {
    let messages: ChatMessage[];
    try {
      const parsed = parseRequest(r.input);
      const verdict = engine.evaluate(parsed.situation);
      messages = toChatMessages(renderPrompt(opts.variant, { situation: parsed.situation, verdict }));
    } catch (err) {
      const why = err instanceof InvalidRequestError ? err.message : (err as Error).message;
      skipped.push({ decisionId: r.decisionId, reason: `${why} (masked or changed fields?)` });
      continue;
    }
    messages.push({ role: "assistant", content: JSON.stringify(correctedAdvice(r, opts.variant)) });
    lines.push(
      JSON.stringify({
        messages,
        metadata: {
          decisionId: r.decisionId,
          tier: r.tier,
          advice: r.decision.decision,
          final: r.review!.finalDecision,
          category: r.review!.category,
          reviewer: r.review!.reviewer,
          versions: r.decision.versions,
          prompt: opts.variant.version,
        },
      }),
    );
  }
  return { lines, reviewed: records.length, corrections, agreements: records.length - corrections, skipped };
}
