-- The city's licensed bank branches, kept by the operator (`xyd banks roster import FILE.csv`):
-- the denominator of "banks connected" on the regulators' pages. A branch counts as connected
-- when the bank it belongs to (by its registered name) has a live key and a published product.
CREATE TABLE bank_roster (
    licence_no    text PRIMARY KEY CHECK (length(licence_no) BETWEEN 1 AND 40),
    branch_name   text NOT NULL CHECK (length(branch_name) BETWEEN 1 AND 100),
    bank_name     text NOT NULL CHECK (length(bank_name) BETWEEN 1 AND 100),
    district_code text NOT NULL CHECK (district_code ~ '^[0-9]{6}$'),
    imported_at   timestamptz NOT NULL DEFAULT now()
);
