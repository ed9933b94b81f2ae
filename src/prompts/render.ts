import type { EngineVerdict } from "../engine/types.js";
import type { AnswerShape } from "../schemas/decision.js";
import type { Situation } from "../schemas/situation.js";
import type { PromptFormat, PromptVariant } from "./variant.js";

/**
 * Situation fields the model reads as structured request data. Every other field (team context, history,
 * details, intent, incident notes, anything a caller adds) is free text and goes under "untrusted_text".
 */
const STRUCTURED_FIELDS = [
  "action_type",
  "actor_role",
  "actor_id",
  "resource",
  "timestamp",
  "t3_tensor",
  "identity_metrics",
  "coherence_state",
  "caller_risk_assessment",
  "previous_actions",
  "request_id",
  "session_id",
] as const;

/** Bounds keep a hostile or careless request from flooding the context (and the token budget). */
export const RENDER_LIMITS = {
  structuredString: 200,
  untrustedString: 800,
  arrayItems: 20,
  depth: 4,
  signalDetail: 240,
} as const;

export interface RenderInput {
  situation: Situation;
  verdict: EngineVerdict;
}

export interface RenderedPrompt {
  variantId: string;
  /** "id@sha256:..." */
  version: string;
  format: PromptFormat;
  answer: AnswerShape;
  /** Fixed for every request of this variant: evaluate once per sequence and reuse. */
  prefix: string;
  /** The per-request part: the situation and the rules engine's findings. */
  request: string;
}

export interface ChatMessage {
  role: "system" | "user" | "assistant";
  content: string;
}

function truncate(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max)}…[truncated ${s.length - max} chars]`;
}

function bound(value: unknown, maxString: number, depth = 0): unknown {
  if (typeof value === "string") return truncate(value, maxString);
  if (value === null || typeof value !== "object") return value;
  if (depth >= RENDER_LIMITS.depth) return "[nested data omitted]";
  if (Array.isArray(value)) {
    const items = value.slice(0, RENDER_LIMITS.arrayItems).map((v) => bound(v, maxString, depth + 1));
    if (value.length > RENDER_LIMITS.arrayItems)
      items.push(`[${value.length - RENDER_LIMITS.arrayItems} more omitted]`);
    return items;
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[truncate(k, 64)] = bound(v, maxString, depth + 1);
  return out;
}

/**
 * One-line JSON with markup characters escaped: a value can neither start a new line (JSON escapes it) nor
 * smuggle chat-template tokens such as "<|im_end|>" or a closing tag (angle brackets become \u003c/\u003e).
 */
export function safeJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, "\\u003c")
    .replace(/>/g, "\\u003e")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}

/** The situation as the model sees it: structured fields apart from the free text, which is marked untrusted. */
export function situationForPrompt(situation: Situation): {
  request: Record<string, unknown>;
  untrusted_text: Record<string, unknown>;
} {
  const request: Record<string, unknown> = {};
  const untrusted: Record<string, unknown> = {};
  const structured = new Set<string>(STRUCTURED_FIELDS);
  for (const [k, v] of Object.entries(situation)) {
    if (v === undefined) continue;
    if (structured.has(k)) request[k] = bound(v, RENDER_LIMITS.structuredString);
    else untrusted[truncate(k, 64)] = bound(v, RENDER_LIMITS.untrustedString);
  }
  return { request, untrusted_text: untrusted };
}

/** What the rules engine found, in the shape the worked examples teach. */
export function findingsForPrompt(verdict: EngineVerdict): Record<string, unknown> {
  const f = verdict.facts;
  return {
    role: f.role,
    roleKnown: f.roleKnown,
    rolePermitsActionClass: f.rolePermits,
    actionClass: f.actionClass,
    effectiveClass: f.effectiveClass,
    resources: f.resourceIds,
    production: f.production,
    criticalTarget: f.critical,
    trust: round(f.trust),
    threshold: round(f.threshold),
    trustBand: f.trustBand,
    riskFloor: verdict.riskLevel,
    tier: verdict.tier,
    signals: verdict.signals.map((s) => ({
      id: s.id,
      severity: s.severity,
      detail: truncate(s.detail, RENDER_LIMITS.signalDetail),
    })),
  };
}

const round = (n: number): number => Math.round(n * 1000) / 1000;

/** The per-request part alone (the prefix is variant.prefix). */
export function renderRequest(variant: PromptVariant, input: RenderInput): string {
  const situation = safeJson(situationForPrompt(input.situation));
  const findings = safeJson(findingsForPrompt(input.verdict));
  // A function replacement: "$&" and friends in the data must not be interpreted.
  return variant.requestTemplate
    .replace("{{situation}}", () => situation)
    .replace("{{findings}}", () => findings);
}

export function renderPrompt(variant: PromptVariant, input: RenderInput): RenderedPrompt {
  return {
    variantId: variant.id,
    version: variant.version,
    format: variant.format,
    answer: variant.answer,
    prefix: variant.prefix,
    request: renderRequest(variant, input),
  };
}

/** The chat-completions form: the fixed prefix as the system message, the request as the user message. */
export function toChatMessages(rendered: Pick<RenderedPrompt, "prefix" | "request">): ChatMessage[] {
  return [
    { role: "system", content: rendered.prefix },
    { role: "user", content: rendered.request },
  ];
}

/** The whole prompt as one text, for backends without a chat template (and the reference baseline). */
export function toPlainText(rendered: Pick<RenderedPrompt, "prefix" | "request">): string {
  return `${rendered.prefix}\n\n${rendered.request}\n`;
}
