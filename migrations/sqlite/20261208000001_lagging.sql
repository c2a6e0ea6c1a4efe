-- Lag you can see: incidents of kind 'lagging' (a hook's oldest waiting
-- delivery older than the alert settings' lagMinutes). SQLite cannot change
-- a CHECK in place, so the (small) table is rebuilt with its indexes;
-- nothing references it.
CREATE TABLE incidents_new (
    id          TEXT PRIMARY KEY,
    hook_id     TEXT NOT NULL REFERENCES hooks (id) ON DELETE CASCADE,
    kind        TEXT NOT NULL CHECK (kind IN ('failing', 'disabled', 'exhausted', 'lagging')),
    reason      TEXT NOT NULL,
    -- The first delivery that ran out of retries (kind 'exhausted'); kept
    -- after retention forgets the delivery.
    delivery_id TEXT,
    opened_at   INTEGER NOT NULL,
    resolved_at INTEGER
);
INSERT INTO incidents_new (id, hook_id, kind, reason, delivery_id, opened_at, resolved_at)
    SELECT id, hook_id, kind, reason, delivery_id, opened_at, resolved_at FROM incidents;
DROP TABLE incidents;
ALTER TABLE incidents_new RENAME TO incidents;
CREATE UNIQUE INDEX incidents_open ON incidents (hook_id, kind) WHERE resolved_at IS NULL;
CREATE INDEX incidents_opened_at ON incidents (opened_at);

-- The alerts hook, if alerts are on, listens to the new event too (a save of
-- the settings writes the whole list from then on).
UPDATE hooks
SET events = '["hook.failing","hook.disabled","hook.lagging","hook.recovered","delivery.exhausted"]'
WHERE id = (SELECT json_extract(value, '$.hookId') FROM settings WHERE key = 'alerts');

-- No index is added: a hook's oldest waiting delivery is the first entry of
-- its ('pending') range of deliveries_hook_state (hook_id, state,
-- created_at, seq), and its recent first attempts are read newest first
-- from attempts_hook_started (hook_id, started_at).
