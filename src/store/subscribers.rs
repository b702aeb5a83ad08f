//! Subscribers with their identities per channel, append-only consent events and global
//! suppressions.

use super::page::page_sql;
use super::{PageRequest, Store, StoreError, now};
use crate::domain::consent::{OnRecord, against_record};
use crate::domain::{Channel, ConsentScope, ConsentStatus, ListId, SubscriberId};
use chrono::{DateTime, Utc};
use sqlx::SqliteConnection;

/// A subscriber as a list row: who, on which channels, with marketing consent where.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct SubscriberRow {
    pub id: SubscriberId,
    pub name: String,
    pub locale: Option<String>,
    pub time_zone: Option<String>,
    /// Comma-separated channels the subscriber has an identity on.
    pub channels: Option<String>,
    /// Comma-separated channels whose latest marketing consent is `granted`.
    pub marketing: Option<String>,
    /// Comma-separated channels on which the subscriber's address is suppressed.
    pub suppressed: Option<String>,
}

impl SubscriberRow {
    fn channel_set(list: &Option<String>) -> Vec<Channel> {
        let mut out: Vec<Channel> = list
            .as_deref()
            .unwrap_or_default()
            .split(',')
            .filter_map(|c| c.parse().ok())
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// Channels with an identity.
    pub fn channel_list(&self) -> Vec<Channel> {
        Self::channel_set(&self.channels)
    }

    /// Channels with granted marketing consent.
    pub fn marketing_list(&self) -> Vec<Channel> {
        Self::channel_set(&self.marketing)
    }

    /// Channels whose address is suppressed.
    pub fn suppressed_list(&self) -> Vec<Channel> {
        Self::channel_set(&self.suppressed)
    }
}

/// One identity of a subscriber.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct IdentityRow {
    pub id: i64,
    pub channel: Channel,
    pub address: String,
    /// The suppression reason, if the address is suppressed.
    pub suppressed: Option<String>,
}

/// One consent event.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ConsentEvent {
    pub id: i64,
    pub channel: Channel,
    pub scope: ConsentScope,
    pub status: ConsentStatus,
    pub source: String,
    pub proof: String,
    pub at: DateTime<Utc>,
    pub recorded_by: String,
    /// When it was entered, for a consent dated when it was given; `None`: at `at`.
    pub recorded_at: Option<DateTime<Utc>>,
}

/// Everything the detail view shows about one subscriber.
#[derive(Debug, Clone, PartialEq)]
pub struct SubscriberDetail {
    pub row: SubscriberRow,
    pub attributes: serde_json::Map<String, serde_json::Value>,
    pub created_at: DateTime<Utc>,
    pub identities: Vec<IdentityRow>,
    /// Newest first.
    pub consents: Vec<ConsentEvent>,
    pub lists: Vec<String>,
    /// The latest campaign messages to them, newest first (at most [`MESSAGES_SHOWN`]).
    pub messages: Vec<MessageRow>,
}

/// How many of a subscriber's campaign messages the detail shows.
pub const MESSAGES_SHOWN: i64 = 10;

/// One campaign message to a subscriber, as the detail shows it.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct MessageRow {
    pub campaign_id: crate::domain::CampaignId,
    pub campaign: String,
    pub channel: Channel,
    pub state: crate::domain::OutboxState,
    /// When it was sent, else when its row last changed.
    pub at: DateTime<Utc>,
    /// Why it failed, was skipped, or is of unknown fate.
    pub why: Option<String>,
}

/// A new consent event.
#[derive(Debug, Clone)]
pub struct NewConsent<'a> {
    pub subscriber: SubscriberId,
    pub channel: Channel,
    pub scope: ConsentScope,
    pub status: ConsentStatus,
    pub source: &'a str,
    pub proof: &'a str,
    pub at: DateTime<Utc>,
    pub recorded_by: &'a str,
    /// When it is entered, for a consent dated when it was given (`--at`); `None` when `at`
    /// is now.
    pub recorded_at: Option<DateTime<Utc>>,
}

macro_rules! select {
    () => {
        "SELECT s.id, s.name, s.locale, s.time_zone, \
     (SELECT group_concat(i.channel) FROM identities i WHERE i.subscriber_id = s.id) AS channels, \
     (SELECT group_concat(c.channel) FROM consents c WHERE c.subscriber_id = s.id \
        AND c.scope = 'marketing' AND c.status = 'granted' AND c.id = \
        (SELECT max(c2.id) FROM consents c2 WHERE c2.subscriber_id = s.id \
           AND c2.channel = c.channel AND c2.scope = 'marketing')) AS marketing, \
     (SELECT group_concat(i.channel) FROM identities i JOIN suppressions p \
        ON p.channel = i.channel AND p.address = i.address WHERE i.subscriber_id = s.id) AS suppressed \
     FROM subscribers s"
    };
}

// The filter comes in four static shapes (search or not, list or not): a `?n IS NULL OR …`
// form would make SQLite scan the whole table, these let it look up ids by index.
macro_rules! search_ids {
    () => {
        "s.id IN (\
           SELECT rowid FROM subscribers_fts WHERE subscribers_fts MATCH ?1 \
           UNION SELECT subscriber_id FROM identities \
             WHERE channel IN ('whatsapp', 'telegram', 'instagram') AND address >= ?4 AND address < ?5 \
           UNION SELECT subscriber_id FROM identities \
             WHERE channel IN ('whatsapp', 'telegram', 'instagram') AND address >= ?6 AND address < ?7 \
           UNION SELECT ?8)"
    };
}
macro_rules! list_ids {
    () => {
        "s.id IN (SELECT subscriber_id FROM list_members WHERE list_id = ?9)"
    };
}
macro_rules! filters {
    ($m:ident) => {
        [
            $m!("?1 IS NULL AND ?9 IS NULL AND ?4 IS NULL"),
            $m!(concat!(search_ids!(), " AND ?9 IS NULL")),
            $m!(concat!(list_ids!(), " AND ?1 IS NULL AND ?4 IS NULL")),
            $m!(concat!(search_ids!(), " AND ", list_ids!())),
        ]
    };
}

