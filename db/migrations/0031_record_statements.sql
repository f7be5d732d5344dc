-- A business's own statement (说明) on one of its records: shown wherever the record is shown —
-- its records, an authorised bank's view, its reports — until it withdraws it. One live statement
-- per record; a withdrawn one is kept (as-of reports show what was live at their moment).
CREATE TABLE record_statement (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    uscc               text COLLATE "C" NOT NULL,
    enterprise_org_id  uuid NOT NULL REFERENCES organisations (id),
    dataset            text COLLATE "C" NOT NULL,
    record_id          text COLLATE "C" NOT NULL,
    text               text NOT NULL CHECK (char_length(text) BETWEEN 1 AND 500),
    created_at         timestamptz NOT NULL DEFAULT now(),
    withdrawn_at       timestamptz
);
CREATE UNIQUE INDEX record_statement_live ON record_statement (dataset, record_id) WHERE withdrawn_at IS NULL;
CREATE INDEX record_statement_uscc ON record_statement (uscc, created_at DESC);
REVOKE DELETE, TRUNCATE ON record_statement FROM xyd_app;
