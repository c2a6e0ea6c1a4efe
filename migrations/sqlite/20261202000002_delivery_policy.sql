-- A hook's delivery policy (README, "Delivery policies"). NULL: the server's.
-- `rate_limit` and `retry_schedule` hold JSON as the API writes them; the
-- server checks them when saved.
ALTER TABLE hooks ADD COLUMN ordered INTEGER NOT NULL DEFAULT 0;
ALTER TABLE hooks ADD COLUMN rate_limit TEXT;
ALTER TABLE hooks ADD COLUMN retry_schedule TEXT;
ALTER TABLE hooks ADD COLUMN request_timeout_ms INTEGER;
-- An ordered hook's next delivery is its oldest pending one, by ingestion:
-- `created_at`, then `rowid` within a millisecond, both in the order of the
-- deliveries_hook_state index (hook_id, state, created_at, rowid).
