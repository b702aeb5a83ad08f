-- The Accounts pane counts each account's opt-out replies since midnight.
CREATE INDEX opt_out_replies_created ON opt_out_replies (created_at);
