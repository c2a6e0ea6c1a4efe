-- The claim (PostgreSQL): leases due deliveries to one dispatcher, per hook
-- in turn, and returns each with its event.
--
--   $1  now (unix ms)
--   $2  the lease token
--   $3  the claiming dispatcher (the lease's owner)
--   $4  when the lease runs out (unix ms)
--   $5  at most this many deliveries of a hook not in $7
--   $6  at most this many in all
--   $7  a JSON object: hook id -> [at most this many of that hook (its
--       room in the dispatcher's queue), how many of its deliveries the
--       dispatcher has already]
--
-- A delivery is due when the time of its next attempt has come and nobody
-- holds a live lease on it. Each hook's oldest due deliveries come from that
-- hook's own range of the deliveries_due index (through LATERAL: the planner
-- would otherwise test every delivery against every hook), at most its room,
-- and the hooks take turns for the batch: every hook's oldest, then every
-- hook's second, and so on; within a turn, the hooks the dispatcher has
-- least of first (a hook it knows nothing of has none), then the oldest. So
-- one hook's backlog of 100,000 never shadows another hook's single fresh
-- delivery, nor do a thousand slow hooks' backlogs. Rows another transaction holds
-- (another instance's claim, a recorder settling them) are skipped, not
-- waited for: claims of several instances run side by side, and never lease
-- the same delivery.
--
-- An ordered hook (README, "Ordered delivery") has one delivery that may be
-- attempted: its oldest pending one, by ingestion (created_at, then seq),
-- and only once that one is due and not leased; a later one waits, due or
-- not. Its row is not locked while it is picked: the update looks again at
-- the row as it is then, and leaves it if another claim leased it or its
-- attempt was settled meanwhile.
WITH rooms AS (
    SELECT key AS hook_id, (value ->> 0)::bigint AS room, (value ->> 1)::bigint AS has
    FROM jsonb_each($7::jsonb)
),
due AS (
    SELECT x.id, h.id AS hook_id, x.next_attempt_at, COALESCE(r.has, 0) AS has
    FROM hooks h
    LEFT JOIN rooms r ON r.hook_id = h.id
    CROSS JOIN LATERAL (
        SELECT d.id, d.next_attempt_at
        FROM deliveries d
        WHERE d.hook_id = h.id
          AND d.next_attempt_at <= $1
          AND (d.lease_expires_at IS NULL OR d.lease_expires_at <= $1)
        ORDER BY d.next_attempt_at
        LIMIT COALESCE(r.room, $5)
        FOR UPDATE SKIP LOCKED
    ) x
    WHERE NOT h.ordered
    UNION ALL
    SELECT x.id, h.id AS hook_id, x.next_attempt_at, COALESCE(r.has, 0) AS has
    FROM hooks h
    LEFT JOIN rooms r ON r.hook_id = h.id
    CROSS JOIN LATERAL (
        SELECT d.id, d.next_attempt_at, d.lease_expires_at
        FROM deliveries d
        WHERE d.hook_id = h.id AND d.state = 'pending'
        ORDER BY d.created_at, d.seq
        LIMIT 1
    ) x
    WHERE h.ordered
      AND COALESCE(r.room, $5) > 0
      AND x.next_attempt_at <= $1
      AND (x.lease_expires_at IS NULL OR x.lease_expires_at <= $1)
),
picked AS (
    SELECT id FROM due
    ORDER BY ROW_NUMBER() OVER (PARTITION BY hook_id ORDER BY next_attempt_at), has,
             next_attempt_at
    LIMIT $6
),
claimed AS (
    UPDATE deliveries d
    SET lease_token = $2, lease_owner = $3, lease_expires_at = $4
    FROM picked
    WHERE d.id = picked.id
      AND d.state = 'pending'
      AND d.next_attempt_at <= $1
      AND (d.lease_expires_at IS NULL OR d.lease_expires_at <= $1)
    RETURNING d.id, d.hook_id, d.attempt_count, d.next_trigger, d.next_attempt_at,
              d.lease_expires_at, d.event_id
)
SELECT c.id, c.hook_id, c.attempt_count, c.next_trigger, c.next_attempt_at,
       c.lease_expires_at, c.event_id,
       e.name AS event_name, e.payload, e.created_at AS event_created_at,
       e.trace_parent
FROM claimed c
JOIN events e ON e.id = c.event_id;
