-- Credit repair (信用修复): after a penalty's minimum publicity, its business may apply to end
-- publication early with evidence of correction; an operator answers within 3 working days.
-- Approved, publication stops at once (reports, public disclosure, anything shown as published).
CREATE TABLE repair_application (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    uscc               text COLLATE "C" NOT NULL,
    enterprise_org_id  uuid NOT NULL REFERENCES organisations (id),
    record_id          text COLLATE "C" NOT NULL,
    corrections        text[] NOT NULL CHECK (cardinality(corrections) > 0
                           AND corrections <@ ARRAY['fine_paid', 'commitment_made', 'training_done']),
    evidence           text NOT NULL CHECK (char_length(evidence) BETWEEN 1 AND 2000),
    state              text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'approved', 'rejected')),
    created_at         timestamptz NOT NULL DEFAULT now(),
    due_on             date NOT NULL,
    resolved_at        timestamptz,
    resolved_by        uuid REFERENCES organisations (id),
    reason             text CHECK (char_length(reason) <= 500),
    -- The day publication stopped (approved).
    repaired_on        date
);
CREATE UNIQUE INDEX repair_open ON repair_application (record_id) WHERE state = 'open';
CREATE UNIQUE INDEX repair_approved ON repair_application (record_id) WHERE state = 'approved';
CREATE INDEX repair_uscc ON repair_application (uscc, created_at DESC);
