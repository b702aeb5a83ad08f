//! What subscribers and platforms tell us: inbound messages (they open the 24-hour windows),
//! opt-outs (a suppression and a consent withdrawal, at once), and delivery statuses kept for
//! the sender. Each event is applied once: platforms repeat webhooks for days.

use super::{StoreError, now};
use crate::domain::{AccountId, Channel};
use chrono::{DateTime, Utc};
use sqlx::SqliteConnection;

/// Marks an event as processed; `false` when it was processed before (skip it).
pub async fn first_time(
    conn: &mut SqliteConnection,
    source: &str,
    key: &str,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "INSERT INTO webhook_seen (source, key, seen_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
    )
    .bind(source)
    .bind(key)
    .bind(now())
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Records an inbound message time for (account, address), opening the 24-hour window.
/// Returns the subscriber the address belongs to, if any.
pub async fn record_inbound(
    conn: &mut SqliteConnection,
    account: AccountId,
    channel: Channel,
    address: &str,
    at: DateTime<Utc>,
) -> Result<Option<i64>, StoreError> {
    let identity: Option<(i64, i64)> = sqlx::query_as(
        "SELECT id, subscriber_id FROM identities WHERE channel = ? AND address = ?",
    )
    .bind(channel)
    .bind(address)
    .fetch_optional(&mut *conn)
    .await?;
    let Some((identity, subscriber)) = identity else {
        return Ok(None);
    };
    open_window(conn, account, identity, at).await?;
    Ok(Some(subscriber))
}

/// Records that `identity` wrote to `account` at `at` (a later time wins).
pub async fn open_window(
    conn: &mut SqliteConnection,
    account: AccountId,
    identity: i64,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO inbound (account_id, identity_id, last_at) VALUES (?, ?, ?) \
         ON CONFLICT (account_id, identity_id) DO UPDATE SET last_at = max(last_at, excluded.last_at)",
    )
    .bind(account)
    .bind(identity)
    .bind(at)
    .execute(conn)
    .await?;
    Ok(())
}

/// An opt-out: the address is suppressed, its queued campaign rows are skipped, and, when it
/// belongs to a subscriber, a marketing consent withdrawal is recorded with what was received
/// as proof. Idempotent; true when the address was not suppressed before.
pub async fn opt_out(
    conn: &mut SqliteConnection,
    channel: Channel,
    address: &str,
    reason: &str,
    proof: &str,
) -> Result<bool, StoreError> {
    let new = super::subscribers::suppress(conn, channel, address, reason, "webhook").await?;
    sqlx::query(
        "INSERT INTO consents (subscriber_id, channel, scope, status, source, proof, at, recorded_by) \
         SELECT i.subscriber_id, i.channel, 'marketing', 'withdrawn', ?3, ?4, ?5, 'webhook' \
         FROM identities i WHERE i.channel = ?1 AND i.address = ?2 \
         AND coalesce((SELECT c.status FROM consents c WHERE c.subscriber_id = i.subscriber_id \
              AND c.channel = i.channel AND c.scope = 'marketing' ORDER BY c.id DESC LIMIT 1), '') <> 'withdrawn'",
    )
    .bind(channel)
    .bind(address)
    .bind(reason)
    .bind(proof)
    .bind(now())
    .execute(&mut *conn)
    .await?;
    // Rows of running campaigns waiting for this address are dropped at once.
    super::outbox::skip_queued_for(conn, channel, address, "opted out").await?;
    super::audit::record(
        conn,
        "webhook",
        "subscriber.opt_out",
        "address",
        Some(&format!(
            "{}:{}",
            channel.as_str(),
            crate::domain::mask::address(address, 4)
        )),
        &serde_json::json!({ "reason": reason }),
    )
    .await?;
    Ok(new)
}

/// An opt-out reply waiting to be sent.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PendingReply {
    pub id: i64,
    pub account_id: AccountId,
    pub channel: Channel,
    pub address: String,
    pub attempts: i64,
}

/// How often a reply is tried before it is given up (each failure is kept in `error`).
pub const REPLY_ATTEMPTS: i64 = 3;

/// Queues the reply to an opt-out keyword, from the account it was written to.
pub async fn queue_reply(
    conn: &mut SqliteConnection,
    account: AccountId,
    channel: Channel,
    address: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO opt_out_replies (account_id, channel, address, created_at, due_at) \
         VALUES (?1, ?2, ?3, ?4, ?4)",
    )
    .bind(account)
    .bind(channel)
    .bind(address)
    .bind(now())
    .execute(conn)
    .await?;
    Ok(())
}

/// Replies still to send, oldest first; those of a paused account wait for its resume.
pub async fn pending_replies(
    conn: &mut SqliteConnection,
    limit: i64,
) -> Result<Vec<PendingReply>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT r.id, r.account_id, r.channel, r.address, r.attempts FROM opt_out_replies r \
         JOIN accounts a ON a.id = r.account_id \
         WHERE r.sent_at IS NULL AND r.attempts < ?1 AND a.status = 'active' AND r.due_at <= ?3 \
         ORDER BY r.id LIMIT ?2",
    )
    .bind(REPLY_ATTEMPTS)
    .bind(limit)
    .bind(now())
    .fetch_all(conn)
    .await?)
}

