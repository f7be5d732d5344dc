-- Objections (异议): a business disputes one of its records. While open, the record is shown as
-- disputed everywhere; upheld, the record's current version is suppressed locally (left out of
-- features, profiles and reports) until the provider sends a new version; rejected, with a
-- reason the business sees. Each has a deadline 20 days after it was raised.
ALTER TABLE record_version ADD COLUMN suppressed boolean NOT NULL DEFAULT false;

CREATE TABLE objection (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    uscc               text COLLATE "C" NOT NULL,
    enterprise_org_id  uuid NOT NULL REFERENCES organisations (id),
    dataset            text COLLATE "C" NOT NULL,
    record_id          text COLLATE "C" NOT NULL,
    version            bigint NOT NULL,
    reason             text NOT NULL CHECK (char_length(reason) BETWEEN 1 AND 500),
    evidence           text CHECK (char_length(evidence) <= 2000),
    state              text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'upheld', 'rejected')),
    created_at         timestamptz NOT NULL DEFAULT now(),
    due_on             date NOT NULL,
    resolved_at        timestamptz,
    resolved_by        uuid REFERENCES organisations (id),
    resolution         text CHECK (char_length(resolution) <= 500)
);
-- One open objection per record at a time.
CREATE UNIQUE INDEX objection_open ON objection (dataset, record_id) WHERE state = 'open';
CREATE INDEX objection_uscc ON objection (uscc, created_at DESC);
CREATE INDEX objection_state ON objection (state, due_on);
