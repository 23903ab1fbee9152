-- Stored bytes per agent, kept by triggers as rows come and go: size-based retention and the
-- per-agent quota read a few rows instead of summing every body of the database.
CREATE TABLE storage_usage (
  agent TEXT PRIMARY KEY,
  bytes INTEGER NOT NULL DEFAULT 0
);
INSERT INTO storage_usage(agent, bytes)
  SELECT agent, SUM(n) FROM (
    SELECT agent, LENGTH(body) AS n FROM events
    UNION ALL SELECT agent, LENGTH(body) FROM alerts
    UNION ALL SELECT agent, LENGTH(body) FROM statuses)
  GROUP BY agent;
CREATE TRIGGER events_usage_insert AFTER INSERT ON events BEGIN
  INSERT INTO storage_usage(agent, bytes) VALUES (NEW.agent, LENGTH(NEW.body))
    ON CONFLICT(agent) DO UPDATE SET bytes = bytes + excluded.bytes;
END;
CREATE TRIGGER events_usage_delete AFTER DELETE ON events BEGIN
  UPDATE storage_usage SET bytes = bytes - LENGTH(OLD.body) WHERE agent = OLD.agent;
END;
CREATE TRIGGER alerts_usage_insert AFTER INSERT ON alerts BEGIN
  INSERT INTO storage_usage(agent, bytes) VALUES (NEW.agent, LENGTH(NEW.body))
    ON CONFLICT(agent) DO UPDATE SET bytes = bytes + excluded.bytes;
END;
CREATE TRIGGER alerts_usage_delete AFTER DELETE ON alerts BEGIN
  UPDATE storage_usage SET bytes = bytes - LENGTH(OLD.body) WHERE agent = OLD.agent;
END;
CREATE TRIGGER statuses_usage_insert AFTER INSERT ON statuses BEGIN
  INSERT INTO storage_usage(agent, bytes) VALUES (NEW.agent, LENGTH(NEW.body))
    ON CONFLICT(agent) DO UPDATE SET bytes = bytes + excluded.bytes;
END;
CREATE TRIGGER statuses_usage_delete AFTER DELETE ON statuses BEGIN
  UPDATE storage_usage SET bytes = bytes - LENGTH(OLD.body) WHERE agent = OLD.agent;
END;
CREATE INDEX events_agent_id ON events(agent, id);
