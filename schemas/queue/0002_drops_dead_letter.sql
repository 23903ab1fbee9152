-- Queue schema version 2: drop accounting per source and the bounded dead-letter table.
CREATE TABLE drops (
  source TEXT PRIMARY KEY,
  events INTEGER NOT NULL,
  chunks INTEGER NOT NULL,
  last_ms INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE dead_letter (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  chunk_id INTEGER NOT NULL,
  lane INTEGER NOT NULL,
  source TEXT NOT NULL,
  record_count INTEGER NOT NULL,
  raw_bytes INTEGER NOT NULL,
  first_key TEXT NOT NULL,
  last_key TEXT NOT NULL,
  created_ms INTEGER NOT NULL,
  dead_ms INTEGER NOT NULL,
  reason TEXT NOT NULL,
  payload BLOB NOT NULL
);
