-- A report's verification code: printed on the report only, so that whoever holds the report
-- (and no one else: report numbers are sequential) sees its key facts at the verification
-- address and can compare them with a printout. Reports made before have none.
ALTER TABLE report ADD COLUMN verify_code text CHECK (verify_code ~ '^[2-9A-HJ-NP-Z]{10}$');
