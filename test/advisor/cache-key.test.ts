import { describe, expect, it } from "vitest";
import { hourBucket } from "../../src/advisor/patterns/cache.js";

/**
 * The cache key's hour bucket reads local time as the engine does (offsets memoised per zone and quarter
 * hour; formatting per lookup cost more than a rules decision). Memoising must not mix zones up or change
 * what a bucket is.
 */
describe("cache key hour bucket", () => {
  it("gives the local weekday and hour in each zone, alternating zones on the same formatters", () => {
    const at = "2026-11-29T10:30:00Z"; // a Sunday
    for (let i = 0; i < 3; i++) {
      expect(hourBucket(at, "UTC")).toBe("Sun@10");
      expect(hourBucket(at, "America/New_York")).toBe("Sun@05");
      expect(hourBucket(at, "Asia/Tokyo")).toBe("Sun@19");
      expect(hourBucket("2026-11-29T23:30:00Z", "Asia/Tokyo")).toBe("Mon@08");
    }
  });

  it("judges a request without a timestamp at the given current time", () => {
    expect(hourBucket(undefined, "Europe/Berlin", new Date("2026-07-01T12:00:00Z"))).toBe("Wed@14");
  });

  it("still refuses a bad timestamp or time zone, naming the problem", () => {
    expect(() => hourBucket("not a time", "UTC")).toThrow(/Invalid time value/);
    expect(() => hourBucket(undefined, "Not/AZone")).toThrow(/time zone/i);
  });
});
