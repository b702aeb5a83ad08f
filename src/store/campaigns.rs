//! Campaigns and their outbox: one durable row per (campaign, subscriber).

use super::page::{self, page_sql};
use super::{PageRequest, Store, StoreError, now};
use crate::domain::{
    AccountId, CampaignId, CampaignStatus, Channel, ListId, OutboxState, SubscriberId,
};
use chrono::{DateTime, Utc};
use sqlx::SqliteConnection;

/// A campaign with its outbox counted by state.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct CampaignRow {
    pub id: CampaignId,
    pub name: String,
    pub status: CampaignStatus,
    pub status_reason: Option<String>,
    pub list_name: String,
    pub account_name: String,
    /// The account's own state: a paused or halted account sends nothing for the campaign.
    pub account_status: crate::domain::AccountStatus,
    pub account_reason: Option<String>,
    pub channel: Channel,
    pub message_text: Option<String>,
    pub wa_template_name: Option<String>,
    pub wa_template_lang: Option<String>,
    /// The WhatsApp template's body parameters, in order (a JSON array of small templates).
    pub wa_template_params: String,
    pub schedule_at: Option<DateTime<Utc>>,
    pub quiet_start: Option<String>,
    pub quiet_end: Option<String>,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    /// Who was left out at start, by reason (a JSON object).
    pub left_out: String,
    #[sqlx(flatten)]
    pub counts: OutboxCounts,
}

impl CampaignRow {
    /// The WhatsApp template's body parameters, in order.
    pub fn template_params(&self) -> Vec<String> {
        serde_json::from_str(&self.wa_template_params).unwrap_or_default()
    }
}

/// Outbox rows of one campaign by state. `sent` counts every row the platform accepted
/// (sent, delivered or read); `delivered` counts delivered or read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct OutboxCounts {
    pub total: i64,
    pub queued: i64,
    pub sending: i64,
    pub sent: i64,
    pub delivered: i64,
    pub read: i64,
    pub failed: i64,
    pub skipped: i64,
    pub unknown: i64,
}

impl OutboxCounts {
    /// Rows that reached an end state (accepted, failed, skipped or unknown).
    pub fn done(&self) -> i64 {
        self.sent + self.failed + self.skipped + self.unknown
    }

    /// Share of rows done, 0.0 to 1.0; 0 for an empty outbox.
    pub fn progress(&self) -> f64 {
        if self.total == 0 {
            0.0
        } else {
            self.done() as f64 / self.total as f64
        }
    }
}

/// A new campaign.
#[derive(Debug, Clone)]
pub struct NewCampaign<'a> {
    pub name: &'a str,
    pub list: ListId,
    pub account: AccountId,
    pub message_text: Option<&'a str>,
    pub wa_template_name: Option<&'a str>,
    pub wa_template_lang: Option<&'a str>,
    /// The WhatsApp template's body parameters, each a small template (`{{ name }}`).
    pub wa_template_params: Vec<String>,
    pub schedule_at: Option<DateTime<Utc>>,
    pub quiet_hours: Option<(&'a str, &'a str)>,
    pub status: CampaignStatus,
    pub status_reason: Option<&'a str>,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
}

/// One outbox row to write as it stands (used by workspace seeding and imports of history).
#[derive(Debug, Clone)]
pub struct OutboxRecord<'a> {
    pub campaign: CampaignId,
    pub subscriber: SubscriberId,
    pub identity: i64,
    pub account: AccountId,
    pub state: OutboxState,
    pub fail_class: Option<&'a str>,
    pub fail_code: Option<&'a str>,
    pub fail_detail: Option<&'a str>,
    pub skip_reason: Option<&'a str>,
    pub provider_id: Option<&'a str>,
    pub at: DateTime<Utc>,
}

/// A failure's words as its cause is told apart: case and a final full stop ignored.
macro_rules! detail_key {
    () => {
        "lower(rtrim(fail_detail, '. '))"
    };
}

