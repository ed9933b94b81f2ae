import type { PolicyDocument } from "../../policy/schema.js";
import type { Situation } from "../../schemas/situation.js";

export type ApprovalCheck =
  | { state: "absent" }
  | { state: "valid"; approver: string; approvedAt: string }
  | { state: "invalid"; reason: string; approver?: string };

const CLASS_ROLES = (doc: PolicyDocument, approver: string, cls: string): boolean => {
  const role = Object.hasOwn(doc.actors, approver) ? doc.actors[approver] : undefined;
  const def = role === undefined ? undefined : doc.roles[role];
  return def !== undefined && (def.classes.includes(cls as never) || def.classes.includes("admin"));
};

/**
 * The policy's one approval field, checked: `{approver, approved_at}` where the approver is in the actor
 * directory with a role that may do this class of action, is not the actor, and approved no later than
 * the request and within the policy's maximum age. Anything else is no approval at all.
 */
export function checkApproval(
  s: Situation,
  doc: PolicyDocument,
  actionClass: string,
  instant: Date | undefined,
): ApprovalCheck {
  const field = doc.approvals.field;
  if (!Object.hasOwn(s, field)) return { state: "absent" };
  const v = (s as Record<string, unknown>)[field];
  if (typeof v !== "object" || v === null || Array.isArray(v))
    return { state: "invalid", reason: `${field} is not an object {approver, approved_at}` };
  const o = v as Record<string, unknown>;
  const approver = typeof o.approver === "string" ? o.approver.trim() : "";
  const at = typeof o.approved_at === "string" ? Date.parse(o.approved_at) : Number.NaN;
  if (!approver) return { state: "invalid", reason: `${field}.approver is missing` };
  if (Number.isNaN(at))
    return { state: "invalid", reason: `${field}.approved_at is not an ISO date-time`, approver };
  if (approver === s.actor_id.trim())
    return { state: "invalid", reason: `${field}.approver is the actor itself (self-approval)`, approver };
  if (!CLASS_ROLES(doc, approver, actionClass))
    return {
      state: "invalid",
      reason: `${field}.approver ${approver} is not in the actor directory with a role that may approve ${actionClass} actions`,
      approver,
    };
  const now = instant?.getTime() ?? Date.now();
  if (at > now + 60_000)
    return { state: "invalid", reason: `${field}.approved_at is after the request`, approver };
  if (now - at > doc.approvals.maxAgeHours * 3_600_000)
    return {
      state: "invalid",
      reason: `${field}.approved_at is more than ${doc.approvals.maxAgeHours} h before the request`,
      approver,
    };
  return { state: "valid", approver, approvedAt: new Date(at).toISOString() };
}
