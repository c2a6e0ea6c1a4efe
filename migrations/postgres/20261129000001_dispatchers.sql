-- The dispatchers at work (one per process), each with when it last said it
-- was alive. Live dispatchers split the hooks between them, so that each hook
-- is served by one instance at a time (see the claim in store/deliveries.rs).
CREATE TABLE dispatchers (
    owner TEXT PRIMARY KEY,
    seen_at BIGINT NOT NULL
);
