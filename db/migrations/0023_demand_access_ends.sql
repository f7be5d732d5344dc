-- A demand's authorisations end when the demand leaves the open pool: the other matched banks'
-- when one bank takes it up ('demand_taken_up'; matching again restores them if the take-up
-- lapses back to the pool), every bank's when it is decided, disbursed, withdrawn or expires
-- ('demand_closed'). The business sees why each ended.
ALTER TABLE authorisation DROP CONSTRAINT authorisation_revoked_by_check;
ALTER TABLE authorisation ADD CONSTRAINT authorisation_revoked_by_check
    CHECK (revoked_by IN ('business', 'bank_passed', 'no_longer_matching', 'demand_closed', 'demand_taken_up'));
