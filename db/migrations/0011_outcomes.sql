-- What became of a disbursed loan, month by month, as its bank reports it (for model
-- validation later). A month reported again is corrected; every report is kept.
CREATE TABLE loan_outcome (
    demand_id    uuid NOT NULL REFERENCES demand (id),
    month        text NOT NULL CHECK (month ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
    status       text NOT NULL CHECK (status IN ('current', 'overdue_30', 'overdue_90', 'defaulted', 'repaid')),
    reported_by  uuid NOT NULL REFERENCES organisations (id),
    reported_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (demand_id, month)
);
CREATE TABLE loan_outcome_report (
    id           bigserial PRIMARY KEY,
    demand_id    uuid NOT NULL,
    month        text NOT NULL,
    status       text NOT NULL,
    reported_by  uuid NOT NULL,
    reported_at  timestamptz NOT NULL DEFAULT now()
);
REVOKE UPDATE, DELETE, TRUNCATE ON loan_outcome_report FROM xyd_app;
