import { readFileSync } from "node:fs";
import { dataPath } from "../../paths.js";
import type { DecisionValue } from "../../schemas/common.js";

/**
 * The requests every peer answers: the eight seed scenarios (the reference system's own) and seven more that
 * reach the rules the seeds leave out (a role limit on secrets, trust far below, an unknown role, a role
 * without deploy rights, a role limit that attests, a clean daytime write and a clean staging deploy).
 * Each peer's policy is written to decide these the way data/policies/default.yaml does, and the bench
 * checks that it does before it times anything.
 */
export interface PeerRequest {
  id: string;
  /** The situation as a client sends it to POST /v1/advisory. */
  situation: Situation;
}

/** The fields of a situation the peers' policies read (the sidecar takes the whole object). */
export interface Situation {
  action_type: string;
  actor_role: string;
  actor_id: string;
  t3_tensor: { competence: number; reliability: number; integrity: number };
  resource?: string;
  team_context?: string;
  timestamp?: string;
  recent_history?: string;
  details?: string;
  incident_status?: string;
  identity_metrics?: { level?: string; coherence?: number; trend?: string };
  [field: string]: unknown;
}

const t3 = (competence: number, reliability: number, integrity: number) => ({
  competence,
  reliability,
  integrity,
});

const EXTRA: PeerRequest[] = [
  {
    id: "X01-member-reads-secret",
    situation: {
      action_type: "read",
      actor_role: "member",
      actor_id: "user:alice",
      t3_tensor: t3(0.9, 0.9, 0.9),
      resource: "vault/secrets/api_key",
    },
  },
  {
    id: "X02-trust-far-below",
    situation: {
      action_type: "commit",
      actor_role: "developer",
      actor_id: "user:bob",
      t3_tensor: t3(0.35, 0.8, 0.9),
      resource: "repo:core",
    },
  },
  {
    id: "X03-staging-deploy-at-noon",
    situation: {
      action_type: "deploy",
      actor_role: "deployer",
      actor_id: "user:charlie",
      t3_tensor: t3(0.8, 0.85, 0.9),
      resource: "env:staging",
      timestamp: "2026-02-03T17:00:00Z",
    },
  },
  {
    id: "X04-developer-reads-customer-data",
    situation: {
      action_type: "read",
      actor_role: "developer",
      actor_id: "user:diana",
      t3_tensor: t3(0.8, 0.85, 0.9),
      resource: "billing/customer_export",
    },
  },
  {
    id: "X05-unknown-role",
    situation: {
      action_type: "read",
      actor_role: "contractor",
      actor_id: "user:zed",
      t3_tensor: t3(0.9, 0.9, 0.9),
      resource: "docs/public/readme.md",
    },
  },
  {
    id: "X06-daytime-commit",
    situation: {
      action_type: "commit",
      actor_role: "developer",
      actor_id: "user:eve",
      t3_tensor: t3(0.8, 0.85, 0.9),
      resource: "repo:core",
      timestamp: "2026-02-04T15:00:00Z",
    },
  },
  {
    id: "X07-developer-deploys",
    situation: {
      action_type: "deploy",
      actor_role: "developer",
      actor_id: "user:eve",
      t3_tensor: t3(0.8, 0.85, 0.9),
      resource: "env:staging",
    },
  },
];

export function peerRequests(): PeerRequest[] {
  const suite = JSON.parse(readFileSync(dataPath("scenarios", "seed-basic.json"), "utf8")) as {
    scenarios: Array<{ id: string; situation: Situation }>;
  };
  return [...suite.scenarios.map((s) => ({ id: s.id, situation: s.situation })), ...EXTRA];
}

export interface DecisionCheck {
  /** Every request with ours and the peer's decision. */
  compared: Array<{ id: string; ours: DecisionValue; peer: DecisionValue | string }>;
  mismatches: Array<{ id: string; ours: DecisionValue; peer: DecisionValue | string }>;
  /** How many of each decision the requests have (ours). */
  distribution: Record<string, number>;
}

export function compareDecisions(
  requests: readonly PeerRequest[],
  ours: readonly DecisionValue[],
  peer: ReadonlyArray<DecisionValue | string>,
): DecisionCheck {
  const compared = requests.map((r, i) => ({ id: r.id, ours: ours[i]!, peer: peer[i] ?? "(no answer)" }));
  const distribution: Record<string, number> = {};
  for (const c of compared) distribution[c.ours] = (distribution[c.ours] ?? 0) + 1;
  return { compared, mismatches: compared.filter((c) => c.ours !== c.peer), distribution };
}
