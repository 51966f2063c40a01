-- The HTTP API's own state, beside the event store.
--
-- api_key: bearer keys "kl_<key_id>_<secret>". Only sha256(secret) is kept, as
-- lowercase hex; the token is shown once, when the key is made. A revoked key
-- keeps its row (revoked_at is set) so that audit trails can still name it.
CREATE TABLE IF NOT EXISTS api_key (
    key_id       text        PRIMARY KEY,
    secret_hash  text        NOT NULL,
    organisation text        NOT NULL,  -- CVR number or registration the key acts for
    role         text        NOT NULL,  -- ledger.values.Role value, e.g. "buyer-admin"
    label        text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    revoked_at   timestamptz            -- NULL: the key is active
);

-- idempotency: the first response to each Idempotency-Key, per caller (scope is
-- the caller's organisation and key id), replayed for a retried request.
CREATE TABLE IF NOT EXISTS idempotency (
    scope        text        NOT NULL,
    key          text        NOT NULL,
    request_hash text        NOT NULL,  -- digest of method, path and body
    status       integer     NOT NULL,
    headers      text        NOT NULL,  -- JSON object of header name to value
    body         text        NOT NULL,  -- base64 of the response body bytes
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (scope, key)
);
