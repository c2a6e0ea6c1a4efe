-- Which dispatcher holds a lease (one owner per process), so a claim can tell
-- the deliveries it has queued itself from other instances' attempts in
-- flight. Meaningful only while the lease is live.
ALTER TABLE deliveries ADD COLUMN lease_owner TEXT;

-- The claim counts a hook's live leases, and whose they are, from the index.
DROP INDEX deliveries_leased;
CREATE INDEX deliveries_leased ON deliveries (hook_id, lease_expires_at, lease_owner)
    WHERE lease_expires_at IS NOT NULL;
