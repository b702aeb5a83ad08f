//! The database: pool setup, embedded migrations, and one file of queries per aggregate.
//!
//! Owns: every SQL statement of the product. SQLite by default (WAL, foreign keys on, busy
//! timeout, file created with mode 0600); the queries stay portable so PostgreSQL can follow.
//! Must not touch: the terminal, the network, or any rule that belongs in `domain`.
//! Queries use binds only and are static strings, assembled at compile time with `concat!`.

pub mod accounts;
pub mod audit;
pub mod campaigns;
pub mod counterparty;
pub mod direct;
pub mod import;
pub mod inbound;
pub mod lists;
pub mod lookups;
pub mod outbox;
pub mod overview;
pub mod page;
pub mod settings;
pub mod subscribers;

use sqlx::migrate::{MigrateError, Migrator};
use sqlx::pool::PoolConnection;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Pool, Sqlite, SqliteConnection};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

pub use page::{Anchor, Page, PageRequest};

/// The migrations compiled into this build.
pub static MIGRATOR: Migrator = sqlx::migrate!("src/store/migrations");

/// How long a writer waits for another writer before giving up.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The first 16 bytes of every SQLite 3 database file.
const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";

/// What can go wrong opening or using the store. Each message says what to do.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "cannot create the folder {path} for the database: {error}. \
         Choose a writable place with --data-dir or CLEVER_DATA_DIR"
    )]
    CreateDir {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error(
        "cannot open the database file {path}: {error}. \
         Check its owner and permissions, or choose another --data-dir"
    )]
    OpenFile {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error(
        "{path} is not a CleverPlatform database (it is not an SQLite file, or it is damaged). \
         It was left untouched: move it aside to start a new workspace, or restore it from a backup"
    )]
    NotADatabase { path: PathBuf },
    #[error(
        "the database {location} was written by a newer version of clever \
         (schema version {found}; this build knows up to {known}). \
         It was left untouched: upgrade clever, or open another workspace with --data-dir"
    )]
    NewerSchema {
        location: String,
        found: i64,
        known: i64,
    },
    #[error(
        "the database {location} has migration {version} recorded with different contents \
         than this build ships; it was left untouched. Restore the matching clever version"
    )]
    ChangedMigration { location: String, version: i64 },
    #[error("the database URL `{url}` is not understood: {reason}. Use sqlite:///absolute/path.db")]
    BadUrl { url: String, reason: String },
    #[error("database error: {0}")]
    Sql(#[from] sqlx::Error),
    /// A statement run on the handle directly ([`direct`]) failed.
    #[error("database error: {0}")]
    Direct(#[from] rusqlite::Error),
    #[error("database migration failed: {0}")]
    Migrate(MigrateError),
    #[error("stored value is not valid: {0}")]
    Decode(String),
    #[error("cannot write the output: {0}")]
    Io(String),
    /// Writing rows out failed (a full disk, or the reader of a pipe went away).
    #[error("cannot write the output: {0}")]
    Output(#[source] std::io::Error),
}

impl StoreError {
    /// Whether another writer held the database for longer than the busy timeout (a large
    /// import is one transaction): trying again later succeeds.
    pub fn is_busy(&self) -> bool {
        match self {
            StoreError::Sql(sqlx::Error::Database(e)) => {
                // SQLITE_BUSY and SQLITE_LOCKED, with their extended codes.
                e.code()
                    .and_then(|c| c.parse::<i64>().ok())
                    .is_some_and(|c| matches!(c & 0xff, 5 | 6))
            }
            StoreError::Sql(sqlx::Error::PoolTimedOut) => true,
            StoreError::Direct(rusqlite::Error::SqliteFailure(e, _)) => matches!(
                e.code,
                rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
            ),
            _ => false,
        }
    }
}

/// Where the database lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// An SQLite file on this machine.
    File(PathBuf),
    /// A connection URL (`sqlite://…`); PostgreSQL arrives in a later release.
    Url(String),
}

impl Location {
    /// Parses a `--database-url`: `sqlite:///abs/path.db`, `sqlite://rel.db` or `sqlite::memory:`.
    pub fn from_url(url: &str) -> Result<Location, StoreError> {
        let bad = |reason: &str| StoreError::BadUrl {
            url: url.to_string(),
            reason: reason.to_string(),
        };
        if url == "sqlite::memory:" {
            return Ok(Location::Url(url.to_string()));
        }
        let rest = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .ok_or_else(|| bad("only sqlite: URLs are supported in this release"))?;
        let path = rest.split('?').next().unwrap_or_default();
        if path.is_empty() {
            return Err(bad("it names no file"));
        }
        Ok(Location::File(PathBuf::from(path)))
    }

    /// How the location is shown to operators.
    pub fn display(&self) -> String {
        match self {
            Location::File(p) => p.display().to_string(),
            Location::Url(u) => u.clone(),
        }
    }
}

/// A handle on the database, cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    pool: Pool<Sqlite>,
    /// One connection whose commits are synced to disk before they return, for the few
    /// writes that must survive a power cut (`begin_synced`); opened when first used.
    synced: Pool<Sqlite>,
    location: Location,
}

