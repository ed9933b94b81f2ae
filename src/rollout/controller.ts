import type { Mode } from "../schemas/common.js";
import { type Tier, TierSchema } from "../schemas/decision.js";
import type { DecisionFacts } from "../schemas/records.js";
import type { Gate, RollbackEntry, RolloutEvent, TierStatus } from "../schemas/rollout.js";
import type { DecisionLog, RolloutEventLog } from "../store/types.js";
import {
  capForTier,
  configuredMode,
  DEFAULT_ROLLOUT,
  modeRank,
  type RolloutConfig,
  statedMode,
  TIERS,
} from "./config.js";
import { RolloutError } from "./errors.js";
import { evaluateGates } from "./gates.js";
import { computeMeasures, distributionShift, isWrongAllowHighRisk } from "./measures.js";
import { type RolloutMetrics, rolloutMetrics } from "./metrics.js";

/** pino-compatible: the server passes its logger. */
export interface RolloutLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface RolloutOptions {
  /** Where the modes' changes are kept, and the decisions the gates and rollback checks measure. */
  store: RolloutEventLog & Pick<DecisionLog, "facts">;
  config?: RolloutConfig;
  /** `--mode`: every tier in this mode (admin capped at advisory). */
  modeOverride?: Mode;
  /**
   * Apply the start-up modes at once (`applyStartupModes` without force). The service instead calls
   * `checkStartupModes` before it binds and `applyStartupModes` once it listens; the CLI reading status
   * never applies them, or it would overwrite the service's configuration.
   */
  applyConfig?: boolean;
  metrics?: RolloutMetrics;
  log?: RolloutLogger;
  now?: () => number;
  random?: () => number;
}

/** A start-up above the gates: `force` records it anyway, with a `note` saying why (both in the event). */
export interface StartupOptions {
  force?: boolean;
  note?: string;
}

/** A tier whose start-up mode a gate blocks, with the gates that block it. */
export interface BlockedStartup {
  tier: Tier;
  from: Mode;
  to: Mode;
  blocking: Gate[];
}

/** The config events a start-up would record (each a compare-and-set on the tier's latest event), and what blocks. */
export interface StartupPlan {
  changes: { event: RolloutEvent; expectedLatestId: number | null }[];
  blocked: BlockedStartup[];
}

/** Refused start-up modes: the message names each tier, its mode in the log and each blocking gate. */
export class StartupBlockedError extends RolloutError {
  constructor(readonly blocked: BlockedStartup[]) {
    super(
      "gates_not_passed",
      blocked
        .map(
          (b) =>
            `cannot start ${b.tier} in ${b.to}: the decision log has it in ${b.from} and these gates fail: ` +
            b.blocking.map((g) => `${g.name} (${g.detail})`).join("; "),
        )
        .join("\n"),
    );
    this.name = "StartupBlockedError";
  }
}

/** Conflicting writers at start-up get this many tries before start-up gives up. */
const STARTUP_ATTEMPTS = 5;

/** Most records any one measure reads: beyond this the newest are used. */
const MAX_RECORDS = 200_000;

/**
 * The rollout state of every tier, persisted as events in the decision log so that several sidecars
 * sharing one log agree: the mode of a tier is the target of its latest event, else its configured mode.
 */
export class Rollout {
  private modes = new Map<Tier, { mode: Mode; since: string | null; latestId: number | null }>();
  private timer: NodeJS.Timeout | null = null;
  /** The mode the service's configuration last recorded per tier (config events). */
  private recordedConfig = new Map<Tier, Mode>();
  private readonly config: RolloutConfig;
  private readonly metrics: RolloutMetrics;
  private readonly now: () => number;
  private readonly random: () => number;

  private constructor(private readonly opts: RolloutOptions) {
    this.config = opts.config ?? DEFAULT_ROLLOUT;
    this.metrics = opts.metrics ?? rolloutMetrics();
    this.now = opts.now ?? Date.now;
    this.random = opts.random ?? Math.random;
  }

  static async open(opts: RolloutOptions): Promise<Rollout> {
    const r = new Rollout(opts);
    if (opts.applyConfig) await r.applyStartupModes();
    await r.refresh();
    return r;
  }

