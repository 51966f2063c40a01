-- The citizen register (architecture section 8): CPR number and name,
-- encrypted at rest, outside the events. Rows hold only ciphertext and a keyed
-- lookup hash of the CPR number; erasure is a hard DELETE of the row.
CREATE TABLE IF NOT EXISTS citizen_register (
    citizen_id     uuid        PRIMARY KEY,
    cpr_hash       text        NOT NULL UNIQUE,
    cpr_encrypted  bytea       NOT NULL,
    name_encrypted bytea       NOT NULL,
    registered_at  timestamptz NOT NULL DEFAULT now()
);
