//! What counterparty checks keep: registry answers for their time to live, and the State
//! Revenue Committee's risk lists (each import replaces its list whole, in one transaction).

use super::{Store, StoreError, now};
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::SqliteConnection;

/// A kept registry answer.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Cached {
    pub status: String,
    /// The source's data as JSON.
    pub body: String,
    pub fetched_at: DateTime<Utc>,
}

/// A kept answer of `source` about `number`, unless it has expired by `at`.
pub async fn cached(
    store: &Store,
    source: &str,
    number: &str,
    at: DateTime<Utc>,
) -> Result<Option<Cached>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT status, body, fetched_at FROM registry_cache \
         WHERE source = ? AND number = ? AND expires_at > ?",
    )
    .bind(source)
    .bind(number)
    .bind(at)
    .fetch_optional(store.pool())
    .await?)
}

/// Keeps an answer until `expires_at`.
pub async fn keep(
    store: &Store,
    source: &str,
    number: &str,
    status: &str,
    body: &serde_json::Value,
    fetched_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO registry_cache (source, number, status, body, fetched_at, expires_at) \
         VALUES (?, ?, ?, ?, ?, ?) \
         ON CONFLICT (source, number) DO UPDATE SET status = excluded.status, \
         body = excluded.body, fetched_at = excluded.fetched_at, expires_at = excluded.expires_at",
    )
    .bind(source)
    .bind(number)
    .bind(status)
    .bind(body.to_string())
    .bind(fetched_at)
    .bind(expires_at)
    .execute(store.pool())
    .await?;
    Ok(())
}

/// One row of a risk list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RiskRow {
    pub bin: String,
    pub name: Option<String>,
    /// The decision's or order's number; empty when the file has none.
    pub decision: String,
    pub decided_on: Option<NaiveDate>,
}

/// An imported file, for the record.
#[derive(Debug, Clone)]
pub struct RiskFile<'a> {
    pub list: &'a str,
    pub file: &'a str,
    pub sha256: &'a str,
    pub skipped: u64,
    /// The date the file says its data is as of.
    pub as_of: Option<NaiveDate>,
    pub by: &'a str,
}

/// Replaces the entries of `file.list` with `rows` and records the import. Rows repeated in
/// the file (same BIN and decision) are kept once. Returns the import's id.
pub async fn replace_risk_list(
    conn: &mut SqliteConnection,
    file: &RiskFile<'_>,
    rows: &[RiskRow],
) -> Result<i64, StoreError> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO risk_imports (list, file, sha256, rows, skipped, as_of, imported_at, \
         imported_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(file.list)
    .bind(file.file)
    .bind(file.sha256)
    .bind(rows.len() as i64)
    .bind(file.skipped as i64)
    .bind(file.as_of)
    .bind(now())
    .bind(file.by)
    .fetch_one(&mut *conn)
    .await?;
    sqlx::query("DELETE FROM risk_entries WHERE list = ?")
        .bind(file.list)
        .execute(&mut *conn)
        .await?;
    for r in rows {
        sqlx::query(
            "INSERT INTO risk_entries (list, bin, name, decision, decided_on, import_id) \
             VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        )
        .bind(file.list)
        .bind(&r.bin)
        .bind(&r.name)
        .bind(&r.decision)
        .bind(r.decided_on)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    }
    Ok(id)
}

/// A risk-list entry found for a BIN, with when its list was imported.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct RiskHit {
    pub list: String,
    pub name: Option<String>,
    pub decision: String,
    pub decided_on: Option<NaiveDate>,
    /// The date the list's file says it is as of, else its import's.
    pub as_of: NaiveDate,
    pub file: String,
}

/// Every entry about `bin`, by list.
pub async fn risk_hits(store: &Store, bin: &str) -> Result<Vec<RiskHit>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT e.list, e.name, e.decision, e.decided_on, \
         coalesce(i.as_of, date(i.imported_at)) AS as_of, i.file \
         FROM risk_entries e JOIN risk_imports i ON i.id = e.import_id \
         WHERE e.bin = ? ORDER BY e.list, e.decided_on",
    )
    .bind(bin)
    .fetch_all(store.pool())
    .await?)
}

/// One list as it stands.
#[derive(Debug, Clone, PartialEq, serde::Serialize, sqlx::FromRow)]
pub struct RiskListStatus {
    pub list: String,
    pub entries: i64,
    pub file: String,
    /// The date the file says it is as of, else its import's.
    pub as_of: NaiveDate,
    pub imported_at: DateTime<Utc>,
    pub imported_by: String,
    pub skipped: i64,
}

/// Every imported list with its latest import.
pub async fn risk_status(store: &Store) -> Result<Vec<RiskListStatus>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT i.list, (SELECT count(*) FROM risk_entries e WHERE e.list = i.list) AS entries, \
         i.file, coalesce(i.as_of, date(i.imported_at)) AS as_of, i.imported_at, i.imported_by, \
         i.skipped \
         FROM risk_imports i \
         WHERE i.id = (SELECT max(id) FROM risk_imports j WHERE j.list = i.list) \
         ORDER BY i.list",
    )
    .fetch_all(store.pool())
    .await?)
}

/// Checks that asked registry sources since `since`: what the tariff's lookups a day count.
pub async fn online_lookups_since(store: &Store, since: DateTime<Utc>) -> Result<i64, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT count(*) FROM lookups WHERE checked_at >= ? AND online = 1")
            .bind(since)
            .fetch_one(store.pool())
            .await?,
    )
}
