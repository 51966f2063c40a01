-- A citizen's contracts, found by the citizen routes (GET and DELETE /v1/citizens/{id})
-- to decide whether the caller is a party to one of them.
CREATE INDEX IF NOT EXISTS contract_summary_citizen ON contract_summary (citizen_id);
