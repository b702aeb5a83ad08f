-- CleverPlatform console: initial schema (ARCHITECTURE.md §4).
-- Landed migrations are never edited; later changes come as new files.
-- Times are stored as RFC 3339 UTC text.

CREATE TABLE settings (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE accounts (
    id              INTEGER PRIMARY KEY,
    channel         TEXT NOT NULL CHECK (channel IN ('whatsapp', 'telegram', 'instagram')),
    name            TEXT NOT NULL UNIQUE,
    -- JSON object of channel fields (phone_number_id, waba_id, ig_user_id, bot username...).
    settings        TEXT NOT NULL DEFAULT '{}',
    -- Access token or bot token. Never logged, never printed, masked on screen.
    secret          TEXT NOT NULL DEFAULT '',
    -- NULL means the channel's real host; set for the sandbox or a proxy.
    base_url        TEXT,
    api_version     TEXT,
    sandbox         INTEGER NOT NULL DEFAULT 0 CHECK (sandbox IN (0, 1)),
    -- NULL means the channel's default rate.
    rate_per_sec    REAL CHECK (rate_per_sec IS NULL OR rate_per_sec > 0),
    -- WhatsApp: business-initiated unique recipients per moving 24 h.
    wa_daily_tier   INTEGER,
    status          TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'paused')),
    status_reason   TEXT,
    health          TEXT,
    health_checked_at TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);

