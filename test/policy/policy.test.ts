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

  it("refuses a pattern that can backtrack super-linearly, naming its path, the pattern and an attack", () => {
    // The third admin pattern becomes exponential: "a" then any run of word characters then "a".
    const admin = text.replace(
      "'(delete_team|team_delete|delete_repo|delete_project|drop_database|add_member|remove_member|assign_role|change_role|role_change|access_control|disable_(audit|logging|mfa|2fa|auth)|rotate_(key|secret|credential)|create_token|manage_secret|policy_change|change_policy)'",
      () => "'(\\w+_)+admin$'", // a function: "$'" in a replacement string is special
    );
    expect(admin).not.toBe(text);
    let message = "";
    try {
      parsePolicy(admin, "slow.yaml");
    } catch (err) {
      expect(err).toBeInstanceOf(PolicyError);
      message = (err as Error).message;
    }
    expect(message).toContain("policy slow.yaml is invalid");
    expect(message).toContain("actionClasses.admin.patterns[2]");
    expect(message).toContain("pattern /(\\w+_)+admin$/i");
    expect(message).toMatch(/exponential backtracking, e\.g\. on '.*'\.repeat\(\d+\)/);

    const resource = text.replace("'credential'", "'cred.*tials'");
    expect(() => parsePolicy(resource, "slow.yaml")).toThrow(
      /resources\[0\]\.patterns\[1\]: pattern \/cred\.\*tials\/i can take super-linear time \(2nd degree polynomial backtracking, e\.g\. on /,
    );
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
