import { Memo } from "./memo.js";

/**
 * Word-level reading of free text for risk kinds, in linear time and in several languages.
 *
 * Text is folded (NFKC, invisibles removed, accents stripped, lower case), split into clauses (sentence
 * ends that are not decimal points, semicolons, line breaks) and clauses into word tokens. A term is a
 * word ("mute"), a prefix ("silenc*") or a phrase of such words ("turn off"). A kind names groups of
 * terms; it fires on a clause where every group has a term, unless the first group's term is negated by
 * one of the two words before it ("do not disable", "no failed deploys", "sin errores").
 *
 * Matching is by token, never by backtracking regex: the cost is proportional to the text's length.
 */

export interface Clause {
  /** Where the clause came from (field path). */
  path: string;
  /** The folded clause text, for quoting in reasons. */
  text: string;
  tokens: string[];
}

interface CompiledTerm {
  words: Array<{ w: string; prefix: boolean }>;
  source: string;
}

export interface TermGroup {
  terms: readonly string[];
}

export interface Hit {
  path: string;
  clause: string;
  /** The terms that matched, one per group. */
  terms: string[];
}

const NEGATIONS = new Set([
  "no",
  "not",
  "never",
  "without",
  "none",
  "zero",
  "nothing",
  "nor",
  "neither",
  "cannot",
  "dont",
  "didnt",
  "doesnt",
  "isnt",
  "wasnt",
  "arent",
  "werent",
  "wont",
  "havent",
  "hasnt",
  "hadnt",
  "shouldnt",
  "wouldnt",
  "couldnt",
  "non",
  "sin",
  "nunca",
  "ningun",
  "ninguna",
  "ninguno",
  "kein",
  "keine",
  "keinen",
  "keiner",
  "nicht",
  "nie",
  "niemals",
  "ohne",
  "pas",
  "jamais",
  "sans",
  "aucun",
  "aucune",
  "nao",
  "nem",
  "nenhum",
  "nessun",
  "nessuna",
  "senza",
  "mai",
]);

/** Lower case, NFKC, accents and invisible characters removed: "Überwachung" -> "uberwachung". */
export function foldText(s: string): string {
  if (ASCII_TEXT.test(s)) return s.toLowerCase().replace(/`/g, "'");
  return s
    .normalize("NFKD")
    .replace(/[\p{M}\p{Cf}]/gu, "")
    .normalize("NFKC")
    .toLowerCase()
    .replace(/[’‘`]/g, "'");
}

