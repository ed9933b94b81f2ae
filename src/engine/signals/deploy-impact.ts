import type { Detector } from "./types.js";

const AUTO_DEPLOY =
  /\b(auto[- ]?(matically)?[- ]?(deploy|deployed|deploys|deploying|released?|ships?|shipped|rolled out|rolls out|applied|synced|promoted)|auto[- ]?deploy\w*|continuous(ly)?[- ]deploy\w*|continuous delivery|deployed automatically|rolled out automatically|released automatically|applied automatically|goes? (straight|directly|live)|ships? (straight|directly)|git-?ops|auto[- ]?sync\w*|(on|upon|after) merge[^.;]{0,30}\b(deploy|live|production|prod|rolled out)|merg\w* (to|into) \w+ (triggers?|deploys?|ships?)|triggers? an? (automatic |automated )?(production |prod )?(deploy|release|rollout))\b/;
const PRODUCTION = /\b(prod|production|live|customers?|all users|every user)\b/;
const NEGATED =
  /\b(does not|doesn't|do not|don't|never|no longer|not|without)\b[^.;]{0,15}\bauto[- ]?(matically)?[- ]?deploy|\bmanual (deploy\w*|approval|promotion|release|gate)\b[^.;]{0,20}\b(required|needed|step)|\brequires? (a )?manual\b/;
const STAGING_ONLY = /\b(staging|stage|dev|test|qa|preview|sandbox)\b/;

/** A write whose real effect reaches production automatically (config rolled out on merge): a deploy in disguise. */
export const detectDeployImpact: Detector = (ctx) => {
  if (ctx.actionClass !== "write") return [];
  for (const t of ctx.texts) {
    if (!t.narrative) continue;
    for (const sentence of t.sentences) {
      if (!AUTO_DEPLOY.test(sentence) || NEGATED.test(sentence)) continue;
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
