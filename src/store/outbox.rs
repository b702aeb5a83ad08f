//! The send path's writes: making a campaign's outbox at start, claiming rows with a lease,
//! recording what each send came to, moving rows forward on status webhooks, recovering
//! after a crash, and the one-engine-at-a-time lease.
//!
//! Every claim is one `UPDATE … WHERE state = 'queued'` inside SQLite's single writer, so
//! two engines can never claim the same row; a row leaves `sending` only through a recorded
//! result or, when its lease runs out (its engine died), as `unknown`: nothing is sent twice
//! without the operator's say (`requeue-unknown`). The one way back to `queued` without a
//! result is for rows claimed ahead whose batch was never started (`start_claim`): none
//! of their requests went out.

use super::{StoreError, now};
use crate::domain::{AccountId, CampaignId, CampaignStatus, Channel, ConsentScope};
use chrono::{DateTime, Utc};
use sqlx::SqliteConnection;
use std::collections::BTreeMap;

/// Subscribers of the list left out at start, by reason.
pub type LeftOut = BTreeMap<String, i64>;

/// What the outbox of a campaign is made from: its list, account, channel and scope, and
/// whether each address needs an open 24-hour window (and since when it counts).
struct Audience {
    list: i64,
    account: AccountId,
    channel: Channel,
    scope: ConsentScope,
    needs_window: bool,
    window_since: DateTime<Utc>,
}

async fn audience(
    conn: &mut SqliteConnection,
    campaign: CampaignId,
    at: DateTime<Utc>,
) -> Result<Audience, StoreError> {
    let (list, account, channel, scope, template): (
        i64,
        AccountId,
        Channel,
        ConsentScope,
        Option<String>,
    ) = sqlx::query_as(
        "SELECT c.list_id, c.account_id, a.channel, c.scope, c.wa_template_name \
             FROM campaigns c JOIN accounts a ON a.id = c.account_id WHERE c.id = ?",
    )
    .bind(campaign)
    .fetch_one(&mut *conn)
    .await?;
    let needs_window = channel.needs_window(template.is_some());
    Ok(Audience {
        list,
        account,
        channel,
        scope,
        needs_window,
        window_since: at - chrono::Duration::hours(24),
    })
}

/// The list's members not in the campaign's outbox yet: how many the outbox would take now,
/// and the others by reason. The same rule as the outbox's own statement, reason by reason.
async fn count_members(
    conn: &mut SqliteConnection,
    campaign: CampaignId,
    a: &Audience,
) -> Result<(i64, LeftOut), StoreError> {
    // Materialised, each member's look-ups run once; a flattened subquery would repeat them
    // for every sum that names a column (2.8–4 s instead of 7–10 s for a million members).
    let counts: (i64, i64, i64, i64, i64, i64) = sqlx::query_as(
        "WITH t AS MATERIALIZED ( \
           SELECT \
             EXISTS (SELECT 1 FROM identities i WHERE i.subscriber_id = m.subscriber_id AND i.channel = ?2) AS has_id, \
             EXISTS (SELECT 1 FROM identities i WHERE i.subscriber_id = m.subscriber_id AND i.channel = ?2 \
               AND NOT EXISTS (SELECT 1 FROM suppressions p WHERE p.channel = i.channel AND p.address = i.address)) AS free_id, \
             EXISTS (SELECT 1 FROM identities i WHERE i.subscriber_id = m.subscriber_id AND i.channel = ?2 \
               AND NOT EXISTS (SELECT 1 FROM suppressions p WHERE p.channel = i.channel AND p.address = i.address) \
               AND (?4 = 0 OR EXISTS (SELECT 1 FROM inbound w WHERE w.account_id = ?5 AND w.identity_id = i.id AND w.last_at >= ?6))) AS open_id, \
             (SELECT c.status FROM consents c WHERE c.subscriber_id = m.subscriber_id AND c.channel = ?2 \
               AND c.scope = ?3 ORDER BY c.id DESC LIMIT 1) AS consent \
           FROM list_members m WHERE m.list_id = ?1 \
           AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.campaign_id = ?7 AND o.subscriber_id = m.subscriber_id)) \
         SELECT coalesce(sum(has_id = 0), 0), coalesce(sum(has_id = 1 AND free_id = 0), 0), \
         coalesce(sum(free_id = 1 AND open_id = 0), 0), \
         coalesce(sum(open_id = 1 AND consent IS NULL), 0), \
         coalesce(sum(open_id = 1 AND consent = 'withdrawn'), 0), \
         coalesce(sum(open_id = 1 AND consent = 'granted'), 0) FROM t",
    )
    .bind(a.list)
    .bind(a.channel)
    .bind(a.scope)
    .bind(a.needs_window)
    .bind(a.account)
    .bind(a.window_since)
    .bind(campaign)
    .fetch_one(&mut *conn)
    .await?;
    let mut left_out = LeftOut::new();
    for (reason, n) in [
        ("no address on the channel", counts.0),
        ("suppressed", counts.1),
        ("no open 24-hour window", counts.2),
        ("no consent", counts.3),
        ("consent withdrawn", counts.4),
    ] {
        if n > 0 {
            left_out.insert(reason.to_string(), n);
        }
    }
    Ok((counts.5, left_out))
}

