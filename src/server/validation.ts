import type { FastifySchemaCompiler } from "fastify";
import type { z } from "zod";
import { InvalidRequestError, issuesFromZod } from "../schemas/errors.js";

type Parser = (data: unknown) => unknown;

/** Schemas whose data is parsed by a function of their own (shape detection, per-item results). */
const parsers = new WeakMap<object, Parser>();

/**
 * Declares that data under `schema` is parsed by `parse` (which throws InvalidRequestError). The schema
 * still describes the route in /openapi.json; the parser gives better field-by-field messages than a union.
 */
export function parsedBy<T extends z.ZodType>(schema: T, parse: Parser): T {
  parsers.set(schema, parse);
  return schema;
}

/**
 * Fastify validator compiler for zod schemas: failures become InvalidRequestError (400 naming each
 * field); data is replaced by the parsed value.
 */
export const validatorCompiler: FastifySchemaCompiler<z.ZodType> = ({ schema }) => {
  const custom = parsers.get(schema);
  return (data: unknown) => {
    if (custom) {
      try {
        return { value: custom(data) };
      } catch (err) {
        if (err instanceof InvalidRequestError) return { error: err };
        throw err;
      }
    }
    const r = schema.safeParse(data);
    if (r.success) return { value: r.data };
    return { error: new InvalidRequestError(issuesFromZod(r.error)) };
  };
};
