-- Lag you can see: incidents of kind 'lagging' (a hook's oldest waiting
-- delivery older than the alert settings' lagMinutes).
ALTER TABLE incidents DROP CONSTRAINT incidents_kind_check;
ALTER TABLE incidents ADD CONSTRAINT incidents_kind_check
    CHECK (kind IN ('failing', 'disabled', 'exhausted', 'lagging'));

-- The alerts hook, if alerts are on, listens to the new event too (a save of
-- the settings writes the whole list from then on).
UPDATE hooks
SET events = '["hook.failing","hook.disabled","hook.lagging","hook.recovered","delivery.exhausted"]'
WHERE id = (SELECT CAST(value AS json) ->> 'hookId' FROM settings WHERE key = 'alerts');

-- No index is added: a hook's oldest waiting delivery is the first entry of
-- its ('pending') range of deliveries_hook_state (hook_id, state,
-- created_at, seq), and its recent first attempts are read newest first
-- from attempts_hook_started (hook_id, started_at).
