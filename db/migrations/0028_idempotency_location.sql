-- A kept response's Location header (a form's redirect to what it created, a 201's address), so
-- that a replay sends the caller to the same place the first answer did.
ALTER TABLE idempotency_key ADD COLUMN location text;
