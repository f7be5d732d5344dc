-- Idempotency-Key on POSTs that create or move something: the first request's response is
-- kept and replayed to retries with the same key and body (for 24 hours).
CREATE TABLE idempotency_key (
    org_id        uuid NOT NULL,
    key           text NOT NULL,
    route         text NOT NULL,
    path          text NOT NULL,
    body_sha256   bytea NOT NULL,
    status        integer,
    content_type  text,
    response      bytea,
    created_at    timestamptz NOT NULL DEFAULT now(),
    completed_at  timestamptz,
    PRIMARY KEY (org_id, key)
);
CREATE INDEX idempotency_key_created ON idempotency_key (created_at);