/// Whom a draft would reach if it started at `at`: how many rows its outbox would get, and
/// who would be left out by reason. Reads only; every member is looked at (3–4 s for a million
/// on the standard machine).
pub async fn reach(
    conn: &mut SqliteConnection,
    campaign: CampaignId,
    at: DateTime<Utc>,
) -> Result<(i64, LeftOut), StoreError> {
    let a = audience(conn, campaign, at).await?;
    count_members(conn, campaign, &a).await
}

/// Makes the outbox of a campaign from the list's sendable subscribers (the consent gate of
/// `domain::consent`, in SQL: an unsuppressed address on the channel, the latest consent for
/// the scope granted, and, where the channel needs it, an open 24-hour window), inside the
/// caller's transaction. Returns how many rows were made and who was left out, by reason.
pub async fn materialise(
    conn: &mut SqliteConnection,
    campaign: CampaignId,
    at: DateTime<Utc>,
) -> Result<(i64, LeftOut), StoreError> {
    let a = audience(conn, campaign, at).await?;
    // A member's address is looked up once: as a subquery in FROM, SQLite flattened it and
    // ran the look-up twice, for the filter and for the value (4.9 s against 6.6 s for the
    // million members' read in the `sqlite3` shell).
    let made = sqlx::query(
        "INSERT INTO outbox (campaign_id, subscriber_id, identity_id, account_id, state, created_at, updated_at) \
         WITH a AS MATERIALIZED ( \
           SELECT m.subscriber_id AS sid, \
             (SELECT min(i.id) FROM identities i WHERE i.subscriber_id = m.subscriber_id AND i.channel = ?3 \
                AND NOT EXISTS (SELECT 1 FROM suppressions p WHERE p.channel = i.channel AND p.address = i.address) \
                AND (?7 = 0 OR EXISTS (SELECT 1 FROM inbound w WHERE w.account_id = ?4 AND w.identity_id = i.id AND w.last_at >= ?8)) \
             ) AS ident \
           FROM list_members m WHERE m.list_id = ?2) \
         SELECT ?1, sid, ident, ?4, 'queued', ?5, ?5 FROM a \
         WHERE ident IS NOT NULL \
         AND (SELECT c.status FROM consents c WHERE c.subscriber_id = sid AND c.channel = ?3 \
              AND c.scope = ?6 ORDER BY c.id DESC LIMIT 1) = 'granted' \
         ORDER BY sid",
    )
    .bind(campaign)
    .bind(a.list)
    .bind(a.channel)
    .bind(a.account)
    .bind(at)
    .bind(a.scope)
    .bind(a.needs_window)
    .bind(a.window_since)
    .execute(&mut *conn)
    .await?
    .rows_affected() as i64;
    // Only those not queued are looked at again, to say why.
    let (_, left_out) = count_members(conn, campaign, &a).await?;
    sqlx::query("UPDATE campaigns SET left_out = ? WHERE id = ?")
        .bind(serde_json::to_string(&left_out).unwrap_or_default())
        .bind(campaign)
        .execute(&mut *conn)
        .await?;
    Ok((made, left_out))
}

/// Moves a campaign from one of `from` to `to`; `false` when it was in none of them.
pub async fn transition(
    conn: &mut SqliteConnection,
    campaign: CampaignId,
    from: &[CampaignStatus],
    to: CampaignStatus,
    reason: Option<&str>,
) -> Result<bool, StoreError> {
    let status: Option<CampaignStatus> =
        sqlx::query_scalar("SELECT status FROM campaigns WHERE id = ?")
            .bind(campaign)
            .fetch_optional(&mut *conn)
            .await?;
    if !status.is_some_and(|s| from.contains(&s)) {
        return Ok(false);
    }
    let at = now();
    sqlx::query(
        "UPDATE campaigns SET status = ?1, status_reason = ?2, updated_at = ?3, \
         started_at = CASE WHEN ?1 IN ('running', 'scheduled') THEN coalesce(started_at, ?3) ELSE started_at END, \
         finished_at = CASE WHEN ?1 IN ('completed', 'cancelled') THEN ?3 ELSE finished_at END \
         WHERE id = ?4",
    )
    .bind(to)
    .bind(reason)
    .bind(at)
    .bind(campaign)
    .execute(conn)
    .await?;
    Ok(true)
}

