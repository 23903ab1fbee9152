-- The ingest hot path (issue 14): on `events`, the indexes that a query of the API or retention
-- reads and no more; stored bytes counted once per batch by the ingest transaction
-- (tools/collector/sql_ingest.cpp) instead of by a trigger per inserted row. Deletions keep
-- their triggers (retention, not the hot path).
-- channelLag (agent = ? GROUP BY channel) reads every row of the agent either way:
-- events_agent_id (agent, id) serves it as (agent, channel, id) did.
DROP INDEX events_agent_channel;
-- Retention by age deletes events in id order up to the first one received after the cutoff
-- (tools/collector/sql_storage.cpp), along the primary key.
DROP INDEX events_received;
DROP TRIGGER events_usage_insert;
DROP TRIGGER alerts_usage_insert;
DROP TRIGGER statuses_usage_insert;
