import type { Command } from "commander";
import { BENCH_SECTIONS, type BenchSection, isFailed } from "../../bench/types.js";
import { progressBar } from "../../util/progress.js";
import { positiveInt } from "../engine-options.js";
import { action, UsageError } from "../errors.js";

function parseOnly(value: string): BenchSection[] {
  const parts = value
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  const bad = parts.filter((p) => !(BENCH_SECTIONS as readonly string[]).includes(p));
  if (bad.length > 0 || parts.length === 0) {
    throw new UsageError(
      `--only: unknown section ${bad.map((b) => `"${b}"`).join(", ") || "(none given)"}; expected a comma-separated list of ${BENCH_SECTIONS.join(", ")}`,
    );
  }
  return parts as BenchSection[];
}

export function registerBench(program: Command): void {
  program
    .command("bench")
    .description(
      "Measure the rules engine, the sidecar under load, the LLM path, memory and peers (Cerbos, Cedar) on this machine",
    )
    .option("--only <sections>", `comma-separated sections to run: ${BENCH_SECTIONS.join(",")}`)
    .option("--json", "print one JSON object instead of the table")
    .option("--quick", "short runs (seconds), for smoke tests; numbers are rough")
    .option(
      "--db <target>",
      "decision log for the http section: a SQLite file or postgres:// URL (default a temp SQLite file)",
    )
    .option(
      "--threads <n>",
      "llama.cpp threads per context for the llm section, as serve --threads (default: the physical cores, " +
        "or 1 when the load average is at or above the core count)",
      positiveInt("--threads"),
    )
    .action(
      action(async (o: { only?: string; json?: boolean; quick?: boolean; db?: string; threads?: number }) => {
        const only = o.only !== undefined ? parseOnly(o.only) : undefined;
        // Loaded here, not at the top: autocannon and the bench code would otherwise add some 10 MB to every
        // command, `serve` included.
        const [{ runBench }, { formatBench }] = await Promise.all([
          import("../../bench/run.js"),
          import("../../bench/format.js"),
        ]);
        // Progress goes to stderr so stdout holds only the result: the messages as lines, and on a terminal
        // (not with --json) a bar over the sections with an ETA.
        const bar = progressBar({ title: "bench", total: 0, unit: "sections", enabled: !o.json });
        const report = await runBench({
          progress: (m) => bar.log(m),
          onSection: (section, done, total) => bar.update(done, total, section),
          ...(only ? { only } : {}),
          ...(o.quick ? { quick: true } : {}),
          ...(o.db ? { db: o.db } : {}),
          ...(o.threads !== undefined ? { llmThreads: o.threads } : {}),
        })
          .then((r) => {
            bar.finish("done");
            return r;
          })
          .finally(() => bar.stop());
        process.stdout.write(o.json ? `${JSON.stringify(report, null, 2)}\n` : formatBench(report));
        // A peer that decides the benchmark requests differently makes its comparison meaningless: say so in
        // the exit code too (a missed target does not: it is a measurement).
        if (report.peers && (isFailed(report.peers.cerbos) || isFailed(report.peers.cedar)))
          process.exitCode = 1;
      }),
    );
}
