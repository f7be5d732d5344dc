-- Monitoring webhooks (C7): a bank's endpoints, the events (an outbox written in the
-- transaction of the change), and one delivery per event and endpoint, retried with back-off.
CREATE TABLE webhook_endpoint (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    bank_org_id  uuid NOT NULL REFERENCES organisations (id),
    url          text NOT NULL CHECK (char_length(url) <= 500),
    secret       text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    disabled_at  timestamptz
);
CREATE INDEX webhook_endpoint_bank ON webhook_endpoint (bank_org_id) WHERE disabled_at IS NULL;

CREATE TABLE webhook_event (
    id           bigserial PRIMARY KEY,
    event_id     uuid NOT NULL UNIQUE DEFAULT gen_random_uuid(),
    bank_org_id  uuid NOT NULL,
    uscc         text COLLATE "C",
    type         text NOT NULL,
    payload      jsonb NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE webhook_delivery (
    event_id         bigint NOT NULL REFERENCES webhook_event (id),
    endpoint_id      uuid NOT NULL REFERENCES webhook_endpoint (id),
    uscc             text COLLATE "C",
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    delivered_at     timestamptz,
    failed_at        timestamptz,
    last_status      integer,
    last_error       text,
    PRIMARY KEY (event_id, endpoint_id)
);
CREATE INDEX webhook_delivery_due ON webhook_delivery (next_attempt_at) WHERE delivered_at IS NULL AND failed_at IS NULL;
CREATE INDEX webhook_delivery_order ON webhook_delivery (endpoint_id, uscc, event_id) WHERE delivered_at IS NULL AND failed_at IS NULL;
