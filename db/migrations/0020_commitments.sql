-- Credit commitments (信用承诺): public once made; their state follows the ingested records.
CREATE TABLE commitment (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    uscc               text COLLATE "C" NOT NULL,
    enterprise_org_id  uuid NOT NULL REFERENCES organisations (id),
    kind               text NOT NULL CHECK (kind IN ('tax_on_time', 'no_social_insurance_arrears', 'utilities_on_time',
                                                     'no_contract_breach', 'no_new_penalty')),
    starts_on          date NOT NULL,
    ends_on            date NOT NULL CHECK (ends_on > starts_on),
    state              text NOT NULL DEFAULT 'in_progress' CHECK (state IN ('in_progress', 'kept', 'broken')),
    broken_by          text,
    created_at         timestamptz NOT NULL DEFAULT now(),
    evaluated_at       timestamptz
);
-- One running commitment of a kind per business.
CREATE UNIQUE INDEX commitment_running ON commitment (uscc, kind) WHERE state = 'in_progress';
CREATE INDEX commitment_uscc ON commitment (uscc);
CREATE INDEX commitment_due ON commitment (ends_on) WHERE state = 'in_progress';
