-- Console users, their sessions, API keys and hooks.
-- Times are unix milliseconds.

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('admin', 'viewer')),
    created_at    INTEGER NOT NULL
);

-- Only a hash of the session token is kept; the cookie holds the token.
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX sessions_user_id ON sessions (user_id);

CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    prefix       TEXT NOT NULL,
    key_hash     TEXT NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at   INTEGER
);

CREATE TABLE hooks (
    id                      TEXT PRIMARY KEY,
    name                    TEXT NOT NULL,
    events                  TEXT NOT NULL, -- JSON array of event names
    url                     TEXT NOT NULL,
    headers                 TEXT NOT NULL, -- JSON object, in the order given
    enabled                 INTEGER NOT NULL,
    disabled_reason         TEXT,
    -- Kept in clear: HMAC signing needs the key itself. Never logged.
    signing_key             TEXT NOT NULL,
    previous_signing_key    TEXT,
    previous_key_expires_at INTEGER,
    created_at              INTEGER NOT NULL,
    updated_at              INTEGER NOT NULL
);
CREATE INDEX hooks_created_at ON hooks (created_at);
