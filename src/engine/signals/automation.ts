import { parseCount } from "../text.js";
import type { Detector } from "./types.js";

/**
 * "1,200+ successful deploys", "a long track record". Read on folded text (one space between words), so
 * the blanks around the optional adjective are single optional spaces, which cannot be split two ways.
 */
const RECORD =
  /(?<![\d,.])\b((?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?k?)\+? (?:successful|clean|green|error[- ]free|flawless)? ?(?:automated |unattended )?(deploys?|deployments?|runs?|builds?|releases?|pipelines?|jobs?)\b|\b(established|long|proven|spotless|clean) (track )?record\b/;

/**
 * Automation with an established record and exemplary identity. The mitigation rests on structured
 * evidence (an automation role, identity level, coherence, trust); a record claimed in text only adds detail.
 */
export const detectAutomation: Detector = (ctx) => {
  if (!ctx.role?.automation) return [];
  const im = ctx.s.identity_metrics;
  const { exemplaryCoherence, exemplaryTrust } = ctx.doc.identity;
  const exemplary = typeof im?.level === "string" && /exemplary/i.test(im.level);
  const coherent = im?.coherence === undefined || im.coherence >= exemplaryCoherence;
  if (!exemplary || !coherent || ctx.trust < exemplaryTrust) return [];
  const rec = RECORD.exec(ctx.allLower);
  const count = rec?.[1] ? parseCount(rec[1]) : undefined;
  const record = rec ? (count !== undefined ? `${rec[0].trim()}` : rec[0].trim()) : "no record stated";
  const mitigates = !ctx.production && !ctx.critical;
  return [
    {
      id: "established_automation",
      severity: "info",
      detail: `automation with exemplary identity (level ${im?.level}${im?.coherence !== undefined ? `, coherence ${im.coherence}` : ""}), trust ${ctx.trust.toFixed(2)}; ${record}`,
      effect: mitigates ? "mitigate" : "note",
      rule: mitigates
        ? "context.automation: exemplary automation with a long-established record lowers the risk of non-production work"
        : "context.automation: exemplary automation is noted; production and critical targets keep their risk",
      step: "context",
      phrase: `automation whose identity is rated exemplary, with a long-established working pattern (${record})`,
    },
  ];
};
