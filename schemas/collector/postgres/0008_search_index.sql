-- Free-text search (the API's `q`, a case-insensitive substring of the body: ILIKE) through a
-- trigram index instead of a scan of every body (tools/collector/sql_search.h). pg_trgm ships
-- with PostgreSQL (Debian: the postgresql package) and is a trusted extension: the database's
-- owner may create it.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX events_body_trgm ON events USING gin (body gin_trgm_ops);
