-- A batch is claimed while the one before it is still being sent, so that sending never waits
-- for the database. Its rows are `sending`, but none of their requests has gone out until the
-- engine marks the batch started, just before it sends it. `ahead_claim` holds the claim's
-- token (never 0) until then, and 0 once started (or when the batch went out at once). After
-- a crash, rows still claimed ahead when their lease runs out go back to the queue: they were
-- never sent. The token makes the start mark the claim's own: an engine that stalled past the
-- lease cannot start rows that went back to the queue and were claimed again by another.
-- Rows already `sending` before this column existed count as started (0), so they turn
-- `unknown` as before. Adding a column with a constant default rewrites no row.
ALTER TABLE outbox ADD COLUMN ahead_claim INTEGER NOT NULL DEFAULT 0;
