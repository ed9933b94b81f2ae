import Table from "cli-table3";
import { Command } from "commander";
import { listVariants, loadVariant } from "../../prompts/registry.js";
import { renderPrompt } from "../../prompts/render.js";
import { action } from "../errors.js";

/** `policy-advisor prompts`: the prompt variants the LLM engines can use, and what one sends. */
export function registerPrompts(program: Command): void {
  const cmd = new Command("prompts").description(
    "list the prompt variants (id, format, answer shape, version) or show one",
  );
  cmd
    .command("list", { isDefault: true })
    .description("list every prompt variant with its version (id@sha256:...)")
    .option("--dir <dir>", "a folder of variant files instead of the bundled data/prompts")
    .option("--json", "print a JSON array")
    .action(
      action((o: { dir?: string; json?: boolean }) => {
        const variants = listVariants(o.dir);
        if (o.json) {
          const out = variants.map(({ id, version, format, answer, description, source }) => ({
            id,
            version,
            format,
            answer,
            description,
            source,
          }));
          process.stdout.write(`${JSON.stringify(out)}\n`);
          return;
        }
        const t = new Table({
          head: ["id", "format", "answer", "version", "description"],
          style: { head: [], border: [], compact: true },
          colWidths: [null, null, null, null, 64],
          wordWrap: true,
        });
        for (const v of variants) t.push([v.id, v.format, v.answer, v.version, v.description]);
        process.stdout.write(`${t.toString()}\n`);
      }),
    );
  cmd
    .command("show <variant>")
    .description("print a variant's fixed prefix, or with --input the request part rendered for a request")
    .option("--input <file>", "a request JSON: print the per-request part the model would get for it")
    .option("--policy <file>", "policy for the rules findings in the request part (default: the bundled one)")
    .action(
      action(async (id: string, o: { input?: string; policy?: string }) => {
        const variant = loadVariant(id);
        if (!o.input) {
          process.stdout.write(`${variant.prefix}\n`);
          return;
        }
        // Loaded on demand: listing variants needs neither the policy nor the engine.
        const { readJsonInput } = await import("../read-input.js");
        const { parseRequest } = await import("../../schemas/request.js");
        const { createEngine } = await import("../../engine/index.js");
        const { loadPolicy } = await import("../../policy/load.js");
        const situation = parseRequest(await readJsonInput(o.input)).situation;
        const verdict = createEngine(o.policy ? loadPolicy(o.policy) : loadPolicy()).evaluate(situation);
        process.stdout.write(`${renderPrompt(variant, { situation, verdict }).request}\n`);
      }),
    );
  program.addCommand(cmd);
}
