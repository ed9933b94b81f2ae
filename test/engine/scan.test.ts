import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { firstOf, labelled, Phrase } from "../../src/engine/scan.js";

/**
 * scan.ts matches a phrase in parts joined by gaps; each must find exactly what the one regex with counted
 * gaps found (index, text, groups), on any text. Checked against that regex on short random texts made of
 * the pieces that matter (words, word-ish noise, blanks, stops), where the regex is cheap.
 */

const text = (pieces: string[], max = 24) =>
  fc.array(fc.constantFrom(...pieces), { maxLength: max }).map((a) => a.join(""));
const WORDS = text(["a", "b", "ab", "c", "cc", "x", "1", " ", " ", ".", ";", "-"]);

/** Every match of `re` (flag g) as [index, text, ...groups]. */
const allOf = (re: RegExp, s: string) => [...s.matchAll(re)].map((m) => [m.index, ...m]);

function allOfPhrase(p: Phrase, s: string) {
  const out: unknown[] = [];
  for (let m = p.exec(s); m; m = p.exec(s, m.end))
    out.push([m.index, m.text, ...m.parts.flatMap((part) => part.slice(1))]);
  return out;
}

describe("Phrase: a head, gaps and parts, as the one regex", () => {
  const cases: Array<[string, Phrase, RegExp]> = [
    [
      "a greedy gap",
      new Phrase(/\b(a|b)\b/g, [[{ max: 3, stops: ".;" }, /\b(c+)/y]]),
      /\b(a|b)\b[^.;]{0,3}\b(c+)/g,
    ],
    [
      "a lazy gap",
      new Phrase(/\b(a|b)\b/g, [[{ max: 3, stops: ".;", lazy: true }, /\b(c+)/y]]),
      /\b(a|b)\b[^.;]{0,3}?\b(c+)/g,
    ],
    [
      "two gaps, greedy then lazy, the last part with alternatives",
      new Phrase(/\ba\b/g, [
        [{ max: 2, stops: ".;" }, /\b(b)\b/y],
        [{ max: 3, stops: ".", lazy: true }, /(x|\bc|1 ?c)/y],
      ]),
      /\ba\b[^.;]{0,2}\b(b)\b[^.]{0,3}?(x|\bc|1 ?c)/g,
    ],
    [
      "a gap without digits, a value after it",
      new Phrase(/\b(?:a|ab)\b/g, [[{ max: 4, stops: ".;1", lazy: true }, /(1 ?c|-?1)/y]]),
      /\b(?:a|ab)\b[^.;1]{0,4}?(1 ?c|-?1)/g,
    ],
    [
      "a part right after the head",
      new Phrase(/\ba/g, [[{ max: 0, stops: "" }, /\w* (b|c)\b/y]]),
      /\ba\w* (b|c)\b/g,
    ],
  ];

  for (const [name, phrase, regex] of cases) {
    it(name, () => {
      fc.assert(
        fc.property(WORDS, (s) => {
          expect(allOfPhrase(phrase, s)).toEqual(allOf(regex, s));
          expect(phrase.test(s)).toBe(new RegExp(regex.source).test(s));
        }),
        { numRuns: 3000 },
      );
    });
  }

  it("firstOf is the alternation: leftmost start, then the earlier phrase", () => {
    const phrases = [
      new Phrase(/\ba\b/g, [[{ max: 3, stops: ".;" }, /\bc/y]]),
      new Phrase(/\bab?/g),
      new Phrase(/\b(?:b|x)\b/g, [[{ max: 2, stops: ";", lazy: true }, /cc?/y]]),
    ];
    const regex = /\ba\b[^.;]{0,3}\bc|\bab?|\b(?:b|x)\b[^;]{0,2}?cc?/;
    fc.assert(
      fc.property(WORDS, (s) => {
        const m = regex.exec(s);
        const f = firstOf(phrases, s);
        expect(f ? [f.index, f.text] : null).toEqual(m ? [m.index, m[0]] : null);
      }),
      { numRuns: 3000 },
    );
  });

  it("needs its flags: g on the head, y on the parts", () => {
    expect(() => new Phrase(/a/)).toThrow(/g flag/);
    expect(() => new Phrase(/a/g, [[{ max: 1, stops: "" }, /b/g]])).toThrow(/y flag/);
  });
});

describe("labelled: a name, as short as lets the rest match", () => {
  const NAMES = text(["a", "b", "1", " ", ":", "=", "-", "_", "/", ".", "(", "2"]);
  const cases: Array<[string, RegExp, number, RegExp]> = [
    ["2 to 5 characters, then a colon", / ?[:=] ?(\d+)/y, 1, /([a-z][a-z0-9 _/-]{1,4}?) ?[:=] ?(\d+)/g],
    [
      "1 to 5 characters, the colon optional (the name may run into the number)",
      / ?[:=]? ?(-?\d+) ?\(/y,
      0,
      /([a-z][a-z0-9 _/-]{0,4}?) ?[:=]? ?(-?\d+) ?\(/g,
    ],
  ];
  for (const [name, rest, min, regex] of cases) {
    it(name, () => {
      fc.assert(
        fc.property(NAMES, (s) => {
          const got = labelled(s, rest, min, 4).map((m) => [
            m.index,
            s.slice(m.index, m.end),
            m.label,
            ...m.rest.slice(1),
          ]);
          expect(got).toEqual(allOf(regex, s));
        }),
        { numRuns: 3000 },
      );
    });
  }
});

describe("linear time", () => {
  const K = 64 * 1024;
  const fill = (unit: string) => unit.repeat(Math.ceil(K / unit.length)).slice(0, K);
  const timed = (f: () => unknown) => {
    const t = performance.now();
    f();
    return performance.now() - t;
  };

  it("a phrase on 64 KB of heads that never complete", () => {
    const p = new Phrase(/\b(?:never|not)\b/g, [
      [{ max: 40, stops: ".;" }, /\b(?:outside|after)\b/y],
      [{ max: 30, stops: ".;", lazy: true }, /\bhours\b/y],
    ]);
    expect(timed(() => p.test(fill("never not after ")))).toBeLessThan(500);
  });

  it("a name on 64 KB of name characters with no rest", () => {
    expect(timed(() => labelled(fill("a1 b-c_d/"), / ?[:=] ?(\d+) ?\(/y, 0, 40))).toBeLessThan(500);
  });
});
