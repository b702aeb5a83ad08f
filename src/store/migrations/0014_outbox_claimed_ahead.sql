-- A batch is claimed while the one before it is still being sent, so that sending never waits
-- for the database. Its rows are `sending`, but none of their requests has gone out until the
-- engine marks the batch started, just before it sends it (`claimed_ahead` back to 0). After a
-- crash, rows still claimed ahead when their lease runs out go back to the queue: they were
-- never sent. Rows already `sending` before this column existed count as started (0), so
-- they turn `unknown` as before. Adding a column with a constant default rewrites no row.
ALTER TABLE outbox ADD COLUMN claimed_ahead INTEGER NOT NULL DEFAULT 0;