/// Cancels a campaign's waiting rows: `skipped (cancelled)`. Rows being sent finish.
pub async fn skip_queued(
    conn: &mut SqliteConnection,
    campaign: CampaignId,
    reason: &str,
) -> Result<u64, StoreError> {
    Ok(sqlx::query(
        "UPDATE outbox SET state = 'skipped', skip_reason = ?1, updated_at = ?2 \
         WHERE campaign_id = ?3 AND state = 'queued'",
    )
    .bind(reason)
    .bind(now())
    .bind(campaign)
    .execute(conn)
    .await?
    .rows_affected())
}

/// Skips every queued campaign row for an address on a channel (an opt-out or a
/// suppression): they are never sent, and lifting the suppression later does not queue
/// them again. Returns how many.
pub async fn skip_queued_for(
    conn: &mut SqliteConnection,
    channel: Channel,
    address: &str,
    reason: &str,
) -> Result<u64, StoreError> {
    Ok(sqlx::query(
        "UPDATE outbox SET state = 'skipped', skip_reason = ?3, updated_at = ?4 \
         WHERE state = 'queued' AND identity_id IN \
         (SELECT id FROM identities WHERE channel = ?1 AND address = ?2)",
    )
    .bind(channel)
    .bind(address)
    .bind(reason)
    .bind(now())
    .execute(conn)
    .await?
    .rows_affected())
}

/// Skips the queued rows to one identity in campaigns of `scope` (its consent for that
/// scope was withdrawn). Returns how many.
pub async fn skip_queued_of_scope(
    conn: &mut SqliteConnection,
    identity: i64,
    scope: ConsentScope,
    reason: &str,
) -> Result<u64, StoreError> {
    Ok(sqlx::query(
        "UPDATE outbox SET state = 'skipped', skip_reason = ?3, updated_at = ?4 \
         WHERE state = 'queued' AND identity_id = ?1 \
         AND campaign_id IN (SELECT id FROM campaigns WHERE scope = ?2)",
    )
    .bind(identity)
    .bind(scope)
    .bind(reason)
    .bind(now())
    .execute(conn)
    .await?
    .rows_affected())
}

/// Puts a campaign's `unknown` rows back in the queue (the operator accepts that some may
/// arrive twice). Returns how many.
pub async fn requeue_unknown(
    conn: &mut SqliteConnection,
    campaign: CampaignId,
) -> Result<u64, StoreError> {
    Ok(sqlx::query(
        "UPDATE outbox SET state = 'queued', next_attempt_at = NULL, fail_class = NULL, \
         fail_code = NULL, updated_at = ?1 WHERE campaign_id = ?2 AND state = 'unknown'",
    )
    .bind(now())
    .bind(campaign)
    .execute(conn)
    .await?
    .rows_affected())
}

/// A running campaign as the sender needs it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RunningCampaign {
    pub id: CampaignId,
    pub account_id: AccountId,
    pub message_text: Option<String>,
    pub wa_template_name: Option<String>,
    pub wa_template_lang: Option<String>,
    pub wa_template_params: String,
    pub quiet_start: Option<String>,
    pub quiet_end: Option<String>,
    pub scope: ConsentScope,
    pub channel: Channel,
}

impl RunningCampaign {
    /// Whether its messages reach only those who wrote in the last 24 hours.
    pub fn needs_window(&self) -> bool {
        self.channel.needs_window(self.wa_template_name.is_some())
    }
}

/// Every running campaign whose account is active.
pub async fn running(conn: &mut SqliteConnection) -> Result<Vec<RunningCampaign>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT c.id, c.account_id, c.message_text, c.wa_template_name, c.wa_template_lang, \
         c.wa_template_params, c.quiet_start, c.quiet_end, c.scope, a.channel \
         FROM campaigns c JOIN accounts a ON a.id = c.account_id \
         WHERE c.status = 'running' AND a.status = 'active' ORDER BY c.id",
    )
    .fetch_all(conn)
    .await?)
}

