-- Counterparty checks: who asked, whether registry sources were asked (what the tariff's
-- lookups a day count), the registry answers kept for their time to live, and the State
-- Revenue Committee's risk lists imported from their XLSX files.
ALTER TABLE lookups ADD COLUMN checked_by TEXT NOT NULL DEFAULT '';
ALTER TABLE lookups ADD COLUMN online INTEGER NOT NULL DEFAULT 0 CHECK (online IN (0, 1));
CREATE INDEX lookups_checked_at ON lookups (checked_at);
CREATE INDEX lookups_normalized ON lookups (normalized);

-- One answer of one source about one number: `status` as the check reports it (only
-- answers worth keeping are kept: ok and not_found), `body` the source's data as JSON.
CREATE TABLE registry_cache (
    source      TEXT NOT NULL,
    number      TEXT NOT NULL,
    status      TEXT NOT NULL,
    body        TEXT NOT NULL DEFAULT 'null',
    fetched_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    PRIMARY KEY (source, number)
) WITHOUT ROWID;

-- One imported risk-list file: the list it is, where it came from, how many rows it gave.
CREATE TABLE risk_imports (
    id           INTEGER PRIMARY KEY,
    list         TEXT NOT NULL,
    file         TEXT NOT NULL,
    sha256       TEXT NOT NULL,
    rows         INTEGER NOT NULL,
    skipped      INTEGER NOT NULL,
    -- The date the file says its data is as of ("по состоянию на …"), when it says one.
    as_of        TEXT,
    imported_at  TEXT NOT NULL,
    imported_by  TEXT NOT NULL
);

-- The current entries of every list: a list's import replaces its entries whole.
CREATE TABLE risk_entries (
    list        TEXT NOT NULL,
    bin         TEXT NOT NULL,
    name        TEXT,
    decision    TEXT NOT NULL DEFAULT '',
    decided_on  TEXT,
    import_id   INTEGER NOT NULL REFERENCES risk_imports (id),
    PRIMARY KEY (bin, list, decision)
) WITHOUT ROWID;
