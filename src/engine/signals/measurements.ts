import { labelled, Phrase, type PhraseMatch } from "../scan.js";
import { parseNumber } from "../text.js";
import type { Detector, Finding } from "./types.js";

/*
 * The sentences are folded text (text.ts): one space between words, so a blank is ` ` or ` ?` here where
 * the shapes once had `\s+` and `\s*`; with several `\s*` side by side, a run of blanks split between
 * them in every way (cubic backtracking). A measurement's name before its value is read by `labelled`
 * and a gap inside a shape by a Phrase (scan.ts), never by a counted run in one regex, so that each regex
 * here is small enough for the ReDoS analyser to prove linear.
 */

/** A number as written: "$10,000", "-0.5", "85 %", "12k", "3m". */
const NUM = String.raw`[$€£]? ?-?\d[\d,]*(?:\.\d+)? ?(?:%|k\b|m\b)?`;

/**
 * `name: value (threshold: t)`, also `(max 5)`, `(limit: $10,000)`, `(minimum: 0.8)`: what follows the
 * name (2 to 41 characters). Groups: the value, the kind of bound, a comparison, the bound.
 */
const BOUNDED = new RegExp(
  String.raw` ?[:=] ?(${NUM}) ?(?:ms|s|x|per \w+)? ?\( ?(threshold|limit|max(?:imum)?|min(?:imum)?|baseline|expected|target|cap|allowed|bound|ceiling|floor) ?[:=]? ?(?:of ?)?([<>]=?)? ?(${NUM})`,
  "y",
);
/** `value (normal range: a-b)`, after a name of 1 to 41 characters. Groups: the value, the range's ends. */
const RANGE = new RegExp(
  String.raw` ?[:=]? ?(${NUM}) ?(?:ms|s|x|per \w+)? ?\( ?(?:normal|usual|typical|expected|baseline|historical|healthy)? ?range ?[:=]? ?(${NUM}) ?(?:-|–|to) ?(${NUM})`,
  "y",
);
/** `X% (team average Y%)`, after a name of 1 to 41 characters. Groups: the value, the average. */
const VS_AVERAGE = new RegExp(
  String.raw` ?[:=]? ?(${NUM}) ?\( ?(?:vs\.? ?|versus ?|compared to ?)?(?:the )?(?:team|org|organi[sz]ation|peer|group|fleet|company|cohort|historical)? ?(?:average|avg|mean|median|baseline|norm|typical) ?(?:is|of|:|=)? ?(${NUM})`,
  "y",
);
/** `N of M monitors (are) failing`; the 40 characters after the noun are read in code. */
const N_OF_M =
  /\b(\d+) ?(?:of|out of|\/) ?(\d+) ((?:[a-z-]+ ){0,2}?)(monitors?|checks?|alerts?|probes?|health ?checks?|tests?|nodes?|replicas?|hosts?|instances?|servers?|witness(?:es)?|reviewers?|approvers?|signals?|detectors?|sensors?|regions?|services?)\b/g;
/** A bad or a good state: a word with one of the stems, or one of the whole words. */
const BAD_STATE =
  /\b(?:fail|alert|breach|flag|anomal)|\b(?:firing|red|down|unhealthy|degraded|critical|erroring|timing out|unreachable|triggered)\b/;
const GOOD_STATE = /\b(?:pass|succeed|agree|approv)|\b(?:green|healthy|ok|up|clear|nominal|normal)\b/;
/**
 * An aggregate against a limit: "total 48,500 ... limit 50,000", "cumulative ... of the daily limit".
 * Parts: the aggregate word, its value (first in 50 characters), the limit and its value (50 more).
 */
