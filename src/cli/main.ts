#!/usr/bin/env node
import { readFileSync } from "node:fs";
import { Command } from "commander";
import { packageRoot } from "../paths.js";
import { registerCommands } from "./commands/index.js";
import { reportError } from "./errors.js";

const program = new Command()
  .name("policy-advisor")
  .description(
    "Decide whether an actor may perform an action: allow, deny or require_attestation, with reasoning.",
  )
  .version((JSON.parse(readFileSync(`${packageRoot}package.json`, "utf8")) as { version: string }).version)
  .showHelpAfterError()
  .exitOverride();

await registerCommands(program);

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
