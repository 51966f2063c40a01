-- Read models (architecture section 5). Each view's tracking table
-- (<view>_tracking) is created by the event library when `ledger migrate`
-- builds the view; the rows here are written in the same transaction as it.
-- Money is numeric (exact DKK), days are dates, open ends are NULL.

CREATE TABLE IF NOT EXISTS contract_summary (
    contract_id           uuid    PRIMARY KEY,
    version               integer NOT NULL,
    buyer_name            text    NOT NULL,
    buyer_cvr             text    NOT NULL,
    buyer_ean             text    NOT NULL,
    provider_name         text    NOT NULL,
    provider_registration text    NOT NULL,
    offer                 text    NOT NULL,
    citizen_id            uuid    NOT NULL,
    phase                 text    NOT NULL,  -- draft, offered, final, signed, under-notice
    last_day              date,              -- "ended" on every later day
    document              text    NOT NULL,  -- JSON: lines with price periods, renegotiations, absence
    price_error           text
);
CREATE INDEX IF NOT EXISTS contract_summary_buyer_cvr ON contract_summary (buyer_cvr);
CREATE INDEX IF NOT EXISTS contract_summary_buyer_ean ON contract_summary (buyer_ean);
CREATE INDEX IF NOT EXISTS contract_summary_provider ON contract_summary (provider_registration);
CREATE INDEX IF NOT EXISTS contract_summary_offer ON contract_summary (offer);
CREATE INDEX IF NOT EXISTS contract_summary_phase ON contract_summary (phase, last_day);

CREATE TABLE IF NOT EXISTS contract_summary_paragraph (
    contract_id uuid NOT NULL,
    paragraph   text NOT NULL,  -- normalised, e.g. "§85"
    PRIMARY KEY (contract_id, paragraph)
);
CREATE INDEX IF NOT EXISTS contract_summary_paragraph_by ON contract_summary_paragraph (paragraph);

CREATE TABLE IF NOT EXISTS price_timeline (
    contract_id   uuid    NOT NULL,
    line_id       text    NOT NULL,
    start_on      date    NOT NULL,
    end_on        date,              -- NULL: open-ended
    step          text    NOT NULL,
    daily         numeric NOT NULL,
    components    text    NOT NULL,  -- JSON [{component, daily}]
    cause         text    NOT NULL,  -- the event that set the period
    cause_version integer NOT NULL,
    sheet_year    integer,
    recorded_on   date    NOT NULL,  -- the day the cause was recorded
    retroactive   boolean NOT NULL,  -- recorded after the period began
    PRIMARY KEY (contract_id, line_id, start_on)
);

CREATE TABLE IF NOT EXISTS price_timeline_contract (
    contract_id uuid    PRIMARY KEY,
    version     integer NOT NULL,
    offer       text    NOT NULL,
    price_error text
);
CREATE INDEX IF NOT EXISTS price_timeline_contract_offer ON price_timeline_contract (offer);

CREATE TABLE IF NOT EXISTS deadline (
    contract_id           uuid    NOT NULL,
    key                   text    NOT NULL,
    kind                  text    NOT NULL,
    party                 text    NOT NULL,  -- who must act: buyer or provider
    buyer_cvr             text    NOT NULL,
    provider_registration text    NOT NULL,
    line_id               text,
    trigger_on            date    NOT NULL,
    due_on                date    NOT NULL,
    done_on               date,
    milestone             boolean NOT NULL,
    clause                text    NOT NULL,
    PRIMARY KEY (contract_id, key)
);
CREATE INDEX IF NOT EXISTS deadline_due ON deadline (due_on);
CREATE INDEX IF NOT EXISTS deadline_buyer ON deadline (buyer_cvr, due_on);
CREATE INDEX IF NOT EXISTS deadline_provider ON deadline (provider_registration, due_on);

CREATE TABLE IF NOT EXISTS deadline_framework (
    contract_id           uuid    PRIMARY KEY,
    buyer_cvr             text    NOT NULL,
    provider_registration text    NOT NULL,
    first_year            integer NOT NULL,
    last_year             integer,           -- NULL: open-ended
    bound_on              date    NOT NULL,  -- the day both had signed
    notices               text    NOT NULL   -- JSON [[adoption_year, received_on]]
);

CREATE TABLE IF NOT EXISTS billing_feed (
    contract_id      uuid    NOT NULL,
    line_id          text    NOT NULL,
    start_on         date    NOT NULL,
    end_on           date,               -- NULL: open-ended
    daily            numeric NOT NULL,
    step             text    NOT NULL,
    components       text    NOT NULL,
    cause            text    NOT NULL,
    cause_version    integer NOT NULL,
    granted_per_year numeric,            -- respite billed on granted døgn
    PRIMARY KEY (contract_id, line_id, start_on)
);

CREATE TABLE IF NOT EXISTS billing_contract (
    contract_id uuid    PRIMARY KEY,
    version     integer NOT NULL,
    offer       text    NOT NULL,
    buyer_ean   text    NOT NULL,
    buyer_cvr   text    NOT NULL,
    buyer_name  text    NOT NULL,
    citizen_id  uuid    NOT NULL,
    feed_hash   text    NOT NULL,  -- digest of the feed rows, to see whether an event changed them
    lines       text    NOT NULL,  -- JSON {line_id: paragraph}
    changed_at  bigint  NOT NULL,  -- position of the last event that changed the feed
    changed_by  text    NOT NULL,  -- that event, e.g. "PlaceReoccupied v9"
    price_error text
);
CREATE INDEX IF NOT EXISTS billing_contract_buyer ON billing_contract (buyer_ean, changed_at);
CREATE INDEX IF NOT EXISTS billing_contract_offer ON billing_contract (offer);

CREATE TABLE IF NOT EXISTS billing_billed (
    contract_id uuid    NOT NULL,
    line_id     text    NOT NULL,
    month       date    NOT NULL,
    buyer_ean   text    NOT NULL,
    amount      numeric NOT NULL,  -- invoiced so far for the month: line plus adjustments
    days        numeric NOT NULL,
    dailies     text    NOT NULL,  -- JSON of the daily prices billed
    causes      text    NOT NULL,  -- JSON of the cause versions billed
    PRIMARY KEY (contract_id, line_id, month)
);

CREATE TABLE IF NOT EXISTS billing_invoice (
    buyer_ean  text   NOT NULL,
    month      date   NOT NULL,
    invoice_id uuid   NOT NULL,
    known_at   bigint NOT NULL,
    PRIMARY KEY (buyer_ean, month)
);
