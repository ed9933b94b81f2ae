import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { localTime } from "../../src/engine/time.js";

/** The answer the engine had before it memoised offsets: Intl's own reading of the instant. */
function intlReading(instant: Date, timeZone: string): { hour: number; weekday: number } {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone,
    hour: "numeric",
    minute: "numeric",
    weekday: "short",
    hourCycle: "h23",
  }).formatToParts(instant);
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? "";
  const days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
  return {
    hour: (Number(get("hour")) % 24) + Number(get("minute")) / 60,
    weekday: days.indexOf(get("weekday")),
  };
}

const ZONES = [
  "America/New_York",
  "Europe/Berlin",
  "Australia/Lord_Howe", // a 30-minute DST shift
  "Pacific/Chatham", // +12:45 / +13:45
  "Asia/Kolkata", // +05:30, no DST
  "America/St_Johns", // -03:30 / -02:30
  "UTC",
];

describe("localTime", () => {
  it("agrees with Intl at every instant, across DST changes, in zones with odd offsets", () => {
    const start = Date.UTC(2024, 0, 1);
    const end = Date.UTC(2027, 0, 1);
    fc.assert(
      fc.property(fc.integer({ min: start, max: end }), fc.constantFrom(...ZONES), (ms, zone) => {
        const instant = new Date(ms);
        const got = localTime(instant, zone);
        const want = intlReading(instant, zone);
        expect({ hour: got.hour, weekday: got.weekday }).toEqual(want);
      }),
      { numRuns: 3000 },
    );
  });

  it("is right on both sides of a DST change, a minute apart", () => {
    // 2026-03-08 02:00 local in New York: 06:59 UTC is 01:59 EST, 07:00 UTC is 03:00 EDT.
    expect(localTime(new Date("2026-03-08T06:59:00Z"), "America/New_York").label).toBe(
      "01:59 America/New_York",
    );
    expect(localTime(new Date("2026-03-08T07:00:00Z"), "America/New_York").label).toBe(
      "03:00 America/New_York",
    );
    // And back: 2026-11-01 05:59 UTC is 01:59 EDT, 06:00 UTC is 01:00 EST.
    expect(localTime(new Date("2026-11-01T05:59:00Z"), "America/New_York").hour).toBeCloseTo(1 + 59 / 60);
    expect(localTime(new Date("2026-11-01T06:00:00Z"), "America/New_York").hour).toBe(1);
  });

  it("reads fixed offsets and labels them in upper case", () => {
    expect(localTime(new Date("2026-06-01T22:30:00Z"), "utc+2")).toEqual({
      hour: 0.5,
      weekday: 2,
      label: "00:30 UTC+2",
    });
  });
});
