import { Command, Option } from "commander";
import { type ReplayReport, replay } from "../../rollout/replay.js";
import type { DecisionValue } from "../../schemas/common.js";
import type { Tier } from "../../schemas/decision.js";
import { progressBar } from "../../util/progress.js";
import { addEngineOptions, advisorFromOptions, type EngineCliOptions } from "../engine-options.js";
import { action, UsageError } from "../errors.js";
import { addDbOption, type LogCliOptions, openLog, timeOption } from "./rollout.js";

const pct = (x: number | null) => (x === null ? "-" : `${(x * 100).toFixed(1)}%`);

/** Short names for the transition summary: "allow→attest: 3". */
const SHORT: Record<DecisionValue, string> = { allow: "allow", deny: "deny", require_attestation: "attest" };

function printReplay(r: ReplayReport): void {
  const out = (s = "") => process.stdout.write(`${s}\n`);
  const v = r.versions.replayed;
  out(
    `replayed ${r.replayed} of ${r.selected} logged decisions with policy=${v.policy} prompt=${v.prompt ?? "none"} model=${v.model ?? "none"}`,
  );
  out(`logged with: ${r.versions.logged.join("; ") || "-"}`);
  out(`agreement with the logged decisions: ${pct(r.agreementWithLogged)} (${r.changed.length} changed)`);
  out(
    `agreement with human reviews:        ${pct(r.agreementWithReviews)} (logged version: ${pct(r.loggedAgreementWithReviews)}, ${r.reviewed} reviews)`,
  );
  out(
    `agreement with callers' controls:    ${pct(r.agreementWithControls)} (logged version: ${pct(r.loggedAgreementWithControls)}, ${r.withControl} controls)`,
  );
  if (r.changed.length > 0) {
    out(
      `\nchanges by transition: ${r.transitions.map((t) => `${SHORT[t.from]}→${SHORT[t.to]}: ${t.count}`).join(", ")}`,
    );
    out("\nchanged decisions:");
    for (const c of r.changed) {
      const extra = [
        c.control ? `control ${c.control}` : "",
        c.reviewed ? `review ${c.reviewed} (${c.verdict.replace("_", " ")})` : "",
      ]
        .filter(Boolean)
        .join(", ");
      out(
        `  ${c.decisionId}  ${c.createdAt}  ${c.tier}: ${c.logged} -> ${c.replayed}${extra ? `  [${extra}]` : ""}`,
      );
    }
  }
  if (r.skipped.length > 0) {
    out(`\nskipped ${r.skipped.length}:`);
    for (const s of r.skipped.slice(0, 20)) out(`  ${s.decisionId}: ${s.reason}`);
    if (r.skipped.length > 20) out(`  ... and ${r.skipped.length - 20} more (see --json)`);
  }
}

export function registerReplay(program: Command): void {
  const cmd = addDbOption(new Command("replay"))
    .description(
      "re-decide logged requests with another policy, prompt or model; agreement with the log, reviews and controls, and every changed decision",
    )
    .option("--since <when>", "ISO 8601 date-time or a duration back from now (7d, 24h)")
    .option("--until <when>", "end of the range")
    .addOption(
      new Option("--tier <tier>", "only this tier").choices([
        "read",
        "write",
        "deploy_nonprod",
        "deploy_prod",
        "admin",
      ]),
    )
    .option("--mismatches", "only decisions whose control differed from the advice")
    .option("--limit <n>", "at most this many (the newest)", (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n <= 0)
        throw new UsageError(`--limit: expected a positive whole number, got "${v}"`);
      return n;
    })
    .option("--json", "print one JSON object");
  addEngineOptions(cmd).action(
    action(
      async (
        o: LogCliOptions &
          EngineCliOptions & {
            since?: string;
            until?: string;
            tier?: Tier;
            mismatches?: boolean;
            limit?: number;
            json?: boolean;
          },
      ) => {
        const since = timeOption(o.since, "--since");
        const until = timeOption(o.until, "--until");
        const store = await openLog(o);
        try {
          const advisor = await advisorFromOptions(o);
          try {
            const bar = progressBar({ title: "replay", total: 0, unit: "decisions", enabled: !o.json });
            const report = await replay(store, advisor, {
              ...(since ? { since } : {}),
              ...(until ? { until } : {}),
              ...(o.tier ? { tier: o.tier } : {}),
              ...(o.mismatches ? { mismatchesOnly: true } : {}),
              ...(o.limit ? { limit: o.limit } : {}),
              concurrency: o.engine === "rules" ? 1 : Math.max(1, o.sequences ?? 2),
              onProgress: (done, total) => bar.update(done, total),
            }).finally(() => bar.stop());
            if (o.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
            else printReplay(report);
          } finally {
            await advisor.close();
          }
        } finally {
          await store.close();
        }
      },
    ),
  );
  program.addCommand(cmd);
}
