import { h } from "./dom.js";

/**
 * Renders any JSON value (the logged request) as nested lists. Strings are text nodes, so whatever a caller
 * put in a free-text field shows as typed, markup included, and is never interpreted.
 */
export function jsonView(value: unknown, depth = 0): HTMLElement {
  if (Array.isArray(value)) {
    if (value.length === 0) return h("span", { class: "json-empty" }, "(empty list)");
    return h(
      "ol",
      { class: "json-list" },
      value.map((v) => h("li", {}, jsonView(v, depth + 1))),
    );
  }
  if (typeof value === "object" && value !== null) {
    const entries = Object.entries(value);
    if (entries.length === 0) return h("span", { class: "json-empty" }, "(empty)");
    return h(
      "dl",
      { class: depth === 0 ? "json-object json-root" : "json-object" },
      entries.map(([k, v]) =>
        h("div", { class: "json-entry" }, h("dt", {}, k), h("dd", {}, jsonView(v, depth + 1))),
      ),
    );
  }
  if (typeof value === "string") return h("span", { class: "json-string" }, value);
  if (value === null || value === undefined) return h("span", { class: "json-null" }, "null");
  return h("span", { class: "json-scalar" }, String(value));
}
