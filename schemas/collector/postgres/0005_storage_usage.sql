-- Stored bytes per agent, kept by triggers as rows come and go: size-based retention and the
-- per-agent quota read a few rows instead of summing every body of the database.
CREATE TABLE storage_usage (
  agent TEXT PRIMARY KEY,
  bytes BIGINT NOT NULL DEFAULT 0
);
INSERT INTO storage_usage(agent, bytes)
  SELECT agent, SUM(n) FROM (
    SELECT agent, LENGTH(body) AS n FROM events
    UNION ALL SELECT agent, LENGTH(body) FROM alerts
    UNION ALL SELECT agent, LENGTH(body) FROM statuses) AS stored
  GROUP BY agent;
CREATE FUNCTION t0w_storage_usage() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO storage_usage(agent, bytes) VALUES (NEW.agent, LENGTH(NEW.body))
      ON CONFLICT (agent) DO UPDATE SET bytes = storage_usage.bytes + EXCLUDED.bytes;
    RETURN NEW;
  END IF;
  UPDATE storage_usage SET bytes = bytes - LENGTH(OLD.body) WHERE agent = OLD.agent;
  RETURN OLD;
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER events_usage AFTER INSERT OR DELETE ON events
  FOR EACH ROW EXECUTE FUNCTION t0w_storage_usage();
CREATE TRIGGER alerts_usage AFTER INSERT OR DELETE ON alerts
  FOR EACH ROW EXECUTE FUNCTION t0w_storage_usage();
CREATE TRIGGER statuses_usage AFTER INSERT OR DELETE ON statuses
  FOR EACH ROW EXECUTE FUNCTION t0w_storage_usage();
CREATE INDEX events_agent_id ON events(agent, id);
