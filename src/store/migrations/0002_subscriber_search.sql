-- Subscriber search without full scans: names through an FTS5 index (unicode61 folds case
-- in every script, so "айгерим" finds "Айгерим"); addresses use the identities index.
CREATE VIRTUAL TABLE subscribers_fts USING fts5(
    name,
    content = 'subscribers',
    content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
);
INSERT INTO subscribers_fts (subscribers_fts) VALUES ('rebuild');

CREATE TRIGGER subscribers_fts_insert AFTER INSERT ON subscribers
BEGIN
    INSERT INTO subscribers_fts (rowid, name) VALUES (new.id, new.name);
END;
CREATE TRIGGER subscribers_fts_delete AFTER DELETE ON subscribers
BEGIN
    INSERT INTO subscribers_fts (subscribers_fts, rowid, name) VALUES ('delete', old.id, old.name);
END;
CREATE TRIGGER subscribers_fts_update AFTER UPDATE OF name ON subscribers
BEGIN
    INSERT INTO subscribers_fts (subscribers_fts, rowid, name) VALUES ('delete', old.id, old.name);
    INSERT INTO subscribers_fts (rowid, name) VALUES (new.id, new.name);
END;