CREATE TABLE subscribers (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL DEFAULT '',
    locale      TEXT,
    time_zone   TEXT,
    attributes  TEXT NOT NULL DEFAULT '{}',
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

CREATE TABLE identities (
    id            INTEGER PRIMARY KEY,
    subscriber_id INTEGER NOT NULL REFERENCES subscribers(id) ON DELETE CASCADE,
    channel       TEXT NOT NULL CHECK (channel IN ('whatsapp', 'telegram', 'instagram')),
    -- E.164 for WhatsApp, chat id for Telegram, IGSID for Instagram.
    address       TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    UNIQUE (channel, address)
);
CREATE INDEX identities_subscriber ON identities(subscriber_id);

-- Append-only: the current consent is the latest event per (subscriber, channel, scope).
CREATE TABLE consents (
    id            INTEGER PRIMARY KEY,
    subscriber_id INTEGER NOT NULL REFERENCES subscribers(id) ON DELETE CASCADE,
    channel       TEXT NOT NULL CHECK (channel IN ('whatsapp', 'telegram', 'instagram')),
    scope         TEXT NOT NULL CHECK (scope IN ('marketing', 'service')),
    status        TEXT NOT NULL CHECK (status IN ('granted', 'withdrawn')),
    source        TEXT NOT NULL,
    proof         TEXT NOT NULL DEFAULT '',
    at            TEXT NOT NULL,
    recorded_by   TEXT NOT NULL
);
CREATE INDEX consents_latest ON consents(subscriber_id, channel, scope, id);
CREATE TRIGGER consents_append_only BEFORE UPDATE ON consents
BEGIN
    SELECT RAISE(ABORT, 'consents are append-only: record a new event instead');
END;

CREATE TABLE suppressions (
    id          INTEGER PRIMARY KEY,
    channel     TEXT NOT NULL CHECK (channel IN ('whatsapp', 'telegram', 'instagram')),
    address     TEXT NOT NULL,
    reason      TEXT NOT NULL,
    note        TEXT NOT NULL DEFAULT '',
    created_at  TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    UNIQUE (channel, address)
);

-- Last inbound message per (account, identity): drives the 24-hour windows.
CREATE TABLE inbound (
    account_id   INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    identity_id  INTEGER NOT NULL REFERENCES identities(id) ON DELETE CASCADE,
    last_at      TEXT NOT NULL,
    PRIMARY KEY (account_id, identity_id)
);

CREATE TABLE lists (
    id                INTEGER PRIMARY KEY,
    name              TEXT NOT NULL UNIQUE,
    description       TEXT NOT NULL DEFAULT '',
    default_time_zone TEXT,
    created_at        TEXT NOT NULL
);

CREATE TABLE list_members (
    list_id       INTEGER NOT NULL REFERENCES lists(id) ON DELETE CASCADE,
    subscriber_id INTEGER NOT NULL REFERENCES subscribers(id) ON DELETE CASCADE,
    added_at      TEXT NOT NULL,
    PRIMARY KEY (list_id, subscriber_id)
);
CREATE INDEX list_members_subscriber ON list_members(subscriber_id);

CREATE TABLE campaigns (
    id                 INTEGER PRIMARY KEY,
    name               TEXT NOT NULL,
    list_id            INTEGER NOT NULL REFERENCES lists(id) ON DELETE RESTRICT,
    account_id         INTEGER NOT NULL REFERENCES accounts(id) ON DELETE RESTRICT,
    scope              TEXT NOT NULL DEFAULT 'marketing' CHECK (scope IN ('marketing', 'service')),
    message_text       TEXT,
    wa_template_name   TEXT,
    wa_template_lang   TEXT,
    -- JSON array of parameter bindings.
    wa_template_params TEXT NOT NULL DEFAULT '[]',
    schedule_at        TEXT,
    -- Send window in the recipient's time zone, "HH:MM".
    quiet_start        TEXT,
    quiet_end          TEXT,
    status             TEXT NOT NULL DEFAULT 'draft'
                       CHECK (status IN ('draft', 'scheduled', 'running', 'paused', 'completed', 'cancelled')),
    status_reason      TEXT,
    created_at         TEXT NOT NULL,
    started_at         TEXT,
    finished_at        TEXT,
    updated_at         TEXT NOT NULL,
    CHECK (message_text IS NOT NULL OR wa_template_name IS NOT NULL)
);
CREATE INDEX campaigns_status ON campaigns(status);

-- One row per (campaign, subscriber): the durable record of every send.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    campaign_id     INTEGER NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
    subscriber_id   INTEGER NOT NULL REFERENCES subscribers(id) ON DELETE CASCADE,
    identity_id     INTEGER NOT NULL REFERENCES identities(id) ON DELETE CASCADE,
    account_id      INTEGER NOT NULL REFERENCES accounts(id) ON DELETE RESTRICT,
    state           TEXT NOT NULL DEFAULT 'queued'
                    CHECK (state IN ('queued', 'sending', 'sent', 'delivered', 'read', 'failed', 'skipped', 'unknown')),
    fail_class      TEXT,
    fail_code       TEXT,
    skip_reason     TEXT,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT,
    lease_until     TEXT,
    provider_id     TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    sent_at         TEXT,
    delivered_at    TEXT,
    read_at         TEXT,
    UNIQUE (campaign_id, subscriber_id)
);
CREATE INDEX outbox_claim ON outbox(account_id, state, next_attempt_at);
CREATE INDEX outbox_campaign_state ON outbox(campaign_id, state);
CREATE INDEX outbox_provider ON outbox(provider_id) WHERE provider_id IS NOT NULL;

CREATE TABLE audit_log (
    id            INTEGER PRIMARY KEY,
    at            TEXT NOT NULL,
    actor         TEXT NOT NULL,
    action        TEXT NOT NULL,
    subject_kind  TEXT NOT NULL,
    subject_id    TEXT,
    detail        TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_subject ON audit_log(subject_kind, subject_id);

-- Counterparty checks the operator ran, newest last.
CREATE TABLE lookups (
    id          INTEGER PRIMARY KEY,
    input       TEXT NOT NULL,
    normalized  TEXT NOT NULL,
    kind        TEXT NOT NULL,
    valid       INTEGER NOT NULL CHECK (valid IN (0, 1)),
    summary     TEXT NOT NULL DEFAULT '',
    -- JSON document of the full result.
    detail      TEXT NOT NULL DEFAULT '{}',
    checked_at  TEXT NOT NULL
);