/// Why a claimed row (`o`, with its identity `i`) must not go now because of its
/// recipient's choice: its address suppressed, or its latest consent on the channel, for
/// the campaign's scope (`$scope`, an SQL expression), not granted. Shared by the claim and
/// the check just before a batch claimed ahead goes, so both apply one rule.
macro_rules! stopped_by_choice {
    ($scope:literal) => {
        concat!("WHEN EXISTS (SELECT 1 FROM suppressions p WHERE p.channel = i.channel AND p.address = i.address) \
              THEN 'suppressed' \
         WHEN coalesce((SELECT c.status FROM consents c WHERE c.subscriber_id = o.subscriber_id \
              AND c.channel = i.channel AND c.scope = ", $scope, " ORDER BY c.id DESC LIMIT 1), '') <> 'granted' \
              THEN 'consent withdrawn' ")
    };
}

/// Which of these claimed rows must not go now, and why: an address
/// suppressed, a consent withdrawn, or the subscriber taken off the campaign's list since
/// the claim. A batch claimed ahead is checked again just before it goes, so an opt-out made
/// meanwhile, by any path, holds at once.
pub async fn stopped_among(
    conn: &mut SqliteConnection,
    ids: &[i64],
) -> Result<Vec<(i64, String)>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(sqlx::query_as(concat!(
        "SELECT id, why FROM (SELECT o.id, CASE ",
        stopped_by_choice!("k.scope"),
        "WHEN NOT EXISTS (SELECT 1 FROM list_members m WHERE m.list_id = k.list_id \
              AND m.subscriber_id = o.subscriber_id) THEN ?2 \
         END AS why FROM json_each(?1) j JOIN outbox o ON o.id = j.value \
         JOIN identities i ON i.id = o.identity_id JOIN campaigns k ON k.id = o.campaign_id) \
         WHERE why IS NOT NULL"
    ))
    .bind(json(&ids)?)
    .bind(super::lists::REMOVED_FROM_LIST)
    .fetch_all(conn)
    .await?)
}

/// What can stop a claimed row, as of one moment: the count of suppressions added,
/// memberships ended, addresses changed and consent events deleted (`stop_marks`, kept by
/// triggers), and the consents' highest id. While both stay the same, no claimed row's
/// suppression, consent or membership changed (migration 0016).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StopMark(i64, i64);

/// The stop mark now, in the caller's transaction.
pub async fn stop_mark(conn: &mut SqliteConnection) -> Result<StopMark, StoreError> {
    let (seq, consent): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT seq FROM stop_marks WHERE id = 1), \
         (SELECT coalesce(max(id), 0) FROM consents)",
    )
    .fetch_one(conn)
    .await?;
    Ok(StopMark(seq, consent))
}

/// A claimed row with what the message needs.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Claimed {
    pub id: i64,
    pub campaign_id: CampaignId,
    pub identity_id: i64,
    pub address: String,
    pub name: String,
    pub locale: Option<String>,
    pub attributes: String,
    pub time_zone: Option<String>,
    pub list_time_zone: Option<String>,
    pub attempts: i64,
    /// The address was suppressed or consent withdrawn after the outbox was made, or the
    /// 24-hour window the campaign needs has closed.
    pub stopped: Option<String>,
}

/// A JSON array of rows for one statement to read with `json_each`.
fn json(rows: &impl serde::Serialize) -> Result<String, StoreError> {
    serde_json::to_string(rows).map_err(|e| StoreError::Io(e.to_string()))
}

