-- The marketplace (C6), second part: businesses' financing demands and their states.
CREATE TABLE demand (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    uscc                text COLLATE "C" NOT NULL,
    enterprise_org_id   uuid NOT NULL REFERENCES organisations (id),
    amount_fen          bigint NOT NULL CHECK (amount_fen >= 1),
    term_months         integer NOT NULL CHECK (term_months BETWEEN 1 AND 360),
    purpose             text NOT NULL CHECK (char_length(purpose) BETWEEN 1 AND 500),
    collateral_offered  boolean NOT NULL,
    first_loan          boolean NOT NULL,
    state               text NOT NULL DEFAULT 'open'
                        CHECK (state IN ('open', 'taken_up', 'granted', 'declined', 'disbursed', 'withdrawn', 'expired')),
    taken_up_by         uuid REFERENCES organisations (id),
    created_at          timestamptz NOT NULL DEFAULT now(),
    expires_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX demand_uscc ON demand (uscc, created_at DESC);
CREATE INDEX demand_open ON demand (expires_at) WHERE state = 'open';

-- Every transition, with who and when.
CREATE TABLE demand_event (
    id            bigserial PRIMARY KEY,
    demand_id     uuid NOT NULL REFERENCES demand (id),
    at            timestamptz NOT NULL DEFAULT now(),
    actor_org_id  uuid,
    actor_kind    text NOT NULL,
    from_state    text,
    to_state      text NOT NULL,
    detail        jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX demand_event_demand ON demand_event (demand_id, at);
REVOKE UPDATE, DELETE, TRUNCATE ON demand_event FROM xyd_app;
REVOKE DELETE, TRUNCATE ON demand FROM xyd_app;

-- The authorisations a demand grants to the banks whose products match it.
ALTER TABLE authorisation ADD COLUMN demand_id uuid REFERENCES demand (id);
CREATE INDEX authorisation_demand ON authorisation (demand_id) WHERE demand_id IS NOT NULL;