const ASCII_TEXT = /^[\t\n\r\x20-\x7e]*$/;
const WORD = /[\p{L}\p{N}]+(?:'[\p{L}]+)?/gu;

/** Word tokens; contractions lose their apostrophe ("don't" -> "dont") so negations read as one word. */
export function tokens(folded: string): string[] {
  if (!ASCII_TEXT.test(folded)) {
    const out: string[] = [];
    for (const m of folded.matchAll(WORD)) out.push(m[0].replace("'", ""));
    return out;
  }
  // ASCII: one pass over the characters (the common case; no regex iterator per call).
  const out: string[] = [];
  let word = "";
  for (let i = 0; i < folded.length; i++) {
    const c = folded.charCodeAt(i);
    const alnum = (c >= 97 && c <= 122) || (c >= 48 && c <= 57);
    if (alnum) word += folded[i];
    else if (c === 39 && word && i + 1 < folded.length && /[a-z]/.test(folded[i + 1]!)) continue;
    else if (word) {
      out.push(word);
      word = "";
    }
  }
  if (word) out.push(word);
  return out;
}

/** Clause boundaries: . ! ? ; or a line break, but not the point inside "0.72" or "v1.2". */
const CLAUSE_END = /[!?;\n]+|\.(?!\d)/g;

/** Clauses of a text, memoised: team contexts and histories repeat from request to request. */
export function clauses(path: string, raw: string): Clause[] {
  if (raw.length > 2048) return splitClauses(path, raw);
  return clauseMemo.get(`${path}\u0000${raw}`, () => splitClauses(path, raw));
}

const clauseMemo = new Memo<Clause[]>(512);

function splitClauses(path: string, raw: string): Clause[] {
  const folded = foldText(raw);
  const out: Clause[] = [];
  for (const part of folded.split(CLAUSE_END)) {
    const t = tokens(part);
    if (t.length) out.push({ path, text: part.trim().slice(0, 160), tokens: t });
  }
  return out;
}

function compileTerm(term: string): CompiledTerm {
  const words = term
    .split(/\s+/)
    .filter(Boolean)
    .flatMap((word) => {
      const prefix = word.endsWith("*");
      const parts = tokens(foldText(prefix ? word.slice(0, -1) : word));
      return parts.map((w, i) => ({ w, prefix: prefix && i === parts.length - 1 }));
    });
  return { words, source: term };
}

export class TermSet {
  /** Terms whose first word is exact, by that word. */
  private readonly exact = new Map<string, CompiledTerm[]>();
  /** Terms whose first word is a prefix, by its first three letters (shorter prefixes apart). */
  private readonly byPrefix = new Map<string, CompiledTerm[]>();
  private readonly shortPrefixes: CompiledTerm[] = [];

  constructor(terms: readonly string[]) {
    for (const t of terms) {
      const c = compileTerm(t);
      const first = c.words[0];
      if (!first) continue;
      if (!first.prefix) push(this.exact, first.w, c);
      else if (first.w.length >= 3) push(this.byPrefix, first.w.slice(0, 3), c);
      else this.shortPrefixes.push(c);
    }
  }

  /** Index of the first token (from `start`) where a term begins and `accept` agrees, or -1; sets `hit`. */
  findFrom(
    tokens: readonly string[],
    start: number,
    accept: (at: number) => boolean,
    hit: { term: string },
  ): number {
    for (let i = start; i < tokens.length; i++) {
      const t = tokens[i]!;
      const term =
        first(this.exact.get(t), tokens, i) ??
        (t.length >= 3 ? first(this.byPrefix.get(t.slice(0, 3)), tokens, i) : undefined) ??
        first(this.shortPrefixes, tokens, i);
      if (term !== undefined && accept(i)) {
        hit.term = term;
        return i;
      }
    }
    return -1;
  }
}

function push(m: Map<string, CompiledTerm[]>, k: string, c: CompiledTerm): void {
  const list = m.get(k);
  if (list) list.push(c);
  else m.set(k, [c]);
}

function first(cands: CompiledTerm[] | undefined, tokens: readonly string[], i: number): string | undefined {
  if (!cands) return undefined;
  for (const c of cands) if (matchesAt(c, tokens, i)) return c.source;
  return undefined;
}

function matchesAt(c: CompiledTerm, tokens: readonly string[], i: number): boolean {
  if (i + c.words.length > tokens.length) return false;
  for (let k = 0; k < c.words.length; k++) {
    const { w, prefix } = c.words[k]!;
    const t = tokens[i + k]!;
    if (prefix ? !t.startsWith(w) : t !== w) return false;
  }
  return true;
}

const always = (): boolean => true;

const verdicts = new WeakMap<Clause, Map<Kind, Hit | undefined>>();

const negatedAt = (tokens: readonly string[], at: number): boolean =>
  (at >= 1 && NEGATIONS.has(tokens[at - 1]!)) || (at >= 2 && NEGATIONS.has(tokens[at - 2]!));

/** A risk kind: groups of terms that must all occur in one clause. */
export class Kind {
  private readonly sets: TermSet[];

  constructor(groups: ReadonlyArray<readonly string[]>) {
    this.sets = groups.map((g) => new TermSet(g));
  }

  /** The first clause where every group matches and the head term is not negated. */
  first(cls: readonly Clause[]): Hit | undefined {
    for (const c of cls) {
      const hit = this.inClause(c);
      if (hit) return hit;
    }
    return undefined;
  }

  inClause(c: Clause): Hit | undefined {
    // Clauses are memoised with their text, so a kind's verdict on one is too: repeated contexts are free.
    let seen = verdicts.get(c);
    if (!seen) {
      seen = new Map();
      verdicts.set(c, seen);
    }
    if (seen.has(this)) return seen.get(this);
    const hit = this.match(c);
    seen.set(this, hit);
    return hit;
  }

  private match(c: Clause): Hit | undefined {
    const terms: string[] = [];
    const hit = { term: "" };
    for (let g = 0; g < this.sets.length; g++) {
      const at = this.sets[g]!.findFrom(c.tokens, 0, g === 0 ? (i) => !negatedAt(c.tokens, i) : always, hit);
      if (at < 0) return undefined;
      terms.push(hit.term);
    }
    return { path: c.path, clause: c.text, terms };
  }
}
