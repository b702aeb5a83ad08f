-- The campaign engine: who was left out at start, one engine at a time, and the indexes
-- the sender's queries use.

-- Subscribers of the list left out when the outbox was made, by reason: {"no consent": 12, …}.
ALTER TABLE campaigns ADD COLUMN left_out TEXT NOT NULL DEFAULT '{}';

-- The engine that may send (one per database at a time), renewed by its heartbeat; another
-- engine stands by until the lease runs out.
CREATE TABLE engine_lease (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    holder  TEXT NOT NULL,
    until   TEXT NOT NULL
);

CREATE INDEX outbox_sent_at ON outbox(sent_at) WHERE sent_at IS NOT NULL;
CREATE INDEX outbox_sending ON outbox(lease_until) WHERE state = 'sending';
CREATE INDEX outbox_identity ON outbox(identity_id, state);

-- The claim a `sending` row belongs to: the sender reads back the rows it claimed by it.
ALTER TABLE outbox ADD COLUMN claim TEXT;
CREATE INDEX outbox_claim_token ON outbox(claim) WHERE claim IS NOT NULL;
