/**
 * Trimming a run of one character by a loop: the regex forms (/x+$/, /^x+|x+$/) backtrack quadratically on
 * a long run that does not reach the end, since each start in the run rescans it.
 */

/** `s` without any trailing `ch` (a single UTF-16 unit, e.g. "/"). */
export function trimEndChar(s: string, ch: string): string {
  let end = s.length;
  while (end > 0 && s[end - 1] === ch) end--;
  return end === s.length ? s : s.slice(0, end);
}

/** `s` without any leading or trailing `ch`. */
export function trimChar(s: string, ch: string): string {
  let start = 0;
  while (start < s.length && s[start] === ch) start++;
  return trimEndChar(s.slice(start), ch);
}

/** The end of the run of word characters (`\w`: ASCII letters, digits, "_") at `i`: where `\w*` stops. */
export function wordEnd(s: string, i: number): number {
  let j = i;
  for (; j < s.length; j++) {
    const c = s.charCodeAt(j);
    const word = (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95;
    if (!word) break;
  }
  return j;
}
