-- Read-your-writes for the HTTP API (ADR 0015): the notification id of the last
-- event written with each key. On SQLite the views are caught up on every read,
-- so the column is only kept for the same schema on both backends.
ALTER TABLE api_key ADD COLUMN written_through INTEGER NOT NULL DEFAULT 0;
