-- A batch claimed ahead is started by one row here instead of a write to each of its rows
-- (2 000 rows rewritten just before the batch went, with no request in flight). The claim
-- adds its row, not started, with the lease its rows got; the engine starts it, with a lease
-- counted from then, in the synced transaction just before the first request goes out. After
-- a crash, rows still `sending` whose claim was never started go back to the queue when their
-- lease runs out, and the claim's row goes with them, so the engine that claimed them cannot
-- start them later; rows of a started claim turn `unknown` once the claim's lease runs out.
-- Rows claimed ahead before this table existed have no row here: they count as not started,
-- as they were (a started batch's rows had their token cleared). Rows claimed to go at once
-- keep token 0 and their own lease, as before.
CREATE TABLE outbox_claims (
    token       INTEGER PRIMARY KEY,
    started     INTEGER NOT NULL DEFAULT 0 CHECK (started IN (0, 1)),
    lease_until TEXT NOT NULL
);
