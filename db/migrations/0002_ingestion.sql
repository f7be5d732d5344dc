-- Ingestion (C1): every version of every provider record, the current one per record,
-- quarantined items with their reason, and each dataset's cursor and counters.
-- Identifiers (dataset, record id, USCC) are ASCII codes compared byte by byte: COLLATE "C"
-- keeps their index comparisons cheap.

-- Each dataset's position in its provider's feed, saved in the transaction that stores the page.
CREATE TABLE feed_state (
    dataset          text PRIMARY KEY,
    provider         text NOT NULL,
    cursor           text,
    status           text NOT NULL DEFAULT 'idle' CHECK (status IN ('idle', 'running', 'caught_up', 'stopped', 'failing')),
    stop_code        text,
    stop_message     text,
    last_attempt_at  timestamptz,
    last_success_at  timestamptz,
    caught_up_at     timestamptz,
    -- The newest updated_at seen, for lag.
    newest_item_at   timestamptz,
    received         bigint NOT NULL DEFAULT 0,
    stored           bigint NOT NULL DEFAULT 0,
    stale            bigint NOT NULL DEFAULT 0,
    withdrawn        bigint NOT NULL DEFAULT 0,
    quarantined      bigint NOT NULL DEFAULT 0,
    pages            bigint NOT NULL DEFAULT 0
);

-- One stored page.
CREATE TABLE ingest_batch (
    id             bigserial PRIMARY KEY,
    dataset        text NOT NULL,
    cursor_before  text,
    cursor_after   text,
    received       integer NOT NULL,
    stored         integer NOT NULL,
    stale          integer NOT NULL,
    withdrawn      integer NOT NULL,
    quarantined    integer NOT NULL,
    received_at    timestamptz NOT NULL DEFAULT now()
);

-- Every version ever stored, with when we received it: profiles can be rebuilt as of any moment.
CREATE TABLE record_version (
    dataset      text COLLATE "C" NOT NULL,
    record_id    text COLLATE "C" NOT NULL,
    version      bigint NOT NULL CHECK (version >= 1),
    op           text NOT NULL CHECK (op IN ('upsert', 'delete')),
    uscc         text COLLATE "C" NOT NULL,
    updated_at   timestamptz NOT NULL,
    data         jsonb,
    received_at  timestamptz NOT NULL DEFAULT now(),
    batch_id     bigint NOT NULL,
    PRIMARY KEY (dataset, record_id, version)
);
CREATE INDEX record_version_uscc ON record_version (uscc, dataset, received_at);

-- The highest version of each record (its data stays in record_version). A record is live
-- when that version is an upsert.
CREATE TABLE record (
    dataset      text COLLATE "C" NOT NULL,
    record_id    text COLLATE "C" NOT NULL,
    version      bigint NOT NULL,
    op           text NOT NULL CHECK (op IN ('upsert', 'delete')),
    uscc         text COLLATE "C" NOT NULL,
    updated_at   timestamptz NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (dataset, record_id)
);
-- No index by USCC here: an enterprise's records are found through record_version_uscc
-- (every version carries its USCC) and checked against this table's primary key.

-- The current records with their data.
CREATE VIEW current_record AS
SELECT r.dataset, r.record_id, r.version, r.op, r.uscc, r.updated_at, r.received_at, v.data
FROM record r JOIN record_version v USING (dataset, record_id, version);

-- Items that broke the rules: kept with the reason, never silently dropped; once each.
CREATE TABLE quarantine (
    id           bigserial PRIMARY KEY,
    dataset      text COLLATE "C" NOT NULL,
    batch_id     bigint NOT NULL,
    record_id    text,
    reason_code  text NOT NULL,
    reason       text NOT NULL,
    raw          text NOT NULL,
    raw_hash     bytea NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (dataset, raw_hash)
);
CREATE INDEX quarantine_reason ON quarantine (dataset, reason_code);