impl Store {
    /// Opens (creating if needed) the database and brings its schema up to date.
    ///
    /// A file that is not SQLite, or whose schema is newer than this build, is refused before
    /// anything is written to it.
    pub async fn open(location: &Location) -> Result<Store, StoreError> {
        let options = match location {
            Location::File(path) => {
                prepare_file(path)?;
                SqliteConnectOptions::new().filename(path)
            }
            Location::Url(url) => {
                SqliteConnectOptions::from_str(url).map_err(|e| StoreError::BadUrl {
                    url: url.clone(),
                    reason: e.to_string(),
                })?
            }
        }
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(BUSY_TIMEOUT)
        // Temporary tables and sorts spill to a file rather than grow memory (the import's
        // staging tables); set here because it cannot change inside a transaction.
        .pragma("temp_store", "file");
        let in_memory = matches!(location, Location::Url(u) if u.contains(":memory:"));
        let pool = SqlitePoolOptions::new()
            // One in-memory database exists per connection: keep exactly one.
            .max_connections(if in_memory { 1 } else { 4 })
            .min_connections(if in_memory { 1 } else { 0 })
            .connect_with(options)
            .await
            .map_err(|e| map_open_error(location, e))?;
        let synced = if in_memory {
            pool.clone()
        } else {
            synced_pool(&pool)
        };
        let store = Store {
            pool,
            synced,
            location: location.clone(),
        };
        store.migrate().await?;
        Ok(store)
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        let known = latest_known_version();
        if let Some(found) = self.schema_version().await?
            && found > known
        {
            return Err(StoreError::NewerSchema {
                location: self.location.display(),
                found,
                known,
            });
        }
        MIGRATOR.run(&self.pool).await.map_err(|e| match e {
            MigrateError::VersionMissing(found) => StoreError::NewerSchema {
                location: self.location.display(),
                found,
                known,
            },
            MigrateError::VersionMismatch(version) => StoreError::ChangedMigration {
                location: self.location.display(),
                version,
            },
            other => StoreError::Migrate(other),
        })
    }

    /// The newest migration applied to this database, or `None` on a fresh one.
    pub async fn schema_version(&self) -> Result<Option<i64>, StoreError> {
        let has_table: Option<i64> = sqlx::query_scalar(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
        )
        .fetch_optional(&self.pool)
        .await?;
        if has_table.is_none() {
            return Ok(None);
        }
        Ok(
            sqlx::query_scalar("SELECT max(version) FROM _sqlx_migrations WHERE success = 1")
                .fetch_one(&self.pool)
                .await?,
        )
    }

    /// The connection settings in force: (journal mode, foreign keys on, busy timeout in ms).
    pub async fn pragmas(&self) -> Result<(String, bool, i64), StoreError> {
        let mut conn = self.pool.acquire().await?;
        let journal: String = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(&mut *conn)
            .await?;
        let fk: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
            .fetch_one(&mut *conn)
            .await?;
        let busy: i64 = sqlx::query_scalar("PRAGMA busy_timeout")
            .fetch_one(&mut *conn)
            .await?;
        Ok((journal, fk == 1, busy))
    }

    /// The connection pool, for the query modules of this folder.
    pub(crate) fn pool(&self) -> &Pool<Sqlite> {
        &self.pool
    }

