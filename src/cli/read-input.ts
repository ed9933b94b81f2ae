import { readFileSync } from "node:fs";
import { UsageError } from "./errors.js";

/** Reads a JSON document from a file or standard input, with a message naming the source when it is bad. */
export async function readJsonInput(file: string | undefined): Promise<unknown> {
  let text: string;
  const source = file ?? "standard input";
  if (file) {
    try {
      text = readFileSync(file, "utf8");
    } catch (err) {
      throw new UsageError(
        `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      );
    }
  } else {
    if (process.stdin.isTTY)
      throw new UsageError("no input: pass --input FILE or pipe a JSON request on standard input");
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    text = Buffer.concat(chunks).toString("utf8");
  }
  if (!text.trim()) throw new UsageError(`${source} is empty: expected a JSON request`);
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${source} is not valid JSON: ${(err as Error).message}`);
  }
}
