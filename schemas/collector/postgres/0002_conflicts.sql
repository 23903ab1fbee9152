-- Identity that survives resets: the content hash tells a re-sent batch (same id, same content)
-- from a reused id (same id, other content). A batch id or record key that arrives again with
-- other content is a conflict: evidence of a queue rollback or of tampering. Conflicts are kept
-- here (the first content stays where it is), counted per agent and raised as an alert.
ALTER TABLE batches ADD COLUMN content_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE agents ADD COLUMN conflicts BIGINT NOT NULL DEFAULT 0;
CREATE TABLE conflicts (
  id BIGSERIAL PRIMARY KEY,
  agent TEXT NOT NULL,
  kind TEXT NOT NULL,          -- batch | event | alert | status
  key TEXT NOT NULL,           -- the batch id or record key that came back
  batch_id TEXT NOT NULL,      -- the batch that brought the other content
  received BIGINT NOT NULL,
  stored_hash TEXT NOT NULL,   -- SHA-256 (hex) of what was stored first
  new_hash TEXT NOT NULL,      -- SHA-256 (hex) of what arrived now
  body TEXT NOT NULL           -- what arrived now (for a batch: a summary object)
);
CREATE INDEX conflicts_agent ON conflicts(agent, id);
CREATE INDEX conflicts_received ON conflicts(received);
CREATE INDEX statuses_agent ON statuses(agent, id);
