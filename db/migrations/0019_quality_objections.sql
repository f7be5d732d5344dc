-- Data quality counts objections per dataset: open (records under objection), overdue, and
-- upheld (the valid-objection rate is upheld over records held).
ALTER TABLE stat_quality
    ADD COLUMN objections_open     integer NOT NULL DEFAULT 0,
    ADD COLUMN objections_overdue  integer NOT NULL DEFAULT 0,
    ADD COLUMN objections_upheld   integer NOT NULL DEFAULT 0,
    ADD COLUMN live                bigint NOT NULL DEFAULT 0;
