-- Webhook replay: a delivery's day of retries counts from when it was (re)queued, not from
-- when its event happened, so a bank replaying last week's events gets a full day again.
ALTER TABLE webhook_delivery ADD COLUMN queued_at timestamptz NOT NULL DEFAULT now();
-- The log and replay walk one bank's events in order.
CREATE INDEX webhook_event_bank ON webhook_event (bank_org_id, id);
