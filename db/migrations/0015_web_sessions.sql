-- Browser sessions (the regulators' dashboard, later the portal): signed in with an
-- organisation's key, kept as an HTTP-only SameSite=Strict cookie whose SHA-256 is stored
-- here. A session ends at sign-out, at expiry, or as soon as its key is revoked or expires.
CREATE TABLE web_session (
    token_hash  bytea PRIMARY KEY,
    key_id      uuid NOT NULL REFERENCES api_keys (id),
    csrf_token  text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL
);
CREATE INDEX web_session_expiry ON web_session (expires_at);