impl FilterBinds {
    /// Which of the four statement shapes this filter needs.
    fn shape(&self) -> usize {
        usize::from(self.fts.is_some()) + 2 * usize::from(self.list.is_some())
    }
}

/// What to show of the subscribers: a search and a list, both optional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubscriberFilter {
    /// Words of a name (prefixes), a phone in any format, a chat or Instagram id, or an id.
    pub search: Option<String>,
    pub list: Option<ListId>,
}

/// The binds of a filter, in the order the `filter!` SQL numbers them: an FTS5 query of
/// word prefixes (?1), two address prefix ranges (?4–?7: the digits as typed, and as an
/// E.164 phone), an exact subscriber id (?8) and a list (?9). Every part uses an index.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FilterBinds {
    pub fts: Option<String>,
    pub ranges: [(String, String); 2],
    pub id: Option<i64>,
    pub list: Option<i64>,
}

/// Whether a search text is the start of a phone too short to be looked up
/// ([`SubscriberFilter::short_phone`]).
pub fn short_phone(text: &str) -> bool {
    let text = text.trim();
    let digits = text.chars().filter(char::is_ascii_digit).count();
    (1..3).contains(&digits)
        && digits < text.len()
        && text
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '+' | ' ' | '(' | ')' | '-'))
}

impl SubscriberFilter {
    /// Whether the search is the start of a phone too short to be looked up (`+7`, `8 7`):
    /// addresses are matched from their first three digits on, so it can find no one by
    /// phone, and whoever searched is told so.
    pub fn short_phone(&self) -> bool {
        short_phone(self.search.as_deref().unwrap_or_default())
    }

    /// The binds for this filter.
    pub fn binds(&self) -> FilterBinds {
        let mut out = FilterBinds {
            list: self.list.map(|l| l.0),
            ..Default::default()
        };
        let Some(text) = self
            .search
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
        else {
            return out;
        };
        let words: Vec<String> = text
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(|w| format!("\"{}\"*", w.replace('"', "\"\"")))
            .collect();
        if words.is_empty() {
            return out;
        }
        out.fts = Some(words.join(" "));
        let digits: String = text.chars().filter(char::is_ascii_digit).collect();
        let range = |prefix: String| {
            let mut hi = prefix.clone();
            hi.push('\u{10ffff}');
            (prefix, hi)
        };
        if digits.len() >= 3 {
            // As operators in Kazakhstan and Russia type numbers: `8 701 …` and the ten digits
            // of `701 123 45 67` without the country code (with it, +7 has eleven).
            let phone = match digits.strip_prefix('8') {
                Some(rest) => format!("+7{rest}"),
                None if digits.len() == 10 && !text.starts_with('+') => format!("+7{digits}"),
                None => format!("+{digits}"),
            };
            out.ranges = [range(digits.clone()), range(phone)];
        }
        if digits.len() == text.len() {
            out.id = digits.parse().ok();
        }
        out
    }
}

/// Inserts a subscriber.
pub async fn insert(
    conn: &mut SqliteConnection,
    name: &str,
    locale: Option<&str>,
    time_zone: Option<&str>,
    attributes: &serde_json::Value,
    created_at: DateTime<Utc>,
) -> Result<SubscriberId, StoreError> {
    let id = sqlx::query_scalar(
        "INSERT INTO subscribers (name, locale, time_zone, attributes, created_at, updated_at) \
         VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(name)
    .bind(locale)
    .bind(time_zone)
    .bind(attributes.to_string())
    .bind(created_at)
    .bind(created_at)
    .fetch_one(conn)
    .await?;
    Ok(SubscriberId(id))
}

/// Adds an identity; returns its id.
pub async fn add_identity(
    conn: &mut SqliteConnection,
    subscriber: SubscriberId,
    channel: Channel,
    address: &str,
) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar(
        "INSERT INTO identities (subscriber_id, channel, address, created_at) \
         VALUES (?, ?, ?, ?) RETURNING id",
    )
    .bind(subscriber)
    .bind(channel)
    .bind(address)
    .bind(now())
    .fetch_one(conn)
    .await?)
}

/// Appends a consent event. Events are never changed or removed one by one.
pub async fn record_consent(
    conn: &mut SqliteConnection,
    c: &NewConsent<'_>,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO consents (subscriber_id, channel, scope, status, source, proof, at, recorded_by, \
         recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(c.subscriber)
    .bind(c.channel)
    .bind(c.scope)
    .bind(c.status)
    .bind(c.source)
    .bind(c.proof)
    .bind(c.at)
    .bind(c.recorded_by)
    .bind(c.recorded_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// The latest consent event for a subscriber on a channel and scope, if any: its status and
/// when it was given.
pub async fn latest_consent(
    conn: &mut SqliteConnection,
    id: SubscriberId,
    channel: Channel,
    scope: ConsentScope,
) -> Result<Option<(ConsentStatus, DateTime<Utc>)>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT status, at FROM consents WHERE subscriber_id = ? AND channel = ? AND scope = ? \
         ORDER BY id DESC LIMIT 1",
    )
    .bind(id)
    .bind(channel)
    .bind(scope)
    .fetch_optional(conn)
    .await?)
}

/// Suppresses an address on a channel; suppressing twice keeps the first reason. True when
/// the address was not suppressed before.
pub async fn suppress(
    conn: &mut SqliteConnection,
    channel: Channel,
    address: &str,
    reason: &str,
    by: &str,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "INSERT INTO suppressions (channel, address, reason, created_at, created_by) \
         VALUES (?, ?, ?, ?, ?) ON CONFLICT (channel, address) DO NOTHING",
    )
    .bind(channel)
    .bind(address)
    .bind(reason)
    .bind(now())
    .bind(by)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

