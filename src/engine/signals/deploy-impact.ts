import { anyOf, Phrase } from "../scan.js";
import type { Detector } from "./types.js";

/*
 * The alternatives of what used to be one big regex, in phrases small enough for the ReDoS analyser to
 * check; they are only tested, so the order does not matter. A stem such as `auto-deploy` stands for
 * `auto-deploy\w*\b`, which holds wherever the stem does. Sentences are folded (one space between words).
 */

/** A change that reaches production by itself: auto-deployed, continuously delivered, rolled out on merge. */
const AUTO_DEPLOY = [
  new Phrase(
    /\bauto[- ]?(?:matically)?[- ]?(?:deploy|deployed|deploys|deploying|released?|ships?|shipped|rolled out|rolls out|applied|synced|promoted)\b|\b(?:auto[- ]?deploy|continuous(?:ly)?[- ]deploy|auto[- ]?sync|git-?ops\b|continuous delivery\b|(?:deployed|rolled out|released|applied) automatically\b|(?:goes? (?:straight|directly|live)|ships? (?:straight|directly))\b)|\btriggers? an? (?:automatic |automated )?(?:production |prod )?(?:deploy|release|rollout)\b/g,
  ),
  new Phrase(/\b(?:on|upon|after) merge/g, [
    [{ max: 30, stops: ".;" }, /\b(?:deploy|live|production|prod|rolled out)\b/y],
  ]),
  new Phrase(/\bmerg/g, [[{ max: 0, stops: "" }, /\w* (?:to|into) \w+ (?:triggers?|deploys?|ships?)\b/y]]),
];
const PRODUCTION = /\b(prod|production|live|customers?|all users|every user)\b/;
/** The sentence says the opposite: no auto-deploy, or a manual step is required. */
const NEGATED = [
  new Phrase(
    /\b(?:does not|doesn't|do not|don't|never|no longer|not|without)\b[^.;]{0,15}\bauto[- ]?(?:matically)?[- ]?deploy|\brequires? (?:a )?manual\b/g,
  ),
  new Phrase(/\bmanual /g, [
    [{ max: 0, stops: "" }, /(?:deploy\w*|approval|promotion|release|gate)\b/y],
    [{ max: 20, stops: ".;" }, /\b(?:required|needed|step)/y],
  ]),
];
const STAGING_ONLY = /\b(staging|stage|dev|test|qa|preview|sandbox)\b/;

/** A write whose real effect reaches production automatically (config rolled out on merge): a deploy in disguise. */
export const detectDeployImpact: Detector = (ctx) => {
  if (ctx.actionClass !== "write") return [];
  for (const t of ctx.texts) {
    if (!t.narrative) continue;
    for (const sentence of t.sentences) {
      if (!anyOf(AUTO_DEPLOY, sentence) || anyOf(NEGATED, sentence)) continue;
      const prodNamed = PRODUCTION.test(sentence);
      if (!prodNamed && !ctx.production) continue;
      if (!prodNamed && STAGING_ONLY.test(sentence)) continue;
      const isConfig = /config|setting|flag|feature[_ -]?flag|env|yaml|json|toml|ini/.test(
        `${ctx.action} ${ctx.resource}`,
      );
      const what = isConfig ? "configuration change" : "change";
      return [
        {
          id: "auto_deploy_production_impact",
          severity: "warn",
          detail: `${t.path}: "${t.text.slice(0, 140)}": this ${what} reaches production without a deploy step`,
          effect: "escalate",
          rule: "context.hidden_deploy: a change rolled out to production automatically is treated as a production deploy",
          step: "context",
          phrase: isConfig
            ? "unlike a code change that waits for a deploy, this configuration change is deployed to production automatically, so it has an impact on production and counts as a production deploy"
            : "this change is deployed to production automatically on merge, so it has an impact on production and counts as a production deploy",
          escalatesTo: "deploy",
        },
      ];
    }
  }
  return [];
};
