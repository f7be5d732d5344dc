-- Credit profiles (C3), authorisations (C5) and signed reports (C4).

-- Scorecards: versioned, stored as published (the file's JSON), exactly one active at a time.
CREATE TABLE scorecard (
    version       text PRIMARY KEY,
    body          jsonb NOT NULL,
    sha256        text NOT NULL,
    published_at  timestamptz NOT NULL DEFAULT now()
);
-- Each activation, so that "the version active at moment T" is known for reports as of T.
CREATE TABLE scorecard_activation (
    activated_at  timestamptz PRIMARY KEY DEFAULT clock_timestamp(),
    version       text NOT NULL REFERENCES scorecard (version)
);
CREATE VIEW active_scorecard AS
SELECT s.* FROM scorecard s
JOIN (SELECT version FROM scorecard_activation ORDER BY activated_at DESC LIMIT 1) a USING (version);
REVOKE UPDATE, DELETE, TRUNCATE ON scorecard, scorecard_activation FROM xyd_app;

-- The current profile of each enterprise with records.
CREATE TABLE profile (
    uscc               text COLLATE "C" PRIMARY KEY,
    scorecard_version  text NOT NULL REFERENCES scorecard (version),
    score              integer CHECK (score BETWEEN 0 AND 1000),
    grade              text,
    thin_file          boolean NOT NULL,
    knockouts          text[] NOT NULL,
    reasons            jsonb NOT NULL,
    features           jsonb NOT NULL,
    points             jsonb NOT NULL,
    data_months        integer NOT NULL,
    records            integer NOT NULL,
    -- The day the windows end on (in China) and the moment whose records were used.
    as_of_day          date NOT NULL,
    data_as_of         timestamptz NOT NULL,
    computed_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX profile_version ON profile (scorecard_version);

-- Enterprises whose records changed since their profile was computed. Ingestion adds to it
-- in the page's transaction; the profile service takes rows with SKIP LOCKED.
CREATE TABLE profile_queue (
    uscc         text COLLATE "C" PRIMARY KEY,
    enqueued_at  timestamptz NOT NULL DEFAULT now()
);

-- A business's consent that one bank may read its credit data, for one purpose.
CREATE TABLE authorisation (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    uscc               text COLLATE "C" NOT NULL,
    enterprise_org_id  uuid NOT NULL REFERENCES organisations (id),
    bank_org_id        uuid NOT NULL REFERENCES organisations (id),
    scopes             text[] NOT NULL CHECK (cardinality(scopes) > 0 AND scopes <@ ARRAY['profile', 'report', 'records']),
    purpose            text NOT NULL CHECK (purpose IN ('loan_application', 'post_loan_monitoring', 'credit_line_review')),
    granted_at         timestamptz NOT NULL DEFAULT now(),
    expires_at         timestamptz NOT NULL,
    revoked_at         timestamptz,
    -- 'business' (granted directly) or what granted it on the business's behalf (a demand, later).
    source             text NOT NULL DEFAULT 'business',
    CHECK (expires_at > granted_at AND expires_at <= granted_at + interval '1 year')
);
CREATE INDEX authorisation_bank ON authorisation (bank_org_id, uscc);
CREATE INDEX authorisation_uscc ON authorisation (uscc, granted_at DESC);
REVOKE DELETE, TRUNCATE ON authorisation FROM xyd_app;

-- Signed credit reports, kept as signed: the canonical JSON text (RFC 8785) and its signature.
CREATE TABLE report_counter (
    day  date PRIMARY KEY,
    n    integer NOT NULL
);
CREATE TABLE report (
    number            text PRIMARY KEY,
    uscc              text COLLATE "C" NOT NULL,
    requested_by      uuid NOT NULL REFERENCES organisations (id),
    authorisation_id  uuid REFERENCES authorisation (id),
    as_of             timestamptz NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    canonical         text NOT NULL,
    signature         text NOT NULL,
    key_id            text NOT NULL
);
CREATE INDEX report_uscc ON report (uscc, created_at DESC);
REVOKE UPDATE, DELETE, TRUNCATE ON report FROM xyd_app;

-- Each stored page names the enterprises it touched; the profile service turns unprofiled
-- pages into queue rows. (Ingestion writes one array per page and never waits on another
-- page's queue rows.) Pages stored before this migration are covered by the rescore that
-- activating the first scorecard starts.
ALTER TABLE ingest_batch ADD COLUMN usccs text[], ADD COLUMN profiled_at timestamptz;
UPDATE ingest_batch SET profiled_at = now();
CREATE INDEX ingest_batch_unprofiled ON ingest_batch (id) WHERE profiled_at IS NULL;
