-- Sources: systems whose own webhooks Hookline takes in as events (a Logto
-- webhook posting to /api/sources/:id/events). The signing key is the
-- caller's, needed as it is to check each request's HMAC.
CREATE TABLE sources (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    signing_key TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
