-- What the console reads: filtered pages of a hook's log, per-minute figures
-- for the 24 h stats and the chart, and custom event types.

-- recent-logs filters: by outcome, by status code, by event; each newest first.
CREATE INDEX attempts_hook_success ON attempts (hook_id, success, started_at);
CREATE INDEX attempts_hook_status ON attempts (hook_id, response_status, started_at);
CREATE INDEX attempts_hook_event ON attempts (hook_id, event, started_at);
CREATE INDEX attempts_hook_event_success ON attempts (hook_id, event, success, started_at);

-- /health: the oldest delivery still waiting.
CREATE INDEX deliveries_pending ON deliveries (created_at) WHERE state = 'pending';

-- Recover: a hook's failed deliveries in a time range.
CREATE INDEX deliveries_hook_state ON deliveries (hook_id, state, created_at);

-- Attempts per hook and minute (test sends excluded), kept by the recorder in
-- the same transaction as the attempts, so figures never need a scan of the log.
CREATE TABLE attempt_minutes (
    hook_id   TEXT NOT NULL,
    minute    INTEGER NOT NULL, -- unix ms of the minute's start
    requests  INTEGER NOT NULL,
    successes INTEGER NOT NULL,
    PRIMARY KEY (hook_id, minute)
) WITHOUT ROWID;

CREATE TABLE event_types (
    name        TEXT PRIMARY KEY,
    description TEXT NOT NULL,
    schema      TEXT, -- JSON Schema, when given
    created_at  INTEGER NOT NULL
);
