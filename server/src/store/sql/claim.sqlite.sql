-- The claim (SQLite): leases due deliveries to one dispatcher, per hook in
-- turn, and returns each with its event.
--
--   $1  now (unix ms)
--   $2  the lease token
--   $3  the claiming dispatcher (the lease's owner)
--   $4  when the lease runs out (unix ms)
--   $5  at most this many deliveries of a hook not in $7
--   $6  at most this many in all
--   $7  a JSON object: hook id -> [at most this many of that hook (its
--       room in the dispatcher's queue; never more than $5), how many of
--       its deliveries the dispatcher has already]
--
-- A delivery is due when the time of its next attempt has come and nobody
-- holds a live lease on it. Each hook's oldest due deliveries come from that
-- hook's own range of the deliveries_due index, at most its room, and the
-- hooks take turns for the batch: every hook's oldest, then every hook's
-- second, and so on; within a turn, the hooks the dispatcher has least of
-- first (a hook it knows nothing of has none), then the oldest. So one
-- hook's backlog of 100,000 never shadows another hook's single fresh
-- delivery, nor do a thousand slow hooks' backlogs. SQLite runs the statement as one write
-- transaction: two claims never lease the same delivery.
--
-- An ordered hook (README, "Ordered delivery") has one delivery that may be
-- attempted: its oldest pending one, by ingestion (created_at, then rowid,
-- in the order of the deliveries_hook_state index), and only once that one
-- is due and not leased; a later one waits, due or not.
WITH rooms AS (
    SELECT key AS hook_id, json_extract(value, '$[0]') AS room, json_extract(value, '$[1]') AS has
    FROM json_each($7)
),
due AS (
    SELECT d.id, d.hook_id, d.next_attempt_at
    FROM hooks h
    JOIN deliveries d ON d.id IN (
        SELECT x.id
        FROM deliveries x
        WHERE x.hook_id = h.id
          AND x.next_attempt_at <= $1
          AND (x.lease_expires_at IS NULL OR x.lease_expires_at <= $1)
        ORDER BY x.next_attempt_at
        LIMIT $5
    )
    WHERE NOT h.ordered
    UNION ALL
    SELECT d.id, d.hook_id, d.next_attempt_at
    FROM hooks h
    JOIN deliveries d ON d.id = (
        SELECT x.id
        FROM deliveries x
        WHERE x.hook_id = h.id AND x.state = 'pending'
        ORDER BY x.created_at, x.rowid
        LIMIT 1
    )
    WHERE h.ordered
      AND d.next_attempt_at <= $1
      AND (d.lease_expires_at IS NULL OR d.lease_expires_at <= $1)
),
turns AS (
    SELECT due.id, due.next_attempt_at, r.room, COALESCE(r.has, 0) AS has,
           ROW_NUMBER() OVER (PARTITION BY due.hook_id ORDER BY due.next_attempt_at) AS turn
    FROM due
    LEFT JOIN rooms r ON r.hook_id = due.hook_id
),
picked AS (
    SELECT id FROM turns
    WHERE turn <= COALESCE(room, $5)
    ORDER BY turn, has, next_attempt_at
    LIMIT $6
)
UPDATE deliveries
SET lease_token = $2, lease_owner = $3, lease_expires_at = $4
WHERE id IN (SELECT id FROM picked)
RETURNING
    id,
    hook_id,
    attempt_count,
    next_trigger,
    next_attempt_at,
    lease_expires_at,
    event_id,
    (SELECT name FROM events WHERE events.id = deliveries.event_id) AS event_name,
    (SELECT payload FROM events WHERE events.id = deliveries.event_id) AS payload,
    (SELECT created_at FROM events WHERE events.id = deliveries.event_id) AS event_created_at,
    (SELECT trace_parent FROM events WHERE events.id = deliveries.event_id) AS trace_parent;
