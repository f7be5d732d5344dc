-- People, not keys (issue 22): named users inside each organisation, with a role within it, a
-- password (scrypt, parameters stored with the hash: CreditCore/Credentials.swift) and a TOTP
-- second factor. Browser sessions belong to a user; API keys stay for machines, each owned by a
-- user or by a named system, and act with a role within the organisation. Every audit row
-- names the user as well as the organisation.
CREATE TABLE org_user (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id           uuid NOT NULL REFERENCES organisations (id),
    login            text COLLATE "C" NOT NULL UNIQUE CHECK (login ~ '^[a-z0-9][a-z0-9._-]{2,39}$'),
    name             text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 40),
    staff_number     text CHECK (char_length(staff_number) BETWEEN 1 AND 20),
    role             text NOT NULL CHECK (role IN ('admin', 'manager', 'officer', 'legal_rep', 'staff', 'analyst')),
    password_hash    text NOT NULL,
    -- Changed by the user at the first sign-in when an admin set it.
    password_set_by_admin boolean NOT NULL DEFAULT true,
    totp_secret      bytea CHECK (octet_length(totp_secret) = 20),
    -- The last TOTP step taken: a code is never taken twice.
    totp_last_step   bigint,
    failed_sign_ins  integer NOT NULL DEFAULT 0 CHECK (failed_sign_ins >= 0),
    locked_until     timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    -- Who created the user: a user, or NULL for the `xyd` command on the server.
    created_by       uuid REFERENCES org_user (id),
    disabled_at      timestamptz,
    last_sign_in_at  timestamptz
);
CREATE INDEX org_user_org ON org_user (org_id);

ALTER TABLE api_keys
    ADD COLUMN user_id uuid REFERENCES org_user (id),
    ADD COLUMN system_name text CHECK (char_length(system_name) BETWEEN 1 AND 60),
    ADD COLUMN role text CHECK (role IN ('admin', 'manager', 'officer', 'legal_rep', 'staff', 'analyst'));
-- Keys issued before users existed: machines of their organisation, with its highest role.
UPDATE api_keys k SET system_name = 'integration',
    role = CASE (SELECT kind FROM organisations o WHERE o.id = k.org_id) WHEN 'enterprise' THEN 'legal_rep' ELSE 'admin' END;
ALTER TABLE api_keys
    ALTER COLUMN role SET NOT NULL,
    ADD CONSTRAINT api_keys_owner CHECK ((user_id IS NULL) <> (system_name IS NULL));

ALTER TABLE web_session
    ADD COLUMN user_id uuid REFERENCES org_user (id),
    ALTER COLUMN key_id DROP NOT NULL,
    ADD CONSTRAINT web_session_owner CHECK ((user_id IS NULL) <> (key_id IS NULL));
CREATE INDEX web_session_user ON web_session (user_id) WHERE user_id IS NOT NULL;

ALTER TABLE audit_log ADD COLUMN actor_user_id uuid;
CREATE INDEX audit_log_actor_user ON audit_log (actor_user_id, occurred_at) WHERE actor_user_id IS NOT NULL;

-- The amount above which an offer needs a bank manager (NULL: no limit).
ALTER TABLE organisations ADD COLUMN officer_offer_limit_fen bigint CHECK (officer_offer_limit_fen > 0);

-- Users are disabled, never deleted: audit rows name them for as long as the log is kept.
REVOKE DELETE, TRUNCATE ON org_user FROM xyd_app;
