import { fieldsNamed } from "../text.js";
import type { Detector, Finding } from "./types.js";

const INACTIVE =
  /^(none|no|false|resolved|closed|inactive|normal|green|ok|0|n\/a|mitigated|postmortem|post-mortem)$/;
const ACTIVE_TEXT =
  /\b((active|ongoing|open|current|major|live|declared|critical)\s+(production\s+|prod\s+|site\s+|customer[- ]facing\s+)?(incident|outage)|incident\s+(is\s+)?(in progress|ongoing|active|open|declared|underway)|outage\b|sev[- ]?[0-2]\b|\bp[01]\b incident|site (is )?down|service (is )?down|emergency|war[- ]room)/;
const RESOLVED_TEXT =
  /\b(resolved|post[- ]?incident|post[- ]?mortem|retro(spective)?|no (active |ongoing )?(incident|outage)|after the (incident|outage)|incident (is )?(closed|over))\b/;
const NO_OVERSIGHT =
  /\b(pending|unavailable|unreachable|not (yet )?(granted|available|reachable|responding)|awaiting|waiting|no response|offline|asleep|out of office|ooo|on leave|on vacation|cannot be reached|can't be reached|none available|missing)\b/;
const OVERSIGHT =
  /^(granted|approved|yes|true|signed[- ]off|given)\b|\b(approved|granted|signed off) (by|at)\b/;

/** An active incident, and whether a human approver is available: emergencies keep a human in the loop. */
export const detectIncident: Detector = (ctx) => {
  const evidence: string[] = [];
  for (const [k, v] of fieldsNamed(ctx.s, /incident|outage|severity|emergency/i)) {
    const val = String(typeof v === "object" ? JSON.stringify(v) : v)
      .toLowerCase()
      .trim();
    if (val && !INACTIVE.test(val)) evidence.push(`${k}: ${val}`);
  }
  for (const t of ctx.texts) {
    if (!t.narrative) continue;
    for (const sentence of t.sentences) {
      if (ACTIVE_TEXT.test(sentence) && !RESOLVED_TEXT.test(sentence))
        evidence.push(`${t.path}: "${sentence.slice(0, 100)}"`);
    }
  }
  if (evidence.length === 0) return [];

  // Oversight: structured approval fields say granted or not; free text can only take oversight away.
  let oversight = false;
  const approvals: string[] = [];
  for (const [k, v] of fieldsNamed(ctx.s, /approv|sign[_-]?off|authori[sz]|oversight|approver/i)) {
    const val = String(typeof v === "object" ? JSON.stringify(v) : v).toLowerCase();
    approvals.push(`${k}: ${val}`);
    if (NO_OVERSIGHT.test(val) || /^approval_pending$/i.test(k)) continue;
    if (OVERSIGHT.test(val)) oversight = true;
  }
  for (const t of ctx.texts) {
    if (
      t.narrative &&
      /\b(approv\w*|approver|oversight|sign[- ]off)\b/.test(t.lower) &&
      NO_OVERSIGHT.test(t.lower)
    ) {
      oversight = false;
      approvals.push(`${t.path}: "${t.lower.slice(0, 80)}"`);
    }
  }
  const changes = ctx.actionClass !== "read";
  const detail = `${evidence.join("; ")}${approvals.length ? `; ${approvals.join("; ")}` : ""}`;
  const f: Finding = {
    id: oversight ? "active_incident" : "emergency_without_oversight",
    severity: oversight || !changes ? "info" : "warn",
    detail,
    effect: oversight || !changes ? "note" : "escalate",
    rule: oversight
      ? "context.incident: during an incident an approved change proceeds on its own merits"
      : "context.incident: an emergency change without an available approver needs human oversight (attestation)",
    step: "context",
    phrase: oversight
      ? "emergency context: an active incident, with approval granted"
      : changes
        ? `emergency context: an active incident (${evidence[0]}) and no approver available${approvals.length ? ` (${approvals.join("; ")})` : ""}, so the change needs human oversight`
        : "emergency context: an active incident, but a read changes nothing",
    emergency: { oversight },
  };
  return [f];
};
