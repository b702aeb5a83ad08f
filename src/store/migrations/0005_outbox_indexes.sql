-- The index on (account_id, state, next_attempt_at) served no query of the sender: the
-- claim goes by campaign, and the per-account counts go by time (`outbox_sent_at`). Without
-- statistics the planner picked it for those counts and read every row of the account; and
-- every state change of every row paid to keep it.
DROP INDEX outbox_claim;