macro_rules! select {
    () => {
        "SELECT c.id, c.name, c.status, c.status_reason, l.name AS list_name, \
     a.name AS account_name, a.status AS account_status, a.status_reason AS account_reason, \
     a.channel, c.message_text, c.wa_template_name, c.wa_template_lang, \
     c.wa_template_params, c.schedule_at, c.quiet_start, c.quiet_end, c.created_at, c.started_at, c.finished_at, c.left_out, \
     (SELECT count(*) FROM outbox o WHERE o.campaign_id = c.id) AS total, \
     (SELECT count(*) FROM outbox o WHERE o.campaign_id = c.id AND o.state = 'queued') AS queued, \
     (SELECT count(*) FROM outbox o WHERE o.campaign_id = c.id AND o.state = 'sending') AS sending, \
     (SELECT count(*) FROM outbox o WHERE o.campaign_id = c.id AND o.state IN ('sent', 'delivered', 'read')) AS sent, \
     (SELECT count(*) FROM outbox o WHERE o.campaign_id = c.id AND o.state IN ('delivered', 'read')) AS delivered, \
     (SELECT count(*) FROM outbox o WHERE o.campaign_id = c.id AND o.state = 'read') AS read, \
     (SELECT count(*) FROM outbox o WHERE o.campaign_id = c.id AND o.state = 'failed') AS failed, \
     (SELECT count(*) FROM outbox o WHERE o.campaign_id = c.id AND o.state = 'skipped') AS skipped, \
     (SELECT count(*) FROM outbox o WHERE o.campaign_id = c.id AND o.state = 'unknown') AS unknown \
     FROM campaigns c JOIN lists l ON l.id = c.list_id JOIN accounts a ON a.id = c.account_id"
    };
}

