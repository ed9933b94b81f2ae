import { api, type ReviewEffects } from "../api.js";
import { h, render, statusLine } from "../dom.js";
import { CATEGORY_LABEL, DECISION_LABEL, humanize, suggestCategory, when } from "../format.js";
import { decisionHref, href } from "../router.js";
import { DECISIONS, type DecisionRecord, type DecisionValue, type ReviewCategory } from "../types.js";
import { errorBox, uid } from "../widgets.js";

const CATEGORIES: readonly ReviewCategory[] = ["agree", "too_strict", "too_permissive", "unclear"];

function radioGroup<T extends string>(
  name: string,
  legend: string,
  values: readonly T[],
  label: (v: T) => string,
  checked: T | undefined,
): HTMLFieldSetElement {
  return h(
    "fieldset",
    { class: "radios" },
    h("legend", {}, legend),
    values.map((v) => {
      const id = uid(`${name}-${v}`);
      return h(
        "div",
        { class: "radio" },
        // Required: the form cannot be sent until the reviewer has chosen in each group.
        h("input", { type: "radio", id, name, value: v, checked: v === checked, required: true }),
        h("label", { for: id }, label(v)),
      );
    }),
  );
}

function checkedValue(form: HTMLFormElement, name: string): string {
  const el = form.elements.namedItem(name);
  return el instanceof RadioNodeList ? el.value : "";
}

/**
 * Agree with the advisor, or override with a final decision, a category and notes. A new review starts with
 * nothing chosen: agreement is recorded only once the reviewer has picked a final decision and a category
 * and sent the form, never by a single click. Updating a review starts from the one recorded.
 */
export function reviewForm(
  record: DecisionRecord,
  onSaved: (updated: DecisionRecord & ReviewEffects) => void,
): HTMLElement {
  const advice = record.decision.decision;
  const existing = record.review;
  const initialFinal = existing?.finalDecision;
  const initialCategory = existing?.category;

  const notesId = uid("notes");
  const message = h("div", { class: "form-message", "aria-live": "polite" });
  const form = h(
    "form",
    { class: "review-form", "aria-labelledby": "review-title" },
    radioGroup("finalDecision", "Final decision", DECISIONS, (d) => DECISION_LABEL[d], initialFinal),
    radioGroup("category", "Category", CATEGORIES, (c) => CATEGORY_LABEL[c], initialCategory),
    h(
      "div",
      { class: "field" },
      h("label", { for: notesId }, "Notes (optional)"),
      h("textarea", { id: notesId, name: "notes", rows: 3, maxlength: 4000 }, existing?.notes ?? ""),
    ),
    h(
      "div",
      { class: "form-buttons" },
      h("button", { type: "submit", class: "primary" }, existing ? "Update review" : "Submit review"),
    ),
    message,
  );

  // Picking a final decision suggests the category that describes it, until the reviewer picks one.
  let categoryTouched = existing !== undefined;
  form.addEventListener("change", (e) => {
    const t = e.target;
    if (!(t instanceof HTMLInputElement)) return;
    if (t.name === "category") categoryTouched = true;
    if (t.name === "finalDecision" && !categoryTouched) {
      const suggested = suggestCategory(advice, t.value as DecisionValue);
      const radio = form.querySelector<HTMLInputElement>(`input[name="category"][value="${suggested}"]`);
      if (radio) radio.checked = true;
    }
  });

  const submit = async (finalDecision: DecisionValue, category: ReviewCategory): Promise<void> => {
    const notes = (form.elements.namedItem("notes") as HTMLTextAreaElement).value;
    if (category === "agree" && finalDecision !== advice) {
      render(
        message,
        statusLine(
          `A final decision of ${DECISION_LABEL[finalDecision]} differs from the advice (${DECISION_LABEL[advice]}): ` +
            "choose the category too strict, too permissive or unclear.",
          "error",
        ),
      );
      return;
    }
    const buttons = form.querySelectorAll("button");
    for (const b of buttons) b.disabled = true;
    render(message, statusLine("Saving the review…"));
    try {
      const updated = await api.review(record.decisionId, { finalDecision, category, notes });
      onSaved(updated);
    } catch (err) {
      render(message, errorBox(err, "the review", "save"));
      for (const b of buttons) b.disabled = false;
    }
  };

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const final = checkedValue(form, "finalDecision") as DecisionValue | "";
    const category = checkedValue(form, "category") as ReviewCategory | "";
    if (!final || !category) {
      render(
        message,
        statusLine(
          `Choose ${!final ? "a final decision" : ""}${!final && !category ? " and " : ""}${!category ? "a category" : ""} first.`,
          "error",
        ),
      );
      return;
    }
    void submit(final, category);
  });

  const current = existing
    ? h(
        "p",
        { class: "existing-review" },
        `Reviewed by ${existing.reviewer || "(unnamed reviewer)"} on ${when(existing.reviewedAt)}: ` +
          `${DECISION_LABEL[existing.finalDecision]} (${CATEGORY_LABEL[existing.category]}).`,
        existing.notes ? h("span", { class: "review-notes" }, ` Notes: ${existing.notes}`) : null,
      )
    : null;

  return h(
    "section",
    { class: "panel review", "aria-labelledby": "review-title" },
    h("h3", { id: "review-title" }, existing ? "Review (already reviewed)" : "Your review"),
    current,
    form,
  );
}

/**
 * What the reviewer sees once a review is saved: what the review caused (it left the queue, it counts in
 * the override rate, or it rolled its tier back at once), then where to go next.
 */
export async function afterReview(
  updated: DecisionRecord & ReviewEffects,
  before: DecisionRecord,
): Promise<HTMLElement> {
  const r = updated.review;
  const summary = r
    ? `Review saved: ${DECISION_LABEL[r.finalDecision]} (${CATEGORY_LABEL[r.category]}).`
    : "Review saved.";
  const tier = humanize(updated.tier);
  const effects: HTMLElement[] = [];
  if (updated.rollback) {
    const rb = updated.rollback;
    effects.push(
      h(
        "p",
        { class: "status status-warn", role: "alert" },
        `This review rolled the ${humanize(rb.tier)} tier back from ${rb.from} to ${rb.to} at once: ${rb.reason}. ` +
          `Callers now apply their own decisions for ${humanize(rb.tier)} requests; the advice is logged and compared. ` +
          "Promote the tier again from the Operator page once the cause is fixed.",
      ),
    );
  } else if (r) {
    const overrides = r.finalDecision !== updated.decision.decision;
    effects.push(
      h(
        "p",
        { class: "effects" },
        [
          before.review ? "The review was updated" : "The decision left the review queue",
          overrides
            ? `; it counts as an override in the ${tier} tier's override rate, which the promotion gates and the automatic rollback watch.`
            : `; it counts as agreement (no override) in the ${tier} tier's override rate.`,
          ` The ${tier} tier's mode did not change.`,
        ].join(""),
      ),
    );
  }
  let next: HTMLElement | null = null;
  try {
    const q = await api.queue({ limit: 1 });
    const first = q.items[0];
    next = first
      ? h("a", { href: decisionHref(first.decisionId) }, `Next in queue (${q.total} waiting)`)
      : h("span", {}, "The queue is now empty.");
  } catch {
    next = null;
  }
  const status = statusLine(summary, "success");
  status.tabIndex = -1;
  return h(
    "div",
    { class: "saved" },
    status,
    ...effects,
    h("p", {}, next, " · ", h("a", { href: href("/queue") }, "Back to the queue")),
  );
}
