import { readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import { dataPath } from "../paths.js";
import { CodedError } from "../schemas/error-codes.js";
import { issuesFromZod } from "../schemas/errors.js";
import { contentHash } from "../util/hash.js";
import { type PolicyDocument, PolicyDocumentSchema } from "./schema.js";

/** A policy document that passed validation, with its revision (content hash) and where it came from. */
export interface LoadedPolicy {
  doc: PolicyDocument;
  revision: string;
  source: string;
}

/** A policy that cannot be used: the message names the file and each bad field. */
export class PolicyError extends CodedError<"invalid_policy"> {
  constructor(message: string) {
    super("invalid_policy", message);
    this.name = "PolicyError";
  }
}

export const DEFAULT_POLICY_PATH = dataPath("policies", "default.yaml");

export function parsePolicy(text: string, source: string): LoadedPolicy {
  let raw: unknown;
  try {
    raw = source.endsWith(".json") ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new PolicyError(
      `policy ${source} is not valid ${source.endsWith(".json") ? "JSON" : "YAML"}: ${(err as Error).message}`,
    );
  }
  const r = PolicyDocumentSchema.safeParse(raw);
  if (!r.success) {
    const lines = issuesFromZod(r.error).map((i) => `  ${i.path || "(root)"}: ${i.message}`);
    throw new PolicyError(`policy ${source} is invalid:\n${lines.join("\n")}`);
  }
  const doc = r.data;
  for (const [actor, role] of Object.entries(doc.actors)) {
    if (!(role in doc.roles))
      throw new PolicyError(`policy ${source} is invalid:\n  actors.${actor}: unknown role "${role}"`);
  }
  return { doc, revision: contentHash(doc), source };
}

export function loadPolicy(path: string = DEFAULT_POLICY_PATH): LoadedPolicy {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new PolicyError(
      `cannot read policy ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  return parsePolicy(text, path);
}
