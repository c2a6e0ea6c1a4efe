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