impl Store {
    /// How many subscribers match the filter.
    pub async fn count_subscribers(&self, filter: &SubscriberFilter) -> Result<i64, StoreError> {
        macro_rules! count {
            ($f:expr) => {
                concat!(
                    "SELECT count(*) FROM subscribers s WHERE ?2 IS NULL AND ?3 IS NULL AND ",
                    $f
                )
            };
        }
        const SQL: [&str; 4] = filters!(count);
        let b = filter.binds();
        if b.shape() == 1 {
            return self.count_search(&b).await;
        }
        let sql = SQL[b.shape()];
        let active = b.fts.is_some();
        Ok(sqlx::query_scalar(sql)
            .bind(b.fts)
            .bind(None::<i64>)
            .bind(None::<i64>)
            .bind(active.then(|| b.ranges[0].0.clone()))
            .bind(&b.ranges[0].1)
            .bind(&b.ranges[1].0)
            .bind(&b.ranges[1].1)
            .bind(b.id)
            .bind(b.list)
            .fetch_one(self.pool())
            .await?)
    }

    /// One page of subscribers matching the filter, by id.
    pub async fn subscriber_page(
        &self,
        filter: &SubscriberFilter,
        req: PageRequest,
    ) -> Result<Vec<SubscriberRow>, StoreError> {
        macro_rules! paged {
            ($f:expr) => {
                page_sql!(select!(), $f, "s.id", "?2", "?3")
            };
        }
        const SQL: [[&str; 2]; 4] = filters!(paged);
        let b = filter.binds();
        if b.shape() == 1 {
            let ids = self.search_ids(&b, req).await?;
            return Ok(sqlx::query_as(concat!(
                select!(),
                " WHERE s.id IN (SELECT value FROM json_each(?1)) ORDER BY s.id"
            ))
            .bind(serde_json::to_string(&ids).unwrap_or_default())
            .fetch_all(self.pool())
            .await?);
        }
        let (sql, bound) = req.pick(SQL[b.shape()]);
        let active = b.fts.is_some();
        let rows = sqlx::query_as(sql)
            .bind(b.fts)
            .bind(bound)
            .bind(req.limit)
            .bind(active.then(|| b.ranges[0].0.clone()))
            .bind(&b.ranges[0].1)
            .bind(&b.ranges[1].0)
            .bind(&b.ranges[1].1)
            .bind(b.id)
            .bind(b.list)
            .fetch_all(self.pool())
            .await?;
        Ok(req.finish(rows))
    }

