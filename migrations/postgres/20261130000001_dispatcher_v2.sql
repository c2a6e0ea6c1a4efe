-- Dispatcher v2 (see server/src/dispatcher/mod.rs).
--
-- The claim no longer counts a hook's leases (each instance keeps to its share
-- of a hook's in-flight limit in memory), so the index that counted them goes:
-- one index less to write for every delivery.
DROP INDEX deliveries_leased;

-- The set of dispatchers each one keeps its shares to: a dispatcher takes a
-- larger share of a hook's limit only once every other live one says it keeps
-- to the same set (see dispatcher/roster.rs).
ALTER TABLE dispatchers ADD COLUMN view TEXT NOT NULL DEFAULT '';

-- Per-minute counters per writer (one per process): every commit of every
-- instance's writer adds to the current minute of each hook it delivered to,
-- and with one row per hook and minute the instances' commits would queue for
-- that row's lock. Readers sum over writers.
ALTER TABLE attempt_minutes ADD COLUMN writer TEXT NOT NULL DEFAULT '';
ALTER TABLE attempt_minutes DROP CONSTRAINT attempt_minutes_pkey;
ALTER TABLE attempt_minutes ADD PRIMARY KEY (hook_id, minute, writer);
