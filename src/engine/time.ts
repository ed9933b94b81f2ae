/** Working-hours windows stated in text ("9-5 EST", "08:00-18:00 CET", "business hours") and local time. */

import { Memo } from "./memo.js";

export interface HoursWindow {
  /** Start and end hour in [0, 24]; end < start means the window wraps past midnight. */
  start: number;
  end: number;
  timeZone: string;
}

const ZONES: Record<string, string> = {
  est: "America/New_York",
  edt: "America/New_York",
  et: "America/New_York",
  eastern: "America/New_York",
  cst: "America/Chicago",
  cdt: "America/Chicago",
  ct: "America/Chicago",
  central: "America/Chicago",
  mst: "America/Denver",
  mdt: "America/Denver",
  mt: "America/Denver",
  pst: "America/Los_Angeles",
  pdt: "America/Los_Angeles",
  pt: "America/Los_Angeles",
  pacific: "America/Los_Angeles",
  utc: "UTC",
  gmt: "Europe/London",
  bst: "Europe/London",
  cet: "Europe/Berlin",
  cest: "Europe/Berlin",
  eet: "Europe/Athens",
  ist: "Asia/Kolkata",
  sgt: "Asia/Singapore",
  jst: "Asia/Tokyo",
  kst: "Asia/Seoul",
  aest: "Australia/Sydney",
  aedt: "Australia/Sydney",
};

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone,
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      hourCycle: "h23",
    });
    formatters.set(timeZone, f);
  }
  return f;
}

const QUARTER_HOUR_MS = 15 * 60_000;

/**
 * A zone's UTC offset in minutes during one UTC quarter hour. Offsets are whole quarter hours and change
 * on local quarter hours, so they are constant within a UTC quarter hour; formatting a date in a zone
 * (Intl) costs microseconds, so each quarter hour of each zone is formatted once.
 */
const offsets = new Memo<number>(4096);

function zoneOffsetMinutes(ms: number, timeZone: string): number {
  const start = Math.floor(ms / QUARTER_HOUR_MS) * QUARTER_HOUR_MS;
  return offsets.get(`${timeZone}|${start}`, () => {
    const parts = formatter(timeZone).formatToParts(new Date(start));
    const get = (t: Intl.DateTimeFormatPartTypes) => Number(parts.find((p) => p.type === t)?.value ?? 0);
    const local = Date.UTC(get("year"), get("month") - 1, get("day"), get("hour") % 24, get("minute"));
    return Math.round((local - start) / 60_000);
  });
}

/** Local hour (fractional) and weekday of an instant in a time zone; fixed offsets like "UTC+2" supported. */
export function localTime(instant: Date, timeZone: string): { hour: number; weekday: number; label: string } {
  const fixed = /^utc([+-])(\d{1,2})(?::?(\d{2}))?$/i.exec(timeZone);
  const mins = fixed
    ? (fixed[1] === "-" ? -1 : 1) * (Number(fixed[2]) * 60 + Number(fixed[3] ?? 0))
    : zoneOffsetMinutes(instant.getTime(), timeZone);
  const shifted = new Date(instant.getTime() + mins * 60_000);
  const h = shifted.getUTCHours();
  const m = shifted.getUTCMinutes();
  return {
    hour: h + m / 60,
    weekday: shifted.getUTCDay(),
    label: `${pad(h)}:${pad(m)} ${fixed ? timeZone.toUpperCase() : timeZone}`,
  };
}

const pad = (n: number) => String(n).padStart(2, "0");

/** Finds a time zone named in text: an abbreviation (EST, CET), an IANA name, or a UTC offset. */
export function zoneInText(lower: string): string | undefined {
  const iana = /\b([a-z]+\/[a-z_]+(?:\/[a-z_]+)?)\b/i.exec(lower);
  if (iana?.[1]) {
    const candidate = iana[1].replace(/(^|[/_])([a-z])/g, (_m, p: string, c: string) => p + c.toUpperCase());
    try {
      new Intl.DateTimeFormat("en-US", { timeZone: candidate });
      return candidate;
    } catch {
      /* not a zone: fall through */
    }
  }
  const off = /\b(?:utc|gmt)\s*([+-])\s*(\d{1,2})(?::?(\d{2}))?\b/.exec(lower);
  if (off) return `UTC${off[1]}${off[2]}${off[3] ? `:${off[3]}` : ""}`;
  const abbr =
    /\b(est|edt|et|cst|cdt|mst|mdt|pst|pdt|pt|utc|gmt|bst|cet|cest|eet|ist|sgt|jst|kst|aest|aedt)\b/.exec(
      lower,
    );
  if (abbr?.[1]) return ZONES[abbr[1]];
  const word = /\b(eastern|central|pacific)\s+time\b/.exec(lower);
  return word?.[1] ? ZONES[word[1]] : undefined;
}

function toHour(h: string, min: string | undefined, ampm: string | undefined): number {
  let hour = Number(h) + (min ? Number(min) / 60 : 0);
  if (ampm === "pm" && hour < 12) hour += 12;
  if (ampm === "am" && hour >= 12) hour -= 12;
  return hour;
}

/**
 * On text with single spaces (see hoursInText): one optional space where `\s*` stood, so that a run of
 * blanks cannot be split between the space before "am" and the one after it (quadratic backtracking).
 */
const RANGE =
  /\b(\d{1,2})(?::(\d{2}))? ?(am|pm)? ?(?:-|–|—|to|until|till|and) ?(\d{1,2})(?::(\d{2}))? ?(am|pm)?\b/;

/** An hours range in text: "9-5", "9am to 5pm", "08:00-18:00", "22:00-06:00". */
export function hoursInText(lower: string, explicitOnly = false): { start: number; end: number } | undefined {
  // Folded text (text.ts) already has one space between words; other text is folded the same way here.
  const m = RANGE.exec(lower.replace(/\s+/g, " "));
  if (!m) {
    if (explicitOnly) return undefined;
    if (/\b(business|office|working|normal work(ing)?) hours\b/.test(lower)) return { start: 9, end: 17 };
    return undefined;
  }
  // A bare range like "3-5 failed" is not hours: require a clock-ish context.
  const clockish =
    m[2] !== undefined ||
    m[3] ||
    m[6] ||
    /\b(hours?|works?|working|shift|business|office|time|schedule|day|daily)\b/.test(lower) ||
    zoneInText(lower) !== undefined;
  if (!clockish) return undefined;
  const start = toHour(
    m[1]!,
    m[2],
    m[3] ?? (m[6] === "pm" && !m[3] && Number(m[1]) < 12 && Number(m[1]) > Number(m[4]) ? "am" : undefined),
  );
  let end = toHour(m[4]!, m[5], m[6]);
  // "9-5": an end hour before the start, both on a 12-hour dial, means pm.
  if (!m[6] && !m[5] && end <= start && end <= 12 && start < 12) end += 12;
  if (start > 24 || end > 24) return undefined;
  return { start, end };
}

/** True when the hour falls within [start, end), windows wrapping midnight included. */
export function withinWindow(hour: number, start: number, end: number): boolean {
  return start <= end ? hour >= start && hour < end : hour >= start || hour < end;
}