    /// Starts a transaction for writes that must land together. It takes the write lock at
    /// once (`BEGIN IMMEDIATE`), waiting its turn behind other writers: a transaction that
    /// reads first and writes later would otherwise fail with "database is locked" whenever
    /// another writer (the engine, a webhook) committed in between.
    pub async fn begin(&self) -> Result<sqlx::Transaction<'static, Sqlite>, StoreError> {
        Ok(self.pool.begin_with("BEGIN IMMEDIATE").await?)
    }

    /// Starts a write transaction, as `begin`, whose commit is synced to disk before it
    /// returns (`synchronous = FULL`), for writes that must survive a power cut because
    /// someone outside was told they happened: an opt-out a platform's webhook was answered
    /// for. Elsewhere `NORMAL` keeps commits safe from a crashed process, not from a power
    /// cut, and keeps frequent small writes (delivery statuses) from waiting on the disk.
    pub async fn begin_synced(&self) -> Result<sqlx::Transaction<'static, Sqlite>, StoreError> {
        Ok(self.synced.begin_with("BEGIN IMMEDIATE").await?)
    }

    /// One of this store's connections, set to sync its commits to disk before they return
    /// (`FULL`) or not (`NORMAL`), for a write transaction begun on it
    /// (`Connection::begin_with("BEGIN IMMEDIATE")`). The engine syncs what must be on disk
    /// before a request goes out (a claim, a batch's start), and not what it writes after (the
    /// results), which a power cut could only turn `unknown`. The setting stays with the
    /// connection, so every caller states its own: meant for a store of one connection
    /// (`own_connection`), where no other caller finds it changed. The shared pool's callers
    /// use `begin_synced`, whose connection is always synced.
    pub async fn writer(&self, synced: bool) -> Result<PoolConnection<Sqlite>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        sqlx::query(if synced {
            "PRAGMA synchronous = FULL"
        } else {
            "PRAGMA synchronous = NORMAL"
        })
        .execute(&mut *conn)
        .await?;
        Ok(conn)
    }

    /// Starts a read-only transaction: one consistent snapshot, never holding up writers.
    pub async fn read(&self) -> Result<sqlx::Transaction<'static, Sqlite>, StoreError> {
        Ok(self.pool.begin().await?)
    }

    /// The same database through one connection of its own, opened when first used, for a
    /// component that writes many small transactions in a row (the engine's sender). In WAL
    /// mode a connection's page cache survives from one transaction to the next only when no
    /// other connection wrote in between; the shared pool hands out its connections in turn,
    /// so each transaction there starts by reading the hot pages again from the file.
    /// An in-memory database is one per connection, so there the store itself is returned.
    ///
    /// Its commits are synced to disk (`synchronous = FULL`) before they return: the engine
    /// sends right after a claim commits, so a power cut must not take back a claim whose
    /// messages went out (the rows would be queued and sent again). Elsewhere `NORMAL` keeps
    /// commits safe from a crashed process, not from a power cut.
    pub fn own_connection(&self) -> Store {
        self.one_connection(|options| {
            options
                .synchronous(SqliteSynchronous::Full)
                .pragma("cache_size", "-8192")
                // A claim's rows (up to a batch, 2 000 flat out) pass to the engine without
                // SQLite's thread stopping and being woken again for each: sqlx's default
                // holds 50 (BENCHMARKS.md, campaign engine).
                .row_buffer_size(ROWS_IN_HAND)
        })
        .unwrap_or_else(|| self.clone())
    }

    /// The same database through one connection of its own that does not check foreign keys,
    /// opened when first used and closed with [`Store::close`]: for a bulk statement whose
    /// every reference is a row it reads in the same transaction (a campaign's start copies a
    /// million members into its outbox). SQLite checks each reference of each row by looking
    /// its parent up again: four look-ups a row there, 2.0 of the 5.0 s the outbox's million
    /// rows took to insert in the `sqlite3` shell on a slow machine. The setting cannot
    /// change inside a transaction, and is the connection's: a connection of its own keeps it
    /// from reaching anyone else. An in-memory database is one per connection, so it has
    /// none (`None`): the caller uses the store itself, checks and all.
    pub fn unchecked(&self) -> Option<Store> {
        self.one_connection(|options| options.foreign_keys(false))
    }

    /// This database through one connection, opened when first used, with the store's
    /// settings changed by `set`; `None` for an in-memory database, which is one per
    /// connection.
    fn one_connection(
        &self,
        set: impl FnOnce(SqliteConnectOptions) -> SqliteConnectOptions,
    ) -> Option<Store> {
        if matches!(&self.location, Location::Url(u) if u.contains(":memory:")) {
            return None;
        }
        let options = set((*self.pool.connect_options()).clone());
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(0)
            .connect_lazy_with(options);
        Some(Store {
            synced: pool.clone(),
            pool,
            location: self.location.clone(),
        })
    }

    /// Runs `work` on an [`Store::unchecked`] connection, closed when it ends, or on this
    /// store, checks and all, where there is none (in memory).
    pub async fn without_reference_checks<T>(&self, work: impl AsyncFnOnce(&Store) -> T) -> T {
        let Some(unchecked) = self.unchecked() else {
            return work(self).await;
        };
        let done = work(&unchecked).await;
        unchecked.close().await;
        done
    }

    /// Where this store lives.
    pub fn location(&self) -> &Location {
        &self.location
    }

    /// Closes every connection, checkpointing the write-ahead log.
    pub async fn close(&self) {
        self.synced.close().await;
        self.pool.close().await;
    }
}

