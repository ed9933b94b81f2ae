import { remove as foldConfusables } from "confusables";

/**
 * Names (actions, resources, ids) are matched after the normalisation a reviewer's eye does: compatibility
 * forms folded (NFKC: full-width and ligature letters), invisible and bidirectional controls removed,
 * look-alike letters from other scripts folded to Latin (the `confusables` package's Unicode table), case
 * folded. A name that needed any of that (beyond plain case) is "altered": somebody wrote it in a way that
 * hides what it says, which is itself a signal.
 */

/** Format controls (zero-width space/joiners, bidi overrides and isolates, soft hyphen, BOM) and default ignorables. */
const INVISIBLE = /[\p{Cf}\p{Default_Ignorable_Code_Point}]/gu;
const NON_ASCII_LETTER = /[^\p{ASCII}]/u;
const LETTER_SCRIPTS: Array<[string, RegExp]> = [
  ["Latin", /\p{Script=Latin}/u],
  ["Cyrillic", /\p{Script=Cyrillic}/u],
  ["Greek", /\p{Script=Greek}/u],
  ["Armenian", /\p{Script=Armenian}/u],
  ["Cherokee", /\p{Script=Cherokee}/u],
];

export interface NormalisedName {
  /** NFKC, invisibles removed, confusables folded, lower case, trimmed. */
  value: string;
  /** What the normalisation had to undo, in words; empty when the name was plain. */
  alterations: string[];
}

/** Printable ASCII needs none of the Unicode work below (the common case, kept fast). */
const PLAIN_ASCII = /^[\x20-\x7e]*$/;

/** Normalises a name for matching (lower case) and says what it had to undo. */
export function normaliseName(raw: string): NormalisedName {
  if (PLAIN_ASCII.test(raw)) return { value: raw.toLowerCase().trim(), alterations: [] };
  const f = foldName(raw);
  return { value: f.value.toLowerCase().trim(), alterations: f.alterations };
}

/** As normaliseName, keeping case (camelCase boundaries still matter to the caller). */
export function foldName(raw: string): NormalisedName {
  if (PLAIN_ASCII.test(raw)) return { value: raw, alterations: [] };
  const alterations: string[] = [];
  const nfkc = raw.normalize("NFKC");
  if (nfkc !== raw.normalize("NFC")) alterations.push("compatibility (e.g. full-width) characters");
  const visible = nfkc.replace(INVISIBLE, "");
  if (visible !== nfkc) alterations.push("invisible or bidirectional control characters");
  let value = visible;
  if (NON_ASCII_LETTER.test(visible)) {
    const scripts = LETTER_SCRIPTS.filter(([, re]) => re.test(visible)).map(([name]) => name);
    const folded = foldConfusables(visible);
    // Only a mix of scripts is an disguise; a name wholly in one non-Latin script is just a name.
    if (scripts.length > 1 && folded !== visible)
      alterations.push(`look-alike letters (${scripts.join(" + ")})`);
    value = folded;
  }
  return { value, alterations };
}

/** Text for reading (not for display): NFKC with invisible controls removed, so a word cannot be split. */
export function readableText(raw: string): string {
  if (PLAIN_ASCII.test(raw)) return raw;
  return raw.normalize("NFKC").replace(INVISIBLE, "");
}

/** True when nothing but whitespace or invisible characters is left: such an id names nobody. */
export const isBlankName = (raw: string): boolean => normaliseName(raw).value.replace(/\s+/g, "") === "";
