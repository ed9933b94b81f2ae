import { api } from "../api.js";
import { h, render } from "../dom.js";
import { DECISION_LABEL, humanize, ms, summarize, when } from "../format.js";
import type { Page } from "../page.js";
import { jsonView } from "../request-view.js";
import { href } from "../router.js";
import type { DecisionRecord } from "../types.js";
import { decisionBadge, errorBox, facts, loading, modeBadge, pageHeading, riskBadge } from "../widgets.js";
import { afterReview, reviewForm } from "./review-form.js";

const STEPS: [keyof DecisionRecord["decision"]["reasoning"], string][] = [
  ["roleCheck", "1. Role check"],
  ["trustCheck", "2. Trust check"],
  ["environment", "3. Environment"],
  ["context", "4. Context"],
];

function recommendation(r: DecisionRecord): HTMLElement {
  const d = r.decision;
  return h(
    "section",
    { class: `recommendation rec-${d.decision}`, "aria-labelledby": "rec-title" },
    h(
      "p",
      { id: "rec-title", class: "rec-line" },
      "Advisor recommends: ",
      h("strong", { class: "rec-value" }, DECISION_LABEL[d.decision].toUpperCase()),
    ),
    h(
      "p",
      { class: "rec-meta" },
      riskBadge(d.riskLevel),
      " ",
      h("span", { class: "classification" }, humanize(d.classification)),
    ),
    d.fallbackCause ? h("p", { class: "note" }, `Fail-closed fallback: ${d.fallbackCause}`) : null,
    d.versions.modelSynthetic
      ? h(
          "p",
          { class: "note synthetic" },
          "Decided with a synthetic model (random weights, for tests): what the model said is noise, not advice.",
        )
      : null,
    h(
      "button",
      {
        type: "button",
        class: "secondary jump",
        // A button, not an in-page anchor: the URL fragment holds the console's route.
        onclick: () => {
          const first =
            document.querySelector<HTMLElement>(".review-form input:checked") ??
            document.querySelector<HTMLElement>(".review-form input[type=radio]");
          first?.scrollIntoView({ block: "center" });
          first?.focus();
        },
      },
      r.review ? "Go to the review" : "Review this advice",
    ),
    d.disagreement
      ? h(
          "p",
          { class: "note" },
          `Rules said ${DECISION_LABEL[d.disagreement.engine]}, the model said ${DECISION_LABEL[d.disagreement.llm]}; ` +
            `the ${d.disagreement.kept === "engine" ? "rules" : "model"} answer stood: ${d.disagreement.why}`,
        )
      : null,
  );
}

/** Control (the caller's current engine) next to the advice, when the caller sent one. */
function controlVsAdvice(r: DecisionRecord): HTMLElement | null {
  if (!r.control) return null;
  const mismatch = r.control !== r.decision.decision;
  return h(
    "section",
    { class: "panel", "aria-labelledby": "cva-title" },
    h(
      "h3",
      { id: "cva-title" },
      mismatch ? "Control vs advice: they differ" : "Control vs advice: they agree",
    ),
    h(
      "div",
      { class: "side-by-side" },
      h("div", { class: "side" }, h("h4", {}, "Control (caller's current engine)"), decisionBadge(r.control)),
      h("div", { class: "side" }, h("h4", {}, "Advice (policy-advisor)"), decisionBadge(r.decision.decision)),
      h(
        "div",
        { class: "side" },
        h("h4", {}, `Applied (${r.mode} mode)`),
        decisionBadge(r.effectiveDecision),
      ),
    ),
  );
}

/** The four steps of the framework, all shown at once: a reviewer reads them together, not one by one. */
function reasoning(r: DecisionRecord): HTMLElement {
  return h(
    "section",
    { class: "panel", "aria-labelledby": "reasoning-title" },
    h("h3", { id: "reasoning-title" }, "Reasoning"),
    h(
      "ol",
      { class: "steps" },
      STEPS.map(([key, label]) =>
        h(
          "li",
          { class: "step" },
          h("h4", { class: "step-title" }, label),
          h("p", { class: "step-text" }, r.decision.reasoning[key]),
        ),
      ),
    ),
  );
}