/// How many rows of a query's answer the engine's connection hands over ahead of the engine
/// taking them.
const ROWS_IN_HAND: usize = 4096;

/// One lazily opened connection to the pool's database whose commits are synced to disk.
fn synced_pool(pool: &Pool<Sqlite>) -> Pool<Sqlite> {
    let options = (*pool.connect_options())
        .clone()
        .synchronous(SqliteSynchronous::Full);
    SqlitePoolOptions::new()
        .max_connections(1)
        .min_connections(0)
        .connect_lazy_with(options)
}

/// The newest migration this build ships.
pub fn latest_known_version() -> i64 {
    MIGRATOR.iter().map(|m| m.version).max().unwrap_or_default()
}

/// Creates the folder (0700) and an empty file (0600) when missing; refuses a file that is
/// not SQLite; tightens a group- or world-readable file to 0600.
fn prepare_file(path: &Path) -> Result<(), StoreError> {
    use std::fs::{DirBuilder, OpenOptions};
    use std::io::Read;
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};

    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|error| StoreError::CreateDir {
                path: dir.to_path_buf(),
                error,
            })?;
    }
    let open_err = |error| StoreError::OpenFile {
        path: path.to_path_buf(),
        error,
    };
    match OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(_) => return Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(open_err(e)),
    }
    let mut file = std::fs::File::open(path).map_err(open_err)?;
    let mut head = [0u8; 16];
    let read = file.read(&mut head).map_err(open_err)?;
    if read != 0 && (read < 16 || &head != SQLITE_MAGIC) {
        return Err(StoreError::NotADatabase {
            path: path.to_path_buf(),
        });
    }
    let meta = file.metadata().map_err(open_err)?;
    if meta.permissions().mode() & 0o077 != 0 {
        tracing::warn!(path = %path.display(), "database file was readable by others; setting mode 0600");
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(open_err)?;
    }
    Ok(())
}

fn map_open_error(location: &Location, e: sqlx::Error) -> StoreError {
    if let (Location::File(path), sqlx::Error::Database(db)) = (location, &e) {
        // SQLITE_NOTADB = 26, SQLITE_CORRUPT = 11.
        if matches!(db.code().as_deref(), Some("26") | Some("11")) {
            return StoreError::NotADatabase { path: path.clone() };
        }
    }
    StoreError::Sql(e)
}

/// In a debug build (the tests), panics when a row of the database refers to one that is not
/// there: a transaction on an [`Store::unchecked`] connection calls it before its commit, so
/// that the tests still catch a reference the checks left out would have refused. A release
/// build does nothing: the check reads every row of every table.
pub async fn debug_check_references(conn: &mut SqliteConnection) -> Result<(), StoreError> {
    if cfg!(debug_assertions) {
        let broken: Vec<(String, Option<i64>, String, i64)> =
            sqlx::query_as("PRAGMA foreign_key_check")
                .fetch_all(conn)
                .await?;
        assert!(
            broken.is_empty(),
            "rows refer to rows that are not there (table, rowid, parent, key): {broken:?}"
        );
    }
    Ok(())
}

