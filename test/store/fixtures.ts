import { randomUUID } from "node:crypto";
import pg from "pg";
import type { DecisionValue, Mode } from "../../src/schemas/common.js";
import type { Decision, Tier } from "../../src/schemas/decision.js";
import type { DecisionRecord } from "../../src/schemas/records.js";

export const PG_URL = process.env.POLICY_ADVISOR_TEST_PG ?? "postgres://postgres@127.0.0.1:5432/test";

/** True when the test PostgreSQL server answers. */
export async function postgresUp(): Promise<boolean> {
  const c = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 2000 });
  try {
    await c.connect();
    await c.query("SELECT 1");
    return true;
  } catch {
    return false;
  } finally {
    await c.end().catch(() => {});
  }
}

/** A fresh schema name per test run, dropped by dropSchema. */
export function uniqueSchema(): string {
  return `pa_test_${process.pid}_${randomUUID().slice(0, 8)}`;
}

export async function dropSchema(schema: string): Promise<void> {
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  try {
    await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await c.end();
  }
}

export interface RecordSpec {
  id?: string;
  createdAt?: string;
  tier?: Tier;
  mode?: Mode;
  decision?: DecisionValue;
  control?: DecisionValue;
  actor?: string;
  action?: string;
  source?: Decision["source"];
  riskLevel?: Decision["riskLevel"];
  latencyMs?: number;
  input?: Record<string, unknown>;
  prompt?: string | null;
}

/** A realistic logged decision (situation shape) with the given facts. */
export function makeRecord(s: RecordSpec = {}): DecisionRecord {
  const id = s.id ?? randomUUID();
  const decision = s.decision ?? "allow";
  const mode = s.mode ?? "advisory";
  const rec: DecisionRecord = {
    decisionId: id,
    createdAt: s.createdAt ?? new Date().toISOString(),
    shape: "situation",
    input: s.input ?? {
      action_type: s.action ?? "read",
      actor_role: "developer",
      actor_id: s.actor ?? "user:alice",
      t3_tensor: { competence: 0.8, reliability: 0.8, integrity: 0.9 },
      resource: "docs/readme.md",
      details: "routine read of the readme",
    },
    decision: {
      decisionId: id,
      decision,
      classification: "routine_read",
      riskLevel: s.riskLevel ?? "low",
      reasoning: {
        roleCheck: "role ok",
        trustCheck: "trust ok",
        environment: "hours ok",
        context: "nothing unusual",
      },
      policyReferences: ["R1: developers may read"],
      signals: [],
      source: s.source ?? "engine",
      versions: { policy: "sha256:abc", prompt: s.prompt ?? null, model: null },
      latencyMs: s.latencyMs ?? 1.5,
      tier: s.tier ?? "read",
    },
    mode,
    tier: s.tier ?? "read",
    effectiveDecision: mode === "shadow" && s.control ? s.control : decision,
  };
  if (s.control) rec.control = s.control;
  return rec;
}
