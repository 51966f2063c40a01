-- The citizen register (architecture section 8): CPR number and name,
-- encrypted at rest, outside the events. Rows hold only ciphertext and a keyed
-- lookup hash of the CPR number; erasure is a hard DELETE of the row.
CREATE TABLE IF NOT EXISTS citizen_register (
    citizen_id     TEXT NOT NULL PRIMARY KEY,
    cpr_hash       TEXT NOT NULL UNIQUE,
    cpr_encrypted  BLOB NOT NULL,
    name_encrypted BLOB NOT NULL,
    registered_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
