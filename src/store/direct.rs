//! Statements run on a connection's SQLite handle directly, through rusqlite, for the one
//! path where sqlx's cost per bound value weighs most: an import's staging rows.
//!
//! sqlx hands every statement, with its values copied into an argument list, to the
//! connection's own thread and waits for the answer. For a million rows of sixteen values
//! that was about a third of an import's time (11.5 of 36 s, timed per statement); bound
//! through rusqlite, an import of 1 000 000 rows took 23.8–29.6 s against 29.0–43.6 s in
//! alternating runs (BENCHMARKS.md). rusqlite binds each value straight into a prepared
//! statement on the calling thread.
//!
//! This is the crate's one `unsafe` block: sqlx lends its raw handle, and rusqlite wraps it.

use super::StoreError;
use sqlx::SqliteConnection;

/// Runs `work` on the connection's own SQLite handle, through rusqlite: same database, same
/// transaction, same temporary tables. sqlx's connection thread does nothing meanwhile.
///
/// On a multi-threaded runtime the work runs in place of the task's worker
/// ([`tokio::task::block_in_place`]), so other tasks move to the other workers.
pub async fn run<R>(
    conn: &mut SqliteConnection,
    work: impl FnOnce(&rusqlite::Connection) -> Result<R, StoreError>,
) -> Result<R, StoreError> {
    let mut locked = conn.lock_handle().await?;
    let raw = locked.as_raw_handle();
    let on_handle = move || {
        // SAFETY: `locked` guarantees that sqlx's thread makes no call on this handle, nor on
        // any of its statements, while it lives, and it outlives `db` (dropped below, inside
        // this closure): no two threads ever use the handle at once. `from_handle` borrows
        // the handle: dropping `db` finalizes only the statements it prepared, and never
        // closes the connection, which stays sqlx's.
        #[allow(unsafe_code)]
        let db = unsafe { rusqlite::Connection::from_handle(raw.as_ptr()) }?;
        let result = work(&db);
        drop(db);
        result
    };
    let result = match tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()) {
        Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(on_handle),
        _ => on_handle(),
    };
    drop(locked);
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlx::ConnectOptions;

    async fn shares_the_connection_and_its_transaction() {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(dir.path().join("t.db"))
            .create_if_missing(true)
            .connect()
            .await
            .unwrap();
        sqlx::query("CREATE TEMP TABLE t (v TEXT)")
            .execute(&mut conn)
            .await
            .unwrap();
        sqlx::query("BEGIN").execute(&mut conn).await.unwrap();
        run(&mut conn, |db| {
            let mut insert = db.prepare("INSERT INTO t (v) VALUES (?1)")?;
            for v in ["a", "b"] {
                insert.execute([v])?;
            }
            Ok(())
        })
        .await
        .unwrap();
        let seen: Vec<String> = sqlx::query_scalar("SELECT v FROM t ORDER BY v")
            .fetch_all(&mut conn)
            .await
            .unwrap();
        assert_eq!(seen, ["a", "b"]);
        sqlx::query("ROLLBACK").execute(&mut conn).await.unwrap();
        let left: i64 = sqlx::query_scalar("SELECT count(*) FROM t")
            .fetch_one(&mut conn)
            .await
            .unwrap();
        assert_eq!(left, 0, "the direct rows were part of the transaction");
        // An error inside comes back as a store error, and the connection stays usable.
        let e = run(&mut conn, |db| {
            db.execute("INSERT INTO missing (v) VALUES (1)", [])?;
            Ok(())
        })
        .await
        .unwrap_err();
        assert!(e.to_string().contains("no such table: missing"), "{e}");
        let one: i64 = sqlx::query_scalar("SELECT 1")
            .fetch_one(&mut conn)
            .await
            .unwrap();
        assert_eq!(one, 1);
    }

    #[tokio::test]
    async fn on_a_current_thread_runtime() {
        shares_the_connection_and_its_transaction().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn on_a_multi_threaded_runtime() {
        shares_the_connection_and_its_transaction().await;
    }
}