    /// Matches of a search over everyone, counted per index without a join: names in the
    /// FTS index, addresses by prefix, and an exact id. A subscriber found by both name and
    /// address counts twice; the list window corrects its total when it reaches the end.
    async fn count_search(&self, b: &FilterBinds) -> Result<i64, StoreError> {
        let mut n: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM subscribers_fts WHERE subscribers_fts MATCH ?1",
        )
        .bind(&b.fts)
        .fetch_one(self.pool())
        .await?;
        for (lo, hi) in b.ranges.iter().filter(|(lo, _)| !lo.is_empty()) {
            let m: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM identities WHERE channel IN ('whatsapp', 'telegram', 'instagram') \
                 AND address >= ?1 AND address < ?2",
            )
            .bind(lo)
            .bind(hi)
            .fetch_one(self.pool())
            .await?;
            n += m;
        }
        if let Some(id) = b.id {
            let found: Option<i64> = sqlx::query_scalar("SELECT id FROM subscribers WHERE id = ?1")
                .bind(id)
                .fetch_optional(self.pool())
                .await?;
            n += i64::from(found.is_some());
        }
        Ok(n)
    }

    /// The ids of the next page of a search over everyone, in id order: the next `limit`
    /// from each index, merged. Every part reads an index in order and stops early.
    async fn search_ids(&self, b: &FilterBinds, req: PageRequest) -> Result<Vec<i64>, StoreError> {
        const FTS: [&str; 2] = [
            "SELECT rowid FROM subscribers_fts WHERE subscribers_fts MATCH ?1 AND rowid > ?2 \
             ORDER BY rowid ASC LIMIT ?3",
            "SELECT rowid FROM subscribers_fts WHERE subscribers_fts MATCH ?1 AND rowid < ?2 \
             ORDER BY rowid DESC LIMIT ?3",
        ];
        const ADDRESS: [&str; 2] = [
            "SELECT subscriber_id FROM identities WHERE channel IN ('whatsapp', 'telegram', 'instagram') \
             AND address >= ?1 AND address < ?2 AND subscriber_id > ?3 ORDER BY subscriber_id ASC LIMIT ?4",
            "SELECT subscriber_id FROM identities WHERE channel IN ('whatsapp', 'telegram', 'instagram') \
             AND address >= ?1 AND address < ?2 AND subscriber_id < ?3 ORDER BY subscriber_id DESC LIMIT ?4",
        ];
        let (fts_sql, bound) = req.pick(FTS);
        let descending = fts_sql == FTS[1];
        let mut ids: Vec<i64> = sqlx::query_scalar(fts_sql)
            .bind(&b.fts)
            .bind(bound)
            .bind(req.limit)
            .fetch_all(self.pool())
            .await?;
        // A short prefix shared by a good part of everyone: its matches are read in
        // subscriber order from a bounded stretch of the subscriber index, instead of
        // sorting every match for one page. Worth trying once the matches outnumber
        // sqrt(page × identities), where the two costs meet; when the stretch does not hold
        // a whole page (matches bunched elsewhere), the sorted read is done as before.
        const ADDRESS_WALK: [&str; 2] = [
            "SELECT subscriber_id FROM (SELECT subscriber_id, channel, address FROM identities \
             INDEXED BY identities_subscriber WHERE subscriber_id > ?3 \
             ORDER BY subscriber_id ASC LIMIT ?5) \
             WHERE channel IN ('whatsapp', 'telegram', 'instagram') \
             AND address >= ?1 AND address < ?2 ORDER BY subscriber_id ASC LIMIT ?4",
            "SELECT subscriber_id FROM (SELECT subscriber_id, channel, address FROM identities \
             INDEXED BY identities_subscriber WHERE subscriber_id < ?3 \
             ORDER BY subscriber_id DESC LIMIT ?5) \
             WHERE channel IN ('whatsapp', 'telegram', 'instagram') \
             AND address >= ?1 AND address < ?2 ORDER BY subscriber_id DESC LIMIT ?4",
        ];
        let identities: i64 = sqlx::query_scalar("SELECT coalesce(max(id), 0) FROM identities")
            .fetch_one(self.pool())
            .await?;
        let dense_from = ((f64::from(req.limit) * identities as f64).sqrt() as i64).max(1);
        let (address_sql, _) = req.pick(ADDRESS);
        let (walk_sql, _) = req.pick(ADDRESS_WALK);
        for (lo, hi) in b.ranges.iter().filter(|(lo, _)| !lo.is_empty()) {
            let matches: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM (SELECT 1 FROM identities \
                 WHERE channel IN ('whatsapp', 'telegram', 'instagram') \
                 AND address >= ?1 AND address < ?2 LIMIT ?3)",
            )
            .bind(lo)
            .bind(hi)
            .bind(dense_from)
            .fetch_one(self.pool())
            .await?;
            if matches >= dense_from {
                let walked: Vec<i64> = sqlx::query_scalar(walk_sql)
                    .bind(lo)
                    .bind(hi)
                    .bind(bound)
                    .bind(req.limit)
                    .bind(4 * dense_from)
                    .fetch_all(self.pool())
                    .await?;
                if walked.len() >= req.limit as usize {
                    ids.extend(walked);
                    continue;
                }
            }
            let more: Vec<i64> = sqlx::query_scalar(address_sql)
                .bind(lo)
                .bind(hi)
                .bind(bound)
                .bind(req.limit)
                .fetch_all(self.pool())
                .await?;
            ids.extend(more);
        }
        if let Some(id) =
            b.id.filter(|&id| if descending { id < bound } else { id > bound })
        {
            let found: Option<i64> = sqlx::query_scalar("SELECT id FROM subscribers WHERE id = ?1")
                .bind(id)
                .fetch_optional(self.pool())
                .await?;
            ids.extend(found);
        }
        ids.sort_unstable();
        ids.dedup();
        if descending {
            ids.reverse();
        }
        ids.truncate(req.limit as usize);
        Ok(ids)
    }

    /// Everything about one subscriber.
    pub async fn subscriber_detail(
        &self,
        id: SubscriberId,
    ) -> Result<Option<SubscriberDetail>, StoreError> {
        let Some(row) = sqlx::query_as::<_, SubscriberRow>(concat!(select!(), " WHERE s.id = ?"))
            .bind(id)
            .fetch_optional(self.pool())
            .await?
        else {
            return Ok(None);
        };
        let (attributes, created_at): (String, DateTime<Utc>) =
            sqlx::query_as("SELECT attributes, created_at FROM subscribers WHERE id = ?")
                .bind(id)
                .fetch_one(self.pool())
                .await?;
        let attributes = match serde_json::from_str(&attributes) {
            Ok(serde_json::Value::Object(map)) => map,
            _ => return Err(StoreError::Decode(format!("attributes of subscriber {id}"))),
        };
        let identities = identities(self.pool(), id).await?;
        let consents = sqlx::query_as(
            "SELECT id, channel, scope, status, source, proof, at, recorded_by, recorded_at \
             FROM consents WHERE subscriber_id = ? ORDER BY id DESC",
        )
        .bind(id)
        .fetch_all(self.pool())
        .await?;
        let lists = sqlx::query_scalar(
            "SELECT l.name FROM lists l JOIN list_members m ON m.list_id = l.id \
             WHERE m.subscriber_id = ? ORDER BY l.name",
        )
        .bind(id)
        .fetch_all(self.pool())
        .await?;
        // Through the identities' index: the outbox has none on the subscriber.
        let messages = sqlx::query_as(
            "SELECT o.campaign_id, c.name AS campaign, i.channel, o.state, \
             coalesce(o.sent_at, o.updated_at) AS at, \
             CASE o.state WHEN 'skipped' THEN o.skip_reason \
               WHEN 'failed' THEN trim(coalesce(o.fail_class, '') || ' ' || coalesce(o.fail_code, '')) \
               WHEN 'unknown' THEN o.fail_code END AS why \
             FROM identities i JOIN outbox o ON o.identity_id = i.id \
             JOIN campaigns c ON c.id = o.campaign_id \
             WHERE i.subscriber_id = ? ORDER BY o.id DESC LIMIT ?",
        )
        .bind(id)
        .bind(MESSAGES_SHOWN)
        .fetch_all(self.pool())
        .await?;
        Ok(Some(SubscriberDetail {
            row,
            attributes,
            created_at,
            identities,
            consents,
            lists,
            messages,
        }))
    }
}

/// One subscriber as exported: identities, current marketing and service consent per channel
/// (with when, from where and with what proof it was given), attributes.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ExportRow {
    pub id: SubscriberId,
    pub name: String,
    pub locale: Option<String>,
    pub time_zone: Option<String>,
    pub attributes: String,
    pub phone: Option<String>,
    pub telegram_chat_id: Option<String>,
    pub instagram_id: Option<String>,
    pub consent_whatsapp: Option<String>,
    pub consent_telegram: Option<String>,
    pub consent_instagram: Option<String>,
    pub consent_whatsapp_at: Option<DateTime<Utc>>,
    pub consent_whatsapp_source: Option<String>,
    pub consent_whatsapp_proof: Option<String>,
    pub consent_telegram_at: Option<DateTime<Utc>>,
    pub consent_telegram_source: Option<String>,
    pub consent_telegram_proof: Option<String>,
    pub consent_instagram_at: Option<DateTime<Utc>>,
    pub consent_instagram_source: Option<String>,
    pub consent_instagram_proof: Option<String>,
    /// Read only for an export that has service consent (`None` reads as none).
    #[sqlx(skip)]
    pub service: Option<Box<ServiceExport>>,
    /// Addresses past the first on a channel, oldest first; read only for an export where
    /// someone has one (else empty).
    #[sqlx(skip)]
    pub more: Vec<(Channel, String)>,
}

/// A subscriber's current service consent per channel, as exported: read apart from the rest
/// of a row, as most exports have none, and selecting twelve empty columns a row cost a
/// quarter of an export of a million (each value is copied out of SQLite one by one).
#[derive(Debug, Clone, Default, PartialEq, sqlx::FromRow)]
pub struct ServiceExport {
    pub service_whatsapp: Option<String>,
    pub service_whatsapp_at: Option<DateTime<Utc>>,
    pub service_whatsapp_source: Option<String>,
    pub service_whatsapp_proof: Option<String>,
    pub service_telegram: Option<String>,
    pub service_telegram_at: Option<DateTime<Utc>>,
    pub service_telegram_source: Option<String>,
    pub service_telegram_proof: Option<String>,
    pub service_instagram: Option<String>,
    pub service_instagram_at: Option<DateTime<Utc>>,
    pub service_instagram_source: Option<String>,
    pub service_instagram_proof: Option<String>,
}

