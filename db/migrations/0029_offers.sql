-- Competing offers (issue 19). A demand may be taken up by several banks (up to a setting, 3 by
-- default); each bank's part is one row here, with its own deadline and, once it decides, its
-- offer or its decline. The business accepts one offer: the demand becomes `granted` with that
-- offer's terms (demand.taken_up_by is then the lender) and every other offer lapses.
--
-- An offer's state: taken_up → offered | declined | lapsed; offered → accepted | lapsed.
-- Lapse reasons: other_accepted, demand_withdrawn, decision_overdue, offer_expired.
CREATE TABLE demand_offer (
    id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    demand_id            uuid NOT NULL REFERENCES demand (id),
    bank_org_id          uuid NOT NULL REFERENCES organisations (id),
    state                text NOT NULL DEFAULT 'taken_up'
                         CHECK (state IN ('taken_up', 'offered', 'declined', 'accepted', 'lapsed')),
    taken_up_at          timestamptz NOT NULL DEFAULT now(),
    decision_due_on      date NOT NULL,
    decided_at           timestamptz,
    product_id           uuid REFERENCES product (id),
    amount_fen           bigint CHECK (amount_fen >= 1),
    term_months          integer CHECK (term_months BETWEEN 1 AND 360),
    rate_bp              integer CHECK (rate_bp BETWEEN 0 AND 3600),
    repayment            text CHECK (repayment IN ('equal_instalments', 'interest_only')),
    conditions           text CHECK (char_length(conditions) <= 500),
    valid_until          date,
    -- The bank's word, from its own credit check at offer time: the business has had no bank loan before.
    first_loan_attested  boolean,
    decline_reason       text CHECK (decline_reason IN ('insufficient_credit_history', 'insufficient_repayment_capacity',
                         'high_existing_debt', 'industry_policy', 'incomplete_documents', 'collateral_insufficient', 'other')),
    decline_text         text CHECK (char_length(decline_text) <= 500),
    lapsed_at            timestamptz,
    lapse_reason         text CHECK (lapse_reason IN ('other_accepted', 'demand_withdrawn', 'decision_overdue', 'offer_expired')),
    UNIQUE (demand_id, bank_org_id),
    CHECK (state <> 'offered' OR (amount_fen IS NOT NULL AND term_months IS NOT NULL AND rate_bp IS NOT NULL
                                  AND repayment IS NOT NULL AND valid_until IS NOT NULL AND first_loan_attested IS NOT NULL)),
    CHECK (state <> 'declined' OR decline_reason IS NOT NULL),
    CHECK (state <> 'lapsed' OR lapse_reason IS NOT NULL)
);
CREATE INDEX demand_offer_bank ON demand_offer (bank_org_id, state);
CREATE INDEX demand_offer_live ON demand_offer (state, decision_due_on) WHERE state IN ('taken_up', 'offered');
REVOKE DELETE, TRUNCATE ON demand_offer FROM xyd_app;

ALTER TABLE demand
    -- After a decline the demand goes back to the other matching banks unless the business said no.
    ADD COLUMN refer_after_decline boolean NOT NULL DEFAULT true,
    -- How many banks may hold it at once (the setting when it was posted; 1 before offers).
    ADD COLUMN max_banks           integer NOT NULL DEFAULT 1 CHECK (max_banks BETWEEN 1 AND 10),
    ADD COLUMN accepted_offer_id   uuid REFERENCES demand_offer (id),
    ADD COLUMN repayment           text CHECK (repayment IN ('equal_instalments', 'interest_only')),
    -- First loan, checked at acceptance: no loan disbursed to this business through the service
    -- before, and the lender's attestation from its own credit check. NULL until accepted.
    ADD COLUMN first_loan_no_prior boolean,
    ADD COLUMN first_loan_attested boolean;

-- A demand's bank parts, for rows written before offers existed (and for the simulated market
-- history, which writes the summary columns): one part for the bank that held it.
CREATE FUNCTION demand_offers_from_summary(ids uuid[]) RETURNS void LANGUAGE sql AS $$
    INSERT INTO demand_offer (demand_id, bank_org_id, state, taken_up_at, decision_due_on, decided_at, product_id, amount_fen,
                              term_months, rate_bp, repayment, valid_until, first_loan_attested, decline_reason, decline_text,
                              lapsed_at, lapse_reason)
    SELECT d.id, d.taken_up_by,
           CASE d.state WHEN 'taken_up' THEN 'taken_up' WHEN 'declined' THEN 'declined' WHEN 'withdrawn' THEN 'lapsed' ELSE 'accepted' END,
           coalesce(d.taken_up_at, d.created_at), coalesce(d.decision_due_on, d.take_up_due_on), d.decided_at, d.granted_product_id,
           d.granted_amount_fen, d.granted_term_months, d.granted_rate_bp,
           CASE WHEN d.state IN ('granted', 'disbursed') THEN 'equal_instalments' END,
           CASE WHEN d.state IN ('granted', 'disbursed') THEN (coalesce(d.decided_at, d.updated_at) AT TIME ZONE 'Asia/Shanghai')::date END,
           CASE WHEN d.state IN ('granted', 'disbursed') THEN d.first_loan END,
           d.decline_reason, d.decline_text,
           CASE WHEN d.state = 'withdrawn' THEN d.updated_at END, CASE WHEN d.state = 'withdrawn' THEN 'demand_withdrawn' END
    FROM demand d
    WHERE d.id = ANY(ids) AND d.taken_up_by IS NOT NULL
      AND d.state IN ('taken_up', 'granted', 'declined', 'disbursed', 'withdrawn')
    ON CONFLICT (demand_id, bank_org_id) DO NOTHING;
    UPDATE demand d SET accepted_offer_id = o.id, repayment = o.repayment,
           first_loan_attested = o.first_loan_attested,
           first_loan_no_prior = NOT EXISTS (SELECT 1 FROM demand p WHERE p.uscc = d.uscc AND p.state = 'disbursed'
                                             AND p.disbursed_on < coalesce(d.disbursed_on, (d.decided_at AT TIME ZONE 'Asia/Shanghai')::date))
    FROM demand_offer o WHERE o.demand_id = d.id AND o.state = 'accepted' AND d.id = ANY(ids);
    -- While banks hold a demand, no single one is its lender.
    UPDATE demand SET taken_up_by = NULL WHERE id = ANY(ids) AND state = 'taken_up';
$$;
SELECT demand_offers_from_summary(array_agg(id)) FROM demand;

-- A product's indicative amount rule (参考额度): a small vocabulary (Quota in CreditCore), NULL for none.
ALTER TABLE product ADD COLUMN quota jsonb;

-- Why a bank's reading of a demand ended: also its decline, and its part lapsing.
ALTER TABLE authorisation DROP CONSTRAINT authorisation_revoked_by_check;
ALTER TABLE authorisation ADD CONSTRAINT authorisation_revoked_by_check
    CHECK (revoked_by IN ('business', 'bank_passed', 'no_longer_matching', 'demand_closed', 'demand_taken_up', 'bank_declined',
                          'offer_lapsed'));

-- What the regulators' tables read of offers, declines and the price of credit.
ALTER TABLE stat_demand
    ADD COLUMN offers              integer NOT NULL DEFAULT 0,
    ADD COLUMN declines            integer NOT NULL DEFAULT 0,
    ADD COLUMN first_loan_verified boolean NOT NULL DEFAULT false,
    ADD COLUMN rate_bp             integer,
    ADD COLUMN repayment           text;