/// The current time, as stored.
pub(crate) fn now() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_busy_database_is_told_apart() {
        use sqlx::{ConnectOptions, Connection};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("busy.db");
        let opts = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(&path)
            .create_if_missing(true)
            .busy_timeout(std::time::Duration::ZERO);
        let mut a = opts.connect().await.unwrap();
        let mut b = opts.connect().await.unwrap();
        sqlx::query("CREATE TABLE t (x)")
            .execute(&mut a)
            .await
            .unwrap();
        let mut holding = a.begin().await.unwrap();
        sqlx::query("INSERT INTO t VALUES (1)")
            .execute(&mut *holding)
            .await
            .unwrap();
        let e: StoreError = sqlx::query("INSERT INTO t VALUES (2)")
            .execute(&mut b)
            .await
            .unwrap_err()
            .into();
        assert!(e.is_busy(), "{e:?}");
        // A write on the handle itself (`direct`) is told as busy alike.
        let insert = |db: &rusqlite::Connection| {
            db.execute("INSERT INTO t VALUES (2)", [])?;
            Ok(())
        };
        let e = direct::run(&mut b, insert).await.unwrap_err();
        assert!(matches!(e, StoreError::Direct(_)), "{e:?}");
        assert!(e.is_busy(), "{e:?}");
        holding.rollback().await.unwrap();
        // Once the lock is gone, the same write goes through.
        direct::run(&mut b, insert).await.unwrap();
        let other: StoreError = sqlx::query("INSERT INTO nowhere VALUES (1)")
            .execute(&mut b)
            .await
            .unwrap_err()
            .into();
        assert!(!other.is_busy(), "{other:?}");
    }

    #[test]
    fn urls_parse() {
        assert_eq!(
            Location::from_url("sqlite:///var/lib/clever/db.sqlite").ok(),
            Some(Location::File(PathBuf::from("/var/lib/clever/db.sqlite")))
        );
        assert_eq!(
            Location::from_url("sqlite://rel.db?mode=rwc").ok(),
            Some(Location::File(PathBuf::from("rel.db")))
        );
        assert!(Location::from_url("postgres://x").is_err());
        assert!(Location::from_url("sqlite://").is_err());
    }

    /// The engine's connection and `begin_synced` sync every commit to disk (FULL = 2); the
    /// shared pool does not (NORMAL = 1), nor does a `writer(false)` (the engine's results);
    /// all of them are in WAL mode.
    #[tokio::test]
    async fn claims_and_opt_outs_are_synced_to_disk() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&Location::File(dir.path().join("c.db")))
            .await
            .unwrap();
        async fn level(mut tx: sqlx::Transaction<'_, Sqlite>) -> (i64, String) {
            let sync: i64 = sqlx::query_scalar("PRAGMA synchronous")
                .fetch_one(&mut *tx)
                .await
                .unwrap();
            let journal: String = sqlx::query_scalar("PRAGMA journal_mode")
                .fetch_one(&mut *tx)
                .await
                .unwrap();
            tx.commit().await.unwrap();
            (sync, journal)
        }
        let wal = || "wal".to_string();
        assert_eq!(level(store.begin().await.unwrap()).await, (1, wal()));
        assert_eq!(level(store.begin_synced().await.unwrap()).await, (2, wal()));
        let engine = store.own_connection();
        assert_eq!(level(engine.begin().await.unwrap()).await, (2, wal()));
        assert_eq!(level(engine.read().await.unwrap()).await, (2, wal()));
        // Each writer states its own setting; the connection keeps the last one stated.
        use sqlx::Connection;
        for synced in [false, true, false] {
            let mut conn = engine.writer(synced).await.unwrap();
            let tx = conn.begin_with("BEGIN IMMEDIATE").await.unwrap();
            let expected = if synced { 2 } else { 1 };
            assert_eq!(level(tx).await, (expected, wal()), "synced: {synced}");
        }
        store.close().await;
        engine.close().await;
    }

    /// Only the connection of its own that `unchecked` opens skips the foreign-key checks; the
    /// store's connections keep them, before and after it. An in-memory store has none.
    #[tokio::test]
    async fn only_the_unchecked_connection_skips_reference_checks() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&Location::File(dir.path().join("c.db")))
            .await
            .unwrap();
        let unchecked = store.unchecked().unwrap();
        assert!(store.pragmas().await.unwrap().1);
        assert!(!unchecked.pragmas().await.unwrap().1);
        let orphan =
            "INSERT INTO list_members (list_id, subscriber_id, added_at) VALUES (7, 7, 'x')";
        let mut tx = store.begin().await.unwrap();
        assert!(sqlx::query(orphan).execute(&mut *tx).await.is_err());
        tx.rollback().await.unwrap();
        let mut tx = unchecked.begin().await.unwrap();
        sqlx::query(orphan).execute(&mut *tx).await.unwrap();
        let caught = std::panic::AssertUnwindSafe(debug_check_references(&mut tx));
        let panicked = futures::FutureExt::catch_unwind(caught).await.is_err();
        assert_eq!(panicked, cfg!(debug_assertions));
        tx.rollback().await.unwrap();
        unchecked.close().await;
        assert!(store.pragmas().await.unwrap().1);
        store.close().await;
        let memory = Store::open(&Location::Url("sqlite::memory:".into()))
            .await
            .unwrap();
        assert!(memory.unchecked().is_none());
    }

    #[tokio::test]
    async fn memory_store_migrates() {
        let store = Store::open(&Location::Url("sqlite::memory:".into()))
            .await
            .unwrap();
        assert_eq!(
            store.schema_version().await.unwrap(),
            Some(latest_known_version())
        );
    }
}
