//! Workspace-wide figures: what the status bar and the License pane show at a glance.

use super::{Store, StoreError};
use chrono::{DateTime, Utc};

/// Counts over the whole workspace.
#[derive(Debug, Clone, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct Overview {
    pub accounts: i64,
    pub accounts_active: i64,
    /// Accounts the platform halted (paused until the operator fixes and resumes them).
    pub accounts_halted: i64,
    /// Other accounts whose last token check failed.
    pub accounts_failing: i64,
    pub subscribers: i64,
    pub lists: i64,
    pub campaigns: i64,
    pub campaigns_running: i64,
    /// Messages accepted by a platform since `since`.
    pub sent_since: i64,
    pub lookups_since: i64,
    pub suppressions: i64,
    /// The engine sending for this workspace now, if one is.
    pub engine_holder: Option<String>,
}

impl Store {
    /// Counts over the whole workspace; "today" figures start at `since`.
    pub async fn overview(&self, since: DateTime<Utc>) -> Result<Overview, StoreError> {
        Ok(sqlx::query_as(
            "SELECT (SELECT count(*) FROM accounts) AS accounts, \
             (SELECT count(*) FROM accounts WHERE status = 'active') AS accounts_active, \
             (SELECT count(*) FROM accounts WHERE status = 'paused' \
                AND status_reason LIKE 'halted: %') AS accounts_halted, \
             (SELECT count(*) FROM accounts WHERE health LIKE 'failed%' \
                AND NOT (status = 'paused' AND status_reason LIKE 'halted: %')) \
                AS accounts_failing, \
             (SELECT count(*) FROM subscribers) AS subscribers, \
             (SELECT count(*) FROM lists) AS lists, \
             (SELECT count(*) FROM campaigns) AS campaigns, \
             (SELECT count(*) FROM campaigns WHERE status = 'running') AS campaigns_running, \
             (SELECT count(*) FROM outbox WHERE sent_at >= ?1) AS sent_since, \
             (SELECT count(*) FROM lookups WHERE checked_at >= ?1 AND online = 1) AS lookups_since, \
             (SELECT count(*) FROM suppressions) AS suppressions, \
             (SELECT holder FROM engine_lease WHERE until >= ?2) AS engine_holder",
        )
        .bind(since)
        .bind(chrono::Utc::now())
        .fetch_one(self.pool())
        .await?)
    }
}