const AGGREGATE = new Phrase(
  /\b(total|cumulative|aggregate|combined|sum|daily|weekly|monthly|so far|running)\b/g,
  [
    [{ max: 50, stops: ".;()", lazy: true }, new RegExp(NUM, "y")],
    [
      { max: 50, stops: ".;", lazy: true },
      new RegExp(
        String.raw`\b(limit|cap|ceiling|budget|quota|maximum|allowance|threshold)\b ?(?:of|is|:|=|at)? ?(${NUM})`,
        "y",
      ),
    ],
  ],
);
const NO_DIGITS = ".;0123456789";
/** A correlation score, the first value within 40 characters (no digit in between). */
const CORRELATION = new Phrase(/\bcorrelat\w* ?(?:score|coefficient|index)?\b/g, [
  [{ max: 40, stops: NO_DIGITS, lazy: true }, /(-?0?\.\d+|1(?:\.0+)?|\d{1,3} ?%)/y],
]);
/** Witness diversity, the first value within 30 characters (no digit in between). */
const DIVERSITY = new Phrase(/\bwitness(?:es)? ?diversity\b/g, [
  [{ max: 30, stops: NO_DIGITS, lazy: true }, /(0?\.\d+|1(?:\.0+)?|\d{1,3} ?%)/y],
]);

