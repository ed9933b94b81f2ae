import { anyOf, type Gap, Phrase } from "../scan.js";
import { hoursInText, localTime, withinWindow, zoneInText } from "../time.js";
import type { Detector, Finding } from "./types.js";

/*
 * Phrases with a gap are matched in parts (scan.ts), each small enough for the ReDoS analyser; the lists
 * are only tested, so their order does not matter. The texts are folded (one space between words).
 */
/** The 30 characters after a word, within its clause. */
const CLAUSE: Gap = { max: 30, stops: ".;" };

/** The history says the actor keeps to fixed hours: activity outside them is a deviation. */
const STRICT_PATTERN = [
  new Phrase(/\b(?:never|rarely|seldom|has not ever|hasn't ever|not once)\b/g, [
    [
      { max: 40, stops: ".;" },
      /\b(?:outside|after|before|at night|late|weekends?|off[- ]hours|evenings?|early)\b/y,
    ],
  ]),
  new Phrase(/\b(?:only|always|strictly|consistently|exclusively)\b/g, [
    [CLAUSE, /\b(?:during|within|in|between)\b/y],
    [{ max: 20, stops: ".;" }, /\b(?:business|office|working|work|normal|regular|day(?:time)?)\b/y],
  ]),
  new Phrase(/\b(?:only|always|strictly|consistently) (?:works?|commits?|deploys?|active)\b/g, [
    [CLAUSE, /\d{1,2}(?::\d{2})? ?(?:am|pm)? ?(?:-|to) ?\d{1,2}/y],
  ]),
  new Phrase(/\b(?:9|nine)[- ]to[- ](?:5|five) (?:worker|schedule)\b/g),
];

const WEEKEND_STRICT = [
  new Phrase(/\b(?:never|rarely|doesn't|does not|not)\b/g, [[CLAUSE, /\bweekends?\b/y]]),
  new Phrase(/\b(?:weekdays?|monday (?:to|through|-) friday) only\b|\bonly (?:on )?weekdays\b/g),
];

/** Activity at an unusual hour, judged against the actor's stated history, not against a clock alone. */
export const detectTiming: Detector = (ctx) => {
  if (!ctx.instant) return [];
  const narrative = ctx.texts.filter((t) => t.narrative);
  const history = narrative
    .filter((t) => /history|previous|details/.test(t.path))
    .map((t) => t.lower)
    .join(" ");
  const all = ctx.allLower;

  // Hours the policy declares for this actor (a night shift, another zone): the only way off-hours work
  // stops being judged against the team's hours. Text in the request can never do that.
  const declared = ctx.doc.actorHours[ctx.s.actor_id.trim()];
  if (declared) {
    const localD = localTime(ctx.instant, declared.timeZone);
    if (withinWindow(localD.hour, declared.start, declared.end)) return [];
    const label = `${fmt(declared.start)}-${fmt(declared.end)} ${declared.timeZone}`;
    return [
      {
        id: "off_hours_deviation",
        severity: "warn",
        detail: `${localD.label} is outside the actor's declared hours ${label}`,
        effect: "escalate",
        rule: "context.working_hours: activity outside the actor's declared hours is a deviation",
        step: "context",
        phrase: `an unusual hour: ${localD.label} is outside the actor's declared hours ${label}`,
        suspicious: true,
      },
    ];
  }

  // The actor's own stated hours ("usually commits between 20:00 and 02:00") come first: inside them is
  // normal for this actor whatever the team's hours; outside them is a deviation from stated history.
  const actorText = narrative.find(
    (t) => /history|previous/.test(t.path) && hoursInText(t.lower, true),
  )?.lower;
  const actorHours = actorText ? hoursInText(actorText, true) : undefined;
  if (actorText && actorHours) {
    const zoneA = zoneInText(actorText) || zoneInText(all) || ctx.doc.workingHours.timeZone;
    const localA = localTime(ctx.instant, zoneA);
    const label = `${fmt(actorHours.start)}-${fmt(actorHours.end)} ${zoneA}`;
    if (withinWindow(localA.hour, actorHours.start, actorHours.end)) return [];
    return [
      {
        id: "off_hours_deviation",
        severity: "warn",
        detail: `${localA.label} is outside the actor's stated hours ${label}`,
        effect: "escalate",
        rule: "context.working_hours: activity outside the actor's stated hours is a deviation from their history",
        step: "context",
        phrase: `an unusual hour: ${localA.label} is outside the actor's usual ${label}, a deviation from the pattern of their stated history`,
        suspicious: true,
      },
    ];
  }

  // Whose hours: an explicit statement in the team context, else the policy's team hours.
  const teamText = narrative.find((t) => t.path.startsWith("team_context") && hoursInText(t.lower))?.lower;
  const stated = teamText ? hoursInText(teamText) : undefined;
  const zone = (teamText && zoneInText(teamText)) || zoneInText(all) || ctx.doc.workingHours.timeZone;
  const window = stated ?? { start: ctx.doc.workingHours.start, end: ctx.doc.workingHours.end };
  const local = localTime(ctx.instant, zone);
  const workday = ctx.doc.workingHours.days.includes(local.weekday);
  // Hours stated in the request can only narrow the policy's, never widen them: outside either is off-hours.
  const policyLocal = localTime(ctx.instant, ctx.doc.workingHours.timeZone);
  const inPolicyHours =
    withinWindow(policyLocal.hour, ctx.doc.workingHours.start, ctx.doc.workingHours.end) &&
    ctx.doc.workingHours.days.includes(policyLocal.weekday);
  const inHours =
    withinWindow(local.hour, window.start, window.end) && (stated === undefined || inPolicyHours);
  if (inHours && workday) return [];

  const when = `${local.label}${workday ? "" : " on a weekend"}`;
  const hoursLabel = `${fmt(window.start)}-${fmt(window.end)} ${zone}`;
  const rule = `context.working_hours: activity outside ${hoursLabel} is judged against the actor's stated history`;

  const strict = anyOf(STRICT_PATTERN, history || all) || (!workday && anyOf(WEEKEND_STRICT, all));
  if (strict) {
    const f: Finding = {
      id: "off_hours_deviation",
      severity: "warn",
      detail: `${when} is outside ${hoursLabel} and deviates from the actor's stated pattern`,
      effect: "escalate",
      rule,
      step: "context",
      phrase: `an unusual hour: ${when} is outside ${hoursLabel}, a deviation from the pattern of the actor's stated history`,
      suspicious: true,
    };
    return [f];
  }
  return [
    note(
      `${when} is outside ${hoursLabel}; no stated history to compare with`,
      rule,
      `the request comes at ${when}, outside team hours, with no stated history that makes it a deviation`,
    ),
  ];
};

function note(detail: string, rule: string, phrase: string): Finding {
  return {
    id: "off_hours_activity",
    severity: "info",
    detail,
    effect: "note",
    rule,
    step: "context",
    phrase,
  };
}

const fmt = (h: number) =>
  `${String(Math.floor(h)).padStart(2, "0")}:${String(Math.round((h % 1) * 60)).padStart(2, "0")}`;
