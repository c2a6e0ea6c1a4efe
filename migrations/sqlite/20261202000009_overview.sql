-- The overview (the console's home page, GET /api/overview).
-- Every hook's attempts together, per minute and writer, counted in the same
-- transactions as the per-hook figures: the overview's figures and chart read
-- 1,440 rows a day per writer, however many hooks there are (summing the
-- per-hook rows instead read a million rows a day with 1,000 busy hooks).
CREATE TABLE attempt_totals (
    minute INTEGER NOT NULL,
    writer TEXT NOT NULL,
    requests INTEGER NOT NULL,
    successes INTEGER NOT NULL,
    PRIMARY KEY (minute, writer)
);
INSERT INTO attempt_totals (minute, writer, requests, successes)
    SELECT minute, writer, SUM(requests), SUM(successes) FROM attempt_minutes
    GROUP BY minute, writer;
-- The last day's figures of every hook (the hooks list) by minute: without
-- this index they read the whole per-minute table, whose key starts with the
-- hook; new rows are one per hook and minute, so writes barely notice it.
CREATE INDEX attempt_minutes_minute ON attempt_minutes (minute);
-- What each dispatcher was sending at its last beat, so the overview can add
-- up the attempts in flight over every instance without asking each one.
ALTER TABLE dispatchers ADD COLUMN sending INTEGER NOT NULL DEFAULT 0;
