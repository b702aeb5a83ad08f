//! Subscriber lists and their members.

use super::{Store, StoreError, now};
use crate::domain::{ListId, SubscriberId};
use chrono::{DateTime, Utc};
use sqlx::SqliteConnection;

/// A list with its size.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ListRow {
    pub id: ListId,
    pub name: String,
    pub description: String,
    pub default_time_zone: Option<String>,
    pub created_at: DateTime<Utc>,
    pub members: i64,
}

/// A list with its size, as [`ListRow`] reads it.
macro_rules! select_list {
    () => {
        "SELECT l.id, l.name, l.description, l.default_time_zone, l.created_at, \
         (SELECT count(*) FROM list_members m WHERE m.list_id = l.id) AS members FROM lists l"
    };
}

/// Creates a list.
pub async fn insert(
    conn: &mut SqliteConnection,
    name: &str,
    description: &str,
    default_time_zone: Option<&str>,
) -> Result<ListId, StoreError> {
    let id = sqlx::query_scalar(
        "INSERT INTO lists (name, description, default_time_zone, created_at) \
         VALUES (?, ?, ?, ?) RETURNING id",
    )
    .bind(name)
    .bind(description)
    .bind(default_time_zone)
    .bind(now())
    .fetch_one(conn)
    .await?;
    Ok(ListId(id))
}

/// Creates a list, audited as made by `actor` (an import's new list is in the import's own
/// record instead).
pub async fn create(
    conn: &mut SqliteConnection,
    name: &str,
    description: &str,
    default_time_zone: Option<&str>,
    actor: &str,
) -> Result<ListId, StoreError> {
    let id = insert(conn, name, description, default_time_zone).await?;
    super::audit::record(
        conn,
        actor,
        "list.create",
        "list",
        Some(&id.to_string()),
        &serde_json::json!({ "name": name, "time_zone": default_time_zone }),
    )
    .await?;
    Ok(id)
}

/// Adds a subscriber to a list; adding twice changes nothing.
pub async fn add_member(
    conn: &mut SqliteConnection,
    list: ListId,
    subscriber: SubscriberId,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO list_members (list_id, subscriber_id, added_at) VALUES (?, ?, ?) \
         ON CONFLICT DO NOTHING",
    )
    .bind(list)
    .bind(subscriber)
    .bind(now())
    .execute(conn)
    .await?;
    Ok(())
}

impl Store {
    /// Every list with its member count, by name.
    pub async fn lists(&self) -> Result<Vec<ListRow>, StoreError> {
        Ok(sqlx::query_as(concat!(select_list!(), " ORDER BY l.name"))
            .fetch_all(self.pool())
            .await?)
    }
}

/// A list's id by name.
pub async fn id_by_name(
    conn: &mut SqliteConnection,
    name: &str,
) -> Result<Option<ListId>, StoreError> {
    Ok(sqlx::query_scalar("SELECT id FROM lists WHERE name = ?")
        .bind(name)
        .fetch_optional(conn)
        .await?)
}

/// One list with its size, by id.
pub async fn by_id(conn: &mut SqliteConnection, id: ListId) -> Result<Option<ListRow>, StoreError> {
    Ok(sqlx::query_as(concat!(select_list!(), " WHERE l.id = ?"))
        .bind(id)
        .fetch_optional(conn)
        .await?)
}

/// One list with its size, by name.
pub async fn by_name(
    conn: &mut SqliteConnection,
    name: &str,
) -> Result<Option<ListRow>, StoreError> {
    Ok(sqlx::query_as(concat!(select_list!(), " WHERE l.name = ?"))
        .bind(name)
        .fetch_optional(conn)
        .await?)
}

/// Renames a list, or changes its description or its time zone (the one quiet hours use
/// for its members with none of their own), and records who did it, with what it was.
pub async fn update(
    conn: &mut SqliteConnection,
    before: &ListRow,
    name: &str,
    description: &str,
    time_zone: Option<&str>,
    actor: &str,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE lists SET name = ?, description = ?, default_time_zone = ? WHERE id = ?")
        .bind(name)
        .bind(description)
        .bind(time_zone)
        .bind(before.id)
        .execute(&mut *conn)
        .await?;
    super::audit::record(
        conn,
        actor,
        "list.edit",
        "list",
        Some(&before.id.to_string()),
        &serde_json::json!({
            "name": name,
            "description": description,
            "time_zone": time_zone,
            "before": {
                "name": before.name,
                "description": before.description,
                "time_zone": before.default_time_zone,
            },
        }),
    )
    .await?;
    Ok(())
}

/// What adding subscribers to a list, or removing them, did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MembersChanged {
    /// Added to the list, or removed from it.
    pub changed: u64,
    /// Already in the list (adding), or not in it (removing): left as they were.
    pub unchanged: u64,
    /// Queued messages to those removed, in the list's campaigns, now skipped.
    pub skipped: u64,
}

