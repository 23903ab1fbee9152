-- Enrolment per site: an enrolment secret (stored as its SHA-256) that many agents exchange,
-- once each, for a credential of their own bound to their agent id; per-agent revocation and
-- rotation.
CREATE TABLE enrollment_secrets (
  name TEXT PRIMARY KEY,
  secret_hash TEXT NOT NULL UNIQUE,
  created BIGINT NOT NULL,
  expires BIGINT,               -- NULL: never
  max_uses BIGINT,              -- NULL: no limit
  uses BIGINT NOT NULL DEFAULT 0,
  revoked_at BIGINT
);
ALTER TABLE agents ADD COLUMN enrolled_via TEXT NOT NULL DEFAULT '';  -- site secret name; '' = CLI
ALTER TABLE agents ADD COLUMN revoked_at BIGINT;
ALTER TABLE agents ADD COLUMN rotated_at BIGINT;