const HINT_BOUNDED = /\( ?(threshold|limit|max|min|baseline|expected|target|cap|allowed|bound|ceiling|floor)/;
const HINT_AVERAGE = /(average|avg|mean|median|baseline|norm|typical)/;
const HINT_N_OF_M = /\d\s*(of|out of|\/)\s*\d/;
const HINT_LIMIT = /(limit|cap|ceiling|budget|quota|maximum|allowance|threshold)/;

/** A shape's match as the one regex gave it: the whole match, then its groups, and where it starts. */
type Shape = Array<string | undefined> & { index: number };
const shape = (index: number, groups: Array<string | undefined>): Shape => Object.assign(groups, { index });

/** A name (`[a-z][a-z0-9 _/-]{min,40}?`) then the rest of the shape, each match as matchAll gave it. */
const named = (s: string, rest: RegExp, min: number): Shape[] =>
  labelled(s, rest, min, 40).map((m) =>
    shape(m.index, [s.slice(m.index, m.end), m.label, ...m.rest.slice(1)]),
  );

/** A phrase's matches in turn, as matchAll would find them. */
function* phrases(p: Phrase, s: string): Generator<PhraseMatch> {
  for (let m = p.exec(s); m; m = p.exec(s, m.end)) yield m;
}

const aggregates = (s: string): Shape[] =>
  [...phrases(AGGREGATE, s)].map(({ index, text, parts: [word, value, limit] }) =>
    shape(index, [text, word![1], value![0], limit![1], limit![2]]),
  );
const valueAfter = (p: Phrase, s: string): Shape[] =>
  [...phrases(p, s)].map(({ index, text, parts }) => shape(index, [text, parts[1]![1]]));

/** N_OF_M's matches with the (at most) 40 characters of the clause after the noun, as matchAll found them. */
function counts(s: string): Shape[] {
  const out: Shape[] = [];
  N_OF_M.lastIndex = 0;
  for (let m = N_OF_M.exec(s); m; m = N_OF_M.exec(s)) {
    let end = N_OF_M.lastIndex;
    const stop = Math.min(s.length, end + 40);
    while (end < stop && s[end] !== "." && s[end] !== ";") end++;
    out.push(shape(m.index, [s.slice(m.index, end), m[1], m[2], m[3], m[4], s.slice(N_OF_M.lastIndex, end)]));
    N_OF_M.lastIndex = end;
  }
  return out;
}

/** Names where a higher value is better: falling below the bound is the breach. */
const HIGHER_IS_BETTER =
  /(coverage|score|trust|coherence|uptime|availability|success|diversity|confidence|health|quality|pass|approval|integrity|competence|reliability|accuracy|satisfaction|rating|reputation|stake|balance|throughput|capacity|headroom)/;

const norm = (n: number, raw: string) => (raw.includes("%") ? n / 100 : n);

function num(raw: string): number | undefined {
  const n = parseNumber(raw.trim());
  return n === undefined ? undefined : norm(n, raw);
}

function finding(id: string, detail: string, phrase: string, extra: Partial<Finding> = {}): Finding {
  return {
    id,
    severity: "warn",
    detail,
    effect: "escalate",
    rule: "context.measurements: a measurement stated in the request is compared with its own stated bound",
    step: "context",
    phrase,
    ...extra,
  };
}

/**
 * Generic measurements written in free text, each compared with the bound stated beside it.
 * Works on any wording of the same shapes, so unseen suites with other names and numbers are read too.
 */
export const detectMeasurements: Detector = (ctx) => {
  const out: Finding[] = [];
  const seen = new Set<string>();
  const push = (f: Finding, key: string) => {
    if (seen.has(key)) return;
    seen.add(key);
    out.push(f);
  };
  for (const t of ctx.texts) {
    if (!/\d/.test(t.lower)) continue;
    for (const sentence of t.sentences) {
      // Cheap keyword checks first: the shape regexes are costly to run on text that cannot match.
      if (!/\d/.test(sentence)) continue;
      const has = (re: RegExp) => re.test(sentence);
      const consumed: Array<[number, number]> = [];
      const free = (i: number) => !consumed.some(([a, b]) => i >= a && i < b);

      if (has(HINT_BOUNDED))
        for (const m of named(sentence, BOUNDED, 1)) {
          const name = m[1]!.trim();
          const value = num(m[2]!);
          const bound = num(m[5]!);
          if (value === undefined || bound === undefined) continue;
          consumed.push([m.index!, m.index! + m[0]!.length]);
          const kind = m[3]!;
          const op = m[4];
          let lowerIsBad: boolean;
          if (/^min/.test(kind) || kind === "floor" || op?.startsWith(">")) lowerIsBad = true;
          else if (/^(max|limit|cap|ceiling|allowed)/.test(kind) || op?.startsWith("<")) lowerIsBad = false;
          else lowerIsBad = HIGHER_IS_BETTER.test(name);
          const breach = lowerIsBad ? value < bound : value > bound;
          const near =
            !lowerIsBad &&
            !breach &&
            /(limit|cap|ceiling|max)/.test(kind) &&
            bound > 0 &&
            value >= 0.9 * bound;
          const reliability = /(correlat|diversity|witness)/.test(name);
          if (breach || near) {
            push(
              finding(
                reliability ? "unreliable_trust" : "measurement_out_of_bounds",
                `${name} ${m[2]!.trim()} ${breach ? (lowerIsBad ? "is below" : "exceeds") : "is just under"} its ${kind} ${m[5]!.trim()}`,
                `${name} ${m[2]!.trim()} ${breach ? (lowerIsBad ? "is below" : "exceeds") : "sits just under"} the stated ${kind} of ${m[5]!.trim()}`,
                reliability ? { unreliableTrust: true, suspicious: true } : { suspicious: breach },
              ),
              `b:${name}`,
            );
          }
        }
      if (sentence.includes("range"))
        for (const m of named(sentence, RANGE, 0)) {
          if (!free(m.index!)) continue;
          const value = num(m[2]!);
          const lo = num(m[3]!);
          const hi = num(m[4]!);
          if (value === undefined || lo === undefined || hi === undefined) continue;
          consumed.push([m.index!, m.index! + m[0]!.length]);
          if (value < Math.min(lo, hi) || value > Math.max(lo, hi)) {
            const name = m[1]!.trim() || "value";
            push(
              finding(
                "measurement_out_of_bounds",
                `${name} ${m[2]!.trim()} is outside its normal range ${m[3]!.trim()}-${m[4]!.trim()}`,
                `${name} ${m[2]!.trim()} falls outside its normal range of ${m[3]!.trim()}-${m[4]!.trim()}, an anomaly`,
                { suspicious: true },
              ),
              `r:${name}`,
            );
          }
        }
      if (has(HINT_AVERAGE))
        for (const m of named(sentence, VS_AVERAGE, 0)) {
          if (!free(m.index!)) continue;
          const value = num(m[2]!);
          const avg = num(m[3]!);
          if (value === undefined || avg === undefined) continue;
          consumed.push([m.index!, m.index! + m[0]!.length]);
          const pct = m[2]!.includes("%") || m[3]!.includes("%");
          const diff = Math.abs(value - avg);
          const ratio = avg === 0 ? Number.POSITIVE_INFINITY : value / avg;
          if (ratio >= 2 || ratio <= 0.5 || (pct && diff >= 0.25)) {
            const name = m[1]!.trim() || "value";
            push(
              finding(
                "deviation_from_peers",
                `${name} ${m[2]!.trim()} vs average ${m[3]!.trim()}`,
                `${name} of ${m[2]!.trim()} deviates sharply from the average of ${m[3]!.trim()}, an unusual pattern`,
                { suspicious: true },
              ),
              `a:${name}`,
            );
          }
        }
      if (has(HINT_N_OF_M))
        for (const m of counts(sentence)) {
          const n = Number(m[1]);
          const total = Number(m[2]);
          const around = `${m[3] ?? ""} ${m[5] ?? ""}`;
          const noun = m[4]!;
          const bad = BAD_STATE.test(around);
          const good = !bad && GOOD_STATE.test(around);
          if ((bad && n > 0) || (good && n < total)) {
            const witnesses = /witness|reviewer|approver/.test(noun);
            push(
              finding(
                witnesses ? "unreliable_trust" : "monitors_alerting",
                `${m[0]!.trim()}`,
                `${m[0]!.trim()}: ${bad ? `${n} of ${total} report a problem` : `only ${n} of ${total} are in a good state`}`,
                witnesses ? { unreliableTrust: true, suspicious: true } : { suspicious: true },
              ),
              `n:${noun}`,
            );
          }
        }
      if (has(HINT_LIMIT))
        for (const m of aggregates(sentence)) {
          if (!free(m.index!)) continue;
          const value = num(m[2]!);
          const limit = num(m[4]!);
          if (value === undefined || limit === undefined || limit <= 0) continue;
          if (value > limit || value >= 0.9 * limit) {
            push(
              finding(
                "aggregate_near_limit",
                `${m[1]} ${m[2]!.trim()} against a ${m[3]} of ${m[4]!.trim()}`,
                value > limit
                  ? `the aggregate of ${m[2]!.trim()} exceeds its ${m[3]} of ${m[4]!.trim()}`
                  : `the aggregate of ${m[2]!.trim()} sits just under its ${m[3]} of ${m[4]!.trim()}, a pattern of staying below the limit`,
                { suspicious: true },
              ),
              `g:${m[3]}`,
            );
          }
        }
      if (sentence.includes("correlat"))
        for (const m of valueAfter(CORRELATION, sentence)) {
          if (!free(m.index!)) continue;
          const v = num(m[1]!);
          if (v !== undefined && Math.abs(v) >= 0.7) {
            push(
              finding(
                "unreliable_trust",
                `correlation ${m[1]!.trim()}`,
                `a correlation score of ${m[1]!.trim()} suggests coordinated, not independent, behaviour`,
                { unreliableTrust: true, suspicious: true },
              ),
              "c",
            );
          }
        }
      if (sentence.includes("diversity"))
        for (const m of valueAfter(DIVERSITY, sentence)) {
          if (!free(m.index!)) continue;
          const v = num(m[1]!);
          if (v !== undefined && v < 0.3) {
            push(
              finding(
                "unreliable_trust",
                `witness diversity ${m[1]!.trim()}`,
                `witness diversity of ${m[1]!.trim()} is low: the trust rests on a narrow group`,
                { unreliableTrust: true, suspicious: true },
              ),
              "d",
            );
          }
        }
    }
  }
  return out;
};
