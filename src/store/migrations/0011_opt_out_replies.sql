-- The one reply an opt-out keyword gets ("you are unsubscribed"), queued in the transaction
-- that applies the opt-out, so that it is sent once whatever happens to the process, and
-- sent by the engine that holds the lease, from the account the keyword was written to.
CREATE TABLE opt_out_replies (
    id INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    channel TEXT NOT NULL,
    address TEXT NOT NULL,
    created_at TEXT NOT NULL,
    -- Not sent before this time: the platform asked to wait (WhatsApp's pair rate limit
    -- when the campaign's message went to the same person a moment earlier).
    due_at TEXT NOT NULL,
    sent_at TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    error TEXT
);
CREATE INDEX opt_out_replies_pending ON opt_out_replies (id) WHERE sent_at IS NULL AND attempts < 3;
