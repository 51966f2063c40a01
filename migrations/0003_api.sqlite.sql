-- The HTTP API's own state, beside the event store.
--
-- api_key: bearer keys "kl_<key_id>_<secret>". Only sha256(secret) is kept, as
-- lowercase hex; the token is shown once, when the key is made. A revoked key
-- keeps its row (revoked_at is set) so that audit trails can still name it.
CREATE TABLE IF NOT EXISTS api_key (
    key_id       TEXT NOT NULL PRIMARY KEY,
    secret_hash  TEXT NOT NULL,
    organisation TEXT NOT NULL,  -- CVR number or registration the key acts for
    role         TEXT NOT NULL,  -- ledger.values.Role value, e.g. "buyer-admin"
    label        TEXT,
    created_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    revoked_at   TEXT            -- NULL: the key is active
);

-- idempotency: the first response to each Idempotency-Key, per caller (scope is
-- the caller's organisation and key id), replayed for a retried request.
CREATE TABLE IF NOT EXISTS idempotency (
    scope        TEXT    NOT NULL,
    key          TEXT    NOT NULL,
    request_hash TEXT    NOT NULL,  -- digest of method, path and body
    status       INTEGER NOT NULL,
    headers      TEXT    NOT NULL,  -- JSON object of header name to value
    body         TEXT    NOT NULL,  -- base64 of the response body bytes
    created_at   TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (scope, key)
);