/// Inserts a campaign as given.
pub async fn insert(
    conn: &mut SqliteConnection,
    c: &NewCampaign<'_>,
) -> Result<CampaignId, StoreError> {
    let (quiet_start, quiet_end) = c.quiet_hours.unzip();
    let id = sqlx::query_scalar(
        "INSERT INTO campaigns (name, list_id, account_id, message_text, wa_template_name, \
         wa_template_lang, schedule_at, quiet_start, quiet_end, status, status_reason, \
         created_at, started_at, finished_at, updated_at, wa_template_params) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(c.name)
    .bind(c.list)
    .bind(c.account)
    .bind(c.message_text)
    .bind(c.wa_template_name)
    .bind(c.wa_template_lang)
    .bind(c.schedule_at)
    .bind(quiet_start)
    .bind(quiet_end)
    .bind(c.status)
    .bind(c.status_reason)
    .bind(c.created_at)
    .bind(c.started_at)
    .bind(c.finished_at)
    .bind(now())
    .bind(serde_json::to_string(&c.wa_template_params).unwrap_or_else(|_| "[]".into()))
    .fetch_one(conn)
    .await?;
    Ok(CampaignId(id))
}

/// Takes a campaign's outbox out again and returns its recipients, (subscriber, identity) in
/// order, so that a seed can write them back as rows of a campaign already under way (the
/// demo's) after [`super::outbox::materialise`] chose them by the real rules.
pub async fn take_outbox(
    conn: &mut SqliteConnection,
    campaign: CampaignId,
) -> Result<Vec<(SubscriberId, i64)>, StoreError> {
    Ok(sqlx::query_as(
        "DELETE FROM outbox WHERE campaign_id = ? RETURNING subscriber_id, identity_id",
    )
    .bind(campaign)
    .fetch_all(conn)
    .await?)
}

/// Writes one outbox row as it stands.
pub async fn insert_outbox(
    conn: &mut SqliteConnection,
    r: &OutboxRecord<'_>,
) -> Result<(), StoreError> {
    let reached = r.state.delivery_rank();
    let at_rank = |rank: u8| reached.filter(|&have| have >= rank).map(|_| r.at);
    sqlx::query(
        "INSERT INTO outbox (campaign_id, subscriber_id, identity_id, account_id, state, \
         fail_class, fail_code, fail_detail, skip_reason, attempts, provider_id, created_at, \
         updated_at, sent_at, delivered_at, read_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(r.campaign)
    .bind(r.subscriber)
    .bind(r.identity)
    .bind(r.account)
    .bind(r.state)
    .bind(r.fail_class)
    .bind(r.fail_code)
    .bind(r.fail_detail)
    .bind(r.skip_reason)
    .bind(i64::from(
        r.state != OutboxState::Queued && r.state != OutboxState::Skipped,
    ))
    .bind(r.provider_id)
    .bind(r.at)
    .bind(r.at)
    .bind(at_rank(1))
    .bind(at_rank(2))
    .bind(at_rank(3))
    .execute(conn)
    .await?;
    Ok(())
}

impl Store {
    /// How many campaigns there are.
    pub async fn count_campaigns(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar("SELECT count(*) FROM campaigns")
            .fetch_one(self.pool())
            .await?)
    }

    /// One page of campaigns, by id.
    pub async fn campaign_page(&self, req: PageRequest) -> Result<Vec<CampaignRow>, StoreError> {
        const SQL: [&str; 2] = page_sql!(select!(), "1 = 1", "c.id", "?1", "?2");
        page::fetch(self.pool(), SQL, req).await
    }

    /// One campaign by id.
    pub async fn campaign(&self, id: CampaignId) -> Result<Option<CampaignRow>, StoreError> {
        Ok(sqlx::query_as(concat!(select!(), " WHERE c.id = ?"))
            .bind(id)
            .fetch_optional(self.pool())
            .await?)
    }

    /// Failed rows of a campaign counted by cause (class, code and the platform's words,
    /// whatever their case or final full stop: WhatsApp words one failure differently in its
    /// answer and in its status webhook), largest first.
    pub async fn campaign_failures(&self, id: CampaignId) -> Result<Vec<FailureCause>, StoreError> {
        Ok(sqlx::query_as(concat!(
            "SELECT coalesce(fail_class, '?') AS class, coalesce(fail_code, '?') AS code, ",
            detail_key!(),
            " AS detail_key, min(fail_detail) AS detail, count(*) AS count \
             FROM outbox WHERE campaign_id = ? AND state = 'failed' \
             GROUP BY 1, 2, 3 ORDER BY count DESC, 1, 2, 3",
        ))
        .bind(id)
        .fetch_all(self.pool())
        .await?)
    }

    /// Up to `per_cause` failed rows behind each failure cause of a campaign, first failed
    /// first: who it was for, so the operator can look them up.
    pub async fn campaign_failure_rows(
        &self,
        id: CampaignId,
        per_cause: i64,
    ) -> Result<Vec<FailureRow>, StoreError> {
        Ok(sqlx::query_as(concat!(
            "SELECT f.class, f.code, f.detail_key, f.subscriber_id, s.name, i.address FROM ( \
               SELECT coalesce(fail_class, '?') AS class, coalesce(fail_code, '?') AS code, ",
            detail_key!(),
            " AS detail_key, subscriber_id, identity_id, row_number() OVER ( \
                 PARTITION BY coalesce(fail_class, '?'), coalesce(fail_code, '?'), ",
            detail_key!(),
            " ORDER BY updated_at, id) AS n \
               FROM outbox WHERE campaign_id = ?1 AND state = 'failed') AS f \
             JOIN subscribers s ON s.id = f.subscriber_id \
             JOIN identities i ON i.id = f.identity_id \
             WHERE f.n <= ?2 ORDER BY f.class, f.code, f.detail_key, f.n"
        ))
        .bind(id)
        .bind(per_cause)
        .fetch_all(self.pool())
        .await?)
    }

    /// Messages of a campaign accepted in each of the last `buckets` spans of
    /// `bucket_seconds` before `now`, oldest first (its send rate over time).
    pub async fn campaign_send_history(
        &self,
        id: CampaignId,
        now: DateTime<Utc>,
        bucket_seconds: i64,
        buckets: usize,
    ) -> Result<Vec<i64>, StoreError> {
        let since = now - chrono::Duration::seconds(bucket_seconds * buckets as i64);
        // Bucket 0 is the latest span; the sent_at index keeps this to the window's rows.
        let counts: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT CAST((unixepoch(?3, 'subsec') - unixepoch(sent_at, 'subsec')) / ?4 AS INTEGER) \
             AS b, count(*) FROM outbox INDEXED BY outbox_sent_at \
             WHERE sent_at >= ?2 AND campaign_id = ?1 GROUP BY b",
        )
        .bind(id)
        .bind(since)
        .bind(now)
        .bind(bucket_seconds as f64)
        .fetch_all(self.pool())
        .await?;
        let mut out = vec![0; buckets];
        for (b, n) in counts {
            if let Ok(b) = usize::try_from(b)
                && b < buckets
            {
                out[buckets - 1 - b] += n;
            }
        }
        Ok(out)
    }

    /// Skipped rows of a campaign counted by reason, largest first.
    pub async fn campaign_skips(&self, id: CampaignId) -> Result<Vec<(String, i64)>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT coalesce(skip_reason, '?'), count(*) AS n FROM outbox \
             WHERE campaign_id = ? AND state = 'skipped' GROUP BY 1 ORDER BY n DESC, 1",
        )
        .bind(id)
        .fetch_all(self.pool())
        .await?)
    }
}

