-- Inbound webhooks: what was already processed (platforms retry and repeat), and delivery
-- statuses kept for the sender to apply to its outbox rows (forward only).
CREATE TABLE webhook_seen (
    source   TEXT NOT NULL,
    key      TEXT NOT NULL,
    seen_at  TEXT NOT NULL,
    PRIMARY KEY (source, key)
);

CREATE TABLE delivery_statuses (
    id           INTEGER PRIMARY KEY,
    channel      TEXT NOT NULL CHECK (channel IN ('whatsapp', 'telegram', 'instagram')),
    provider_id  TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('sent', 'delivered', 'read', 'failed')),
    error_code   INTEGER,
    at           TEXT NOT NULL,
    applied      INTEGER NOT NULL DEFAULT 0 CHECK (applied IN (0, 1)),
    UNIQUE (channel, provider_id, status)
);
CREATE INDEX delivery_statuses_pending ON delivery_statuses(applied) WHERE applied = 0;
