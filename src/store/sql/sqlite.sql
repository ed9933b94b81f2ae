-- The decision log's tables in SQLite; postgres.sql holds the same for PostgreSQL. Run at every open
-- (everything IF NOT EXISTS). Times are UTC ISO 8601 strings with milliseconds, so text order is time order.

CREATE TABLE IF NOT EXISTS decisions (
  decision_id TEXT PRIMARY KEY,
  created_at TEXT NOT NULL,
  tier TEXT NOT NULL,
  mode TEXT NOT NULL,
  decision TEXT NOT NULL,
  effective TEXT NOT NULL,
  control TEXT,
  mismatch INTEGER NOT NULL DEFAULT 0,
  actor TEXT,
  action TEXT,
  source TEXT NOT NULL,
  risk TEXT NOT NULL,
  latency_ms REAL NOT NULL,
  policy_version TEXT NOT NULL,
  prompt_version TEXT,
  model_version TEXT,
  shape TEXT NOT NULL,
  input TEXT NOT NULL,
  output TEXT NOT NULL,
  review TEXT,
  reviewed_at TEXT,
  final_decision TEXT
);
CREATE INDEX IF NOT EXISTS decisions_created ON decisions (created_at);
CREATE INDEX IF NOT EXISTS decisions_tier_created ON decisions (tier, created_at);
CREATE INDEX IF NOT EXISTS decisions_unreviewed ON decisions (mode, reviewed_at, created_at);

CREATE TABLE IF NOT EXISTS rollout_events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at TEXT NOT NULL,
  tier TEXT NOT NULL,
  kind TEXT NOT NULL,
  from_mode TEXT,
  to_mode TEXT NOT NULL,
  by_whom TEXT NOT NULL,
  reason TEXT NOT NULL,
  trigger_name TEXT
);

CREATE TABLE IF NOT EXISTS candidate_decisions (
  decision_id TEXT NOT NULL,
  candidate TEXT NOT NULL,
  created_at TEXT NOT NULL,
  output TEXT NOT NULL,
  PRIMARY KEY (decision_id, candidate)
);

CREATE TABLE IF NOT EXISTS version_events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at TEXT NOT NULL,
  kind TEXT NOT NULL,
  from_version TEXT,
  to_version TEXT NOT NULL,
  by_whom TEXT NOT NULL,
  reason TEXT NOT NULL
);

-- /ready writes and reads this row.
CREATE TABLE IF NOT EXISTS probe (id INTEGER PRIMARY KEY, at TEXT NOT NULL);