  get settings(): RolloutConfig {
    return this.config;
  }

  /** The mode a decision of this tier is served in right now (admin never above advisory). */
  resolveMode(tier: Tier): Mode {
    return capForTier(tier, this.modes.get(tier)?.mode ?? this.configured(tier));
  }

  /** Same as resolveMode: the server's ModeResolver interface. */
  modeFor(tier: Tier): Mode {
    return this.resolveMode(tier);
  }

  /** Whether this shadow-mode request gets advice computed and logged (shadowSampleRate). */
  sampleShadow(): boolean {
    return this.config.shadowSampleRate >= 1 || this.random() < this.config.shadowSampleRate;
  }

  private configured(tier: Tier): Mode {
    return configuredMode(this.config, tier, this.opts.modeOverride);
  }

  private iso(): string {
    return new Date(this.now()).toISOString();
  }

  /**
   * What start-up would record, read-only. Per tier: a log without an event for it gets the stated mode
   * (else shadow) as its first; a tier the configuration states nothing about keeps the log's mode; a
   * stated mode equal to the last one the configuration recorded changes nothing (promotions and
   * rollbacks since then stand); any other is recorded, but one above the tier's current mode only
   * through its gates, one mode at a time, unless forced.
   */
  async planStartupModes(opts: StartupOptions = {}): Promise<StartupPlan> {
    const events = await this.opts.store.rolloutEvents();
    const source = this.opts.modeOverride ? `--mode ${this.opts.modeOverride}` : "rollout configuration";
    const why = opts.note ? `${source}: ${opts.note}` : source;
    const plan: StartupPlan = { changes: [], blocked: [] };
    for (const tier of TIERS) {
      const mine = events.filter((e) => e.tier === tier);
      const latest = mine.at(-1);
      const stated = statedMode(this.config, tier, this.opts.modeOverride);
      const event = (from: Mode | null, to: Mode, reason: string) => ({
        event: { at: this.iso(), tier, kind: "config" as const, from, to, by: "config", reason },
        expectedLatestId: latest?.id ?? null,
      });
      if (!latest) {
        plan.changes.push(event(null, stated ?? "shadow", stated ? why : "no mode configured: shadow"));
        continue;
      }
      if (stated === undefined) continue;
      const lastConfig = mine.filter((e) => e.kind === "config").at(-1);
      if (lastConfig && capForTier(tier, lastConfig.to) === stated) continue;
      const from = capForTier(tier, latest.to);
      if (modeRank(stated) <= modeRank(from)) {
        plan.changes.push(event(from, stated, why));
        continue;
      }
      const blocking = await this.startupGates(tier, from, stated);
      if (blocking.length === 0) {
        plan.changes.push(event(from, stated, `${why} [gates passed]`));
      } else if (opts.force) {
        if (!opts.note?.trim())
          throw new RolloutError("note_required", `forcing ${tier} into ${stated} needs a note saying why`);
        plan.changes.push(
          event(from, stated, `${why} [forced past: ${blocking.map((g) => g.name).join(", ")}]`),
        );
      } else {
        plan.blocked.push({ tier, from, to: stated, blocking });
      }
    }
    return plan;
  }

  /** The gates between a tier's mode in the log and a higher start-up mode that do not pass. */
  private async startupGates(tier: Tier, from: Mode, to: Mode): Promise<Gate[]> {
    const [st] = await this.status(tier);
    const failing = (st?.gates ?? []).filter((g) => !g.passed);
    if (st?.nextMode === to) return failing;
    // Two modes up: the second step's gates need evidence from the first, which there is none of yet.
    return [
      {
        name: "one_mode_at_a_time",
        passed: false,
        detail: `${to} is more than one mode above ${from}; ${st?.nextMode ?? "the next mode"} comes first`,
      },
      ...failing,
    ];
  }

  /** Refuses (StartupBlockedError) a start-up mode a gate blocks; writes nothing. */
  async checkStartupModes(opts: StartupOptions = {}): Promise<void> {
    const plan = await this.planStartupModes(opts);
    if (plan.blocked.length > 0) throw new StartupBlockedError(plan.blocked);
  }

