import Table from "cli-table3";
import { Command, Option } from "commander";
import {
  DEFAULT_ROLLOUT,
  loadRolloutConfig,
  type RolloutConfig,
  RolloutConfigError,
} from "../../rollout/config.js";
import { Rollout } from "../../rollout/controller.js";
import { parseTimeArg } from "../../rollout/duration.js";
import { RolloutError } from "../../rollout/errors.js";
import {
  promoteVersion,
  rollbackVersion,
  type VersionStatus,
  versionStatus,
} from "../../rollout/versions.js";
import type { Mode } from "../../schemas/common.js";
import type { TierStatus } from "../../schemas/rollout.js";
import { DEFAULT_DB, openStore, StoreError } from "../../store/index.js";
import type { DecisionStore } from "../../store/types.js";
import { tableStyle } from "../../util/colour.js";
import { action, UsageError } from "../errors.js";

/** Options of every command that reads the decision log. */
export interface LogCliOptions {
  db: string;
  rollout?: string;
}

export function addDbOption(cmd: Command): Command {
  return cmd
    .option("--db <file|url>", "decision log: a SQLite file or postgres://user@host:port/db", DEFAULT_DB)
    .option(
      "--rollout <file>",
      "rollout file (YAML/JSON): gates, rollback budget, masking (default: built-in)",
    );
}

/** Turns what the user got wrong (a path, a file, a date) into a message and exit status 2. */
export async function userErrors<T>(fn: () => Promise<T> | T): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof StoreError || err instanceof RolloutConfigError || err instanceof RangeError) {
      throw new UsageError(err.message);
    }
    if (err instanceof RolloutError) throw new UsageError(err.message);
    throw err;
  }
}

/** Opens an existing log (never creates an empty one for a mistyped path). */
export function openLog(o: LogCliOptions, config?: RolloutConfig): Promise<DecisionStore> {
  return userErrors(() => openStore(o.db, { mustExist: true, mask: config?.mask ?? [] }));
}

