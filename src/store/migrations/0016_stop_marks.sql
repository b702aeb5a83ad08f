-- A batch claimed ahead is checked again just before it goes: an address suppressed, a
-- consent withdrawn or a subscriber taken off the list since the claim stops its row. Most
-- batches find nothing changed, yet the check read every row's suppression, consent and
-- membership again. `stop_marks.seq` counts the changes that can stop a claimed row and that
-- the consents' highest id does not show: a suppression added, a membership ended, an
-- identity's address changed, a consent event deleted (only by a subscriber's deletion).
-- A new consent event, the common change, raises the consents' highest id instead (ids only
-- grow while none is deleted, and a deletion counts here), so an import adds no trigger work
-- per row. The engine reads both at the claim and again before the batch goes, and checks
-- the rows again only when either moved.
CREATE TABLE stop_marks (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL
);
INSERT INTO stop_marks (id, seq) VALUES (1, 0);

CREATE TRIGGER suppressions_stop_mark AFTER INSERT ON suppressions
BEGIN
    UPDATE stop_marks SET seq = seq + 1 WHERE id = 1;
END;

CREATE TRIGGER list_members_stop_mark AFTER DELETE ON list_members
BEGIN
    UPDATE stop_marks SET seq = seq + 1 WHERE id = 1;
END;

CREATE TRIGGER identities_stop_mark AFTER UPDATE OF channel, address ON identities
BEGIN
    UPDATE stop_marks SET seq = seq + 1 WHERE id = 1;
END;

CREATE TRIGGER consents_stop_mark AFTER DELETE ON consents
BEGIN
    UPDATE stop_marks SET seq = seq + 1 WHERE id = 1;
END;
