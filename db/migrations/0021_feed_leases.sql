-- Several ingestion workers (xyd serve or xyd ingest, on one machine or many) share the
-- datasets through PostgreSQL: a worker pulls a dataset only while it holds the dataset's
-- lease, renewed while it works and given back when it is done. A worker that dies lets its
-- lease run out; another then takes the dataset over from the stored cursor. The cursor's
-- compare-and-set in each page's transaction stays the guarantee that nothing is stored twice.
ALTER TABLE feed_state
    ADD COLUMN leased_by   text,
    ADD COLUMN lease_until timestamptz,
    ADD CONSTRAINT feed_state_lease CHECK ((leased_by IS NULL) = (lease_until IS NULL));
