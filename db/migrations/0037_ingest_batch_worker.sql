-- Which worker stored each page (`host:pid:tag`, as in feed_state.leased_by): with several
-- `xyd serve` sharing the datasets (a cluster), it shows who did the work, and that no page was
-- pulled and stored by two workers (ops/cluster test counts both). Older pages have none.
ALTER TABLE ingest_batch ADD COLUMN worker text;
