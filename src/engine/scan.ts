/**
 * Phrase matching in linear time for the detectors (issue #12). A regex such as
 * `head[^.;]{0,40}tail` is cheap in V8 only when nothing in it can match the same text two ways, and a
 * long counted gap defeats the ReDoS analyser (test/security/redos.test.ts), so the detectors write such a
 * phrase as parts: small regexes, each one the analyser can check, joined by gaps that this code walks.
 *
 * The parts are matched with the regex engine's own order, so a phrase finds what the one regex found:
 * the leftmost start, then the first alternative of the head, then the gap's longest length (shortest for
 * a lazy gap). Each part is tried at most once per position of the text, so a phrase costs time linear in
 * the text's length whatever the text. A part after the head must match at most one way at a position
 * (words between `\b`s) unless it is the last part: the walk takes its first match there, as the regex did
 * whenever the parts after it could not tell one match from another.
 */

/** A run of characters between two parts of a phrase: `[^stops]{0,max}`. */
export interface Gap {
  /** The most characters the gap may hold. */
  max: number;
  /** Characters the gap may not hold (a clause ends at "." or ";"). */
  stops: string;
  /** Shortest gap first (`{0,max}?`); the longest first otherwise, as a greedy `{0,max}`. */
  lazy?: boolean;
}

/** One match of a phrase: where it starts and ends, and each part's own match (head first). */
export interface PhraseMatch {
  index: number;
  end: number;
  /** The text matched, from the head's start to the last part's end. */
  text: string;
  parts: RegExpExecArray[];
}

const end = (m: RegExpExecArray) => m.index + m[0].length;

/** A head regex (flag `g`) followed by parts (flag `y`), each after a gap. */
export class Phrase {
  constructor(
    private readonly head: RegExp,
    private readonly steps: ReadonlyArray<readonly [Gap, RegExp]> = [],
  ) {
    if (!head.global) throw new Error(`phrase head ${head} needs the g flag`);
    for (const [, re] of steps) if (!re.sticky) throw new Error(`phrase part ${re} needs the y flag`);
  }

  /** The first match starting at or after `from`, as `exec` with `lastIndex = from` would find it. */
  exec(s: string, from = 0): PhraseMatch | undefined {
    const { head, steps } = this;
    head.lastIndex = from;
    let h = head.exec(s);
    if (!h) return undefined;
    // Memos by position (sparse arrays), made once a head is found: most texts have none.
    const partAt: Array<Array<RegExpExecArray | null>> = steps.map(() => []);
    const restAt: Array<Array<RegExpExecArray[] | null>> = steps.map(() => []);
    const part = (k: number, p: number): RegExpExecArray | null => {
      let m = partAt[k]![p];
      if (m === undefined) {
        const re = steps[k]![1];
        re.lastIndex = p;
        m = re.exec(s);
        partAt[k]![p] = m;
      }
      return m;
    };
    // The parts from step k on, the gap before step k starting at position e.
    const rest = (k: number, e: number): RegExpExecArray[] | null => {
      if (k === steps.length) return [];
      const known = restAt[k]![e];
      if (known !== undefined) return known;
      const gap = steps[k]![0];
      let limit = e;
      while (limit - e < gap.max && limit < s.length && !gap.stops.includes(s[limit]!)) limit++;
      let found: RegExpExecArray[] | null = null;
      for (let i = 0; i <= limit - e && !found; i++) {
        const m = part(k, gap.lazy ? e + i : limit - i);
        if (!m) continue;
        const after = rest(k + 1, end(m));
        if (after) found = [m, ...after];
      }
      restAt[k]![e] = found;
      return found;
    };
    for (; h; h = head.exec(s)) {
      const after = rest(0, end(h));
      if (after) {
        const parts = [h, ...after];
        const stop = end(parts[parts.length - 1]!);
        return { index: h.index, end: stop, text: s.slice(h.index, stop), parts };
      }
      head.lastIndex = h.index + 1; // another head may start inside this one
    }
    return undefined;
  }

  test(s: string): boolean {
    return this.exec(s) !== undefined;
  }
}

/**
 * The first match of any of the phrases, as the one regex `a|b|c` would find it: the leftmost start, and
 * at the same start the earlier phrase.
 */
export function firstOf(phrases: readonly Phrase[], s: string): PhraseMatch | undefined {
  let best: PhraseMatch | undefined;
  for (const p of phrases) {
    const m = p.exec(s);
    if (m && (!best || m.index < best.index)) best = m;
  }
  return best;
}

export const anyOf = (phrases: readonly Phrase[], s: string): boolean => phrases.some((p) => p.test(s));

/** Characters of a measurement's name after its first letter: `[a-z0-9 _/-]`. */
function nameChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 32 || c === 95 || c === 47 || c === 45;
}

/** A measurement's name followed by the rest of a shape: one match of `labelled`. */
export interface LabelledMatch {
  index: number;
  end: number;
  /** The name as matched (untrimmed). */
  label: string;
  /** The match of `rest` right after the name. */
  rest: RegExpExecArray;
}

/**
 * Every match, as `matchAll` finds them, of `([a-z][a-z0-9 _/-]{min,max}?)` followed by `rest` (flag
 * `y`): a name that is as short as lets `rest` match, at the leftmost start. `rest` is tried once per
 * position, so the cost is linear in the text's length (times `max`, a small constant, for the scan).
 */
export function labelled(s: string, rest: RegExp, min: number, max: number): LabelledMatch[] {
  if (!rest.sticky) throw new Error(`labelled rest ${rest} needs the y flag`);
  const out: LabelledMatch[] = [];
  const memo: Array<RegExpExecArray | null> = [];
  const restAt = (j: number): RegExpExecArray | null => {
    let m = memo[j];
    if (m === undefined) {
      rest.lastIndex = j;
      m = rest.exec(s);
      memo[j] = m;
    }
    return m;
  };
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 97 || c > 122) continue;
    const last = Math.min(s.length, i + 1 + max);
    for (let j = i + 1; j <= last; j++) {
      if (j > i + 1 && !nameChar(s.charCodeAt(j - 1))) break;
      if (j - i - 1 < min) continue;
      const m = restAt(j);
      if (m) {
        out.push({ index: i, end: end(m), label: s.slice(i, j), rest: m });
        i = end(m) - 1; // the next search starts where this match ends
        break;
      }
    }
  }
  return out;
}
