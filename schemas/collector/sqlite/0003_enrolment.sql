-- Enrolment per site: an enrolment secret (stored as its SHA-256) that many agents exchange,
-- once each, for a credential of their own bound to their agent id; per-agent revocation and
-- rotation.
CREATE TABLE enrollment_secrets (
  name TEXT PRIMARY KEY,
  secret_hash TEXT NOT NULL UNIQUE,
  created INTEGER NOT NULL,
  expires INTEGER,              -- NULL: never
  max_uses INTEGER,             -- NULL: no limit
  uses INTEGER NOT NULL DEFAULT 0,
  revoked_at INTEGER
);
ALTER TABLE agents ADD COLUMN enrolled_via TEXT NOT NULL DEFAULT '';  -- site secret name; '' = CLI
ALTER TABLE agents ADD COLUMN revoked_at INTEGER;
ALTER TABLE agents ADD COLUMN rotated_at INTEGER;
