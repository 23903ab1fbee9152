-- Queue schema version 3: small named status values the agent keeps for `tier0watch status`
-- (the shipper's last outcome, ...), readable while the agent runs (WAL).
CREATE TABLE agent_status (
  name TEXT PRIMARY KEY,
  value TEXT NOT NULL,                   -- one JSON object
  updated_ms INTEGER NOT NULL
) WITHOUT ROWID;
