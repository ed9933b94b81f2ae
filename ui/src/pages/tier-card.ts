import { api } from "../api.js";
import { h, render, statusLine } from "../dom.js";
import { humanize, when } from "../format.js";
import { MODES, type Mode, type TierRollout } from "../types.js";
import { errorBox, modeBadge, table, uid } from "../widgets.js";
import { measureFacts } from "./measures-view.js";

/**
 * Promote or roll back a tier. Both change what callers apply, so both ask why (the note or reason is
 * recorded with the event). Who is recorded from the reviewer token ("anonymous" with auth off): the
 * sidecar takes no name from the form.
 */
function modeControls(t: TierRollout, onDone: () => void): HTMLElement {
  const msg = h("div", { "aria-live": "polite" });
  const noteId = uid("note");
  const reasonId = uid("reason");
  const toId = uid("to");
  const lower = MODES.filter((m) => MODES.indexOf(m) < MODES.indexOf(t.mode));
  const promote = h(
    "form",
    { class: "inline-form", "aria-label": `Promote ${humanize(t.tier)}` },
    h(
      "div",
      { class: "field" },
      h("label", { for: noteId }, "Why promote (recorded)"),
      h("input", { id: noteId, name: "note", required: true }),
    ),
    h(
      "button",
      { type: "submit", disabled: !t.mayPromote },
      t.nextMode ? `Promote to ${t.nextMode}` : "Already at the highest mode",
    ),
  );
  const rollback = h(
    "form",
    { class: "inline-form", "aria-label": `Roll back ${humanize(t.tier)}` },
    h(
      "div",
      { class: "field" },
      h("label", { for: reasonId }, "Why roll back (recorded)"),
      h("input", { id: reasonId, name: "reason", required: true }),
    ),
    h(
      "div",
      { class: "field" },
      h("label", { for: toId }, "Back to"),
      h(
        "select",
        { id: toId, name: "to", disabled: lower.length === 0 },
        lower.map((m) => h("option", { value: m, selected: m === "shadow" }, m)),
      ),
    ),
    h("button", { type: "submit", class: "danger", disabled: lower.length === 0 }, "Roll back"),
  );
  const run = async (action: "promote" | "roll back", fn: () => Promise<unknown>): Promise<void> => {
    const tierName = `the ${humanize(t.tier)} tier`;
    render(msg, statusLine(`Asking to ${action} ${tierName}…`));
    try {
      await fn();
      render(msg, statusLine(`Done: ${action} ${tierName}.`, "success"));
      onDone();
    } catch (err) {
      render(msg, errorBox(err, tierName, action));
    }
  };
  promote.addEventListener("submit", (e) => {
    e.preventDefault();
    const f = new FormData(promote);
    void run("promote", () => api.promote(t.tier, { note: String(f.get("note") ?? "") }));
  });
  rollback.addEventListener("submit", (e) => {
    e.preventDefault();
    const f = new FormData(rollback);
    const to = String(f.get("to") ?? "shadow") as Mode;
    void run("roll back", () => api.rollback(t.tier, { reason: String(f.get("reason") ?? ""), to }));
  });
  return h("details", { class: "mode-controls" }, h("summary", {}, "Change mode"), promote, rollback, msg);
}

export function tierCard(t: TierRollout, onDone: () => void): HTMLElement {
  const titleId = `tier-${t.tier}`;
  const failing = t.gates.filter((g) => !g.passed).length;
  return h(
    "article",
    { class: "panel tier-card", "aria-labelledby": titleId },
    h("h3", { id: titleId }, humanize(t.tier), " ", modeBadge(t.mode)),
    t.since || (t.configuredMode && t.configuredMode !== t.mode)
      ? h(
          "p",
          { class: "muted" },
          t.since ? `In ${t.mode} mode since ${when(t.since)}.` : "",
          t.configuredMode && t.configuredMode !== t.mode
            ? ` The rollout file says ${t.configuredMode}.`
            : "",
        )
      : null,
    h(
      "p",
      { class: t.mayPromote ? "promote yes" : "promote no" },
      t.mayPromote
        ? `May be promoted to ${t.nextMode ?? "the next mode"}: every gate passes.`
        : !t.nextMode
          ? "At its highest allowed mode."
          : failing > 0
            ? `May not be promoted to ${t.nextMode} yet: ${failing} of ${t.gates.length} gate${t.gates.length === 1 ? "" : "s"} failing.`
            : `May not be promoted to ${t.nextMode}.`,
    ),
    measureFacts(`Measures for ${humanize(t.tier)}`, t.measures, t.measuresSince),
    h(
      "p",
      { class: "muted small" },
      "The gates' evidence: the decisions since the tier entered its mode, within the gates' window.",
    ),
    t.gates.length
      ? table(
          `Gates for ${humanize(t.tier)}`,
          [
            { header: "Gate", cell: (g) => humanize(g.name) },
            {
              header: "Status",
              cell: (g) =>
                h(
                  "span",
                  { class: g.passed ? "gate pass" : "gate fail" },
                  g.passed ? "✔ passed" : "✘ failing",
                ),
            },
            { header: "Detail", cell: (g) => g.detail },
          ],
          t.gates,
        )
      : h("p", { class: "muted" }, "No gate applies to this mode."),
    t.rollbacks.length
      ? table(
          `Rollback events for ${humanize(t.tier)}`,
          [
            { header: "When", cell: (r) => h("time", { datetime: r.at }, when(r.at)) },
            { header: "From → to", cell: (r) => `${r.from ?? "(none)"} → ${r.to}` },
            { header: "Reason", cell: (r) => r.reason },
          ],
          t.rollbacks,
        )
      : h("p", { class: "muted" }, "No rollback so far."),
    h("div", { class: "tier-chart", "data-tier": t.tier }),
    modeControls(t, onDone),
  );
}
