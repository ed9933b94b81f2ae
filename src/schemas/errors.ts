import type { z } from "zod";

export interface FieldIssue {
  path: string;
  message: string;
}

/** Bad input from a caller: each bad field by path. Never carries a stack trace to the user. */
export class InvalidRequestError extends Error {
  readonly code = "invalid_request";
  constructor(
    readonly issues: FieldIssue[],
    summary = "invalid request",
  ) {
    super(`${summary}: ${issues.map((i) => `${i.path || "(root)"}: ${i.message}`).join("; ")}`);
    this.name = "InvalidRequestError";
  }
}

export function pathToString(path: ReadonlyArray<PropertyKey>): string {
  let out = "";
  for (const p of path) {
    if (typeof p === "number") out += `[${p}]`;
    else out += out ? `.${String(p)}` : String(p);
  }
  return out;
}

export function issuesFromZod(error: z.ZodError, prefix = ""): FieldIssue[] {
  return error.issues.map((i) => {
    const path = pathToString(i.path);
    let message = i.message;
    if (i.code === "invalid_type" && /received undefined/.test(message)) message = "required";
    return { path: prefix && path ? `${prefix}.${path}` : prefix || path, message };
  });
}
