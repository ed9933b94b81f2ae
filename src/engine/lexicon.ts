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
  return s
    .normalize("NFKD")
    .replace(/[\p{M}\p{Cf}]/gu, "")
    .normalize("NFKC")
    .toLowerCase()
    .replace(/[’‘`]/g, "'");
}

const WORD = /[\p{L}\p{N}]+(?:'[\p{L}]+)?/gu;

/** Word tokens; contractions lose their apostrophe ("don't" -> "dont") so negations read as one word. */
export function tokens(folded: string): string[] {
  const out: string[] = [];
  for (const m of folded.matchAll(WORD)) out.push(m[0].replace("'", ""));
  return out;
}

/** Clause boundaries: . ! ? ; or a line break, but not the point inside "0.72" or "v1.2". */
const CLAUSE_END = /[!?;\n]+|\.(?!\d)/g;

export function clauses(path: string, raw: string): Clause[] {
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
  private readonly byFirst = new Map<string, CompiledTerm[]>();

  constructor(terms: readonly string[]) {
    for (const t of terms) {
      const c = compileTerm(t);
      if (!c.words.length) continue;
      // Indexed by the first two letters of the first word: a token is compared with few terms.
      const key = c.words[0]!.w.slice(0, 2);
      const list = this.byFirst.get(key) ?? [];
      list.push(c);
      this.byFirst.set(key, list);
    }
  }

  /** Positions (token index) and source of each term occurrence in the tokens. */
  *find(tokens: readonly string[]): Generator<{ at: number; term: string }> {
    for (let i = 0; i < tokens.length; i++) {
      const cands = this.byFirst.get(tokens[i]!.slice(0, 2));
      if (!cands) continue;
      for (const c of cands) {
        if (matchesAt(c, tokens, i)) {
          yield { at: i, term: c.source };
          break;
        }
      }
    }
  }
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
    const terms: string[] = [];
    for (let g = 0; g < this.sets.length; g++) {
      let found: string | undefined;
      for (const m of this.sets[g]!.find(c.tokens)) {
        if (g === 0 && negatedAt(c.tokens, m.at)) continue;
        found = m.term;
        break;
      }
      if (found === undefined) return undefined;
      terms.push(found);
    }
    return { path: c.path, clause: c.text, terms };
  }
}
