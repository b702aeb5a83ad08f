-- The vendor's licence server: tariffs, licences (one key each), the machines bound to them,
-- and an audit table of every state change (issues, activations, deactivations, status,
-- auto-renewal, paid period), which also counts seat moves.

CREATE TABLE tariffs (
    code             TEXT PRIMARY KEY,
    name             TEXT NOT NULL,
    accounts         INTEGER,
    messages_per_day INTEGER,
    lookups_per_day  INTEGER,
    machines         INTEGER NOT NULL CHECK (machines >= 1),
    period_days      INTEGER NOT NULL CHECK (period_days >= 1),
    -- Price of one period in tenge (the payment gateway charges it at renewal).
    price            INTEGER NOT NULL DEFAULT 0 CHECK (price >= 0)
);

CREATE TABLE licenses (
    id          TEXT PRIMARY KEY,
    key         TEXT NOT NULL UNIQUE,
    tariff      TEXT NOT NULL REFERENCES tariffs(code),
    email       TEXT NOT NULL,
    status      TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended', 'blocked')),
    status_reason TEXT,
    -- The paid period and auto-renewal are first-class: renewal charges 24 hours before
    -- paid_until when auto_renew is on, and moves paid_until by the tariff's period.
    paid_until  TEXT NOT NULL,
    auto_renew  INTEGER NOT NULL DEFAULT 1,
    created_at  TEXT NOT NULL
);

CREATE TABLE machines (
    id              INTEGER PRIMARY KEY,
    license_id      TEXT NOT NULL REFERENCES licenses(id),
    fingerprint     TEXT NOT NULL,
    hostname        TEXT NOT NULL,
    address         TEXT,
    activated_at    TEXT NOT NULL,
    last_seen       TEXT NOT NULL,
    deactivated_at  TEXT
);
CREATE UNIQUE INDEX machines_active ON machines(license_id, fingerprint) WHERE deactivated_at IS NULL;

CREATE TABLE audit (
    id          INTEGER PRIMARY KEY,
    license_id  TEXT,
    kind        TEXT NOT NULL,
    detail      TEXT NOT NULL DEFAULT '',
    at          TEXT NOT NULL
);
CREATE INDEX audit_license ON audit(license_id, kind, at);
