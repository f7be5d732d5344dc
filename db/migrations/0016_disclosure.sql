-- Silent queries (静默查询) by procurement organisations: each kept as signed, so that a tender
-- file can cite it and anyone can check what was asked and answered, and when.
CREATE TABLE silent_query (
    id          uuid PRIMARY KEY,
    org_id      uuid NOT NULL REFERENCES organisations (id),
    queried_at  timestamptz NOT NULL,
    codes       integer NOT NULL CHECK (codes BETWEEN 1 AND 1000),
    listed      integer NOT NULL,
    canonical   text NOT NULL,
    signature   text NOT NULL,
    key_id      text NOT NULL
);
CREATE INDEX silent_query_org ON silent_query (org_id, queried_at DESC);
REVOKE UPDATE, DELETE, TRUNCATE ON silent_query FROM xyd_app;

-- Public disclosure finds an enterprise by its exact registered name.
CREATE INDEX record_version_registry_name ON record_version_enterprise_registry ((data->>'name')) WHERE superseded_at IS NULL;
