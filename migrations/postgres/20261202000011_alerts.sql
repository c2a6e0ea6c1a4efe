-- Alerts: incidents (a hook failing, disabled, or letting deliveries run out
-- of retries), each raised once however many instances watch: the unique
-- index admits one open incident per hook and kind.
CREATE TABLE incidents (
    id          TEXT PRIMARY KEY,
    hook_id     TEXT NOT NULL REFERENCES hooks (id) ON DELETE CASCADE,
    kind        TEXT NOT NULL CHECK (kind IN ('failing', 'disabled', 'exhausted')),
    reason      TEXT NOT NULL,
    -- The first delivery that ran out of retries (kind 'exhausted'); kept
    -- after retention forgets the delivery.
    delivery_id TEXT,
    opened_at   BIGINT NOT NULL,
    resolved_at BIGINT
);
CREATE UNIQUE INDEX incidents_open ON incidents (hook_id, kind) WHERE resolved_at IS NULL;
CREATE INDEX incidents_opened_at ON incidents (opened_at);

-- The alerts hook sends Slack's {"text": …} rather than Hookline's body.
ALTER TABLE hooks ADD COLUMN body_format TEXT NOT NULL DEFAULT 'json';

-- Deliveries that ended failed, by when: what the alert watch reads.
CREATE INDEX deliveries_failed_at ON deliveries (updated_at) WHERE state = 'failed';