  /**
   * Records the start-up modes (planStartupModes), or refuses them all with StartupBlockedError before
   * writing any. Another process writing a tier meanwhile fails its compare-and-set; the plan is then
   * made again from the new state.
   */
  async applyStartupModes(opts: StartupOptions = {}): Promise<RolloutEvent[]> {
    const recorded: RolloutEvent[] = [];
    for (let attempt = 0; attempt < STARTUP_ATTEMPTS; attempt++) {
      const plan = await this.planStartupModes(opts);
      if (plan.blocked.length > 0) throw new StartupBlockedError(plan.blocked);
      let conflicted = false;
      for (const change of plan.changes) {
        const written = await this.opts.store.appendRolloutEventIf(change.event, change.expectedLatestId);
        if (written) recorded.push(written);
        else conflicted = true;
      }
      if (!conflicted) {
        await this.refresh();
        for (const e of recorded)
          this.opts.log?.info(
            { tier: e.tier, from: e.from, to: e.to, reason: e.reason },
            "rollout: start-up mode recorded",
          );
        return recorded;
      }
    }
    throw new RolloutError(
      "conflict",
      `the tiers' modes kept changing while start-up recorded its own (${STARTUP_ATTEMPTS} tries); start again`,
    );
  }

  /** Reloads every tier's mode from the log (another sidecar or the CLI may have changed it). */
  async refresh(): Promise<void> {
    const events = await this.opts.store.rolloutEvents();
    const modes = new Map<Tier, { mode: Mode; since: string | null; latestId: number | null }>();
    const recorded = new Map<Tier, Mode>();
    for (const e of events) if (e.kind === "config") recorded.set(e.tier, capForTier(e.tier, e.to));
    this.recordedConfig = recorded;
    for (const e of events) {
      const mode = capForTier(e.tier, e.to);
      const prev = modes.get(e.tier);
      // An event that leaves the mode as it was (a configuration recorded again) keeps the gates' evidence.
      const since = prev && prev.mode === mode ? prev.since : e.at;
      modes.set(e.tier, { mode, since, latestId: e.id ?? null });
    }
    this.modes = modes;
    for (const tier of TIERS) this.metrics.setMode(tier, this.resolveMode(tier));
  }

  private latestId(tier: Tier): number | null {
    return this.modes.get(tier)?.latestId ?? null;
  }

  private sinceOf(tier: Tier): string | null {
    return this.modes.get(tier)?.since ?? null;
  }

  private async records(tier: Tier, since: string, until?: string): Promise<DecisionFacts[]> {
    return this.opts.store.facts({
      tier,
      since,
      ...(until ? { until } : {}),
      order: "desc",
      limit: MAX_RECORDS,
    });
  }

  /** Evidence for the gates: the tier's decisions since it entered its mode, within the gate window. */
  private evidenceStart(tier: Tier): string {
    const windowStart = this.now() - this.config.gates.window;
    const since = this.sinceOf(tier);
    return new Date(Math.max(windowStart, since ? Date.parse(since) : 0)).toISOString();
  }

  async status(only?: Tier): Promise<TierStatus[]> {
    await this.refresh();
    const events = await this.opts.store.rolloutEvents();
    const out: TierStatus[] = [];
    for (const tier of only ? [only] : TIERS) {
      const mode = this.resolveMode(tier);
      const measuresSince = this.evidenceStart(tier);
      const records = await this.records(tier, measuresSince);
      const measures = computeMeasures(records);
      const g = evaluateGates(tier, mode, measures, records, this.config.gates);
      const mine = events.filter((e) => e.tier === tier).reverse();
      out.push({
        tier,
        mode,
        // What the configuration recorded (a tier it states nothing about keeps the log's), not defaults.
        configuredMode: this.recordedConfig.get(tier) ?? this.configured(tier),
        since: this.sinceOf(tier),
        measuresSince,
        measures,
        gates: g.gates,
        mayPromote: g.mayPromote,
        nextMode: g.nextMode,
        rollbacks: mine
          .filter((e) => e.kind === "rollback")
          .slice(0, 20)
          .map((e) => ({
            at: e.at,
            reason: e.reason,
            from: e.from,
            to: e.to,
            by: e.by,
            trigger: e.trigger ?? "manual",
          })),
        promotions: mine
          .filter((e) => e.kind === "promote")
          .slice(0, 20)
          .map((e) => ({ at: e.at, by: e.by, note: e.reason, from: e.from, to: e.to })),
      });
    }
    return out;
  }