/// Claims up to `limit` due rows of a campaign for sending until `lease_until`, and reads
/// back what their messages need. With `needs_window`, a row whose recipient has not written
/// to the account in the last 24 hours is marked stopped: the platform would refuse it.
/// Rows claimed ahead (while another batch is being sent) carry the claim's `ahead` token
/// (not 0), which gets its row in `outbox_claims`; the claim must be started with
/// `start_claim` before any of them is sent, and until then a crash gives them back to the
/// queue instead of leaving them `unknown`. With `ahead` 0 the rows count as started at
/// once.
pub async fn claim(
    conn: &mut SqliteConnection,
    campaign: CampaignId,
    scope: ConsentScope,
    needs_window: bool,
    limit: i64,
    lease_until: DateTime<Utc>,
    ahead: i64,
) -> Result<Vec<Claimed>, StoreError> {
    let at = now();
    let ids: Vec<i64> = sqlx::query_scalar(
        "UPDATE outbox SET state = 'sending', lease_until = ?3, attempts = attempts + 1, updated_at = ?4, \
           ahead_claim = ?5 \
         WHERE id IN (SELECT o.id FROM outbox o WHERE o.campaign_id = ?1 AND o.state = 'queued' \
           AND (o.next_attempt_at IS NULL OR o.next_attempt_at <= ?4) ORDER BY o.id LIMIT ?2) \
         RETURNING id",
    )
    .bind(campaign)
    .bind(limit)
    .bind(lease_until)
    .bind(at)
    .bind(ahead)
    .fetch_all(&mut *conn)
    .await?;
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    if ahead != 0 {
        // One row per claim: a batch's campaigns are claimed with one token and one lease.
        sqlx::query(
            "INSERT INTO outbox_claims (token, started, lease_until) VALUES (?1, 0, ?2) \
             ON CONFLICT (token) DO NOTHING",
        )
        .bind(ahead)
        .bind(lease_until)
        .execute(&mut *conn)
        .await?;
    }
    let ids = json(&ids)?;
    Ok(sqlx::query_as(concat!(
        "SELECT o.id, o.campaign_id, o.identity_id, i.address, s.name, s.locale, s.attributes, \
         s.time_zone, l.default_time_zone AS list_time_zone, o.attempts, \
         CASE ",
        stopped_by_choice!("?2"),
        "WHEN ?3 AND NOT EXISTS (SELECT 1 FROM inbound w WHERE w.account_id = o.account_id \
                   AND w.identity_id = o.identity_id AND w.last_at >= ?4) \
              THEN '24-hour window closed' END AS stopped \
         FROM json_each(?1) j JOIN outbox o ON o.id = j.value \
         JOIN identities i ON i.id = o.identity_id \
         JOIN subscribers s ON s.id = o.subscriber_id \
         JOIN campaigns c ON c.id = o.campaign_id JOIN lists l ON l.id = c.list_id \
         ORDER BY o.id"
    ))
    .bind(ids)
    .bind(scope)
    .bind(needs_window)
    .bind(at - chrono::Duration::hours(24))
    .fetch_all(conn)
    .await?)
}

/// Starts the batch claimed ahead with the token `ahead`, its lease counted from now, just
/// before its requests go out: one row written, whatever the batch's size. `false` when the
/// claim is no longer this engine's (its lease ran out while it waited, and recovery gave its
/// rows back to the queue, where another claim may have them) or was started already: then
/// none of its rows may be sent or recorded.
pub async fn start_claim(
    conn: &mut SqliteConnection,
    ahead: i64,
    lease_until: DateTime<Utc>,
) -> Result<bool, StoreError> {
    if ahead == 0 {
        return Ok(false);
    }
    let done = sqlx::query(
        "UPDATE outbox_claims SET started = 1, lease_until = ?2 WHERE token = ?1 AND started = 0",
    )
    .bind(ahead)
    .bind(lease_until)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The SET clauses that give a claimed row back to the queue (`c` is its campaign): a row of
/// a campaign cancelled while it was out is skipped instead, as the cancel skipped the
/// campaign's waiting rows.
macro_rules! back_to_queue {
    () => {
        "state = CASE WHEN c.status = 'cancelled' THEN 'skipped' ELSE 'queued' END, \
         skip_reason = CASE WHEN c.status = 'cancelled' THEN 'cancelled' ELSE outbox.skip_reason END, "
    };
}

/// What became of one claimed row.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Sent {
        provider_id: String,
    },
    /// Back to the queue, due at the time; `counts` whether the attempt counts toward the
    /// retry limit (a deferral for quiet hours or a paused account does not).
    Requeue {
        at: DateTime<Utc>,
        counts: bool,
    },
    Failed {
        class: String,
        code: String,
        /// The platform's own words for it, when it gave any.
        detail: Option<String>,
    },
    Unknown {
        reason: String,
    },
    Skipped {
        reason: String,
    },
}

