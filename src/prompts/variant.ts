import { z } from "zod";
import { type AnswerShape, AnswerShapeSchema } from "../schemas/decision.js";
import { CodedError } from "../schemas/error-codes.js";

/** How a variant asks the model to answer: one JSON object (grammar/response_format) or the reference text. */
export const PromptFormatSchema = z.enum(["json", "text"]);
export type PromptFormat = z.infer<typeof PromptFormatSchema>;

/** The metadata block of a variant file (front matter of a .md, or the top level of a .yaml). */
export const VariantMetaSchema = z
  .strictObject({
    id: z
      .string()
      .regex(/^[a-z0-9][a-z0-9._-]*$/, { error: "expected a lowercase id (letters, digits, . _ -)" }),
    description: z.string().default(""),
    format: PromptFormatSchema,
    /**
     * The JSON answer's shape (format json only). Default "full": a variant file written before shapes
     * existed teaches the four-check answer, and must keep getting the grammar its examples show.
     */
    answer: AnswerShapeSchema.default("full"),
    /** Per-request template; must contain {{situation}} and {{findings}}. */
    request: z.string().refine((s) => s.includes("{{situation}}") && s.includes("{{findings}}"), {
      error: "expected a template containing {{situation}} and {{findings}}",
    }),
  })
  .refine((m) => m.format === "json" || m.answer === "full", {
    // The free-text parser reads the reference's four labelled checks: there is no compact text answer.
    error: "answer: compact needs format: json (a text answer always has the four checks)",
    path: ["answer"],
  });

/** A loaded prompt variant: the fixed prefix, the per-request template, and its version. */
export interface PromptVariant {
  id: string;
  description: string;
  format: PromptFormat;
  /** What the model writes: all four checks, or the decision and its context judgement only. */
  answer: AnswerShape;
  /** Instructions, framework, examples and output format: identical for every request. */
  prefix: string;
  requestTemplate: string;
  /** "sha256:" + 12 hex digits of the file's content. */
  hash: string;
  /** "id@sha256:...", recorded in Decision.versions.prompt. */
  version: string;
  /** Where it was loaded from. */
  source: string;
}

/** A variant that cannot be used: names the file or id and what is wrong. */
export class PromptError extends CodedError<"invalid_prompt"> {
  constructor(message: string) {
    super("invalid_prompt", message);
    this.name = "PromptError";
  }
}
