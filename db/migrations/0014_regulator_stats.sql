-- Regulators' view (C9). A demand keeps what the banks saw when it was posted — the
-- business's district, industry, size, entity type, grade and score — so that statistics by
-- segment stay true to the moment; a grant names the product it is made under; a bank may
-- pass on a demand it was matched to.
ALTER TABLE demand
    ADD COLUMN district_code      text,
    ADD COLUMN industry_code      text,
    ADD COLUMN size_class         text,
    ADD COLUMN entity_type        text,
    ADD COLUMN grade_at_posting   text,
    ADD COLUMN score_at_posting   integer,
    ADD COLUMN scorecard_version  text,
    ADD COLUMN granted_product_id uuid REFERENCES product (id);

UPDATE demand d
SET district_code = r.data->>'district_code', industry_code = r.data->>'industry_code',
    size_class = r.data->>'size_class', entity_type = r.data->>'entity_type'
FROM current_record r
WHERE r.dataset = 'enterprise_registry' AND r.record_id = d.uscc AND r.op = 'upsert';
UPDATE demand d SET grade_at_posting = p.grade, score_at_posting = p.score, scorecard_version = p.scorecard_version
FROM profile p WHERE p.uscc = d.uscc;

-- Who ended an authorisation: a business's own revocation (or a bank's pass) sticks — matching
-- the demand again does not grant it back.
ALTER TABLE authorisation ADD COLUMN revoked_by text CHECK (revoked_by IN ('business', 'bank_passed', 'no_longer_matching', 'demand_closed'));

CREATE TABLE demand_pass (
    demand_id    uuid NOT NULL REFERENCES demand (id),
    bank_org_id  uuid NOT NULL REFERENCES organisations (id),
    reason       text CHECK (char_length(reason) <= 500),
    at           timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (demand_id, bank_org_id)
);

-- Summary tables. The statistics service rebuilds them on a schedule (XYD_STATS_REFRESH_S),
-- each in one transaction; regulators' routes read only these, never the raw records.

-- One row per demand: its segment, milestones and outcome. `enterprise` is only for counting
-- distinct businesses (small cells are suppressed); no route returns it.
CREATE TABLE stat_demand (
    demand_id          uuid PRIMARY KEY,
    enterprise         text COLLATE "C" NOT NULL,
    month              text NOT NULL,
    district           text NOT NULL,
    industry           text NOT NULL,
    size               text NOT NULL,
    entity_type        text NOT NULL,
    farmer             boolean NOT NULL,
    first_loan         boolean NOT NULL,
    bank               uuid,
    bank_name          text,
    product_kind       text NOT NULL,
    state              text NOT NULL,
    amount_fen         bigint NOT NULL,
    taken_up           boolean NOT NULL,
    granted            boolean NOT NULL,
    declined           boolean NOT NULL,
    disbursed          boolean NOT NULL,
    granted_fen        bigint NOT NULL,
    disbursed_fen      bigint NOT NULL,
    hours_to_take_up   numeric,
    hours_to_decision  numeric,
    decline_reason     text,
    take_up_overdue    boolean NOT NULL,
    decision_overdue   boolean NOT NULL,
    grade              text,
    score              integer,
    scorecard_version  text,
    -- Reported outcome: true once defaulted or 90 days overdue, false when reported otherwise, null when none.
    bad                boolean
);

-- One row per bank and demand it was matched to (or took up): what it did with it.
CREATE TABLE stat_bank_demand (
    bank               uuid NOT NULL,
    demand_id          uuid NOT NULL,
    month              text NOT NULL,
    district           text NOT NULL,
    industry           text NOT NULL,
    size               text NOT NULL,
    took_up            boolean NOT NULL,
    passed             boolean NOT NULL,
    take_up_overdue    boolean NOT NULL,
    decided            boolean NOT NULL,
    declined           boolean NOT NULL,
    decision_overdue   boolean NOT NULL,
    hours_to_decision  numeric,
    PRIMARY KEY (bank, demand_id)
);

CREATE TABLE stat_bank (
    bank         uuid PRIMARY KEY,
    name         text NOT NULL,
    has_key      boolean NOT NULL,
    has_product  boolean NOT NULL
);

CREATE TABLE stat_quality (
    dataset             text PRIMARY KEY,
    provider            text NOT NULL,
    status              text NOT NULL,
    last_success_at     timestamptz,
    newest_item_at      timestamptz,
    received            bigint NOT NULL,
    stored              bigint NOT NULL,
    quarantined         bigint NOT NULL,
    quarantined_uscc    bigint NOT NULL,
    by_reason           jsonb NOT NULL,
    -- Periodic datasets: active businesses with a record for one of the last 3 months, over active businesses.
    active_enterprises  integer,
    recent_enterprises  integer,
    -- Records whose provider time is at most 2 days before they arrived, over records (the last 90 days).
    timely              bigint,
    arrived             bigint
);

-- The city's grades, one snapshot per month (the latest refresh of the month wins).
CREATE TABLE stat_grade_month (
    month              text NOT NULL,
    scorecard_version  text NOT NULL,
    grade              text NOT NULL,
    enterprises        integer NOT NULL,
    PRIMARY KEY (month, scorecard_version, grade)
);

-- Distributions over a scorecard's bins ('score' in 100-point bands, or a feature's bins), for
-- the whole city and by segment; `reference` rows are the distribution when the version first
-- went live (the stability baseline), `current` the latest refresh.
CREATE TABLE stat_distribution (
    kind               text NOT NULL CHECK (kind IN ('reference', 'current')),
    scorecard_version  text NOT NULL,
    characteristic     text NOT NULL,
    segment_kind       text NOT NULL CHECK (segment_kind IN ('all', 'district', 'industry', 'size')),
    segment            text NOT NULL,
    bin                integer NOT NULL,
    enterprises        integer NOT NULL,
    PRIMARY KEY (kind, scorecard_version, characteristic, segment_kind, segment, bin)
);

CREATE TABLE stat_refresh (
    name          text PRIMARY KEY,
    refreshed_at  timestamptz NOT NULL,
    took_ms       integer NOT NULL
);