/// Records results, in the caller's transaction. A row whose lease ran out while its answer
/// waited to be written (another writer held the database that long) became `unknown`; a
/// final answer still settles it (accepted, failed, skipped), while a retry leaves it
/// `unknown` for the operator, as its campaign may have completed meanwhile. A row the
/// operator has queued again is left alone.
pub async fn record(
    conn: &mut SqliteConnection,
    results: &[(i64, Outcome)],
) -> Result<(), StoreError> {
    let at = now();
    // Accepted messages, most of every batch, are written by one statement: the rows go in
    // as one JSON array of [id, provider id] pairs.
    let sent: Vec<(i64, &str)> = results
        .iter()
        .filter_map(|(id, r)| match r {
            Outcome::Sent { provider_id } => Some((*id, provider_id.as_str())),
            _ => None,
        })
        .collect();
    if !sent.is_empty() {
        let rows = json(&sent)?;
        sqlx::query(
            "UPDATE outbox SET state = 'sent', provider_id = v.provider_id, sent_at = ?2, \
             updated_at = ?2, lease_until = NULL, fail_class = NULL, fail_code = NULL, \
             fail_detail = NULL FROM (SELECT value ->> 0 AS id, value ->> 1 AS provider_id FROM json_each(?1)) AS v \
             WHERE outbox.id = v.id AND outbox.state IN ('sending', 'unknown')",
        )
        .bind(rows)
        .bind(at)
        .execute(&mut *conn)
        .await?;
    }
    for (id, r) in results {
        match r {
            Outcome::Sent { .. } => {}
            Outcome::Requeue { at: due, counts } => {
                sqlx::query(concat!(
                    "UPDATE outbox SET ",
                    back_to_queue!(),
                    "next_attempt_at = ?1, updated_at = ?2, lease_until = NULL, attempts = attempts - ?3 \
                     FROM campaigns c WHERE c.id = outbox.campaign_id AND outbox.id = ?4 AND outbox.state = 'sending'"
                ))
                .bind(due)
                .bind(at)
                .bind(i64::from(!counts))
                .bind(id)
                .execute(&mut *conn)
                .await?;
            }
            Outcome::Failed {
                class,
                code,
                detail,
            } => {
                sqlx::query(
                    "UPDATE outbox SET state = 'failed', fail_class = ?1, fail_code = ?2, updated_at = ?3, \
                     lease_until = NULL, fail_detail = ?5 WHERE id = ?4 AND state IN ('sending', 'unknown')",
                )
                .bind(class)
                .bind(code)
                .bind(at)
                .bind(id)
                .bind(detail)
                .execute(&mut *conn)
                .await?;
            }
            Outcome::Unknown { reason } => {
                sqlx::query(
                    "UPDATE outbox SET state = 'unknown', fail_class = 'ambiguous', fail_code = ?1, \
                     updated_at = ?2, lease_until = NULL WHERE id = ?3 AND state = 'sending'",
                )
                .bind(reason)
                .bind(at)
                .bind(id)
                .execute(&mut *conn)
                .await?;
            }
            Outcome::Skipped { reason } => {
                sqlx::query(
                    "UPDATE outbox SET state = 'skipped', skip_reason = ?1, updated_at = ?2, \
                     lease_until = NULL WHERE id = ?3 AND state IN ('sending', 'unknown')",
                )
                .bind(reason)
                .bind(at)
                .bind(id)
                .execute(&mut *conn)
                .await?;
            }
        }
    }
    Ok(())
}

/// Whether the platform has accepted any message of a campaign.
pub async fn any_accepted(
    conn: &mut SqliteConnection,
    campaign: CampaignId,
) -> Result<bool, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM outbox WHERE campaign_id = ?1 \
         AND state IN ('sent', 'delivered', 'read'))",
    )
    .bind(campaign)
    .fetch_one(conn)
    .await?)
}

/// What recovery did with rows whose engine died while they were claimed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Expired {
    /// Rows of a batch that had started: their fate is unknown.
    pub unknown: u64,
    /// Rows of a batch claimed ahead and never started: back in the queue, the attempt not
    /// counted.
    pub requeued: u64,
}

/// Rows whose lease ran out (their engine died): `unknown` when their batch had started,
/// back to the queue when it was only claimed ahead (none of its requests went out). A
/// started claim's rows count from the claim's lease (taken when it started); the claims
/// whose lease ran out are dropped after, their rows settled one way or the other.
pub async fn expire_leases(conn: &mut SqliteConnection) -> Result<Expired, StoreError> {
    let at = now();
    // Found through `outbox_campaign_state`, one campaign at a time.
    let requeued = sqlx::query(concat!(
        "UPDATE outbox SET ",
        back_to_queue!(),
        "ahead_claim = 0, lease_until = NULL, attempts = max(attempts - 1, 0), updated_at = ?1 \
         FROM campaigns c WHERE c.id = outbox.campaign_id AND outbox.id IN ( \
           SELECT o.id FROM campaigns k CROSS JOIN outbox o \
           WHERE o.campaign_id = k.id AND o.state = 'sending' AND o.lease_until < ?1 \
           AND o.ahead_claim <> 0 AND NOT EXISTS (SELECT 1 FROM outbox_claims t \
             WHERE t.token = o.ahead_claim AND t.started = 1))"
    ))
    .bind(at)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    let unknown = sqlx::query(
        "UPDATE outbox SET state = 'unknown', fail_class = 'ambiguous', \
         fail_code = 'the engine stopped while sending', lease_until = NULL, \
         updated_at = ?1 WHERE id IN (SELECT o.id FROM campaigns c CROSS JOIN outbox o \
           WHERE o.campaign_id = c.id AND o.state = 'sending' AND o.lease_until < ?1 \
           AND NOT EXISTS (SELECT 1 FROM outbox_claims t WHERE t.token = o.ahead_claim \
             AND t.started = 1 AND t.lease_until >= ?1))",
    )
    .bind(at)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    // A claim not started whose lease ran out can no longer be started by its engine.
    sqlx::query("DELETE FROM outbox_claims WHERE lease_until < ?1")
        .bind(at)
        .execute(conn)
        .await?;
    Ok(Expired { unknown, requeued })
}

