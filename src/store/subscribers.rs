//! Subscribers with their identities per channel, append-only consent events and global
//! suppressions.

use super::page::{like_pattern, page_sql};
use super::{PageRequest, Store, StoreError, now};
use crate::domain::{Channel, ConsentScope, ConsentStatus, SubscriberId};
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

macro_rules! filter {
    () => {
        "(?1 IS NULL OR s.name LIKE ?1 ESCAPE '\\' OR EXISTS \
     (SELECT 1 FROM identities f WHERE f.subscriber_id = s.id AND f.address LIKE ?1 ESCAPE '\\'))"
    };
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
        "INSERT INTO consents (subscriber_id, channel, scope, status, source, proof, at, recorded_by) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(c.subscriber)
    .bind(c.channel)
    .bind(c.scope)
    .bind(c.status)
    .bind(c.source)
    .bind(c.proof)
    .bind(c.at)
    .bind(c.recorded_by)
    .execute(conn)
    .await?;
    Ok(())
}

/// Suppresses an address on a channel; suppressing twice keeps the first reason.
pub async fn suppress(
    conn: &mut SqliteConnection,
    channel: Channel,
    address: &str,
    reason: &str,
    by: &str,
) -> Result<(), StoreError> {
    sqlx::query(
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
    Ok(())
}

impl Store {
    /// How many subscribers match the search (all when `None`).
    pub async fn count_subscribers(&self, search: Option<&str>) -> Result<i64, StoreError> {
        let pattern = search.map(like_pattern);
        Ok(sqlx::query_scalar(concat!(
            "SELECT count(*) FROM subscribers s WHERE ",
            filter!()
        ))
        .bind(pattern)
        .fetch_one(self.pool())
        .await?)
    }

    /// One page of subscribers matching the search, by id.
    pub async fn subscriber_page(
        &self,
        search: Option<&str>,
        req: PageRequest,
    ) -> Result<Vec<SubscriberRow>, StoreError> {
        const SQL: [&str; 2] = page_sql!(select!(), filter!(), "s.id", "?2", "?3");
        let (sql, bound) = req.pick(SQL);
        let rows = sqlx::query_as(sql)
            .bind(search.map(like_pattern))
            .bind(bound)
            .bind(req.limit)
            .fetch_all(self.pool())
            .await?;
        Ok(req.finish(rows))
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
        let identities = sqlx::query_as(
            "SELECT i.id, i.channel, i.address, p.reason AS suppressed FROM identities i \
             LEFT JOIN suppressions p ON p.channel = i.channel AND p.address = i.address \
             WHERE i.subscriber_id = ? ORDER BY i.channel, i.id",
        )
        .bind(id)
        .fetch_all(self.pool())
        .await?;
        let consents = sqlx::query_as(
            "SELECT id, channel, scope, status, source, proof, at, recorded_by FROM consents \
             WHERE subscriber_id = ? ORDER BY id DESC",
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
        Ok(Some(SubscriberDetail {
            row,
            attributes,
            created_at,
            identities,
            consents,
            lists,
        }))
    }
}
