import type { Command } from "commander";

type Register = (program: Command) => void;

/**
 * Every subcommand, by name, with the module that registers it. Modules load lazily: `decide` should not
 * pay for Fastify, node-llama-cpp or autocannon, and `serve` should not carry the bench code in memory.
 */
const COMMANDS: Record<string, () => Promise<Register>> = {
  decide: async () => (await import("./decide.js")).registerDecide,
  eval: async () => (await import("./eval.js")).registerEval,
  bench: async () => (await import("./bench.js")).registerBench,
  serve: async () => (await import("./serve.js")).registerServe,
  worker: async () => (await import("./worker.js")).registerWorker,
  report: async () => (await import("./report.js")).registerReport,
  replay: async () => (await import("./replay.js")).registerReplay,
  rollout: async () => (await import("./rollout.js")).registerRollout,
  export: async () => (await import("./export.js")).registerExport,
  prompts: async () => (await import("./prompts.js")).registerPrompts,
  testing: async () => (await import("./testing.js")).registerTesting,
  doctor: async () => (await import("./doctor.js")).registerDoctor,
};

/**
 * Registers the subcommand named on the command line, or every subcommand when none is named (help,
 * a typo), so that help and "unknown command" messages still list them all.
 */
export async function registerCommands(
  program: Command,
  argv: readonly string[] = process.argv,
): Promise<void> {
  const named = argv.slice(2).find((a) => !a.startsWith("-"));
  const only = named !== undefined && Object.hasOwn(COMMANDS, named) ? [named] : Object.keys(COMMANDS);
  for (const name of only) (await COMMANDS[name]!())(program);
}
