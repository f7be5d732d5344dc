-- Signed webhooks for businesses, through the banks' delivery machinery: a business registers
-- endpoints as a bank does (webhook_endpoint.bank_org_id holds the owning organisation, bank or
-- enterprise). While it has a live endpoint, each message written for it is also an event
-- (Messages.emit, in the same statement), and so is each bank read of its data — written here,
-- by a trigger on the audit log, so every path that records a read (single, batched) tells it in
-- the read's own transaction.
CREATE FUNCTION business_read_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    WITH e AS (
        INSERT INTO webhook_event (bank_org_id, uscc, type, payload)
        SELECT o.id, NEW.subject_uscc, 'bank.read',
               jsonb_build_object('uscc', NEW.subject_uscc, 'bank', coalesce(b.name, ''), 'action', NEW.action,
                                  'purpose', NEW.purpose, 'at', NEW.occurred_at)
        FROM organisations o LEFT JOIN organisations b ON b.id = NEW.actor_org_id
        WHERE o.uscc = NEW.subject_uscc AND o.kind = 'enterprise'
          AND EXISTS (SELECT 1 FROM webhook_endpoint ep WHERE ep.bank_org_id = o.id AND ep.disabled_at IS NULL)
        RETURNING id, bank_org_id
    )
    INSERT INTO webhook_delivery (event_id, endpoint_id, uscc)
    SELECT e.id, ep.id, NEW.subject_uscc FROM e JOIN webhook_endpoint ep ON ep.bank_org_id = e.bank_org_id AND ep.disabled_at IS NULL;
    RETURN NULL;
END $$;

CREATE TRIGGER audit_bank_read_event AFTER INSERT ON audit_log FOR EACH ROW
    WHEN (NEW.actor_kind = 'bank' AND NEW.result = 'allowed' AND NEW.subject_uscc IS NOT NULL
          AND NEW.action IN ('profile.read', 'records.read', 'report.create', 'report.read'))
    EXECUTE FUNCTION business_read_event();

-- Commitments at risk (an obligation of the period close to its due day and not yet met): the
-- day the service last looked, so the market sweep looks once a day per running commitment.
ALTER TABLE commitment ADD COLUMN risk_checked_on date;
