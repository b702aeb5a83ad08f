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