/// Applies received delivery statuses to outbox rows, forward only (sent → delivered →
/// read, or failed from sent). A status finds its row through its recipient: the outbox rows
/// sent to that identity (one per campaign), and among them the one with the status's
/// provider id (provider ids are not indexed; see migration 0019). Statuses for messages not
/// (yet) in the outbox wait; those older than a week are dropped. Returns how many rows
/// moved.
pub async fn apply_statuses(conn: &mut SqliteConnection) -> Result<u64, StoreError> {
    /// (id, channel, provider id, recipient, status, error code, error title, at)
    type Pending = (
        i64,
        Channel,
        String,
        Option<String>,
        String,
        Option<i64>,
        Option<String>,
        DateTime<Utc>,
    );
    let pending: Vec<Pending> = sqlx::query_as(
        "SELECT id, channel, provider_id, recipient, status, error_code, error_title, at \
         FROM delivery_statuses WHERE applied = 0 ORDER BY id LIMIT 2000",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut moved = 0;
    let week_ago = now() - chrono::Duration::days(7);
    for (id, channel, provider_id, recipient, status, code, title, at) in pending {
        let row: Option<i64> = sqlx::query_scalar(
            "SELECT o.id FROM identities i JOIN outbox o ON o.identity_id = i.id \
             WHERE i.channel = ?1 AND i.address = ?2 AND o.provider_id = ?3",
        )
        .bind(channel)
        .bind(&recipient)
        .bind(&provider_id)
        .fetch_optional(&mut *conn)
        .await?;
        let Some(row) = row else {
            if at < week_ago {
                sqlx::query("UPDATE delivery_statuses SET applied = 1 WHERE id = ?")
                    .bind(id)
                    .execute(&mut *conn)
                    .await?;
            }
            continue;
        };
        let sql = match status.as_str() {
            "delivered" => {
                "UPDATE outbox SET state = 'delivered', delivered_at = coalesce(delivered_at, ?1), updated_at = ?1 \
                 WHERE id = ?2 AND state = 'sent'"
            }
            "read" => {
                "UPDATE outbox SET state = 'read', delivered_at = coalesce(delivered_at, ?1), \
                 read_at = coalesce(read_at, ?1), updated_at = ?1 \
                 WHERE id = ?2 AND (state = 'sent' OR state = 'delivered')"
            }
            "failed" => {
                "UPDATE outbox SET state = 'failed', fail_class = 'permanent', \
                 fail_code = coalesce(CAST(?3 AS TEXT), 'failed'), fail_detail = ?4, \
                 updated_at = ?1 WHERE id = ?2 AND state = 'sent'"
            }
            // `sent` is what recording the answer already did.
            _ => "",
        };
        if !sql.is_empty() {
            moved += sqlx::query(sql)
                .bind(at)
                .bind(row)
                .bind(code)
                .bind(&title)
                .execute(&mut *conn)
                .await?
                .rows_affected();
        }
        sqlx::query("UPDATE delivery_statuses SET applied = 1 WHERE id = ?")
            .bind(id)
            .execute(&mut *conn)
            .await?;
    }
    Ok(moved)
}

/// Scheduled campaigns whose time has come start running; running campaigns with nothing
/// left to send complete. Returns (started, completed).
pub async fn advance_campaigns(conn: &mut SqliteConnection) -> Result<(u64, u64), StoreError> {
    let at = now();
    let started = sqlx::query(
        "UPDATE campaigns SET status = 'running', updated_at = ?1 \
         WHERE status = 'scheduled' AND schedule_at <= ?1",
    )
    .bind(at)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    let completed = sqlx::query(
        "UPDATE campaigns SET status = 'completed', finished_at = ?1, updated_at = ?1 \
         WHERE status = 'running' AND NOT EXISTS (SELECT 1 FROM outbox o \
           WHERE o.campaign_id = campaigns.id AND o.state IN ('queued', 'sending'))",
    )
    .bind(at)
    .execute(conn)
    .await?
    .rows_affected();
    Ok((started, completed))
}

/// Distinct recipients an account messaged since `since` (WhatsApp's daily tier).
pub async fn recipients_since(
    conn: &mut SqliteConnection,
    account: AccountId,
    since: DateTime<Utc>,
) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT count(DISTINCT identity_id) FROM outbox INDEXED BY outbox_sent_at \
         WHERE sent_at >= ?2 AND account_id = ?1",
    )
    .bind(account)
    .bind(since)
    .fetch_one(conn)
    .await?)
}

