#!/usr/bin/env node
import { Command } from "commander";
import { registerCommands } from "./commands/index.js";
import { reportError } from "./errors.js";

const program = new Command()
  .name("policy-advisor")
  .description(
    "Decide whether an actor may perform an action: allow, deny or require_attestation, with reasoning.",
  )
  .showHelpAfterError()
  .exitOverride();

registerCommands(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  const code = (err as { code?: string }).code;
  if (code === "commander.helpDisplayed" || code === "commander.version" || code === "commander.help") {
    process.exitCode = 0;
  } else if (typeof code === "string" && code.startsWith("commander.")) {
    process.exitCode = 2; // commander already printed the message
  } else {
    process.exitCode = reportError(err);
  }
}
