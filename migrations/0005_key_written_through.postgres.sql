-- Read-your-writes for the HTTP API (ADR 0015): the notification id of the last
-- event written with each key. A read that is served from a view waits until
-- the view includes this position, and no further: a caller sees its own
-- writes without waiting for everybody else's.
ALTER TABLE api_key ADD COLUMN IF NOT EXISTS written_through bigint NOT NULL DEFAULT 0;
