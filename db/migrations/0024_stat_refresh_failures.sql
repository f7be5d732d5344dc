-- A failed rebuild of a summary table is recorded, so the figures shown are marked stale instead
-- of silently staying old: when and why (the database's message, never a row's contents).
ALTER TABLE stat_refresh ADD COLUMN failed_at timestamptz;
ALTER TABLE stat_refresh ADD COLUMN failure text;
ALTER TABLE stat_refresh ALTER COLUMN refreshed_at DROP NOT NULL;
ALTER TABLE stat_refresh ALTER COLUMN took_ms DROP NOT NULL;
