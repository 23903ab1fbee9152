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
CREATE OR REPLACE FUNCTION t0w_storage_usage() RETURNS trigger AS $$
BEGIN
  UPDATE storage_usage SET bytes = bytes - LENGTH(OLD.body) WHERE agent = OLD.agent;
  RETURN OLD;
END
$$ LANGUAGE plpgsql;
DROP TRIGGER events_usage ON events;
DROP TRIGGER alerts_usage ON alerts;
DROP TRIGGER statuses_usage ON statuses;
CREATE TRIGGER events_usage AFTER DELETE ON events
  FOR EACH ROW EXECUTE FUNCTION t0w_storage_usage();
CREATE TRIGGER alerts_usage AFTER DELETE ON alerts
  FOR EACH ROW EXECUTE FUNCTION t0w_storage_usage();
CREATE TRIGGER statuses_usage AFTER DELETE ON statuses
  FOR EACH ROW EXECUTE FUNCTION t0w_storage_usage();
