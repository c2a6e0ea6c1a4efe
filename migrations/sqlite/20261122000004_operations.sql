-- Settings changed in the console (retention), and the index retention walks.

CREATE TABLE settings (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);

-- Idempotency records are forgotten once expired.
CREATE INDEX idempotency_keys_expires_at ON idempotency_keys (expires_at);