/// How sending a reply went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyResult<'a> {
    Sent,
    /// One more failed attempt, and why.
    Failed(&'a str),
    /// No more attempts: replies turned off, an account that is gone, or an answer that
    /// may have been delivered (it is never sent blindly again).
    GiveUp(&'a str),
    /// The platform asked to wait: tried again from then, not counted as an attempt.
    Later(&'a str, DateTime<Utc>),
}

/// What a reply whose answer was never recorded says: it is not sent again blindly.
pub const REPLY_UNRECORDED: &str =
    "its answer could not be recorded, so it may have gone out; it is not sent again";

/// Marks a reply as going out, before its request: should its answer not be recorded (the
/// engine dies, the database stays busy), it counts as given up instead of going out a
/// second time. False when it changed since it was read (another engine took it).
pub async fn reply_sending(
    conn: &mut SqliteConnection,
    id: i64,
    attempts: i64,
) -> Result<bool, StoreError> {
    let marked = sqlx::query(
        "UPDATE opt_out_replies SET attempts = ?3, error = ?4 \
         WHERE id = ?1 AND sent_at IS NULL AND attempts = ?2",
    )
    .bind(id)
    .bind(attempts)
    .bind(REPLY_ATTEMPTS)
    .bind(REPLY_UNRECORDED)
    .execute(conn)
    .await?;
    Ok(marked.rows_affected() == 1)
}

/// Records how sending a reply went; `attempts` is the count before this attempt.
pub async fn reply_done(
    conn: &mut SqliteConnection,
    id: i64,
    attempts: i64,
    result: ReplyResult<'_>,
) -> Result<(), StoreError> {
    let (sql, why, at) = match result {
        ReplyResult::Sent => (
            "UPDATE opt_out_replies SET sent_at = ?3, attempts = ?5 + 1, error = NULL WHERE id = ?1",
            None,
            Some(now()),
        ),
        ReplyResult::Failed(why) => (
            "UPDATE opt_out_replies SET error = ?2, attempts = ?5 + 1 WHERE id = ?1",
            Some(why),
            None,
        ),
        ReplyResult::GiveUp(why) => (
            "UPDATE opt_out_replies SET error = ?2, attempts = ?4 WHERE id = ?1",
            Some(why),
            None,
        ),
        ReplyResult::Later(why, at) => (
            "UPDATE opt_out_replies SET error = ?2, due_at = ?3, attempts = ?5 WHERE id = ?1",
            Some(why),
            Some(at),
        ),
    };
    sqlx::query(sql)
        .bind(id)
        .bind(why)
        .bind(at)
        .bind(REPLY_ATTEMPTS)
        .bind(attempts)
        .execute(conn)
        .await?;
    Ok(())
}

/// An account's replies to opt-outs written since a time, for the Accounts pane.
#[derive(Debug, Clone, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct RepliesSince {
    pub sent: i64,
    /// Still to be tried (due now, or later when the platform asked to wait).
    pub waiting: i64,
    /// Given up: tried [`REPLY_ATTEMPTS`] times, replies turned off, or an answer of
    /// unknown fate.
    pub not_sent: i64,
    /// Why the newest reply not sent yet failed, if one did.
    pub last_error: Option<String>,
}

/// Each account's opt-out replies written since `since`.
pub async fn replies_since(
    conn: &mut SqliteConnection,
    since: DateTime<Utc>,
) -> Result<Vec<(AccountId, RepliesSince)>, StoreError> {
    #[derive(sqlx::FromRow)]
    struct Row {
        account_id: AccountId,
        #[sqlx(flatten)]
        replies: RepliesSince,
    }
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT account_id, \
           sum(sent_at IS NOT NULL) AS sent, \
           sum(sent_at IS NULL AND attempts < ?2) AS waiting, \
           sum(sent_at IS NULL AND attempts >= ?2) AS not_sent, \
           (SELECT l.error FROM opt_out_replies l WHERE l.account_id = r.account_id \
              AND l.created_at >= ?1 AND l.sent_at IS NULL AND l.error IS NOT NULL \
              ORDER BY l.id DESC LIMIT 1) AS last_error \
         FROM opt_out_replies r WHERE created_at >= ?1 GROUP BY account_id",
    )
    .bind(since)
    .bind(REPLY_ATTEMPTS)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.account_id, r.replies))
        .collect())
}

/// A delivery status as a webhook told it.
#[derive(Debug, Clone, Copy)]
pub struct NewStatus<'a> {
    pub channel: Channel,
    pub provider_id: &'a str,
    /// The recipient's address as identities hold it: how the sender finds the row.
    pub recipient: &'a str,
    pub status: &'a str,
    pub error_code: Option<i64>,
    pub error_title: Option<&'a str>,
    pub at: DateTime<Utc>,
}

/// Keeps a delivery status for the sender; a repeat of the same status is ignored.
pub async fn record_status(
    conn: &mut SqliteConnection,
    s: &NewStatus<'_>,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "INSERT INTO delivery_statuses (channel, provider_id, recipient, status, error_code, \
         error_title, at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
    )
    .bind(s.channel)
    .bind(s.provider_id)
    .bind(s.recipient)
    .bind(s.status)
    .bind(s.error_code)
    .bind(
        s.error_title
            .map(|t| t.chars().take(200).collect::<String>()),
    )
    .bind(s.at)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

impl super::Store {
    /// The statuses received for one sent message, in the order they were received.
    pub async fn delivery_statuses(
        &self,
        channel: Channel,
        provider_id: &str,
    ) -> Result<Vec<(String, Option<i64>)>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT status, error_code FROM delivery_statuses \
             WHERE channel = ? AND provider_id = ? ORDER BY rowid",
        )
        .bind(channel)
        .bind(provider_id)
        .fetch_all(self.pool())
        .await?)
    }
}
