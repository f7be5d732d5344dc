-- record_version partitioned by dataset (one partition each): a dataset's records are read
-- together (a city's features aggregate one dataset at a time) and indexed separately.
-- And each version now says when a higher one replaced it (superseded_at, set by ingestion in
-- the transaction that stores the higher one): the current version of a record is the one
-- not superseded, and the version current at a moment T is the one with
-- received_at <= T < superseded_at — no sort by version needed to find either.
ALTER TABLE record_version RENAME TO record_version_0004;
ALTER INDEX record_version_pkey RENAME TO record_version_0004_pkey;
ALTER INDEX record_version_uscc RENAME TO record_version_0004_uscc;

CREATE TABLE record_version (
    dataset        text COLLATE "C" NOT NULL,
    record_id      text COLLATE "C" NOT NULL,
    version        bigint NOT NULL CHECK (version >= 1),
    op             text NOT NULL CHECK (op IN ('upsert', 'delete')),
    uscc           text COLLATE "C" NOT NULL,
    updated_at     timestamptz NOT NULL,
    data           jsonb,
    received_at    timestamptz NOT NULL DEFAULT now(),
    batch_id       bigint NOT NULL,
    superseded_at  timestamptz,
    PRIMARY KEY (dataset, record_id, version)
) PARTITION BY LIST (dataset);
CREATE TABLE record_version_enterprise_registry PARTITION OF record_version FOR VALUES IN ('enterprise_registry');
CREATE TABLE record_version_tax_filing PARTITION OF record_version FOR VALUES IN ('tax_filing');
CREATE TABLE record_version_tax_credit_rating PARTITION OF record_version FOR VALUES IN ('tax_credit_rating');
CREATE TABLE record_version_social_insurance PARTITION OF record_version FOR VALUES IN ('social_insurance');
CREATE TABLE record_version_utility_bill PARTITION OF record_version FOR VALUES IN ('utility_bill');
CREATE TABLE record_version_contract_performance PARTITION OF record_version FOR VALUES IN ('contract_performance');
CREATE TABLE record_version_administrative_licence PARTITION OF record_version FOR VALUES IN ('administrative_licence');
CREATE TABLE record_version_administrative_penalty PARTITION OF record_version FOR VALUES IN ('administrative_penalty');
CREATE TABLE record_version_dishonesty_listing PARTITION OF record_version FOR VALUES IN ('dishonesty_listing');
CREATE INDEX record_version_uscc ON record_version (uscc, dataset, received_at);

INSERT INTO record_version (dataset, record_id, version, op, uscc, updated_at, data, received_at, batch_id, superseded_at)
SELECT dataset, record_id, version, op, uscc, updated_at, data, received_at, batch_id,
       lead(received_at) OVER (PARTITION BY dataset, record_id ORDER BY version)
FROM record_version_0004;

DROP VIEW current_record;
DROP TABLE record_version_0004;

-- The current (highest) version of every record, deleted ones included (op = 'delete').
CREATE VIEW current_record AS
SELECT dataset, record_id, version, op, uscc, updated_at, received_at, data
FROM record_version
WHERE superseded_at IS NULL;
