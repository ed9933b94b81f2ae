import { describe, expect, it } from "vitest";
import { newDecisionId } from "../../src/advisor/decision-id.js";

const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe("decision ids", () => {
  it("are RFC 9562 version 7 UUIDs carrying the time they were made", () => {
    const before = Date.now();
    const id = newDecisionId();
    expect(id).toMatch(V7);
    const ms = Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
    expect(ms).toBeGreaterThanOrEqual(before);
    expect(ms).toBeLessThanOrEqual(Date.now());
  });

  it("sort in the order they were made, even thousands within one millisecond or with the clock stepping back", () => {
    const ids: string[] = [];
    const now = Date.now() + 60_000;
    for (let i = 0; i < 10_000; i++) ids.push(newDecisionId(now));
    ids.push(newDecisionId(now - 5_000)); // the wall clock went back
    ids.push(newDecisionId(now + 10_000));
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(V7);
  });
});
