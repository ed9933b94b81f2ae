/**
 * Whether output to `stream` may carry colour codes: only on a terminal, never with NO_COLOR set to
 * anything but the empty string (https://no-color.org) or TERM=dumb. A pipe or a file gets plain text.
 */
export function colourEnabled(
  stream: { isTTY?: boolean } = process.stdout,
  env: NodeJS.ProcessEnv = process.env,
): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== "") return false;
  if (env.TERM === "dumb") return false;
  return stream.isTTY === true;
}

/** cli-table3 options: its default red headings and grey borders only where colour is enabled. */
export function tableStyle(stream: { isTTY?: boolean } = process.stdout): {
  style?: { head: string[]; border: string[] };
} {
  return colourEnabled(stream) ? {} : { style: { head: [], border: [] } };
}