  private static tier(t: string): Tier {
    const r = TierSchema.safeParse(t);
    if (!r.success)
      throw new RolloutError("unknown_tier", `unknown tier "${t}"; expected one of ${TIERS.join(", ")}`);
    return r.data;
  }

  /**
   * Moves a tier one mode up: a human decision, recorded with who and why. Refused while a gate fails,
   * unless forced (the failing gates are then written into the record).
   */
  async promote(tierName: string, by: string, note: string, force = false): Promise<TierStatus> {
    const tier = Rollout.tier(tierName);
    const [st] = await this.status(tier);
    if (!st) throw new RolloutError("unknown_tier", `unknown tier "${tierName}"`);
    if (st.nextMode === null) {
      const why =
        tier === "admin" && st.mode === "advisory"
          ? "admin actions are never enforced without a human"
          : `${tier} is already in ${st.mode}`;
      throw new RolloutError("no_next_mode", `cannot promote ${tier}: ${why}`);
    }
    const failing = st.gates.filter((g) => !g.passed);
    if (failing.length > 0 && !force) {
      throw new RolloutError(
        "gates_not_passed",
        `cannot promote ${tier} from ${st.mode} to ${st.nextMode}: ${failing.map((g) => `${g.name} (${g.detail})`).join("; ")}`,
      );
    }
    const reason =
      failing.length > 0 ? `${note} [forced past: ${failing.map((g) => g.name).join(", ")}]` : note;
    const written = await this.opts.store.appendRolloutEventIf(
      { at: this.iso(), tier, kind: "promote", from: st.mode, to: st.nextMode, by, reason },
      this.latestId(tier),
    );
    if (!written) throw conflict(tier);
    this.metrics.promotions.inc({ tier });
    this.opts.log?.info({ tier, from: st.mode, to: st.nextMode, by, note: reason }, "rollout: tier promoted");
    const [after] = await this.status(tier);
    return after!;
  }

  /** Moves a tier down (to shadow unless `to` says otherwise), by a human or the monitor. */
  async rollback(
    tierName: string,
    reason: string,
    opts: { by?: string; to?: Mode; trigger?: string } = {},
  ): Promise<TierStatus> {
    const tier = Rollout.tier(tierName);
    await this.refresh();
    const from = this.resolveMode(tier);
    const to = opts.to ?? "shadow";
    if (modeRank(to) >= modeRank(from)) {
      throw new RolloutError("invalid_rollback", `cannot roll ${tier} back to ${to}: it is in ${from}`);
    }
    const trigger = opts.trigger ?? "manual";
    const written = await this.opts.store.appendRolloutEventIf(
      { at: this.iso(), tier, kind: "rollback", from, to, by: opts.by ?? "operator", reason, trigger },
      this.latestId(tier),
    );
    if (!written) throw conflict(tier);
    this.metrics.rollbacks.inc({ tier, trigger });
    this.opts.log?.warn({ tier, from, to, reason, trigger }, "rollout: tier rolled back");
    const [after] = await this.status(tier);
    return after!;
  }

  /**
   * The automatic rollback checks, per tier above shadow: error rate, p95 latency, distribution shift
   * against the baseline window before the tier's current mode began, and wrong allows on high-risk
   * actions found by review. Returns the rollbacks made.
   */
  async check(): Promise<(RollbackEntry & { tier: Tier })[]> {
    const cfg = this.config.rollback;
    if (!cfg.enabled) return [];
    await this.refresh();
    const done: (RollbackEntry & { tier: Tier })[] = [];
    for (const tier of TIERS) {
      const mode = this.resolveMode(tier);
      if (mode === "shadow") continue;
      const fired = await this.firstTrigger(tier);
      if (!fired) continue;
      try {
        await this.rollback(tier, fired.reason, { by: "monitor", trigger: fired.trigger });
      } catch (err) {
        // Another sidecar changed this tier meanwhile (most likely rolled it back itself, while this one
        // was measuring): its call. Its rollback shows as a conflict, or as the tier already in shadow.
        if (err instanceof RolloutError && (err.code === "conflict" || err.code === "invalid_rollback"))
          continue;
        throw err;
      }
      done.push({
        tier,
        at: this.iso(),
        reason: fired.reason,
        from: mode,
        to: "shadow",
        by: "monitor",
        trigger: fired.trigger,
      });
    }
    return done;
  }

