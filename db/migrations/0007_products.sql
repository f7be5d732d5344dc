-- The marketplace (C6), first part: banks' products. A product's rules are stored as
-- validated ([{"rule": …, "value": …}], the vocabulary of CreditCore's Matching).
CREATE TABLE product (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    bank_org_id      uuid NOT NULL REFERENCES organisations (id),
    name             text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
    kind             text NOT NULL CHECK (kind IN ('credit', 'secured', 'guaranteed')),
    amount_min_fen   bigint NOT NULL CHECK (amount_min_fen >= 1),
    amount_max_fen   bigint NOT NULL,
    term_min_months  integer NOT NULL CHECK (term_min_months >= 1),
    term_max_months  integer NOT NULL,
    rate_min_bp      integer NOT NULL CHECK (rate_min_bp >= 0),
    rate_max_bp      integer NOT NULL,
    rules            jsonb NOT NULL,
    status           text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'published', 'paused', 'retired')),
    revision         integer NOT NULL DEFAULT 1,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CHECK (amount_min_fen <= amount_max_fen AND term_min_months <= term_max_months AND rate_min_bp <= rate_max_bp)
);
CREATE INDEX product_bank ON product (bank_org_id, created_at);
CREATE INDEX product_published ON product (id) WHERE status = 'published';

-- Every change of a product's state or terms, with who and when.
CREATE TABLE product_event (
    id           bigserial PRIMARY KEY,
    product_id   uuid NOT NULL REFERENCES product (id),
    at           timestamptz NOT NULL DEFAULT now(),
    actor_org_id uuid NOT NULL,
    actor_key_id uuid,
    event        text NOT NULL CHECK (event IN ('created', 'updated', 'published', 'paused', 'retired')),
    from_status  text,
    to_status    text NOT NULL,
    revision     integer NOT NULL
);
CREATE INDEX product_event_product ON product_event (product_id, at);
REVOKE UPDATE, DELETE, TRUNCATE ON product_event FROM xyd_app;
REVOKE DELETE, TRUNCATE ON product FROM xyd_app;
