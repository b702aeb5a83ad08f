//! The audit log: who did what, and when. Written by every command that changes state.

use super::{Store, StoreError, now};
use chrono::{DateTime, Utc};
use sqlx::SqliteConnection;

/// One audit entry.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct AuditEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub subject_kind: String,
    pub subject_id: Option<String>,
    pub detail: String,
}

/// Records an action.
pub async fn record(
    conn: &mut SqliteConnection,
    actor: &str,
    action: &str,
    subject_kind: &str,
    subject_id: Option<&str>,
    detail: &serde_json::Value,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO audit_log (at, actor, action, subject_kind, subject_id, detail) \
         VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(now())
    .bind(actor)
    .bind(action)
    .bind(subject_kind)
    .bind(subject_id)
    .bind(detail.to_string())
    .execute(conn)
    .await?;
    Ok(())
}

impl Store {
    /// The newest entries about one subject, newest first.
    pub async fn audit_for(
        &self,
        subject_kind: &str,
        subject_id: &str,
        limit: u32,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT id, at, actor, action, subject_kind, subject_id, detail FROM audit_log \
             WHERE subject_kind = ? AND subject_id = ? ORDER BY id DESC LIMIT ?",
        )
        .bind(subject_kind)
        .bind(subject_id)
        .bind(limit)
        .fetch_all(self.pool())
        .await?)
    }
}