/// An export's row with its service consent, and every address it has where asked for.
#[derive(sqlx::FromRow)]
struct WithService {
    #[sqlx(flatten)]
    row: ExportRow,
    #[sqlx(flatten)]
    service: ServiceExport,
    /// `channel address` pairs, space-separated, oldest first (`all_addresses!`).
    addresses: Option<String>,
}

/// An export's row with every address it has, for an export without service consent.
#[derive(sqlx::FromRow)]
struct WithAddresses {
    #[sqlx(flatten)]
    row: ExportRow,
    /// As [`WithService::addresses`].
    addresses: Option<String>,
}

impl WithService {
    fn into_row(self) -> ExportRow {
        let WithService {
            row,
            service,
            addresses,
        } = self;
        ExportRow {
            service: Some(Box::new(service)),
            more: more_addresses(addresses.as_deref()),
            ..row
        }
    }
}

/// A subscriber's every address, as `channel address` pairs oldest first: no address holds a
/// space (phones are E.164, ids digits).
macro_rules! all_addresses {
    () => {
        ", (SELECT group_concat(i.channel || ' ' || i.address, ' ' ORDER BY i.id) \
         FROM identities i WHERE i.subscriber_id = s.id) AS addresses"
    };
}

/// The addresses past the first on each channel, as `all_addresses!` lists them (none where
/// it was not read).
fn more_addresses(list: Option<&str>) -> Vec<(Channel, String)> {
    let mut words = list.unwrap_or_default().split(' ');
    let mut seen = [false; 3];
    let mut more = Vec::new();
    while let (Some(channel), Some(address)) = (words.next(), words.next()) {
        let Ok(channel) = channel.parse::<Channel>() else {
            continue;
        };
        if std::mem::replace(&mut seen[channel.index()], true) {
            more.push((channel, address.to_string()));
        }
    }
    more
}

impl ExportRow {
    /// The current consent on a channel for a scope: status, when it was given, source, proof.
    pub fn consent(&self, scope: ConsentScope, channel: Channel) -> ExportedConsent<'_> {
        if scope == ConsentScope::Service {
            return self
                .service
                .as_deref()
                .map(|s| s.consent(channel))
                .unwrap_or_default();
        }
        match channel {
            Channel::WhatsApp => ExportedConsent::of(
                &self.consent_whatsapp,
                self.consent_whatsapp_at,
                &self.consent_whatsapp_source,
                &self.consent_whatsapp_proof,
            ),
            Channel::Telegram => ExportedConsent::of(
                &self.consent_telegram,
                self.consent_telegram_at,
                &self.consent_telegram_source,
                &self.consent_telegram_proof,
            ),
            Channel::Instagram => ExportedConsent::of(
                &self.consent_instagram,
                self.consent_instagram_at,
                &self.consent_instagram_source,
                &self.consent_instagram_proof,
            ),
        }
    }
}

impl ServiceExport {
    /// The current service consent on a channel.
    fn consent(&self, channel: Channel) -> ExportedConsent<'_> {
        match channel {
            Channel::WhatsApp => ExportedConsent::of(
                &self.service_whatsapp,
                self.service_whatsapp_at,
                &self.service_whatsapp_source,
                &self.service_whatsapp_proof,
            ),
            Channel::Telegram => ExportedConsent::of(
                &self.service_telegram,
                self.service_telegram_at,
                &self.service_telegram_source,
                &self.service_telegram_proof,
            ),
            Channel::Instagram => ExportedConsent::of(
                &self.service_instagram,
                self.service_instagram_at,
                &self.service_instagram_source,
                &self.service_instagram_proof,
            ),
        }
    }
}

/// The current consent on one channel for one scope, as exported (all `None`: none).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ExportedConsent<'a> {
    pub status: Option<&'a str>,
    pub at: Option<DateTime<Utc>>,
    pub source: Option<&'a str>,
    pub proof: Option<&'a str>,
}

impl<'a> ExportedConsent<'a> {
    fn of(
        status: &'a Option<String>,
        at: Option<DateTime<Utc>>,
        source: &'a Option<String>,
        proof: &'a Option<String>,
    ) -> ExportedConsent<'a> {
        ExportedConsent {
            status: status.as_deref(),
            at,
            source: source.as_deref(),
            proof: proof.as_deref(),
        }
    }
}

/// Joins the latest consent event on a channel for a scope as `$alias`.
macro_rules! latest_consent {
    ($scope:literal, $channel:literal, $alias:literal) => {
        concat!(
            "LEFT JOIN consents ",
            $alias,
            " ON ",
            $alias,
            ".id = (SELECT c.id FROM consents c \
             WHERE c.subscriber_id = s.id AND c.channel = '",
            $channel,
            "' AND c.scope = '",
            $scope,
            "' ORDER BY c.id DESC LIMIT 1) "
        )
    };
}

/// The service consent columns of an export, read from the joins `service_consent_joins!`
/// makes: `$alias` is `sw`, `st` or `si`.
macro_rules! service_columns {
    ($channel:literal, $alias:literal) => {
        concat!(
            ", ",
            $alias,
            ".status AS service_",
            $channel,
            ", ",
            $alias,
            ".at AS service_",
            $channel,
            "_at, ",
            $alias,
            ".source AS service_",
            $channel,
            "_source, ",
            $alias,
            ".proof AS service_",
            $channel,
            "_proof"
        )
    };
}

