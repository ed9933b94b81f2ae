#!/usr/bin/env node
import { readFileSync } from "node:fs";
import { Command } from "commander";
import { packageRoot } from "../paths.js";
import { registerCommands } from "./commands/index.js";
import { reportError } from "./errors.js";
import { followNpmLauncher } from "./launcher.js";
import { strictUsage } from "./usage.js";

const program = new Command()
  .name("policy-advisor")
  .description(
    "Decide whether an actor may perform an action: allow, deny or require_attestation, with reasoning.",
  )
  .version((JSON.parse(readFileSync(`${packageRoot}package.json`, "utf8")) as { version: string }).version)
  .showHelpAfterError()
  .exitOverride();

// Under `npx policy-advisor`, stop when npm stops (npm does not pass its signals on through the shell).
followNpmLauncher();

await registerCommands(program);

strictUsage(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  const { code, exitCode } = err as { code?: string; exitCode?: number };
  if (typeof code === "string" && code.startsWith("commander.")) {
    // Commander already printed the message. Help or the version asked for is a success; everything
    // else (an unknown option or command, a missing argument, help shown for a missing subcommand) is a
    // usage error.
    process.exitCode = exitCode === 0 ? 0 : 2;
  } else {
    process.exitCode = reportError(err);
  }
}