  private async firstTrigger(tier: Tier): Promise<{ trigger: string; reason: string } | undefined> {
    const cfg = this.config.rollback;
    const since = this.sinceOf(tier);
    const sinceMs = since ? Date.parse(since) : 0;
    const recentStart = new Date(Math.max(sinceMs, this.now() - cfg.window)).toISOString();
    const recent = computeMeasures(await this.records(tier, recentStart));
    if (recent.decisions >= cfg.minSample) {
      if (recent.errorRate !== null && recent.errorRate > cfg.maxErrorRate) {
        return {
          trigger: "error_rate",
          reason: `error rate ${(recent.errorRate * 100).toFixed(1)}% over ${recent.decisions} decisions exceeds ${(cfg.maxErrorRate * 100).toFixed(1)}%`,
        };
      }
      if (recent.latencyMs.p95 > cfg.latencyBudgetMs) {
        return {
          trigger: "latency_p95",
          reason: `p95 latency ${recent.latencyMs.p95} ms exceeds the ${cfg.latencyBudgetMs} ms budget`,
        };
      }
      if (since) {
        const baseStart = new Date(sinceMs - cfg.baselineWindow).toISOString();
        const baseline = computeMeasures(await this.records(tier, baseStart, since));
        if (baseline.decisions >= cfg.minSample) {
          const shift = distributionShift(baseline.distribution, recent.distribution);
          if (shift > cfg.maxDistributionShift) {
            return {
              trigger: "distribution_shift",
              reason: `decision distribution shifted ${(shift * 100).toFixed(1)}% from its baseline (limit ${(cfg.maxDistributionShift * 100).toFixed(0)}%)`,
            };
          }
        }
      }
    }
    const reviewed = await this.opts.store.facts({
      tier,
      reviewed: true,
      since: new Date(this.now() - this.config.gates.window).toISOString(),
      limit: MAX_RECORDS,
    });
    const wrong = reviewed.find(
      (r) => isWrongAllowHighRisk(r) && Date.parse(r.review!.reviewedAt) >= sinceMs,
    );
    if (wrong) return { trigger: "wrong_allow_high_risk", reason: wrongAllowReason(wrong) };
    return undefined;
  }

  /**
   * Called after a review is recorded: a wrong allow on a high-risk action rolls its tier back to shadow
   * at once, without waiting for the periodic check.
   */
  async onReview(record: DecisionFacts): Promise<RollbackEntry | undefined> {
    if (!this.config.rollback.enabled || !isWrongAllowHighRisk(record)) return undefined;
    await this.refresh();
    const from = this.resolveMode(record.tier);
    if (from === "shadow") return undefined;
    const reason = wrongAllowReason(record);
    try {
      await this.rollback(record.tier, reason, { by: "monitor", trigger: "wrong_allow_high_risk" });
    } catch (err) {
      if (err instanceof RolloutError && err.code === "conflict") return undefined;
      throw err;
    }
    return { at: this.iso(), reason, from, to: "shadow", by: "monitor", trigger: "wrong_allow_high_risk" };
  }

  /** Periodic refresh and automatic rollback checks in a running service. */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      this.refresh()
        .then(() => this.check())
        .catch((err: unknown) => this.opts.log?.warn({ err: String(err) }, "rollout: check failed"));
    }, this.config.rollback.interval);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}

function conflict(tier: Tier): RolloutError {
  return new RolloutError(
    "conflict",
    `${tier} changed while this request was decided (another sidecar or operator); look at its status and retry`,
  );
}

function wrongAllowReason(r: DecisionFacts): string {
  const who = r.review ? `${r.review.reviewer} reviewed ${r.decisionId}` : r.decisionId;
  return `wrong allow on a ${r.decision.riskLevel}-risk action: ${who}, advice allow, final ${r.review?.finalDecision}`;
}
