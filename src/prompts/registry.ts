import { existsSync, readdirSync, readFileSync } from "node:fs";
import { extname, join } from "node:path";
import { parse as parseYaml } from "yaml";
import { dataPath } from "../paths.js";
import { issuesFromZod } from "../schemas/errors.js";
import { contentHash } from "../util/hash.js";
import { PromptError, type PromptVariant, VariantMetaSchema } from "./variant.js";

export const DEFAULT_PROMPTS_DIR = dataPath("prompts");
export const DEFAULT_VARIANT_ID = "default";

const EXTENSIONS = [".md", ".yaml", ".yml"] as const;

/** Splits "---\nmeta\n---\nbody" into its two parts; undefined when the text has no front matter. */
function splitFrontMatter(text: string): { meta: string; body: string } | undefined {
  const m = /^---\r?\n([\s\S]*?)\r?\n---\r?\n?([\s\S]*)$/.exec(text);
  return m ? { meta: m[1] ?? "", body: m[2] ?? "" } : undefined;
}

/** Parses a variant file's text. `.md`: YAML front matter + the prefix as body; `.yaml`: a `system` field. */
export function parseVariant(text: string, source: string): PromptVariant {
  // Line endings must not change the hash: the same variant checked out on Windows is the same variant.
  const normalised = text.replace(/\r\n/g, "\n");
  let raw: unknown;
  let prefix: string;
  try {
    if (source.endsWith(".md")) {
      const parts = splitFrontMatter(normalised);
      if (!parts) throw new PromptError(`prompt ${source}: expected YAML front matter between --- lines`);
      raw = parseYaml(parts.meta);
      prefix = parts.body;
    } else {
      const doc = parseYaml(normalised) as Record<string, unknown> | null;
      if (!doc || typeof doc !== "object") throw new PromptError(`prompt ${source}: expected a YAML mapping`);
      const { system, ...rest } = doc;
      if (typeof system !== "string")
        throw new PromptError(`prompt ${source}: system: expected the prompt text`);
      raw = rest;
      prefix = system;
    }
  } catch (err) {
    if (err instanceof PromptError) throw err;
    throw new PromptError(`prompt ${source} is not valid YAML: ${(err as Error).message}`);
  }
  const r = VariantMetaSchema.safeParse(raw);
  if (!r.success) {
    const lines = issuesFromZod(r.error).map((i) => `  ${i.path || "(root)"}: ${i.message}`);
    throw new PromptError(`prompt ${source} is invalid:\n${lines.join("\n")}`);
  }
  if (prefix.trim() === "") throw new PromptError(`prompt ${source}: the prompt text is empty`);
  const hash = contentHash(normalised);
  return {
    id: r.data.id,
    description: r.data.description.trim(),
    format: r.data.format,
    answer: r.data.answer,
    prefix: prefix.trimEnd(),
    requestTemplate: r.data.request.trimEnd(),
    hash,
    version: `${r.data.id}@${hash}`,
    source,
  };
}

export function loadVariantFile(path: string): PromptVariant {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new PromptError(
      `cannot read prompt ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  return parseVariant(text, path);
}

function variantFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => (EXTENSIONS as readonly string[]).includes(extname(f)))
    .sort()
    .map((f) => join(dir, f));
}

/** Every variant in a directory (the shipped ones by default), sorted by id. */
export function listVariants(dir: string = DEFAULT_PROMPTS_DIR): PromptVariant[] {
  const variants = variantFiles(dir).map(loadVariantFile);
  const seen = new Map<string, string>();
  for (const v of variants) {
    const other = seen.get(v.id);
    if (other) throw new PromptError(`prompt id "${v.id}" is declared by both ${other} and ${v.source}`);
    seen.set(v.id, v.source);
  }
  return variants.sort((a, b) => a.id.localeCompare(b.id));
}

/**
 * Loads a variant by id (a file in `dir` whose id matches) or by path (anything with a slash or an
 * extension). The error for an unknown id lists the ids that exist.
 */
export function loadVariant(
  idOrPath: string = DEFAULT_VARIANT_ID,
  dir: string = DEFAULT_PROMPTS_DIR,
): PromptVariant {
  if (idOrPath.includes("/") || (EXTENSIONS as readonly string[]).includes(extname(idOrPath))) {
    return loadVariantFile(idOrPath);
  }
  // Fast path: the file named for the id; otherwise search by declared id.
  for (const ext of EXTENSIONS) {
    const path = join(dir, `${idOrPath}${ext}`);
    if (existsSync(path)) {
      const v = loadVariantFile(path);
      if (v.id === idOrPath) return v;
    }
  }
  const all = listVariants(dir);
  const found = all.find((v) => v.id === idOrPath);
  if (found) return found;
  const ids = all.map((v) => v.id).join(", ") || "(none)";
  throw new PromptError(`unknown prompt variant "${idOrPath}": known variants are ${ids} (in ${dir})`);
}
