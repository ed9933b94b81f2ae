import { Command } from "commander";
import { addEngineOptions, advisorFromOptions, type EngineCliOptions } from "../engine-options.js";
import { action } from "../errors.js";
import { readJsonInput } from "../read-input.js";

export function registerDecide(program: Command): void {
  const cmd = new Command("decide")
    .description(
      "decide one request (a situation or an R6Request) from FILE or standard input; prints the decision JSON",
    )
    .option("--input <file>", "request JSON file (default: standard input)");
  addEngineOptions(cmd).action(
    action(async (o: EngineCliOptions & { input?: string }) => {
      const input = await readJsonInput(o.input);
      const advisor = await advisorFromOptions(o);
      try {
        const decision = await advisor.advise(input);
        process.stdout.write(`${JSON.stringify(decision, null, 2)}\n`);
      } finally {
        await advisor.close();
      }
    }),
  );
  program.addCommand(cmd);
}
