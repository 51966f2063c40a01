-- Read models (architecture section 5), SQLite dialect: uuids, money and days
-- are TEXT (exact decimals, ISO dates); booleans INTEGER. Each view's tracking
-- table (<view>_tracking) is created when `ledger migrate` builds the view.

CREATE TABLE IF NOT EXISTS contract_summary (
    contract_id           TEXT    PRIMARY KEY,
    version               INTEGER NOT NULL,
    buyer_name            TEXT    NOT NULL,
    buyer_cvr             TEXT    NOT NULL,
    buyer_ean             TEXT    NOT NULL,
    provider_name         TEXT    NOT NULL,
    provider_registration TEXT    NOT NULL,
    offer                 TEXT    NOT NULL,
    citizen_id            TEXT    NOT NULL,
    phase                 TEXT    NOT NULL,  -- draft, offered, final, signed, under-notice
    last_day              TEXT,              -- "ended" on every later day
    document              TEXT    NOT NULL,  -- JSON: lines with price periods, renegotiations, absence
    price_error           TEXT
);
CREATE INDEX IF NOT EXISTS contract_summary_buyer_cvr ON contract_summary (buyer_cvr);
CREATE INDEX IF NOT EXISTS contract_summary_buyer_ean ON contract_summary (buyer_ean);
CREATE INDEX IF NOT EXISTS contract_summary_provider ON contract_summary (provider_registration);
CREATE INDEX IF NOT EXISTS contract_summary_offer ON contract_summary (offer);
CREATE INDEX IF NOT EXISTS contract_summary_phase ON contract_summary (phase, last_day);

CREATE TABLE IF NOT EXISTS contract_summary_paragraph (
    contract_id TEXT NOT NULL,
    paragraph   TEXT NOT NULL,  -- normalised, e.g. "§85"
    PRIMARY KEY (contract_id, paragraph)
);
CREATE INDEX IF NOT EXISTS contract_summary_paragraph_by ON contract_summary_paragraph (paragraph);

CREATE TABLE IF NOT EXISTS price_timeline (
    contract_id   TEXT    NOT NULL,
    line_id       TEXT    NOT NULL,
    start_on      TEXT    NOT NULL,
    end_on        TEXT,              -- NULL: open-ended
    step          TEXT    NOT NULL,
    daily         TEXT NOT NULL,
    components    TEXT    NOT NULL,  -- JSON [{component, daily}]
    cause         TEXT    NOT NULL,  -- the event that set the period
    cause_version INTEGER NOT NULL,
    sheet_year    INTEGER,
    recorded_on   TEXT    NOT NULL,  -- the day the cause was recorded
    retroactive   INTEGER NOT NULL,  -- recorded after the period began
    PRIMARY KEY (contract_id, line_id, start_on)
);

CREATE TABLE IF NOT EXISTS price_timeline_contract (
    contract_id TEXT    PRIMARY KEY,
    version     INTEGER NOT NULL,
    offer       TEXT    NOT NULL,
    price_error TEXT
);
CREATE INDEX IF NOT EXISTS price_timeline_contract_offer ON price_timeline_contract (offer);

CREATE TABLE IF NOT EXISTS deadline (
    contract_id           TEXT    NOT NULL,
    key                   TEXT    NOT NULL,
    kind                  TEXT    NOT NULL,
    party                 TEXT    NOT NULL,  -- who must act: buyer or provider
    buyer_cvr             TEXT    NOT NULL,
    provider_registration TEXT    NOT NULL,
    line_id               TEXT,
    trigger_on            TEXT    NOT NULL,
    due_on                TEXT    NOT NULL,
    done_on               TEXT,
    milestone             INTEGER NOT NULL,
    clause                TEXT    NOT NULL,
    PRIMARY KEY (contract_id, key)
);
CREATE INDEX IF NOT EXISTS deadline_due ON deadline (due_on);
CREATE INDEX IF NOT EXISTS deadline_buyer ON deadline (buyer_cvr, due_on);
CREATE INDEX IF NOT EXISTS deadline_provider ON deadline (provider_registration, due_on);

CREATE TABLE IF NOT EXISTS deadline_framework (
    contract_id           TEXT    PRIMARY KEY,
    buyer_cvr             TEXT    NOT NULL,
    provider_registration TEXT    NOT NULL,
    first_year            INTEGER NOT NULL,
    last_year             INTEGER,           -- NULL: open-ended
    bound_on              TEXT    NOT NULL,  -- the day both had signed
    notices               TEXT    NOT NULL   -- JSON [[adoption_year, received_on]]
);

CREATE TABLE IF NOT EXISTS billing_feed (
    contract_id      TEXT    NOT NULL,
    line_id          TEXT    NOT NULL,
    start_on         TEXT    NOT NULL,
    end_on           TEXT,               -- NULL: open-ended
    daily            TEXT NOT NULL,
    step             TEXT    NOT NULL,
    components       TEXT    NOT NULL,
    cause            TEXT    NOT NULL,
    cause_version    INTEGER NOT NULL,
    granted_per_year TEXT,            -- respite billed on granted døgn
    PRIMARY KEY (contract_id, line_id, start_on)
);

CREATE TABLE IF NOT EXISTS billing_contract (
    contract_id TEXT    PRIMARY KEY,
    version     INTEGER NOT NULL,
    offer       TEXT    NOT NULL,
    buyer_ean   TEXT    NOT NULL,
    buyer_cvr   TEXT    NOT NULL,
    buyer_name  TEXT    NOT NULL,
    citizen_id  TEXT    NOT NULL,
    feed_hash   TEXT    NOT NULL,  -- digest of the feed rows, to see whether an event changed them
    lines       TEXT    NOT NULL,  -- JSON {line_id: paragraph}
    changed_at  INTEGER  NOT NULL,  -- position of the last event that changed the feed
    changed_by  TEXT    NOT NULL,  -- that event, e.g. "PlaceReoccupied v9"
    price_error TEXT
);
CREATE INDEX IF NOT EXISTS billing_contract_buyer ON billing_contract (buyer_ean, changed_at);
CREATE INDEX IF NOT EXISTS billing_contract_offer ON billing_contract (offer);

CREATE TABLE IF NOT EXISTS billing_billed (
    contract_id TEXT    NOT NULL,
    line_id     TEXT    NOT NULL,
    month       TEXT    NOT NULL,
    buyer_ean   TEXT    NOT NULL,
    amount      TEXT NOT NULL,  -- invoiced so far for the month: line plus adjustments
    days        TEXT NOT NULL,
    dailies     TEXT    NOT NULL,  -- JSON of the daily prices billed
    causes      TEXT    NOT NULL,  -- JSON of the cause versions billed
    PRIMARY KEY (contract_id, line_id, month)
);

CREATE TABLE IF NOT EXISTS billing_invoice (
    buyer_ean  TEXT   NOT NULL,
    month      TEXT   NOT NULL,
    invoice_id TEXT   NOT NULL,
    known_at   INTEGER NOT NULL,
    PRIMARY KEY (buyer_ean, month)
);
