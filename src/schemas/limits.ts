import { z } from "zod";

/**
 * Length caps on request fields (docs/server.md, "Field lengths"). The detectors read every free-text field
 * with regexes, so a cap per field bounds the work one request can cause, on top of the body limit.
 * Lengths are in characters as JavaScript counts them (UTF-16 code units).
 */

/** Free text (team_context, recent_history, details, intent, description, ...): 16 KiB. */
export const MAX_TEXT_CHARS = 16 * 1024;
/** Identifiers and names (actor_id, action_type, resource, roles, request and session ids): 256. */
export const MAX_ID_CHARS = 256;

const tooLong = (max: number, what = "") => ({
  error: (issue: { input?: unknown }) =>
    `expected at most ${max} characters${what}, got ${typeof issue.input === "string" ? issue.input.length : "more"}`,
});

/** Free text of at most MAX_TEXT_CHARS. */
export const freeText = () => z.string().max(MAX_TEXT_CHARS, tooLong(MAX_TEXT_CHARS));

/** `s` capped at MAX_ID_CHARS. */
export const capId = (s: z.ZodString) => s.max(MAX_ID_CHARS, tooLong(MAX_ID_CHARS));

/** A list of texts that counts as one field: its entries together at most MAX_TEXT_CHARS. */
export const freeTextList = () =>
  z.array(z.string()).superRefine((items, ctx) => {
    const total = items.reduce((n, s) => n + s.length, 0);
    if (total > MAX_TEXT_CHARS) {
      ctx.addIssue({
        code: "custom",
        message: `expected at most ${MAX_TEXT_CHARS} characters in all entries together, got ${total}`,
      });
    }
  });

/**
 * Any value, with every string in it (at any depth) at most MAX_TEXT_CHARS: for extra fields and free-form
 * records, which the detectors read as text too. Iterative, so deep nesting cannot overflow the stack.
 */
export const boundedValue = z.unknown().superRefine((value, ctx) => {
  const stack: Array<[unknown, PropertyKey[]]> = [[value, []]];
  while (stack.length) {
    const [v, path] = stack.pop() as [unknown, PropertyKey[]];
    if (typeof v === "string") {
      if (v.length > MAX_TEXT_CHARS)
        ctx.addIssue({ code: "custom", path, message: tooLong(MAX_TEXT_CHARS).error({ input: v }) });
    } else if (Array.isArray(v)) {
      v.forEach((item, i) => {
        stack.push([item, [...path, i]]);
      });
    } else if (typeof v === "object" && v !== null) {
      for (const [k, item] of Object.entries(v)) stack.push([item, [...path, k]]);
    }
  }
});

/** `z.looseObject(shape)` whose extra fields have their strings capped like free text. */
export const looseBounded = <Shape extends z.ZodRawShape>(shape: Shape) =>
  z.looseObject(shape).catchall(boundedValue);

/** A free-form record (details, parameters) whose strings are capped like free text. */
export const boundedRecord = () => z.record(z.string(), boundedValue);
