-- Every message changes its outbox row's state twice (queued → sending → sent), and each
-- change rewrote every index that names `state`. Three of them served one query each that
-- does as well without them:
-- * `outbox_sending` (lease_until of `sending` rows): expired leases are found through
--   `outbox_campaign_state`, one campaign at a time;
-- * `outbox_claim_token` and the `claim` column: the sender reads back the rows it claimed
--   by their ids (`UPDATE … RETURNING`);
-- * `outbox_identity` on (identity_id, state): an address has one row per campaign, so the
--   identity alone finds its queued rows.
DROP INDEX outbox_sending;
DROP INDEX outbox_claim_token;
ALTER TABLE outbox DROP COLUMN claim;
DROP INDEX outbox_identity;
CREATE INDEX outbox_identity ON outbox(identity_id);
