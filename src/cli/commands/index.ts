import type { Command } from "commander";
import { registerBench } from "./bench.js";
import { registerDecide } from "./decide.js";
import { registerDoctor } from "./doctor.js";
import { registerEval } from "./eval.js";
import { registerExport } from "./export.js";
import { registerPrompts } from "./prompts.js";
import { registerReplay } from "./replay.js";
import { registerReport } from "./report.js";
import { registerRollout } from "./rollout.js";
import { registerServe } from "./serve.js";
import { registerTesting } from "./testing.js";

/** Every subcommand registers itself here; one line per command file. */
export function registerCommands(program: Command): void {
  registerDecide(program);
  registerEval(program);
  registerBench(program);
  registerServe(program);
  registerReport(program);
  registerReplay(program);
  registerRollout(program);
  registerExport(program);
  registerPrompts(program);
  registerTesting(program);
  registerDoctor(program);
}
