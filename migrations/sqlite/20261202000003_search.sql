-- Search (README, "Search"): an event is found by its id, a delivery's id,
-- the Idempotency-Key it came with, or words of its payload.

-- The key an event was ingested with, kept as long as the event (the
-- idempotency record itself is forgotten after 24 hours). Only keyed events
-- enter the index.
ALTER TABLE events ADD COLUMN idempotency_key TEXT;
CREATE INDEX events_idempotency_key ON events (idempotency_key)
    WHERE idempotency_key IS NOT NULL;
UPDATE events SET idempotency_key =
    (SELECT k.key FROM idempotency_keys k WHERE k.event_id = events.id LIMIT 1)
WHERE id IN (SELECT event_id FROM idempotency_keys);

-- Payload words: an FTS5 index over events.payload, keyed by the event's
-- rowid. Contentless, so the payload is not stored a second time; with
-- contentless_delete, a row leaves the index by its rowid alone, without
-- tokenizing the payload again. unicode61 splits on every character that
-- is not a letter or digit and folds case, so `alice@example.com` is the
-- words alice, example, com: the search asks for them as one phrase.
-- The rowid is SQLite's implicit one: a VACUUM may renumber it, after which
-- the index must be rebuilt (README, "Search").
CREATE VIRTUAL TABLE events_fts USING fts5(
    payload, content = '', contentless_delete = 1, tokenize = 'unicode61'
);
INSERT INTO events_fts (rowid, payload) SELECT rowid, payload FROM events;

-- Kept in step by triggers, so every write of events (ingestion's group
-- commit, test sends, retention's deletes) updates the index in its own
-- transaction.
CREATE TRIGGER events_fts_insert AFTER INSERT ON events BEGIN
    INSERT INTO events_fts (rowid, payload) VALUES (new.rowid, new.payload);
END;
CREATE TRIGGER events_fts_delete AFTER DELETE ON events BEGIN
    DELETE FROM events_fts WHERE rowid = old.rowid;
END;
-- Payloads are never changed today; should one be, the index follows.
CREATE TRIGGER events_fts_update AFTER UPDATE OF payload ON events BEGIN
    DELETE FROM events_fts WHERE rowid = old.rowid;
    INSERT INTO events_fts (rowid, payload) VALUES (new.rowid, new.payload);
END;