export function rolloutConfigFrom(o: Pick<LogCliOptions, "rollout">): RolloutConfig {
  if (!o.rollout) return DEFAULT_ROLLOUT;
  try {
    return loadRolloutConfig(o.rollout);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

export function timeOption(v: string | undefined, name: string): string | undefined {
  if (v === undefined) return undefined;
  try {
    return parseTimeArg(v, name);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

const pct = (x: number | null) => (x === null ? "-" : `${(x * 100).toFixed(1)}%`);

function printStatus(tiers: TierStatus[]): void {
  const t = new Table({
    head: [
      "tier",
      "mode",
      "next",
      "may promote",
      "decisions (since, UTC)",
      "agreement",
      "overrides",
      "errors",
      "p95 ms",
      "failing gates",
    ],
    ...tableStyle(),
  });
  for (const s of tiers) {
    const m = s.measures;
    t.push([
      s.tier,
      s.mode === s.configuredMode ? s.mode : `${s.mode} (config ${s.configuredMode})`,
      s.nextMode ?? "-",
      s.nextMode === null ? "-" : s.mayPromote ? "yes" : "no",
      `${m.decisions} (since ${s.measuresSince.slice(0, 16).replace("T", " ")})`,
      pct(m.agreementRate),
      pct(m.overrideRate),
      pct(m.errorRate),
      m.latencyMs.p95,
      s.gates
        .filter((g) => !g.passed)
        .map((g) => `${g.name}: ${g.detail}`)
        .join("\n") || "-",
    ]);
  }
  process.stdout.write(`${t.toString()}\n`);
  const rollbacks = tiers.flatMap((s) => s.rollbacks.slice(0, 3).map((r) => ({ tier: s.tier, ...r })));
  if (rollbacks.length > 0) {
    process.stdout.write("\nrecent rollbacks:\n");
    for (const r of rollbacks.sort((a, b) => (a.at < b.at ? 1 : -1))) {
      process.stdout.write(
        `  ${r.at}  ${r.tier}: ${r.from} -> ${r.to} by ${r.by} (${r.trigger}): ${r.reason}\n`,
      );
    }
  }
}

async function withRollout<T>(o: LogCliOptions, fn: (r: Rollout) => Promise<T>): Promise<T> {
  const config = rolloutConfigFrom(o);
  const store = await openLog(o, config);
  try {
    // applyConfig false: reading status must not overwrite the modes the service recorded.
    const r = await Rollout.open({ store, config });
    return await userErrors(() => fn(r));
  } finally {
    await store.close();
  }
}

const json = (v: unknown) => process.stdout.write(`${JSON.stringify(v, null, 2)}\n`);

export function registerRollout(program: Command): void {
  const cmd = new Command("rollout").description(
    "each tier's mode, measures and gates; promote or roll back a tier",
  );

  const status = addDbOption(new Command("status"))
    .description("each tier's mode, measures, gates, whether it may be promoted, and recent rollbacks")
    .option("--json", "print JSON ({tiers: [...]}, as GET /v1/rollout)")
    .action(
      action(async (o: LogCliOptions & { json?: boolean }) => {
        const tiers = await withRollout(o, (r) => r.status());
        if (o.json) json({ tiers });
        else printStatus(tiers);
      }),
    )
    .addHelpText("after", "\nExample: policy-advisor rollout status --db ./policy-advisor.db");
  const promote = addDbOption(new Command("promote"))
    .description(
      "move TIER one mode up (shadow -> advisory -> enforce; admin stops at advisory) once its gates pass",
    )
    .argument("<tier>", "read | write | deploy_nonprod | deploy_prod | admin")
    .requiredOption("--note <text>", "why: recorded with the promotion")
    .option("--by <name>", "who decides (default: $USER)")
    .option("--force", "promote although a gate fails (the failing gates are recorded)")
    .option("--json", "print the tier's new status as JSON")
    .action(
      action(
        async (
          tier: string,
          o: LogCliOptions & { note: string; by?: string; force?: boolean; json?: boolean },
        ) => {
          const by = o.by ?? process.env.USER ?? process.env.LOGNAME;
          if (!by) throw new UsageError("--by: say who decides this promotion");
          const st = await withRollout(o, (r) => r.promote(tier, by, o.note, o.force ?? false));
          if (o.json) json(st);
          else process.stdout.write(`${st.tier}: now ${st.mode} (promoted by ${by})\n`);
        },
      ),
    );
  const rollback = addDbOption(new Command("rollback"))
    .description("move TIER back to shadow (or --to advisory)")
    .argument("<tier>", "read | write | deploy_nonprod | deploy_prod | admin")
    .requiredOption("--reason <text>", "why: recorded with the rollback")
    .addOption(
      new Option("--to <mode>", "mode to roll back to").choices(["shadow", "advisory"]).default("shadow"),
    )
    .option("--by <name>", "who (default: $USER)")
    .option("--json", "print the tier's new status as JSON")
    .action(
      action(
        async (
          tier: string,
          o: LogCliOptions & { reason: string; to: Mode; by?: string; json?: boolean },
        ) => {
          const by = o.by ?? process.env.USER ?? "operator";
          const st = await withRollout(o, (r) => r.rollback(tier, o.reason, { by, to: o.to }));
          if (o.json) json(st);
          else process.stdout.write(`${st.tier}: now ${st.mode} (rolled back by ${by})\n`);
        },
      ),
    );
  const check = addDbOption(new Command("check"))
    .description("run the automatic rollback checks once (error rate, p95, distribution shift, wrong allows)")
    .option("--json", "print the rollbacks made as JSON")
    .action(
      action(async (o: LogCliOptions & { json?: boolean }) => {
        const done = await withRollout(o, (r) => r.check());
        if (o.json) json({ rollbacks: done });
        else if (done.length === 0) process.stdout.write("no rollback needed\n");
        else
          for (const d of done)
            process.stdout.write(`rolled back ${d.tier}: ${d.from} -> ${d.to} (${d.trigger}): ${d.reason}\n`);
      }),
    );
  for (const sub of [status, promote, rollback, check]) cmd.addCommand(sub);
  cmd.addCommand(versionCommand());
  program.addCommand(cmd);
}

const specText = (v: { name: string; prompt?: string | null; model?: string | null } | null) =>
  v ? `${v.name} (prompt ${v.prompt ?? "default"}, model ${v.model ?? "default"})` : "(the service's flags)";

function printVersions(st: VersionStatus): void {
  const out = (s: string) => process.stdout.write(`${s}\n`);
  out(`active:    ${specText(st.active)}`);
  out(`previous:  ${st.previous ? specText(st.previous) : "-"}`);
  out(`candidate: ${st.candidate ? specText(st.candidate) : "-"}`);
  if (st.comparison) {
    const c = st.comparison;
    out(
      `  compared on ${c.compared} requests: agreement with the active version ${pct(c.agreementWithCurrent)}, ${c.changed.length} changed`,
    );
  }
  for (const g of st.gates) out(`  [${g.passed ? "pass" : "FAIL"}] ${g.name}: ${g.detail}`);
  if (st.candidate) out(`may promote: ${st.mayPromote ? "yes" : "no"}`);
  for (const e of st.history.slice(0, 5))
    out(`  ${e.at} ${e.kind} ${e.from?.name ?? "-"} -> ${e.to.name} by ${e.by}: ${e.reason}`);
}

async function withLog<T>(
  o: LogCliOptions,
  fn: (store: DecisionStore, config: RolloutConfig) => Promise<T>,
): Promise<T> {
  const config = rolloutConfigFrom(o);
  const store = await openLog(o, config);
  try {
    return await userErrors(() => fn(store, config));
  } finally {
    await store.close();
  }
}

/** `rollout version status|promote|rollback`: the prompt/model version, A/B candidate and one-command rollback. */
function versionCommand(): Command {
  const cmd = new Command("version").description(
    "the live prompt/model version, the candidate running in shadow beside it, promotion and one-command rollback",
  );
  const status = addDbOption(new Command("status"))
    .description("active, previous and candidate versions; the candidate's comparison and gates")
    .option("--json", "print JSON")
    .action(
      action(async (o: LogCliOptions & { json?: boolean }) => {
        const st = await withLog(o, (store, config) => versionStatus(store, config));
        if (o.json) json(st);
        else printVersions(st);
      }),
    );
  const promote = addDbOption(new Command("promote"))
    .description("make the rollout file's versions.candidate live once its comparison passes the gates")
    .requiredOption("--note <text>", "why: recorded with the promotion")
    .option("--by <name>", "who decides (default: $USER)")
    .option("--force", "promote although a gate fails (recorded)")
    .action(
      action(async (o: LogCliOptions & { note: string; by?: string; force?: boolean }) => {
        const by = o.by ?? process.env.USER ?? "operator";
        const st = await withLog(o, (store, config) =>
          promoteVersion(store, config, by, o.note, o.force ?? false),
        );
        process.stdout.write(`now live: ${specText(st.active)}; previous: ${specText(st.previous)}\n`);
      }),
    );
  const rollback = addDbOption(new Command("rollback"))
    .description("return to the previous version")
    .requiredOption("--reason <text>", "why: recorded with the rollback")
    .option("--by <name>", "who (default: $USER)")
    .action(
      action(async (o: LogCliOptions & { reason: string; by?: string }) => {
        const by = o.by ?? process.env.USER ?? "operator";
        const st = await withLog(o, (store, config) => rollbackVersion(store, config, by, o.reason));
        process.stdout.write(`now live: ${specText(st.active)}\n`);
      }),
    );
  for (const sub of [status, promote, rollback]) cmd.addCommand(sub);
  return cmd;
}
