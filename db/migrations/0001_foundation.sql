-- Foundation: organisations, API keys, and the tamper-evident audit log.
--
-- Two database roles: the owner (runs `xyd migrate`, owns every object) and `xyd_app`, the
-- role the service connects as. `xyd_app` gets only the privileges it needs; on the audit
-- tables it may INSERT and SELECT, never UPDATE, DELETE or TRUNCATE.

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'xyd_app') THEN
        CREATE ROLE xyd_app NOLOGIN;
    END IF;
END
$$;

GRANT USAGE ON SCHEMA public TO xyd_app;
GRANT SELECT ON schema_migrations TO xyd_app;

-- Tables created later by the owner get the ordinary data privileges; tables that must be
-- append-only revoke them explicitly.
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO xyd_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO xyd_app;

CREATE TABLE organisations (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    kind        text NOT NULL CHECK (kind IN ('bank', 'enterprise', 'regulator', 'operator', 'procurement')),
    name        text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
    uscc        text CHECK (uscc ~ '^[0-9A-HJ-NP-RTUWXY]{18}$'),
    created_at  timestamptz NOT NULL DEFAULT now(),
    -- An enterprise's organisation is bound to exactly one USCC; others have none.
    CHECK ((kind = 'enterprise') = (uscc IS NOT NULL)),
    UNIQUE (kind, name)
);
CREATE UNIQUE INDEX organisations_uscc ON organisations (uscc) WHERE uscc IS NOT NULL;

CREATE TABLE api_keys (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id      uuid NOT NULL REFERENCES organisations (id),
    -- SHA-256 of the whole key; the key itself is shown once and never stored.
    key_hash    bytea NOT NULL UNIQUE CHECK (octet_length(key_hash) = 32),
    key_prefix  text NOT NULL,
    label       text NOT NULL DEFAULT '' CHECK (char_length(label) <= 100),
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz,
    revoked_at  timestamptz,
    -- The key that issued this one; NULL when issued by the `xyd` command on the server.
    issued_by_key_id uuid REFERENCES api_keys (id)
);
CREATE INDEX api_keys_org ON api_keys (org_id);

-- The audit log. Writers only INSERT (in the same transaction as the access they record).
-- A background sealer chains the rows in batches: audit_seal holds, for each row in chain
-- order, hash = SHA-256(previous hash || canonical row). `xyd audit verify` recomputes it.
CREATE TABLE audit_log (
    id            bigserial PRIMARY KEY,
    occurred_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    request_id    text,
    actor_org_id  uuid,
    actor_key_id  uuid,
    actor_kind    text NOT NULL,  -- an organisation kind, or 'cli' for the server's own command
    action        text NOT NULL,  -- e.g. 'key.issue', 'profile.read'
    route         text,           -- route template, e.g. 'POST /v1/orgs/:orgId/keys'
    subject_uscc  text,
    subject_id    text,           -- another subject (an organisation or key id)
    purpose       text,
    result        text NOT NULL CHECK (result IN ('allowed', 'denied', 'error')),
    detail        jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX audit_log_subject_uscc ON audit_log (subject_uscc, occurred_at) WHERE subject_uscc IS NOT NULL;
CREATE INDEX audit_log_actor_org ON audit_log (actor_org_id, occurred_at);

-- Rows not yet sealed, queued for the sealer (filled by a trigger, so no writer can forget).
CREATE TABLE audit_unsealed (log_id bigint PRIMARY KEY);

CREATE FUNCTION audit_log_enqueue() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO audit_unsealed (log_id) VALUES (NEW.id);
    RETURN NEW;
END
$$;
CREATE TRIGGER audit_log_enqueue AFTER INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_enqueue();

CREATE TABLE audit_seal (
    chain_seq  bigint PRIMARY KEY,
    log_id     bigint NOT NULL UNIQUE,
    prev_hash  bytea NOT NULL,
    hash       bytea NOT NULL,
    sealed_at  timestamptz NOT NULL DEFAULT now()
);

-- The head of the chain: one row, locked by the one sealer at work.
CREATE TABLE audit_chain_head (
    singleton  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    chain_seq  bigint NOT NULL,
    hash       bytea NOT NULL
);
INSERT INTO audit_chain_head (chain_seq, hash) VALUES (0, decode(repeat('00', 32), 'hex'));

REVOKE UPDATE, DELETE, TRUNCATE ON audit_log, audit_seal FROM xyd_app;
REVOKE INSERT, DELETE, TRUNCATE ON audit_chain_head FROM xyd_app;
REVOKE UPDATE, TRUNCATE ON audit_unsealed FROM xyd_app;
REVOKE UPDATE, DELETE, TRUNCATE ON organisations FROM xyd_app;
REVOKE DELETE, TRUNCATE ON api_keys FROM xyd_app;
