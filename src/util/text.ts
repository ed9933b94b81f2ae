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