/// Why a skipped outbox row was not sent when its subscriber left the campaign's list.
pub const REMOVED_FROM_LIST: &str = "removed from the list";

/// Which of these subscriber numbers nobody has (a `#ID` typed for someone who is not there).
pub async fn missing_subscribers(
    conn: &mut SqliteConnection,
    ids: &[SubscriberId],
) -> Result<Vec<SubscriberId>, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT j.value FROM json_each(?1) j \
         WHERE NOT EXISTS (SELECT 1 FROM subscribers s WHERE s.id = j.value) ORDER BY j.key",
    )
    .bind(id_array(ids))
    .fetch_all(conn)
    .await?)
}

fn id_array(ids: &[SubscriberId]) -> String {
    serde_json::Value::from(ids.iter().map(|i| i.0).collect::<Vec<_>>()).to_string()
}

/// Adds subscribers to a list (those in it already stay as they were) and records who did
/// it. Campaigns started on the list before do not include them: their outbox is made at
/// the start.
pub async fn add_members(
    conn: &mut SqliteConnection,
    list: &ListRow,
    ids: &[SubscriberId],
    actor: &str,
) -> Result<MembersChanged, StoreError> {
    let added = sqlx::query(
        "INSERT INTO list_members (list_id, subscriber_id, added_at) \
         SELECT ?1, j.value, ?3 FROM json_each(?2) j WHERE true ON CONFLICT DO NOTHING",
    )
    .bind(list.id)
    .bind(id_array(ids))
    .bind(now())
    .execute(&mut *conn)
    .await?
    .rows_affected();
    let changed = MembersChanged {
        changed: added,
        unchanged: distinct(ids) - added,
        skipped: 0,
    };
    if added > 0 {
        super::audit::record(
            conn,
            actor,
            "list.add",
            "list",
            Some(&list.id.to_string()),
            &serde_json::json!({ "name": list.name, "subscribers": ids, "added": added }),
        )
        .await?;
    }
    Ok(changed)
}

/// Removes subscribers from a list, skips their queued messages in the campaigns on it
/// (`removed from the list`; a batch already claimed is checked again before it goes), and
/// records who did it. The subscribers, their consents and their other lists stay.
pub async fn remove_members(
    conn: &mut SqliteConnection,
    list: &ListRow,
    ids: &[SubscriberId],
    actor: &str,
) -> Result<MembersChanged, StoreError> {
    let ids_json = id_array(ids);
    let removed = sqlx::query(
        "DELETE FROM list_members WHERE list_id = ?1 \
         AND subscriber_id IN (SELECT value FROM json_each(?2))",
    )
    .bind(list.id)
    .bind(&ids_json)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    let skipped = sqlx::query(
        "UPDATE outbox SET state = 'skipped', skip_reason = ?3, updated_at = ?4 \
         WHERE id IN (SELECT o.id FROM campaigns k CROSS JOIN json_each(?2) j \
         JOIN outbox o ON o.campaign_id = k.id AND o.subscriber_id = j.value \
         WHERE k.list_id = ?1 AND o.state = 'queued')",
    )
    .bind(list.id)
    .bind(&ids_json)
    .bind(REMOVED_FROM_LIST)
    .bind(now())
    .execute(&mut *conn)
    .await?
    .rows_affected();
    let changed = MembersChanged {
        changed: removed,
        unchanged: distinct(ids) - removed,
        skipped,
    };
    if removed > 0 || skipped > 0 {
        super::audit::record(
            conn,
            actor,
            "list.remove",
            "list",
            Some(&list.id.to_string()),
            &serde_json::json!({
                "name": list.name, "subscribers": ids, "removed": removed, "skipped": skipped,
            }),
        )
        .await?;
    }
    Ok(changed)
}

/// How many different subscribers `ids` names.
fn distinct(ids: &[SubscriberId]) -> u64 {
    ids.iter().collect::<std::collections::HashSet<_>>().len() as u64
}

/// How many campaigns use a list.
pub async fn campaigns_using(conn: &mut SqliteConnection, list: ListId) -> Result<i64, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT count(*) FROM campaigns WHERE list_id = ?")
            .bind(list)
            .fetch_one(conn)
            .await?,
    )
}

/// Deletes a list and its memberships (the subscribers stay) unless a campaign uses it,
/// and records who did it. `Err(n)` inside: the list is used by `n` campaigns and stays.
pub async fn delete_unused(
    conn: &mut SqliteConnection,
    list: ListId,
    name: &str,
    actor: &str,
) -> Result<Result<(), i64>, StoreError> {
    let used = campaigns_using(conn, list).await?;
    if used > 0 {
        return Ok(Err(used));
    }
    sqlx::query("DELETE FROM lists WHERE id = ?")
        .bind(list)
        .execute(&mut *conn)
        .await?;
    super::audit::record(
        conn,
        actor,
        "list.delete",
        "list",
        Some(&list.to_string()),
        &serde_json::json!({ "name": name }),
    )
    .await?;
    Ok(Ok(()))
}