/// An export's query: `$service` are the service columns, `$joins` what they read.
macro_rules! export_query {
    ($service:expr, $joins:expr) => {
        concat!(
            "SELECT s.id, s.name, s.locale, s.time_zone, s.attributes, ",
            "(SELECT address FROM identities WHERE subscriber_id = s.id AND channel = 'whatsapp' ORDER BY id LIMIT 1) AS phone, ",
            "(SELECT address FROM identities WHERE subscriber_id = s.id AND channel = 'telegram' ORDER BY id LIMIT 1) AS telegram_chat_id, ",
            "(SELECT address FROM identities WHERE subscriber_id = s.id AND channel = 'instagram' ORDER BY id LIMIT 1) AS instagram_id, ",
            "cw.status AS consent_whatsapp, cw.at AS consent_whatsapp_at, ",
            "cw.source AS consent_whatsapp_source, cw.proof AS consent_whatsapp_proof, ",
            "ct.status AS consent_telegram, ct.at AS consent_telegram_at, ",
            "ct.source AS consent_telegram_source, ct.proof AS consent_telegram_proof, ",
            "ci.status AS consent_instagram, ci.at AS consent_instagram_at, ",
            "ci.source AS consent_instagram_source, ci.proof AS consent_instagram_proof",
            $service,
            " FROM subscribers s ",
            latest_consent!("marketing", "whatsapp", "cw"),
            latest_consent!("marketing", "telegram", "ct"),
            latest_consent!("marketing", "instagram", "ci"),
            $joins,
            "WHERE ?1 IS NULL OR s.id IN ",
            "(SELECT subscriber_id FROM list_members WHERE list_id = ?1) ORDER BY s.id"
        )
    };
}

/// The subscriber an address belongs to on a channel, if anyone's.
pub async fn by_address(
    conn: &mut SqliteConnection,
    channel: Channel,
    address: &str,
) -> Result<Option<SubscriberId>, StoreError> {
    Ok(
        sqlx::query_scalar(
            "SELECT subscriber_id FROM identities WHERE channel = ? AND address = ?",
        )
        .bind(channel)
        .bind(address)
        .fetch_optional(conn)
        .await?,
    )
}

/// A subscriber's identities, by channel, each with its suppression's reason if it has one.
pub async fn identities<'e>(
    conn: impl sqlx::SqliteExecutor<'e>,
    id: SubscriberId,
) -> Result<Vec<IdentityRow>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT i.id, i.channel, i.address, p.reason AS suppressed FROM identities i \
         LEFT JOIN suppressions p ON p.channel = i.channel AND p.address = i.address \
         WHERE i.subscriber_id = ? ORDER BY i.channel, i.id",
    )
    .bind(id)
    .fetch_all(conn)
    .await?)
}

/// Records in the audit log that an address was suppressed (or, with `lift`, freed), by
/// whom and why.
async fn audit_suppression(
    conn: &mut SqliteConnection,
    by: &str,
    lift: bool,
    channel: Channel,
    address: &str,
    reason: &str,
) -> Result<(), StoreError> {
    super::audit::record(
        conn,
        by,
        if lift {
            "suppression.remove"
        } else {
            "suppression.add"
        },
        "address",
        Some(&format!("{}:{address}", channel.as_str())),
        &serde_json::json!({ "reason": reason }),
    )
    .await
}

/// Suppresses an address for `reason`, audited; its queued campaign rows are skipped as
/// `suppressed` at once. Returns whether it was not suppressed before, and how many rows
/// were skipped.
pub async fn suppress_address(
    conn: &mut SqliteConnection,
    channel: Channel,
    address: &str,
    reason: &str,
    by: &str,
) -> Result<(bool, u64), StoreError> {
    let skipped = super::outbox::skip_queued_for(conn, channel, address, "suppressed").await?;
    let new = suppress(conn, channel, address, reason, by).await?;
    if new {
        audit_suppression(conn, by, false, channel, address, reason).await?;
    }
    Ok((new, skipped))
}

/// An address's suppression: why, when and by whom.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SuppressionRow {
    pub reason: String,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
}

/// The suppression of an address, if it has one.
pub async fn suppression(
    conn: &mut SqliteConnection,
    channel: Channel,
    address: &str,
) -> Result<Option<SuppressionRow>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT reason, created_at, created_by FROM suppressions WHERE channel = ? AND address = ?",
    )
    .bind(channel)
    .bind(address)
    .fetch_optional(conn)
    .await?)
}

/// Lifts an address's suppression, audited with `reason`. False, with nothing written, when
/// it had none.
pub async fn lift_suppression(
    conn: &mut SqliteConnection,
    channel: Channel,
    address: &str,
    reason: &str,
    by: &str,
) -> Result<bool, StoreError> {
    if !unsuppress(conn, channel, address).await? {
        return Ok(false);
    }
    audit_suppression(conn, by, true, channel, address, reason).await?;
    Ok(true)
}

/// Suppresses every address of a subscriber not yet suppressed or, with `lift`, frees every
/// suppressed one; each change is audited. Returns the addresses changed.
pub async fn suppress_subscriber(
    conn: &mut SqliteConnection,
    id: SubscriberId,
    lift: bool,
    reason: &str,
    by: &str,
) -> Result<Vec<(Channel, String)>, StoreError> {
    let mut changed = Vec::new();
    for i in identities(&mut *conn, id).await? {
        let done = match (lift, i.suppressed.is_some()) {
            (false, false) => {
                suppress_address(conn, i.channel, &i.address, reason, by)
                    .await?
                    .0
            }
            (true, true) => lift_suppression(conn, i.channel, &i.address, reason, by).await?,
            _ => false,
        };
        if done {
            changed.push((i.channel, i.address));
        }
    }
    Ok(changed)
}

/// What recording a consent change came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConsentChange {
    /// The subscriber has no address on the channel: there is nothing to consent to.
    NoAddress,
    /// Their latest consent there already says so: nothing was recorded.
    Unchanged,
    /// The statement is dated before the latest consent there, which says otherwise: an
    /// older statement does not override a newer one (as in an import), nothing was recorded.
    Outdated {
        /// The latest consent on record and when it was given.
        status: ConsentStatus,
        at: DateTime<Utc>,
    },
    /// Recorded and audited.
    Recorded {
        /// The address on the channel.
        address: String,
        /// Why the address is suppressed, if it is: a grant does not make it messaged then.
        suppressed: Option<String>,
        /// Queued campaign rows of the scope to it that a withdrawal skipped.
        skipped: u64,
    },
}

