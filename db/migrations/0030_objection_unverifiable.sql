-- An objection may also end "could not be verified" (经核查仍不能确认, 征信业管理条例 第二十五条):
-- the record stays, marked as such with the objection and the check recorded, wherever it is shown.
ALTER TABLE objection DROP CONSTRAINT objection_state_check;
ALTER TABLE objection ADD CONSTRAINT objection_state_check CHECK (state IN ('open', 'upheld', 'rejected', 'unverifiable'));
CREATE INDEX objection_record ON objection (dataset, record_id, version) WHERE state = 'unverifiable';
