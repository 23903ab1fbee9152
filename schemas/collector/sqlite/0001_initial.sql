-- tier0watch-collector storage, SQLite. Times are Unix microseconds (UTC).
-- Enrolled agents: the token is stored only as its SHA-256 (hex).
CREATE TABLE agents (
  name TEXT PRIMARY KEY,
  token_hash TEXT NOT NULL UNIQUE,
  enrolled_at INTEGER NOT NULL,
  agent_id TEXT UNIQUE,          -- bound on the first batch; later batches must match
  hostname TEXT NOT NULL DEFAULT '',
  version TEXT NOT NULL DEFAULT '',
  last_seen INTEGER,
  last_batch TEXT NOT NULL DEFAULT '',
  batches INTEGER NOT NULL DEFAULT 0,
  events INTEGER NOT NULL DEFAULT 0,
  alerts INTEGER NOT NULL DEFAULT 0,
  drops INTEGER NOT NULL DEFAULT 0,
  gaps INTEGER NOT NULL DEFAULT 0,
  status TEXT NOT NULL DEFAULT '{}'  -- latest agent_status report
);
-- Batch ids already stored: a re-sent batch is acknowledged without storing it again.
CREATE TABLE batches (
  batch_id TEXT PRIMARY KEY,
  agent TEXT NOT NULL,
  received INTEGER NOT NULL,
  records INTEGER NOT NULL
);
CREATE INDEX batches_received ON batches(received);
CREATE TABLE events (
  id INTEGER PRIMARY KEY,
  key TEXT NOT NULL UNIQUE,
  agent TEXT NOT NULL,
  host TEXT NOT NULL,
  channel TEXT NOT NULL,
  event_id INTEGER NOT NULL,
  record_id INTEGER NOT NULL,
  time INTEGER,
  received INTEGER NOT NULL,
  body TEXT NOT NULL
);
CREATE INDEX events_time ON events(time);
CREATE INDEX events_received ON events(received);
CREATE INDEX events_host ON events(host, id);
CREATE INDEX events_event_id ON events(event_id, id);
CREATE INDEX events_agent_channel ON events(agent, channel, id);
CREATE TABLE alerts (
  id INTEGER PRIMARY KEY,
  key TEXT NOT NULL UNIQUE,
  agent TEXT NOT NULL,
  host TEXT NOT NULL,
  rule_id TEXT NOT NULL,
  rule_title TEXT NOT NULL,
  level TEXT NOT NULL,
  time INTEGER,
  received INTEGER NOT NULL,
  event_key TEXT NOT NULL DEFAULT '',
  body TEXT NOT NULL,
  acknowledged_by TEXT,
  acknowledged_at INTEGER
);
CREATE INDEX alerts_time ON alerts(time);
CREATE INDEX alerts_received ON alerts(received);
CREATE INDEX alerts_rule ON alerts(rule_id, id);
CREATE TABLE statuses (
  id INTEGER PRIMARY KEY,
  key TEXT NOT NULL UNIQUE,
  agent TEXT NOT NULL,
  type TEXT NOT NULL,
  time INTEGER,
  received INTEGER NOT NULL,
  body TEXT NOT NULL
);
CREATE INDEX statuses_received ON statuses(received);
-- Durable retry queue of the SIEM outputs: a row per record and output until delivered.
CREATE TABLE forward_queue (
  id INTEGER PRIMARY KEY,
  output TEXT NOT NULL,
  payload TEXT NOT NULL,
  created INTEGER NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX forward_queue_output ON forward_queue(output, next_attempt, id);
CREATE TABLE users (
  name TEXT PRIMARY KEY,
  salt TEXT NOT NULL,
  hash TEXT NOT NULL,
  iterations INTEGER NOT NULL,
  created INTEGER NOT NULL
);
-- Dashboard sessions: the cookie value is stored only as its SHA-256.
CREATE TABLE sessions (
  token_hash TEXT PRIMARY KEY,
  user_name TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
  csrf TEXT NOT NULL,
  created INTEGER NOT NULL,
  expires INTEGER NOT NULL
);