function signalsAndRefs(r: DecisionRecord): HTMLElement {
  const d = r.decision;
  return h(
    "div",
    { class: "two-col" },
    h(
      "section",
      { class: "panel", "aria-labelledby": "signals-title" },
      h("h3", { id: "signals-title" }, `Signals (${d.signals.length})`),
      d.signals.length === 0
        ? h("p", { class: "muted" }, "No signal was raised.")
        : h(
            "ul",
            { class: "signals" },
            d.signals.map((s) =>
              h(
                "li",
                {},
                h("span", { class: `badge sev-${s.severity}` }, s.severity),
                " ",
                h("code", {}, s.id),
                ": ",
                s.detail,
              ),
            ),
          ),
    ),
    h(
      "section",
      { class: "panel", "aria-labelledby": "refs-title" },
      h("h3", { id: "refs-title" }, `Policy references (${d.policyReferences.length})`),
      d.policyReferences.length === 0
        ? h("p", { class: "muted" }, "No policy rule was cited.")
        : h(
            "ul",
            { class: "refs" },
            d.policyReferences.map((p) => h("li", {}, p)),
          ),
    ),
  );
}

/** The model's id; a synthetic model (random weights) says so, since its answers are noise. */
export function modelText(v: DecisionRecord["decision"]["versions"]): string {
  if (!v.model) return "none (rules)";
  return v.modelSynthetic ? `${v.model}: synthetic model (random weights, its answers are noise)` : v.model;
}

function metadata(r: DecisionRecord): HTMLElement {
  const d = r.decision;
  return facts("Decision facts", [
    ["Received", h("time", { datetime: r.createdAt }, when(r.createdAt))],
    ["Tier", humanize(r.tier)],
    ["Mode", modeBadge(r.mode)],
    ["Applied decision", decisionBadge(r.effectiveDecision)],
    ["Source", d.source],
    ["Latency", ms(d.latencyMs)],
    ["Policy version", h("code", {}, d.versions.policy)],
    ["Prompt version", d.versions.prompt ?? "none (rules)"],
    ["Model", modelText(d.versions)],
    ["Request shape", r.shape === "r6" ? "R6Request" : "situation"],
  ]);
}

function requestSection(r: DecisionRecord): HTMLElement {
  return h(
    "section",
    { class: "panel", "aria-labelledby": "request-title" },
    h("h3", { id: "request-title" }, "Request"),
    h("div", { class: "request" }, jsonView(r.input)),
    h(
      "details",
      { class: "raw" },
      h("summary", {}, "Raw JSON"),
      h("pre", {}, JSON.stringify(r.input, null, 2)),
    ),
  );
}

/** One decision: the request, the advice and its reasoning, and the review form. */
export const detailPage: Page = async (ctx) => {
  const id = ctx.route.path[1] ?? "";
  render(ctx.main, ...pageHeading("Decision"), loading(`decision ${id}`));
  let record: DecisionRecord;
  try {
    record = await api.decision(id);
  } catch (err) {
    if (!ctx.isCurrent()) return;
    render(
      ctx.main,
      ...pageHeading("Decision"),
      errorBox(err, `decision ${id}`),
      h("p", {}, h("a", { href: href("/queue") }, "Back to the queue")),
    );
    return;
  }
  if (!ctx.isCurrent()) return;

  const show = (rec: DecisionRecord, savedNote: HTMLElement | null): void => {
    const s = summarize(rec);
    render(
      ctx.main,
      ...pageHeading(`${s.action || "(no action)"} by ${s.actor || "(unknown actor)"}`),
      h("p", { class: "muted" }, "Decision ", h("code", {}, rec.decisionId)),
      savedNote,
      recommendation(rec),
      metadata(rec),
      controlVsAdvice(rec),
      reasoning(rec),
      signalsAndRefs(rec),
      requestSection(rec),
      reviewForm(rec, (updated) => {
        void afterReview(updated, rec).then((note) => {
          if (!ctx.isCurrent()) return;
          show(updated, note);
          note.querySelector<HTMLElement>("[role=status]")?.focus();
        });
      }),
    );
  };
  show(record, null);
};
