-- The bank's side of a demand: take-up (one bank at a time), decision, disbursement, and the
-- working-day deadlines (take up or pass within 3, decide within 10 of take-up).
ALTER TABLE demand
    ADD COLUMN take_up_due_on     date,
    ADD COLUMN taken_up_at        timestamptz,
    ADD COLUMN decision_due_on    date,
    ADD COLUMN decided_at         timestamptz,
    ADD COLUMN granted_amount_fen bigint CHECK (granted_amount_fen >= 1),
    ADD COLUMN granted_term_months integer CHECK (granted_term_months BETWEEN 1 AND 360),
    ADD COLUMN granted_rate_bp    integer CHECK (granted_rate_bp BETWEEN 0 AND 3600),
    ADD COLUMN decline_reason     text CHECK (decline_reason IN ('insufficient_credit_history', 'insufficient_repayment_capacity',
                                  'high_existing_debt', 'industry_policy', 'incomplete_documents', 'collateral_insufficient', 'other')),
    ADD COLUMN decline_text       text CHECK (char_length(decline_text) <= 500),
    ADD COLUMN disbursed_amount_fen bigint CHECK (disbursed_amount_fen >= 1),
    ADD COLUMN disbursed_on       date;
UPDATE demand SET take_up_due_on = (created_at AT TIME ZONE 'Asia/Shanghai')::date + 5 WHERE take_up_due_on IS NULL;
ALTER TABLE demand ALTER COLUMN take_up_due_on SET NOT NULL;
