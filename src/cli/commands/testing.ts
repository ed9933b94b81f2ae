import { existsSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import type { Command } from "commander";
import { makeModel } from "../../testing/gguf/model.js";
import { isPresetName, PRESETS } from "../../testing/gguf/presets.js";
import { action, UsageError } from "../errors.js";

const presetNames = Object.keys(PRESETS).join("|");

export function registerTesting(program: Command): void {
  const testing = program.command("testing").description("Tools for tests and benchmarks");
  testing
    .command("make-model")
    .description("Write a synthetic GGUF model (llama architecture, random weights) for tests and benchmarks")
    .requiredOption("--out <file>", "where to write the .gguf file")
    .option("--preset <name>", `model size: ${presetNames}`, "tiny")
    .option("--seed <n>", "random seed for the weights (same seed, same file)", "1234")
    .action(
      action((o: { out: string; preset: string; seed: string }) => {
        if (!isPresetName(o.preset)) {
          throw new UsageError(`--preset: unknown preset "${o.preset}"; expected one of ${presetNames}`);
        }
        const seed = Number(o.seed);
        if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
          throw new UsageError(`--seed: expected an integer between 0 and 4294967295, got "${o.seed}"`);
        }
        const out = resolve(o.out);
        const dir = dirname(out);
        if (!existsSync(dir) || !statSync(dir).isDirectory()) {
          throw new UsageError(`--out: directory ${dir} does not exist`);
        }
        if (existsSync(out) && statSync(out).isDirectory()) {
          throw new UsageError(`--out: ${out} is a directory; give a file name such as ${out}/model.gguf`);
        }
        const started = performance.now();
        const r = makeModel({ out, preset: o.preset, seed });
        const mb = (r.bytes / 1024 / 1024).toFixed(1);
        const params = (r.parameters / 1e6).toFixed(1);
        process.stderr.write(
          `wrote ${r.path}: preset ${r.preset}, ${params}M parameters, vocabulary ${r.vocabSize}, ${mb} MB ` +
            `in ${((performance.now() - started) / 1000).toFixed(1)} s\n`,
        );
      }),
    );
}