/// Up to `limit` subscribers of a list to check a template against before a campaign is
/// made, each a real row: (name, locale, attributes JSON). The list's first `first` members
/// come first, in list order (the form previews them); then the first member of each
/// distinct attribute set (and of the nameless), so a subscriber lacking a value shows up.
pub async fn sample_members(
    conn: &mut SqliteConnection,
    list: ListId,
    first: i64,
    limit: i64,
) -> Result<Vec<(String, Option<String>, String)>, StoreError> {
    Ok(sqlx::query_as(
        "WITH firsts AS (SELECT subscriber_id AS id, 0 AS k FROM list_members \
           WHERE list_id = ?1 ORDER BY subscriber_id LIMIT ?2), \
         shapes AS (SELECT min(m.subscriber_id) AS id, 1 AS k FROM list_members m \
           JOIN subscribers s ON s.id = m.subscriber_id WHERE m.list_id = ?1 \
           GROUP BY s.attributes, s.name = '' LIMIT ?3), \
         picked AS (SELECT id, min(k) AS k FROM (SELECT * FROM firsts UNION ALL SELECT * FROM shapes) \
           GROUP BY id) \
         SELECT s.name, s.locale, s.attributes FROM picked p JOIN subscribers s ON s.id = p.id \
         ORDER BY p.k, p.id LIMIT ?3",
    )
    .bind(list)
    .bind(first)
    .bind(limit)
    .fetch_all(conn)
    .await?)
}

/// Every campaign with this name, newest first, with its status. Names are unique since
/// `create` refuses a taken one; a workspace from before that may hold repeats.
pub async fn named(
    conn: &mut SqliteConnection,
    name: &str,
) -> Result<Vec<(CampaignId, CampaignStatus)>, StoreError> {
    Ok(
        sqlx::query_as("SELECT id, status FROM campaigns WHERE name = ? ORDER BY id DESC")
            .bind(name)
            .fetch_all(conn)
            .await?,
    )
}

/// A cause of failures and how many rows of a campaign failed for it.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow, serde::Serialize)]
pub struct FailureCause {
    pub class: String,
    pub code: String,
    /// What the cause's rows are grouped by besides class and code: their words folded.
    #[serde(skip)]
    pub detail_key: Option<String>,
    /// The platform's own words, when it gave any.
    pub detail: Option<String>,
    pub count: i64,
}

impl FailureCause {
    /// Whether a failed row is one of this cause's.
    pub fn covers(&self, row: &FailureRow) -> bool {
        self.class == row.class && self.code == row.code && self.detail_key == row.detail_key
    }

    /// `code 131026 (Message Undeliverable)`, or the code alone.
    pub fn describe(&self) -> String {
        match &self.detail {
            Some(d) => format!("code {} ({d})", self.code),
            None => format!("code {}", self.code),
        }
    }
}

/// A failed outbox row, under its cause.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct FailureRow {
    pub class: String,
    pub code: String,
    /// The cause's words, folded as [`FailureCause::detail_key`].
    pub detail_key: Option<String>,
    pub subscriber_id: i64,
    pub name: String,
    pub address: String,
}

/// One row of a campaign report.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct ReportRow {
    pub subscriber_id: i64,
    pub name: String,
    pub address: String,
    pub state: OutboxState,
    pub fail_class: Option<String>,
    pub fail_code: Option<String>,
    pub fail_detail: Option<String>,
    pub skip_reason: Option<String>,
    pub attempts: i64,
    pub provider_id: Option<String>,
    #[serde(serialize_with = "to_the_second")]
    pub sent_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "to_the_second")]
    pub delivered_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "to_the_second")]
    pub read_at: Option<DateTime<Utc>>,
}