/// Records a consent given or withdrawn for a subscriber (by phone, on paper), audited as
/// `consent.grant` or `consent.withdraw` with the source and proof. A withdrawal skips their
/// queued campaign rows of that scope on the channel at once, as a suppression does. The one
/// writer for the command line's `subscribers consent` and the console's consent form.
pub async fn change_consent(
    conn: &mut SqliteConnection,
    c: &NewConsent<'_>,
) -> Result<ConsentChange, StoreError> {
    let Some(identity) = identities(&mut *conn, c.subscriber)
        .await?
        .into_iter()
        .find(|i| i.channel == c.channel)
    else {
        return Ok(ConsentChange::NoAddress);
    };
    let latest = latest_consent(conn, c.subscriber, c.channel, c.scope).await?;
    match against_record(latest, c.status, c.at) {
        Some(OnRecord::Same) => return Ok(ConsentChange::Unchanged),
        Some(OnRecord::Newer { status, at }) => {
            return Ok(ConsentChange::Outdated { status, at });
        }
        None => {}
    }
    record_consent(conn, c).await?;
    let grant = c.status == ConsentStatus::Granted;
    super::audit::record(
        conn,
        c.recorded_by,
        if grant {
            "consent.grant"
        } else {
            "consent.withdraw"
        },
        "subscriber",
        Some(&c.subscriber.to_string()),
        &serde_json::json!({
            "channel": c.channel, "scope": c.scope, "source": c.source, "proof": c.proof,
        }),
    )
    .await?;
    let skipped = if grant {
        0
    } else {
        super::outbox::skip_queued_of_scope(conn, identity.id, c.scope, "consent withdrawn").await?
    };
    Ok(ConsentChange::Recorded {
        address: identity.address,
        suppressed: identity.suppressed,
        skipped,
    })
}

/// Takes an address off the do-not-contact list; says whether it was on it.
pub async fn unsuppress(
    conn: &mut SqliteConnection,
    channel: Channel,
    address: &str,
) -> Result<bool, StoreError> {
    let done = sqlx::query("DELETE FROM suppressions WHERE channel = ? AND address = ?")
        .bind(channel)
        .bind(address)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() > 0)
}

