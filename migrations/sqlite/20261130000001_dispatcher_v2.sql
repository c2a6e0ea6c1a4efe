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

-- Per-minute counters per writer (one per process), as on PostgreSQL, where
-- several instances' commits would otherwise queue for one row's lock.
-- Readers sum over writers.
CREATE TABLE attempt_minutes_by_writer (
    hook_id   TEXT NOT NULL,
    minute    INTEGER NOT NULL, -- unix ms of the minute's start
    writer    TEXT NOT NULL,
    requests  INTEGER NOT NULL,
    successes INTEGER NOT NULL,
    PRIMARY KEY (hook_id, minute, writer)
) WITHOUT ROWID;
INSERT INTO attempt_minutes_by_writer (hook_id, minute, writer, requests, successes)
    SELECT hook_id, minute, '', requests, successes FROM attempt_minutes;
DROP TABLE attempt_minutes;
ALTER TABLE attempt_minutes_by_writer RENAME TO attempt_minutes;
