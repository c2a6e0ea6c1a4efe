-- A hook's payload filter (README, "Payload filters"): the filter's JSON as
-- text, or NULL for none. Checked by the server when saved.
ALTER TABLE hooks ADD COLUMN filter TEXT;
