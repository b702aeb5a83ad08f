//! The history of counterparty checks the operator ran.

use super::page::{self, page_sql};
use super::{PageRequest, Store, StoreError};
use chrono::{DateTime, Utc};
use sqlx::SqliteConnection;

/// One past check.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct LookupRow {
    pub id: i64,
    pub input: String,
    pub normalized: String,
    pub kind: String,
    pub valid: bool,
    pub summary: String,
    /// JSON document of the full result.
    pub detail: String,
    pub checked_at: DateTime<Utc>,
}

/// A check to record.
#[derive(Debug, Clone)]
pub struct NewLookup<'a> {
    pub input: &'a str,
    pub normalized: &'a str,
    pub kind: &'a str,
    pub valid: bool,
    pub summary: &'a str,
    pub detail: &'a serde_json::Value,
    pub checked_at: DateTime<Utc>,
}

/// Records a check.
pub async fn insert(conn: &mut SqliteConnection, l: &NewLookup<'_>) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar(
        "INSERT INTO lookups (input, normalized, kind, valid, summary, detail, checked_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(l.input)
    .bind(l.normalized)
    .bind(l.kind)
    .bind(l.valid)
    .bind(l.summary)
    .bind(l.detail.to_string())
    .bind(l.checked_at)
    .fetch_one(conn)
    .await?)
}

impl Store {
    /// How many checks are recorded.
    pub async fn count_lookups(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar("SELECT count(*) FROM lookups")
            .fetch_one(self.pool())
            .await?)
    }

    /// One page of checks, by id.
    pub async fn lookup_page(&self, req: PageRequest) -> Result<Vec<LookupRow>, StoreError> {
        const SQL: [&str; 2] = page_sql!(
            "SELECT id, input, normalized, kind, valid, summary, detail, checked_at FROM lookups",
            "1 = 1",
            "id",
            "?1",
            "?2"
        );
        page::fetch(self.pool(), SQL, req).await
    }
}
