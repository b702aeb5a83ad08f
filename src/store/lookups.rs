//! The history of counterparty checks the operator ran.

use super::page::page_sql;
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
    pub checked_by: String,
}

impl LookupRow {
    /// The full result, when the row holds one (rows from before results were kept whole
    /// hold only the validation).
    pub fn result(&self) -> Option<crate::counterparty::check::CheckResult> {
        serde_json::from_str(&self.detail).ok()
    }
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
    pub checked_by: &'a str,
    /// Whether a registry was asked over the network (what the tariff counts).
    pub online: bool,
}

/// Records a check.
pub async fn insert(conn: &mut SqliteConnection, l: &NewLookup<'_>) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar(
        "INSERT INTO lookups (input, normalized, kind, valid, summary, detail, checked_at, \
         checked_by, online) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(l.input)
    .bind(l.normalized)
    .bind(l.kind)
    .bind(l.valid)
    .bind(l.summary)
    .bind(l.detail.to_string())
    .bind(l.checked_at)
    .bind(l.checked_by)
    .bind(l.online)
    .fetch_one(conn)
    .await?)
}

impl Store {
    /// How many checks match a search: a part of the number as typed or normalised, or
    /// of the summary (company name, flags), or who checked. The history is the operator's
    /// own checks (thousands, not millions), so a search reads it whole.
    pub async fn count_lookups(&self, search: Option<&str>) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT count(*) FROM lookups WHERE (?1 IS NULL OR instr(normalized, ?1) > 0 \
             OR instr(lower(summary), lower(?1)) > 0 OR instr(input, ?1) > 0 OR checked_by = ?1)",
        )
        .bind(search)
        .fetch_one(self.pool())
        .await?)
    }

    /// One page of checks, by id.
    pub async fn lookup_page(
        &self,
        search: Option<&str>,
        req: PageRequest,
    ) -> Result<Vec<LookupRow>, StoreError> {
        const SQL: [&str; 2] = page_sql!(
            "SELECT id, input, normalized, kind, valid, summary, detail, checked_at, checked_by \
             FROM lookups",
            "(?3 IS NULL OR instr(normalized, ?3) > 0 OR instr(lower(summary), lower(?3)) > 0 \
             OR instr(input, ?3) > 0 OR checked_by = ?3)",
            "id",
            "?1",
            "?2"
        );
        let (sql, bound) = req.pick(SQL);
        let rows = sqlx::query_as(sql)
            .bind(bound)
            .bind(req.limit)
            .bind(search)
            .fetch_all(self.pool())
            .await?;
        Ok(req.finish(rows))
    }

    /// Every check matching `search`, oldest first, for export.
    pub fn lookups_all<'a>(
        &'a self,
        search: Option<&'a str>,
    ) -> impl futures::Stream<Item = Result<LookupRow, sqlx::Error>> + 'a {
        sqlx::query_as(
            "SELECT id, input, normalized, kind, valid, summary, detail, checked_at, checked_by \
             FROM lookups WHERE (?1 IS NULL OR instr(normalized, ?1) > 0 \
             OR instr(lower(summary), lower(?1)) > 0 OR instr(input, ?1) > 0 OR checked_by = ?1) \
             ORDER BY id",
        )
        .bind(search)
        .fetch(self.pool())
    }
}
