import { h } from "../dom.js";
import { summarize, when } from "../format.js";
import { decisionHref } from "../router.js";
import type { DecisionRecord } from "../types.js";
import type { Column } from "../widgets.js";

/** When the decision was received: the first column of every list of decisions. */
export const receivedColumn: Column<DecisionRecord> = {
  header: "Received",
  cell: (r) => h("time", { datetime: r.createdAt }, when(r.createdAt)),
};

/** "action by actor", linking to the decision's page; `linkClass` styles the link (e.g. a whole-row link). */
export function requestColumn(linkClass?: string): Column<DecisionRecord> {
  return {
    header: "Request",
    cell: (r) => {
      const s = summarize(r);
      return h(
        "a",
        { href: decisionHref(r.decisionId), ...(linkClass ? { class: linkClass } : {}) },
        `${s.action || "(no action)"} by ${s.actor || "(unknown actor)"}`,
      );
    },
  };
}
