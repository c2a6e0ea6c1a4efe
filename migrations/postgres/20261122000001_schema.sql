-- The whole schema on PostgreSQL: the same tables, columns and indexes as
-- migrations/sqlite (after all of its files), in PostgreSQL's types.
-- Times are unix milliseconds (BIGINT). JSON is kept as TEXT, byte for byte:
-- `jsonb` would reorder a hook's headers and a producer's fields.

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('admin', 'viewer')),
    created_at    BIGINT NOT NULL
);

-- Only a hash of the session token is kept; the cookie holds the token.
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_user_id ON sessions (user_id);

CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    prefix       TEXT NOT NULL,
    key_hash     TEXT NOT NULL UNIQUE,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at   BIGINT
);

CREATE TABLE hooks (
    id                      TEXT PRIMARY KEY,
    name                    TEXT NOT NULL,
    events                  TEXT NOT NULL, -- JSON array of event names
    url                     TEXT NOT NULL,
    headers                 TEXT NOT NULL, -- JSON object, in the order given
    enabled                 BOOLEAN NOT NULL,
    disabled_reason         TEXT,
    -- Kept in clear: HMAC signing needs the key itself. Never logged.
    signing_key             TEXT NOT NULL,
    previous_signing_key    TEXT,
    previous_key_expires_at BIGINT,
    created_at              BIGINT NOT NULL,
    updated_at              BIGINT NOT NULL,
    -- Since when every attempt has failed (NULL after a success).
    failing_since           BIGINT
);
CREATE INDEX hooks_created_at ON hooks (created_at);

CREATE TABLE events (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    payload    TEXT NOT NULL, -- the producer's fields, byte for byte
    created_at BIGINT NOT NULL
);
CREATE INDEX events_created_at ON events (created_at);

CREATE TABLE deliveries (
    id               TEXT PRIMARY KEY, -- also the `webhook-id` header
    event_id         TEXT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    hook_id          TEXT NOT NULL REFERENCES hooks (id) ON DELETE CASCADE,
    state            TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
    attempt_count    BIGINT NOT NULL DEFAULT 0,
    next_attempt_at  BIGINT,
    next_trigger     TEXT NOT NULL DEFAULT 'auto',
    -- A worker's claim, by any instance: while `lease_expires_at` is in the
    -- future no other worker may attempt this delivery.
    lease_token      TEXT,
    lease_expires_at BIGINT,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);
CREATE INDEX deliveries_event_id ON deliveries (event_id);
CREATE INDEX deliveries_due ON deliveries (hook_id, next_attempt_at)
    WHERE next_attempt_at IS NOT NULL;
CREATE INDEX deliveries_leased ON deliveries (hook_id, lease_expires_at)
    WHERE lease_expires_at IS NOT NULL;
CREATE INDEX deliveries_next_attempt_at ON deliveries (next_attempt_at)
    WHERE next_attempt_at IS NOT NULL;
CREATE INDEX deliveries_pending ON deliveries (created_at) WHERE state = 'pending';
CREATE INDEX deliveries_hook_state ON deliveries (hook_id, state, created_at);

CREATE TABLE attempts (
    id                      TEXT PRIMARY KEY,
    delivery_id             TEXT NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
    hook_id                 TEXT NOT NULL,
    event                   TEXT NOT NULL,
    number                  BIGINT NOT NULL,
    trigger                 TEXT NOT NULL CHECK (trigger IN ('auto', 'retry', 'manual', 'test')),
    url                     TEXT NOT NULL,
    request_headers         TEXT NOT NULL, -- JSON array of [name, value]
    request_body            TEXT NOT NULL,
    response_status         BIGINT,
    response_headers        TEXT,          -- JSON array of [name, value]
    response_body           TEXT,
    response_body_truncated BOOLEAN NOT NULL DEFAULT FALSE,
    error                   TEXT,
    success                 BOOLEAN NOT NULL,
    started_at              BIGINT NOT NULL,
    duration_ms             BIGINT NOT NULL
);
CREATE INDEX attempts_delivery ON attempts (delivery_id, number);
CREATE INDEX attempts_hook_started ON attempts (hook_id, started_at);
CREATE INDEX attempts_hook_success ON attempts (hook_id, success, started_at);
CREATE INDEX attempts_hook_status ON attempts (hook_id, response_status, started_at);
CREATE INDEX attempts_hook_event ON attempts (hook_id, event, started_at);
CREATE INDEX attempts_hook_event_success ON attempts (hook_id, event, success, started_at);

CREATE TABLE idempotency_keys (
    scope        TEXT NOT NULL,
    key          TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    event_id     TEXT NOT NULL,
    deliveries   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_keys_expires_at ON idempotency_keys (expires_at);

CREATE TABLE attempt_minutes (
    hook_id   TEXT NOT NULL,
    minute    BIGINT NOT NULL, -- unix ms of the minute's start
    requests  BIGINT NOT NULL,
    successes BIGINT NOT NULL,
    PRIMARY KEY (hook_id, minute)
);

CREATE TABLE event_types (
    name        TEXT PRIMARY KEY,
    description TEXT NOT NULL,
    schema      TEXT, -- JSON Schema, when given
    created_at  BIGINT NOT NULL
);

CREATE TABLE settings (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
