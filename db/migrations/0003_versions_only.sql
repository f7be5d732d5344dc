-- Ingestion keeps every version in record_version and nothing else: the current version of a
-- record is its highest one there (one primary-key descent), so the separate `record` table,
-- which cost a second B-tree and heap write per stored item, goes. The number of live records
-- per dataset (highest version is an upsert) is kept as a counter in feed_state, moved in the
-- transaction that stores each page.
ALTER TABLE feed_state ADD COLUMN live bigint NOT NULL DEFAULT 0;
UPDATE feed_state f SET live = (SELECT count(*) FROM record r WHERE r.dataset = f.dataset AND r.op = 'upsert');

DROP VIEW current_record;
DROP TABLE record;

-- The current (highest) version of every record, deleted ones included (op = 'delete').
CREATE VIEW current_record AS
SELECT DISTINCT ON (dataset, record_id) dataset, record_id, version, op, uscc, updated_at, received_at, data
FROM record_version
ORDER BY dataset, record_id, version DESC;

