-- Queue schema version 1: compressed chunks of records, per-source checkpoints, counters.
-- One row holds a compressed chunk of many records: SQLite tops out near 120k rows/s, so a row
-- per event would cap the pipeline below its goal (docs/architecture.md, section 3).
CREATE TABLE chunks (
  id INTEGER PRIMARY KEY AUTOINCREMENT,  -- AUTOINCREMENT: ids never reused, so order is age
  lane INTEGER NOT NULL,                 -- 0 = priority (alerts, status), 1 = events
  source TEXT NOT NULL,                  -- collector source whose checkpoint covers these rows
  record_count INTEGER NOT NULL,
  raw_bytes INTEGER NOT NULL,            -- serialized size before compression
  first_key TEXT NOT NULL,               -- dedup key of the first and last record, for reports
  last_key TEXT NOT NULL,
  created_ms INTEGER NOT NULL,           -- unix milliseconds from the injected clock
  lease_id INTEGER,                      -- NULL when shippable
  lease_expires_ms INTEGER,
  retries INTEGER NOT NULL DEFAULT 0,   -- failed deliveries counted by release()
  leases INTEGER NOT NULL DEFAULT 0,    -- times reserved: 0 means never offered to the collector
  payload BLOB NOT NULL                  -- zlib stream of the chunk codec's record frames
);
CREATE INDEX chunks_ship_order ON chunks(lane, id);
CREATE INDEX chunks_by_lease ON chunks(lease_id) WHERE lease_id IS NOT NULL;

CREATE TABLE checkpoints (
  source TEXT PRIMARY KEY,
  position TEXT NOT NULL,                -- bookmark XML, file id + offset, EVTX record id
  updated_ms INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE meta (
  name TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) WITHOUT ROWID;
