-- A hook's delivery policy (README, "Delivery policies"). NULL: the server's.
-- `rate_limit` and `retry_schedule` hold JSON as the API writes them; the
-- server checks them when saved.
ALTER TABLE hooks ADD COLUMN ordered BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE hooks ADD COLUMN rate_limit TEXT;
ALTER TABLE hooks ADD COLUMN retry_schedule TEXT;
ALTER TABLE hooks ADD COLUMN request_timeout_ms BIGINT;
-- The order deliveries were stored in, for ordered hooks: `created_at` ties
-- within a millisecond. An ordered hook's next delivery is its oldest
-- pending one, by (created_at, seq).
ALTER TABLE deliveries ADD COLUMN seq BIGSERIAL;
DROP INDEX deliveries_hook_state;
CREATE INDEX deliveries_hook_state ON deliveries (hook_id, state, created_at, seq);
