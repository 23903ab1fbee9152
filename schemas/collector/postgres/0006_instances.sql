-- Several collector instances on one database (docs/scaling.md).
-- SIEM forward queue rows are claimed before delivery: an instance sets lease_owner and
-- lease_until in one UPDATE over rows taken with FOR UPDATE SKIP LOCKED, so two instances never
-- deliver the same row at once; a claim of a crashed instance runs out at lease_until and the
-- row is taken again (at-least-once).
ALTER TABLE forward_queue ADD COLUMN lease_owner TEXT;
ALTER TABLE forward_queue ADD COLUMN lease_until BIGINT;
-- Token buckets shared by every instance (per-agent ingest, dashboard login, enrolment):
-- micro-tokens, refilled and taken in one INSERT ... ON CONFLICT DO UPDATE on the database
-- server's clock.
CREATE TABLE rate_buckets (
  bucket TEXT PRIMARY KEY,
  tokens BIGINT NOT NULL,   -- millionths of a token
  updated BIGINT NOT NULL,  -- Unix microseconds (database clock)
  granted INTEGER NOT NULL DEFAULT 0
);
-- Work that one instance does for all (health evaluation, retention): the holder renews its
-- lease every round; when it stops, another instance takes over after `expires`.
CREATE TABLE leader_leases (
  name TEXT PRIMARY KEY,
  holder TEXT NOT NULL,
  expires BIGINT NOT NULL
);
-- A batch id that came back with other content is one conflict per content: the same
-- conflicting batch re-sent (to this or another instance) is a duplicate, not a second conflict.
CREATE TABLE batch_variants (
  batch_id TEXT NOT NULL,
  content_hash TEXT NOT NULL,
  received BIGINT NOT NULL,
  PRIMARY KEY (batch_id, content_hash)
);
CREATE INDEX batch_variants_received ON batch_variants(received);
-- One issue per condition that is not closed (agent, code, source): the evaluating instance holds
-- the health lease, and should a round outlast it, a second evaluator's insert fails here instead
-- of opening the issue twice. Duplicates from before are closed first.
UPDATE health_issues SET state = 'closed', closed_at = last_seen
  WHERE state <> 'closed' AND id NOT IN (
    SELECT MAX(id) FROM health_issues WHERE state <> 'closed' GROUP BY agent, code, source);
CREATE UNIQUE INDEX health_issues_one_open ON health_issues(agent, code, source)
  WHERE state <> 'closed';