impl Store {
    /// Every subscriber of a list (or everyone), streamed in id order; their service
    /// consent only with `service` (else it reads as none: [`Store::has_service_consent`]
    /// tells whether anyone has one), their addresses past the first on a channel only with
    /// `more` ([`Store::most_addresses`]).
    pub fn export_rows(
        &self,
        list: Option<ListId>,
        service: bool,
        more: bool,
    ) -> futures::stream::BoxStream<'_, Result<ExportRow, StoreError>> {
        use futures::StreamExt;
        macro_rules! with_service {
            ($addresses:expr) => {
                export_query!(
                    concat!(
                        service_columns!("whatsapp", "sw"),
                        service_columns!("telegram", "st"),
                        service_columns!("instagram", "si"),
                        $addresses
                    ),
                    concat!(
                        latest_consent!("service", "whatsapp", "sw"),
                        latest_consent!("service", "telegram", "st"),
                        latest_consent!("service", "instagram", "si")
                    )
                )
            };
        }
        if service {
            let sql = if more {
                with_service!(all_addresses!())
            } else {
                with_service!(", NULL AS addresses")
            };
            sqlx::query_as(sql)
                .bind(list)
                .fetch(self.pool())
                .map(|r: Result<WithService, _>| Ok(r?.into_row()))
                .boxed()
        } else if more {
            sqlx::query_as(export_query!(all_addresses!(), ""))
                .bind(list)
                .fetch(self.pool())
                .map(|r: Result<WithAddresses, _>| {
                    let WithAddresses { row, addresses } = r?;
                    Ok(ExportRow {
                        more: more_addresses(addresses.as_deref()),
                        ..row
                    })
                })
                .boxed()
        } else {
            sqlx::query_as(export_query!("", ""))
                .bind(list)
                .fetch(self.pool())
                .map(|r| r.map_err(StoreError::from))
                .boxed()
        }
    }

    /// Whether any subscriber of a list (or anyone) has a service consent on record, granted
    /// or withdrawn: an export writes service consent columns only then.
    pub async fn has_service_consent(&self, list: Option<ListId>) -> Result<bool, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM consents c WHERE c.scope = 'service' AND (?1 IS NULL \
             OR c.subscriber_id IN (SELECT subscriber_id FROM list_members WHERE list_id = ?1)))",
        )
        .bind(list)
        .fetch_one(self.pool())
        .await?)
    }

    /// The most addresses anyone of a list (or anyone) has on each channel, in
    /// [`Channel::ALL`]'s order, where someone has more than one there (else 0): an export
    /// writes a column for each (`phone_2`, …) only then. Only subscribers with more than one
    /// address at all are looked at (the index on identities' subscribers is read alone).
    pub async fn most_addresses(&self, list: Option<ListId>) -> Result<[u32; 3], StoreError> {
        let counts: Vec<(Channel, u32)> = sqlx::query_as(
            "SELECT channel, max(n) FROM (SELECT i.channel, count(*) AS n FROM identities i \
               JOIN (SELECT subscriber_id FROM identities GROUP BY subscriber_id \
                     HAVING count(*) > 1) m ON m.subscriber_id = i.subscriber_id \
               WHERE ?1 IS NULL OR i.subscriber_id IN \
                 (SELECT subscriber_id FROM list_members WHERE list_id = ?1) \
               GROUP BY i.subscriber_id, i.channel HAVING count(*) > 1) \
             GROUP BY channel",
        )
        .bind(list)
        .fetch_all(self.pool())
        .await?;
        let mut most = [0; 3];
        for (channel, n) in counts {
            most[channel.index()] = n;
        }
        Ok(most)
    }

    /// The attribute names used by the subscribers of a list (or everyone), sorted.
    pub async fn attribute_keys(&self, list: Option<ListId>) -> Result<Vec<String>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT DISTINCT j.key FROM subscribers s, json_each(s.attributes) j \
             WHERE ?1 IS NULL OR s.id IN (SELECT subscriber_id FROM list_members WHERE list_id = ?1) \
             ORDER BY 1",
        )
        .bind(list)
        .fetch_all(self.pool())
        .await?)
    }

    /// Subscribers that may be messaged, per channel, for a scope: the set-based form of
    /// `domain::consent::sendable`, for counts and for materialising an outbox.
    ///
    /// Counted from whichever side is smaller, read in one transaction:
    /// - From the subscribers in id order: the list's members, or for everyone the ids in the
    ///   identities' subscriber index (a subscriber with no identity is sendable nowhere), a
    ///   narrow index rather than the subscribers' wide rows. Each consent and identity
    ///   look-up is then next to the last one: 1.4–2.3 s for WhatsApp among a million
    ///   subscribers with 1.9 million phones, against 6.9–9.9 s from the channel's
    ///   identities, whose address order sends every look-up somewhere else.
    /// - From the channel's identities when it has fewer of them than there are subscribers
    ///   to count: a channel nobody is on costs nothing, nor does a small list in a large
    ///   workspace.
    pub async fn sendable_counts(
        &self,
        list: Option<ListId>,
        scope: ConsentScope,
    ) -> Result<Vec<(Channel, i64)>, StoreError> {
        // The two rules of the gate, written once for both ways of counting: `?1` is the
        // channel, `?2` the scope, `$who` the subscriber's id in the outer query, `i` an
        // identity of theirs on the channel.
        macro_rules! granted {
            ($who:literal) => {
                concat!(
                    "(SELECT c.status FROM consents c WHERE c.subscriber_id = ",
                    $who,
                    " AND c.channel = ?1 AND c.scope = ?2 ORDER BY c.id DESC LIMIT 1) = 'granted'"
                )
            };
        }
        macro_rules! unsuppressed {
            () => {
                "NOT EXISTS (SELECT 1 FROM suppressions p \
                 WHERE p.channel = i.channel AND p.address = i.address)"
            };
        }
        macro_rules! sendable_by_member {
            ($from:literal, $who:literal) => {
                concat!(
                    "SELECT count(*) FROM ",
                    $from,
                    " AND ",
                    granted!($who),
                    " AND EXISTS (SELECT 1 FROM identities i WHERE i.subscriber_id = ",
                    $who,
                    " AND i.channel = ?1 AND ",
                    unsuppressed!(),
                    ")"
                )
            };
        }
        const BY_IDENTITY: &str = concat!(
            "SELECT count(DISTINCT i.subscriber_id) FROM identities i WHERE i.channel = ?1 \
             AND (?3 IS NULL OR i.subscriber_id IN \
               (SELECT subscriber_id FROM list_members WHERE list_id = ?3)) AND ",
            unsuppressed!(),
            " AND ",
            granted!("i.subscriber_id")
        );
        // `?3` is the list in both, so that both take the same binds.
        let by_member = match list {
            None => sendable_by_member!(
                "(SELECT DISTINCT subscriber_id AS sid FROM identities) WHERE ?3 IS NULL",
                "sid"
            ),
            Some(_) => {
                sendable_by_member!("list_members m WHERE m.list_id = ?3", "m.subscriber_id")
            }
        };
        let mut tx = self.read().await?;
        let members: i64 = match list {
            None => sqlx::query_scalar("SELECT count(*) FROM subscribers"),
            Some(l) => {
                sqlx::query_scalar("SELECT count(*) FROM list_members WHERE list_id = ?").bind(l)
            }
        }
        .fetch_one(&mut *tx)
        .await?;
        let mut out = Vec::new();
        for channel in Channel::ALL {
            // The channel's identities, counted no further than there are subscribers.
            let fewer: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM (SELECT 1 FROM identities WHERE channel = ?1 LIMIT ?2)",
            )
            .bind(channel)
            .bind(members)
            .fetch_one(&mut *tx)
            .await?;
            let sql = if fewer < members {
                BY_IDENTITY
            } else {
                by_member
            };
            let n: i64 = sqlx::query_scalar(sql)
                .bind(channel)
                .bind(scope)
                .bind(list)
                .fetch_one(&mut *tx)
                .await?;
            out.push((channel, n));
        }
        Ok(out)
    }
}

/// A subscriber's name, language and time zone as they stand, read inside the transaction
/// that changes them (the channel columns are left empty).
pub async fn profile(
    conn: &mut SqliteConnection,
    id: SubscriberId,
) -> Result<Option<SubscriberRow>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT id, name, locale, time_zone, NULL AS channels, NULL AS marketing, \
         NULL AS suppressed FROM subscribers WHERE id = ?",
    )
    .bind(id)
    .fetch_optional(conn)
    .await?)
}

/// Changes a subscriber's name, language and time zone, and records who did it, with what
/// they were.
pub async fn update_profile(
    conn: &mut SqliteConnection,
    before: &SubscriberRow,
    name: &str,
    locale: Option<&str>,
    time_zone: Option<&str>,
    actor: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE subscribers SET name = ?, locale = ?, time_zone = ?, updated_at = ? WHERE id = ?",
    )
    .bind(name)
    .bind(locale)
    .bind(time_zone)
    .bind(super::now())
    .bind(before.id)
    .execute(&mut *conn)
    .await?;
    super::audit::record(
        conn,
        actor,
        "subscriber.edit",
        "subscriber",
        Some(&before.id.to_string()),
        &serde_json::json!({
            "name": name,
            "locale": locale,
            "time_zone": time_zone,
            "before": {
                "name": before.name,
                "locale": before.locale,
                "time_zone": before.time_zone,
            },
        }),
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::SubscriberFilter;

    /// The start of a phone too short to look up is told apart from an id, a name and a
    /// phone long enough.
    #[test]
    fn a_phone_too_short_to_look_up() {
        let short = |s: &str| {
            SubscriberFilter {
                search: Some(s.into()),
                list: None,
            }
            .short_phone()
        };
        for s in ["+7", " +7 ", "8 7", "+7 (7", "(70"] {
            assert!(short(s), "{s}");
        }
        for s in [
            "",
            "7",
            "12",
            "+770",
            "8 701",
            "Айгерим",
            "Aida 5",
            "+",
            "+7 Aida",
        ] {
            assert!(!short(s), "{s}");
        }
    }
}
