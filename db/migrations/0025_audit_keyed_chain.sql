-- The audit chain keyed by a secret held outside the database (issue 16, finding 3).
--
-- Each row now carries `mac`: HMAC-SHA256 with the audit key (XYD_AUDIT_KEY_FILE) over what it
-- records, written by the service with the row. Seals become HMAC-SHA256(key, previous hash ||
-- canonical row || verdict) — nobody without the key can forge a row or recompute the chain, a
-- database superuser included. A row whose code does not verify is still sealed (so that it
-- stays where it is), with `genuine = false`, and `xyd audit verify` names it.
--
-- The SHA-256 chain so far is kept as it was (audit_seal_v1, audit_chain_head_v1; `xyd audit
-- verify` still walks it); every row, old ones included, is queued again to be sealed into the
-- keyed chain from its start. Rows sealed in the old chain need no code (they predate it).
ALTER TABLE audit_log ADD COLUMN mac bytea;
CREATE UNIQUE INDEX audit_log_mac ON audit_log (mac);

ALTER TABLE audit_seal RENAME TO audit_seal_v1;
ALTER TABLE audit_chain_head RENAME TO audit_chain_head_v1;
ALTER INDEX audit_seal_pkey RENAME TO audit_seal_v1_pkey;
ALTER INDEX audit_seal_log_id_key RENAME TO audit_seal_v1_log_id_key;
ALTER INDEX audit_chain_head_pkey RENAME TO audit_chain_head_v1_pkey;
REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON audit_seal_v1, audit_chain_head_v1 FROM xyd_app;

CREATE TABLE audit_seal (
    chain_seq  bigint PRIMARY KEY,
    log_id     bigint NOT NULL UNIQUE,
    prev_hash  bytea NOT NULL,
    hash       bytea NOT NULL,
    genuine    boolean NOT NULL,
    sealed_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE audit_chain_head (
    singleton  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    chain_seq  bigint NOT NULL,
    hash       bytea NOT NULL
);
INSERT INTO audit_chain_head (chain_seq, hash) VALUES (0, decode(repeat('00', 32), 'hex'));

REVOKE UPDATE, DELETE, TRUNCATE ON audit_seal FROM xyd_app;
REVOKE INSERT, DELETE, TRUNCATE ON audit_chain_head FROM xyd_app;

INSERT INTO audit_unsealed (log_id) SELECT id FROM audit_log ON CONFLICT DO NOTHING;
