-- The paying municipality (betalingskommune) of a contract, when it is not the
-- buyer: its administrators see the contract in lists, as they do by id.
-- Rows written before this migration have no payer until the view is rebuilt:
-- `ledger rebuild contract_summary` (CHANGELOG).
ALTER TABLE contract_summary ADD COLUMN IF NOT EXISTS payer_cvr text;
CREATE INDEX IF NOT EXISTS contract_summary_payer_cvr ON contract_summary (payer_cvr);