/// A report's times as RFC 3339 to the second (`2026-11-27T14:20:09Z`), as an export writes
/// them: the platform's statuses carry whole seconds, and a spreadsheet reads it better.
fn to_the_second<S: serde::Serializer>(
    at: &Option<DateTime<Utc>>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match at {
        Some(at) => s.serialize_str(&at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
        None => s.serialize_none(),
    }
}

/// Every outbox row of a campaign, in order, streamed to `each`.
pub async fn report(
    conn: &mut SqliteConnection,
    campaign: CampaignId,
    mut each: impl FnMut(ReportRow) -> std::io::Result<()>,
) -> Result<(), StoreError> {
    use futures::TryStreamExt;
    let mut rows = sqlx::query_as::<_, ReportRow>(
        "SELECT o.subscriber_id, s.name, i.address, o.state, o.fail_class, o.fail_code, \
         o.fail_detail, o.skip_reason, o.attempts, o.provider_id, o.sent_at, o.delivered_at, o.read_at \
         FROM outbox o JOIN subscribers s ON s.id = o.subscriber_id \
         JOIN identities i ON i.id = o.identity_id WHERE o.campaign_id = ? ORDER BY o.id",
    )
    .bind(campaign)
    .fetch(conn);
    while let Some(row) = rows.try_next().await? {
        each(row).map_err(StoreError::Output)?;
    }
    Ok(())
}

/// A campaign's WhatsApp template parameters.
pub async fn template_params(
    conn: &mut SqliteConnection,
    campaign: CampaignId,
) -> Result<Vec<String>, StoreError> {
    let text: Option<String> =
        sqlx::query_scalar("SELECT wa_template_params FROM campaigns WHERE id = ?")
            .bind(campaign)
            .fetch_optional(conn)
            .await?;
    Ok(text
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default())
}

/// Members a preview shows: the first `limit` rows of the campaign's outbox once it is made,
/// before that the first members of its list who could be sent to now (an unsuppressed
/// address on the account's channel and the latest consent for the campaign's scope
/// granted), looked for among the list's first 10 000 members so that a large list answers
/// at once: (name, locale, attributes JSON).
pub async fn preview_members(
    conn: &mut SqliteConnection,
    campaign: CampaignId,
    limit: i64,
) -> Result<Vec<(String, Option<String>, String)>, StoreError> {
    let outbox: Vec<(String, Option<String>, String)> = sqlx::query_as(
        "SELECT s.name, s.locale, s.attributes FROM outbox o \
         JOIN subscribers s ON s.id = o.subscriber_id WHERE o.campaign_id = ? \
         ORDER BY o.id LIMIT ?",
    )
    .bind(campaign)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    if !outbox.is_empty() {
        return Ok(outbox);
    }
    Ok(sqlx::query_as(
        "SELECT s.name, s.locale, s.attributes \
         FROM campaigns c JOIN accounts a ON a.id = c.account_id \
         JOIN (SELECT subscriber_id FROM list_members \
               WHERE list_id = (SELECT list_id FROM campaigns WHERE id = ?1) \
               ORDER BY subscriber_id LIMIT 10000) m \
         JOIN subscribers s ON s.id = m.subscriber_id \
         WHERE c.id = ?1 \
         AND EXISTS (SELECT 1 FROM identities i WHERE i.subscriber_id = m.subscriber_id \
              AND i.channel = a.channel \
              AND NOT EXISTS (SELECT 1 FROM suppressions p WHERE p.channel = i.channel AND p.address = i.address)) \
         AND (SELECT k.status FROM consents k WHERE k.subscriber_id = m.subscriber_id \
              AND k.channel = a.channel AND k.scope = c.scope ORDER BY k.id DESC LIMIT 1) = 'granted' \
         ORDER BY m.subscriber_id LIMIT ?2",
    )
    .bind(campaign)
    .bind(limit)
    .fetch_all(conn)
    .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reports_times_are_to_the_second() {
        let at = |s: &str| Some(DateTime::parse_from_rfc3339(s).unwrap().to_utc());
        let row = ReportRow {
            subscriber_id: 7,
            name: "Айгерим".into(),
            address: "+77011234567".into(),
            state: OutboxState::Read,
            fail_class: None,
            fail_code: None,
            fail_detail: None,
            skip_reason: None,
            attempts: 1,
            provider_id: Some("wamid.1".into()),
            sent_at: at("2026-11-27T14:20:09.697256691Z"),
            delivered_at: at("2026-11-27T19:20:10+05:00"),
            read_at: None,
        };
        let mut w = csv::Writer::from_writer(Vec::new());
        w.serialize(&row).unwrap();
        let text = String::from_utf8(w.into_inner().unwrap()).unwrap();
        assert_eq!(
            text.lines().nth(1).unwrap(),
            "7,Айгерим,+77011234567,read,,,,,1,wamid.1,2026-11-27T14:20:09Z,2026-11-27T14:20:10Z,"
        );
    }
}
