-- A business that revokes a bank's reading of its demand ends that bank's part too.
ALTER TABLE demand_offer DROP CONSTRAINT demand_offer_lapse_reason_check;
ALTER TABLE demand_offer ADD CONSTRAINT demand_offer_lapse_reason_check
    CHECK (lapse_reason IN ('other_accepted', 'demand_withdrawn', 'decision_overdue', 'offer_expired', 'business_revoked'));
