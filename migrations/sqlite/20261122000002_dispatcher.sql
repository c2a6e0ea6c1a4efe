-- Events, deliveries (one per event and hook) and every attempt.
-- Times are unix milliseconds.

CREATE TABLE events (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    -- The producer's fields except `event`: a JSON object whose values are
    -- kept byte for byte as sent.
    payload    TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX events_created_at ON events (created_at);

CREATE TABLE deliveries (
    id               TEXT PRIMARY KEY, -- also the `webhook-id` header
    event_id         TEXT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    hook_id          TEXT NOT NULL REFERENCES hooks (id) ON DELETE CASCADE,
    state            TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
    attempt_count    INTEGER NOT NULL DEFAULT 0,
    -- When the next attempt is due; NULL when none is scheduled.
    next_attempt_at  INTEGER,
    next_trigger     TEXT NOT NULL DEFAULT 'auto',
    -- A worker's claim: while `lease_expires_at` is in the future, no other
    -- worker may attempt this delivery. A dead worker's lease simply runs out.
    lease_token      TEXT,
    lease_expires_at INTEGER,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
);
CREATE INDEX deliveries_event_id ON deliveries (event_id);
-- The claim walks each hook's due deliveries, oldest first …
CREATE INDEX deliveries_due ON deliveries (hook_id, next_attempt_at)
    WHERE next_attempt_at IS NOT NULL;
-- … after counting the ones it has in flight.
CREATE INDEX deliveries_leased ON deliveries (hook_id, lease_expires_at)
    WHERE lease_expires_at IS NOT NULL;
-- When the dispatcher should wake up next.
CREATE INDEX deliveries_next_attempt_at ON deliveries (next_attempt_at)
    WHERE next_attempt_at IS NOT NULL;

CREATE TABLE attempts (
    id                      TEXT PRIMARY KEY,
    delivery_id             TEXT NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
    -- Copied from the delivery so the hook's log filters without joins.
    hook_id                 TEXT NOT NULL,
    event                   TEXT NOT NULL,
    number                  INTEGER NOT NULL,
    trigger                 TEXT NOT NULL CHECK (trigger IN ('auto', 'retry', 'manual', 'test')),
    url                     TEXT NOT NULL,
    request_headers         TEXT NOT NULL, -- JSON array of [name, value]
    request_body            TEXT NOT NULL,
    response_status         INTEGER,
    response_headers        TEXT,          -- JSON array of [name, value]
    response_body           TEXT,
    response_body_truncated INTEGER NOT NULL DEFAULT 0,
    error                   TEXT,
    success                 INTEGER NOT NULL,
    started_at              INTEGER NOT NULL,
    duration_ms             INTEGER NOT NULL
);
CREATE INDEX attempts_delivery ON attempts (delivery_id, number);
CREATE INDEX attempts_hook_started ON attempts (hook_id, started_at);

-- A producer's `Idempotency-Key`, scoped to the caller, and the answer it got.
CREATE TABLE idempotency_keys (
    scope        TEXT NOT NULL,
    key          TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    event_id     TEXT NOT NULL,
    deliveries   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    PRIMARY KEY (scope, key)
);

-- Since when every attempt to this hook has failed (NULL after a success),
-- for disabling hooks that fail for a whole day.
ALTER TABLE hooks ADD COLUMN failing_since INTEGER;
