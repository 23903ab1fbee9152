-- Fleet health (tools/collector/health.h). The agent's heartbeat (agent_status) is kept with the
-- one before it, so that counters are compared as deltas (drops, gaps, dead letters), and the
-- time it arrived, which agent_silent measures. A health issue is one condition of one agent
-- (and source): open while it holds, closed when it clears, suppressed by a user for a period.
ALTER TABLE agents ADD COLUMN prev_status TEXT NOT NULL DEFAULT '{}';
-- 1 once the health tracker evaluated the current status: the next heartbeat then moves it to
-- prev_status; heartbeats arriving before that evaluation keep prev_status, so the delta covers
-- them all.
ALTER TABLE agents ADD COLUMN health_evaluated INTEGER NOT NULL DEFAULT 1;
ALTER TABLE agents ADD COLUMN last_heartbeat BIGINT;
CREATE TABLE health_issues (
  id BIGSERIAL PRIMARY KEY,
  agent TEXT NOT NULL,
  code TEXT NOT NULL,              -- agent_silent, source_absent, events_dropped, ...
  source TEXT NOT NULL DEFAULT '', -- the source it concerns; '' for the agent as a whole
  severity TEXT NOT NULL,          -- high | medium | low
  detail TEXT NOT NULL DEFAULT '',
  first_seen BIGINT NOT NULL,
  last_seen BIGINT NOT NULL,
  state TEXT NOT NULL,             -- open | closed | suppressed
  closed_at BIGINT,
  suppressed_until BIGINT,
  suppressed_by TEXT
);
CREATE INDEX health_issues_agent ON health_issues(agent, state);
CREATE INDEX health_issues_state ON health_issues(state, id);
