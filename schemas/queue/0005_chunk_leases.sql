-- Queue schema version 5: a chunk's lease state in a row of its own. SQLite rewrites the whole
-- record on an UPDATE whose size changes (a lease id replacing NULL does), the payload's overflow
-- pages too: every chunk was written twice, and its old pages freed, between enqueue and ack
-- (issue 14: 53 MB of WAL for 12 MB of payload). Chunks are now written once and deleted once.
-- A row here exists from a chunk's first lease (leases >= 1) until the chunk is deleted.
CREATE TABLE chunk_leases (
  chunk_id INTEGER PRIMARY KEY,          -- chunks.id
  lease_id INTEGER,                      -- NULL when shippable
  lease_expires_ms INTEGER,
  retries INTEGER NOT NULL DEFAULT 0,    -- failed deliveries counted by release()
  leases INTEGER NOT NULL DEFAULT 0      -- times reserved
);
CREATE INDEX chunk_leases_by_lease ON chunk_leases(lease_id) WHERE lease_id IS NOT NULL;
INSERT INTO chunk_leases(chunk_id, lease_id, lease_expires_ms, retries, leases)
  SELECT id, lease_id, lease_expires_ms, retries, leases FROM chunks
  WHERE lease_id IS NOT NULL OR retries <> 0 OR leases <> 0;
-- Every way a chunk leaves (ack, drop, dead letter, damage) takes its lease row with it.
CREATE TRIGGER chunks_delete_lease AFTER DELETE ON chunks BEGIN
  DELETE FROM chunk_leases WHERE chunk_id = old.id;
END;
-- chunks.lease_id, lease_expires_ms, retries and leases stay, unused (NULL or 0 in new rows, no
-- bytes but their header's): dropping a column rewrites every row, and an agent upgraded with a
-- full queue (1 GiB) would rewrite it in one transaction, its WAL growing as much, at start-up.
DROP INDEX chunks_by_lease;
