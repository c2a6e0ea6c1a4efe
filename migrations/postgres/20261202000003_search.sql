-- Search (README, "Search"): an event is found by its id, a delivery's id,
-- the Idempotency-Key it came with, or words of its payload.

-- The key an event was ingested with, kept as long as the event (the
-- idempotency record itself is forgotten after 24 hours). Only keyed events
-- enter the index.
ALTER TABLE events ADD COLUMN idempotency_key TEXT;
CREATE INDEX events_idempotency_key ON events (idempotency_key)
    WHERE idempotency_key IS NOT NULL;
UPDATE events e SET idempotency_key = k.key
FROM idempotency_keys k WHERE k.event_id = e.id;

-- Payload words: a generated tsvector and a GIN index over it, written with
-- the row, so ingestion and retention keep it in step in their own
-- transactions. The payload's text is parsed as it is (not cast to jsonb,
-- which refuses some JSON a producer may send, such as "\u0000"); the
-- `simple` configuration keeps words as written (lower-cased, no stemming
-- or stop words), and its parser keeps an email address whole and splits
-- `ORD-2024-00123` into its parts, which the search asks for as one phrase.
ALTER TABLE events ADD COLUMN payload_search tsvector
    GENERATED ALWAYS AS (to_tsvector('simple', payload)) STORED;
CREATE INDEX events_payload_search ON events USING GIN (payload_search);
