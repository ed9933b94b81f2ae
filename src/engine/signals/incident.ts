import { checkApproval } from "./approval.js";
import type { Detector, Finding } from "./types.js";

const INACTIVE = new Set([
  "not",
  "no",
  "none",
  "resolved",
  "closed",
  "inactive",
  "mitigated",
  "over",
  "ended",
  "false",
  "0",
]);

/**
 * An active incident, and whether a human approver is available: emergencies keep a human in the loop.
 * The incident comes from the policy's one incident field; the approval from its one approval field, checked.
 * Text that claims an emergency (see detectEmergencyClaim) can only raise scrutiny, never open break-glass.
 */
export const detectIncident: Detector = (ctx) => {
  const { incidentField, activeValues } = ctx.doc.emergency;
  if (!Object.hasOwn(ctx.s, incidentField)) return [];
  const raw = (ctx.s as Record<string, unknown>)[incidentField];
  const value = typeof raw === "string" ? raw.trim().toLowerCase() : "";
  // "SEV2 ongoing" is active; "resolved", "not active", "sev2 closed" are not.
  const words = value.split(/[^a-z0-9]+/).filter(Boolean);
  const active = new Set(activeValues.map((v) => v.toLowerCase()));
  if (!words.some((w) => active.has(w)) || words.some((w) => INACTIVE.has(w))) return [];
  const approval = checkApproval(ctx.s, ctx.doc, ctx.actionClass, ctx.instant);
  const oversight = approval.state === "valid";
  const changes = ctx.actionClass !== "read";
  const approvalWords =
    approval.state === "valid"
      ? `approved by ${approval.approver} at ${approval.approvedAt}`
      : approval.state === "invalid"
        ? `no valid approval (${approval.reason})`
        : "no approval";
  const detail = `${incidentField}: ${value}; ${approvalWords}`;
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
      ? `in the context of an active incident (${value}), with approval by ${approval.state === "valid" ? approval.approver : ""}`
      : changes
        ? `in the context of an active incident (${incidentField} ${value}) and ${approvalWords}, the change needs human oversight`
        : "in the context of an active incident, but a read changes nothing",
    emergency: { oversight },
  };
  return [f];
};
