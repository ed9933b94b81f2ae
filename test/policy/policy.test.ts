import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { DEFAULT_POLICY_PATH, loadPolicy, PolicyError, parsePolicy } from "../../src/policy/load.js";

describe("policy documents", () => {
  const text = readFileSync(DEFAULT_POLICY_PATH, "utf8");

  it("loads the bundled default with the five reference roles", () => {
    const p = loadPolicy();
    expect(Object.keys(p.doc.roles).sort()).toEqual(["admin", "ci_bot", "deployer", "developer", "member"]);
    expect(p.revision).toMatch(/^sha256:[0-9a-f]{12}$/);
  });

  it("takes its revision from the content: any edit changes it, formatting does not", () => {
    const a = parsePolicy(text, "a.yaml");
    const b = parsePolicy(`# a comment\n${text}`, "b.yaml");
    const c = parsePolicy(text.replace("borderlineBand: 0.1", "borderlineBand: 0.15"), "c.yaml");
    expect(b.revision).toBe(a.revision);
    expect(c.revision).not.toBe(a.revision);
  });

  it("refuses a bad field with its path", () => {
    expect(() => parsePolicy(text.replace("borderlineBand: 0.1", "borderlineBand: 3"), "x.yaml")).toThrow(
      /trust\.borderlineBand/,
    );
    expect(() =>
      parsePolicy(text.replace("timeZone: America/New_York", "timeZone: Mars/Olympus"), "x.yaml"),
    ).toThrow(/IANA time zone/);
    expect(() => parsePolicy(text.replace('"user:alice": member', '"user:alice": wizard'), "x.yaml")).toThrow(
      /actors\.user:alice: unknown role "wizard"/,
    );
  });

  it("refuses an invalid regular expression in a pattern", () => {
    expect(() => parsePolicy(text.replace("'billing'", "'bill(ing'"), "x.yaml")).toThrow(PolicyError);
  });

  it("accepts JSON as well as YAML", async () => {
    const { parse } = await import("yaml");
    const p = parsePolicy(JSON.stringify(parse(text)), "p.json");
    expect(p.revision).toBe(loadPolicy().revision);
  });

  it("names a missing file", () => {
    expect(() => loadPolicy("/nonexistent/policy.yaml")).toThrow(
      /cannot read policy \/nonexistent\/policy.yaml: ENOENT/,
    );
  });
});