/// Messages of a campaign accepted since `since` (its current rate).
pub async fn sent_since(
    conn: &mut SqliteConnection,
    campaign: CampaignId,
    since: DateTime<Utc>,
) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT count(*) FROM outbox INDEXED BY outbox_sent_at \
             WHERE sent_at >= ?2 AND campaign_id = ?1",
    )
    .bind(campaign)
    .bind(since)
    .fetch_one(conn)
    .await?)
}

/// How many of a campaign's queued rows are due only later, and when the first of them is.
pub type Waiting = (i64, Option<DateTime<Utc>>);

/// How many of a campaign's queued rows are due only after `now` (waiting for their send
/// window, a retry, or the pacing), and when the first of them is.
pub async fn waiting(
    conn: &mut SqliteConnection,
    campaign: CampaignId,
    now: DateTime<Utc>,
) -> Result<Waiting, StoreError> {
    // Reads the campaign's queued rows, as the counts of a status do.
    Ok(sqlx::query_as(
        "SELECT count(*), min(next_attempt_at) FROM outbox \
         WHERE campaign_id = ?1 AND state = 'queued' AND next_attempt_at > ?2",
    )
    .bind(campaign)
    .bind(now)
    .fetch_one(conn)
    .await?)
}

/// Takes or renews the engine lease for `holder` until `until`; `false` while another
/// holder's lease runs.
pub async fn take_engine_lease(
    conn: &mut SqliteConnection,
    holder: &str,
    until: DateTime<Utc>,
) -> Result<bool, StoreError> {
    Ok(sqlx::query(
        "INSERT INTO engine_lease (id, holder, until) VALUES (1, ?1, ?2) \
         ON CONFLICT (id) DO UPDATE SET holder = excluded.holder, until = excluded.until \
         WHERE engine_lease.holder = excluded.holder OR engine_lease.until < ?3",
    )
    .bind(holder)
    .bind(until)
    .bind(now())
    .execute(conn)
    .await?
    .rows_affected()
        == 1)
}

/// Gives the lease up (a clean stop), so a standby engine takes over at once.
pub async fn release_engine_lease(
    conn: &mut SqliteConnection,
    holder: &str,
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM engine_lease WHERE holder = ?")
        .bind(holder)
        .execute(conn)
        .await?;
    Ok(())
}

/// Who holds the engine lease now, if anyone does.
pub async fn engine_holder(conn: &mut SqliteConnection) -> Result<Option<String>, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT holder FROM engine_lease WHERE until >= ?")
            .bind(now())
            .fetch_optional(conn)
            .await?,
    )
}

/// Resumes campaigns paused with a reason starting `prefix` (the licence's), on sandbox
/// accounts when `sandbox` allows and on real ones when `real` does. Returns how many.
pub async fn resume_paused_by(
    conn: &mut SqliteConnection,
    prefix: &str,
    sandbox: bool,
    real: bool,
    real_accounts: Option<u32>,
) -> Result<u64, StoreError> {
    Ok(sqlx::query(
        "UPDATE campaigns SET status = 'running', status_reason = NULL, updated_at = ?4 \
         WHERE status = 'paused' AND substr(status_reason, 1, length(?1)) = ?1 \
         AND account_id IN (SELECT a.id FROM accounts a WHERE (a.sandbox = 1 AND ?2) \
         OR (a.sandbox = 0 AND ?3 AND (?5 IS NULL OR \
         (SELECT count(*) FROM accounts b WHERE b.sandbox = 0 AND b.id < a.id) < ?5)))",
    )
    .bind(prefix)
    .bind(sandbox)
    .bind(real)
    .bind(now())
    .bind(real_accounts)
    .execute(conn)
    .await?
    .rows_affected())
}
