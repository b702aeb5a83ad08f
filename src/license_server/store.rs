//! The licence server's database (SQLite through sqlx, its own migrations): tariffs,
//! licences, machines and events, and the signing key file next to it.

use crate::license::key::{self, KeyPayload};
use chrono::{DateTime, Utc};
use ed25519_dalek::SigningKey;
use serde::Serialize;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
use sqlx::{Pool, Sqlite};
use std::path::{Path, PathBuf};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("src/license_server/migrations");

/// File name of the signing key (hex of its 32 secret bytes, 0600) in the data folder.
pub const KEY_FILE: &str = "signing.key";

/// A tariff as the vendor sells it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct TariffRow {
    pub code: String,
    pub name: String,
    pub accounts: Option<i64>,
    pub messages_per_day: Option<i64>,
    pub lookups_per_day: Option<i64>,
    pub machines: i64,
    pub period_days: i64,
    /// Price of one period, in tenge.
    pub price: i64,
}

/// A licence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct LicenseRow {
    pub id: String,
    pub key: String,
    pub tariff: String,
    pub email: String,
    pub status: String,
    pub status_reason: Option<String>,
    pub paid_until: DateTime<Utc>,
    pub auto_renew: bool,
    pub created_at: DateTime<Utc>,
    /// Machines bound now.
    pub machines: i64,
}

/// An admin step on a licence that matched no row: say which id and where to look.
fn found(id: &str, rows: u64) -> anyhow::Result<()> {
    if rows == 0 {
        anyhow::bail!("no licence `{id}`; `clever-license-server list` shows them");
    }
    Ok(())
}

/// The server's data folder: the database and the signing key.
#[derive(Clone)]
pub struct ServerStore {
    pool: Pool<Sqlite>,
    pub dir: PathBuf,
}

impl ServerStore {
    /// Opens (creating) `<dir>/license-server.db` and applies the migrations.
    pub async fn open(dir: &Path) -> anyhow::Result<ServerStore> {
        ServerStore::open_at(dir, None).await
    }

    /// The same with the database elsewhere: a `sqlite://PATH` URL or a path.
    pub async fn open_at(dir: &Path, db: Option<&str>) -> anyhow::Result<ServerStore> {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
        let file = match db {
            Some(url) => PathBuf::from(
                url.strip_prefix("sqlite://")
                    .or_else(|| url.strip_prefix("sqlite:"))
                    .unwrap_or(url),
            ),
            None => dir.join("license-server.db"),
        };
        if db.is_some_and(|u| u.starts_with("postgres")) {
            anyhow::bail!(
                "this build of the licence server keeps its data in SQLite: give --db a path or sqlite:// URL"
            );
        }
        let options = SqliteConnectOptions::new()
            .filename(file)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .foreign_keys(true)
            .busy_timeout(std::time::Duration::from_secs(5));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await?;
        MIGRATOR.run(&pool).await?;
        Ok(ServerStore {
            pool,
            dir: dir.to_path_buf(),
        })
    }

    pub(crate) fn pool(&self) -> &Pool<Sqlite> {
        &self.pool
    }

    /// Creates the signing key pair; refuses to replace one (every key issued would stop
    /// verifying). Returns the public key, hex.
    pub fn create_signing_key(&self) -> anyhow::Result<String> {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let path = self.dir.join(KEY_FILE);
        let secret: [u8; 32] = rand::random();
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .map_err(|e| {
                anyhow::anyhow!(
                    "cannot create {}: {e}. A key that exists is never replaced: every licence key and lease it signed would stop verifying",
                    path.display()
                )
            })?;
        f.write_all(hex::encode(secret).as_bytes())?;
        f.sync_all()?;
        Ok(hex::encode(
            SigningKey::from_bytes(&secret).verifying_key().to_bytes(),
        ))
    }

    /// The signing key.
    pub fn signing_key(&self) -> anyhow::Result<SigningKey> {
        let path = self.dir.join(KEY_FILE);
        let text = std::fs::read_to_string(&path).map_err(|e| {
            anyhow::anyhow!(
                "cannot read the signing key {}: {e}; create one with `clever-license-server init`",
                path.display()
            )
        })?;
        let bytes: [u8; 32] = hex::decode(text.trim())
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| anyhow::anyhow!("{} is not a signing key", path.display()))?;
        Ok(SigningKey::from_bytes(&bytes))
    }

    /// Adds or changes a tariff.
    pub async fn put_tariff(&self, t: &TariffRow) -> anyhow::Result<()> {
        sqlx::query(
            "INSERT INTO tariffs (code, name, accounts, messages_per_day, lookups_per_day, machines, period_days, price) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (code) DO UPDATE SET name = ?2, \
             accounts = ?3, messages_per_day = ?4, lookups_per_day = ?5, machines = ?6, period_days = ?7, \
             price = ?8",
        )
        .bind(&t.code)
        .bind(&t.name)
        .bind(t.accounts)
        .bind(t.messages_per_day)
        .bind(t.lookups_per_day)
        .bind(t.machines)
        .bind(t.period_days)
        .bind(t.price)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn tariffs(&self) -> anyhow::Result<Vec<TariffRow>> {
        Ok(sqlx::query_as("SELECT * FROM tariffs ORDER BY code")
            .fetch_all(&self.pool)
            .await?)
    }

    pub async fn tariff(&self, code: &str) -> anyhow::Result<Option<TariffRow>> {
        Ok(sqlx::query_as("SELECT * FROM tariffs WHERE code = ?")
            .bind(code)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Issues a licence on a tariff paid for `paid_days` from now; the key, and the e-mail
    /// for the licensee written to `outbox/` (sent by the vendor's mail system).
    pub async fn issue(
        &self,
        tariff: &str,
        email: &str,
        paid_days: Option<i64>,
    ) -> anyhow::Result<(LicenseRow, PathBuf)> {
        let Some(t) = self.tariff(tariff).await? else {
            anyhow::bail!("no tariff `{tariff}`; add it with `clever-license-server tariff add`");
        };
        if !email.contains('@') {
            anyhow::bail!("`{email}` is not an e-mail address");
        }
        let now = Utc::now();
        let id = format!("lic_{}", hex::encode(rand::random::<[u8; 8]>()));
        let key = key::issue(
            &KeyPayload {
                license_id: id.clone(),
                tariff: t.code.clone(),
                issued_at: now,
                email: email.to_string(),
            },
            &self.signing_key()?,
        );
        let paid_until = now + chrono::Duration::days(paid_days.unwrap_or(t.period_days));
        sqlx::query(
            "INSERT INTO licenses (id, key, tariff, email, paid_until, created_at) VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(&id)
        .bind(&key)
        .bind(&t.code)
        .bind(email)
        .bind(paid_until)
        .bind(now)
        .execute(&self.pool)
        .await?;
        self.event(Some(&id), "issued", &t.code).await?;
        let outbox = self.dir.join("outbox");
        std::fs::create_dir_all(&outbox)?;
        let mail = outbox.join(format!("{id}.eml"));
        std::fs::write(
            &mail,
            format!(
                "To: {email}\r\nSubject: CleverPlatform licence key ({})\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
                 Your CleverPlatform licence key:\r\n\r\n{key}\r\n\r\n\
                 Tariff: {}; paid until {}.\r\n\
                 On your server: clever license activate KEY (or paste it in the License pane).\r\n",
                t.name,
                t.name,
                paid_until.format("%Y-%m-%d")
            ),
        )?;
        let row = self
            .license(&id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("the licence just issued is gone"))?;
        Ok((row, mail))
    }

    pub async fn license(&self, id: &str) -> anyhow::Result<Option<LicenseRow>> {
        Ok(sqlx::query_as(
            "SELECT l.*, (SELECT count(*) FROM machines m WHERE m.license_id = l.id \
             AND m.deactivated_at IS NULL) AS machines FROM licenses l WHERE l.id = ?",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?)
    }

    pub async fn licenses(&self) -> anyhow::Result<Vec<LicenseRow>> {
        Ok(sqlx::query_as(
            "SELECT l.*, (SELECT count(*) FROM machines m WHERE m.license_id = l.id \
             AND m.deactivated_at IS NULL) AS machines FROM licenses l ORDER BY l.created_at",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    /// Suspends, reinstates (`active`) or blocks a licence, with the reason.
    pub async fn set_status(
        &self,
        id: &str,
        status: &str,
        reason: Option<&str>,
    ) -> anyhow::Result<()> {
        let n = sqlx::query("UPDATE licenses SET status = ?, status_reason = ? WHERE id = ?")
            .bind(status)
            .bind(reason)
            .bind(id)
            .execute(&self.pool)
            .await?
            .rows_affected();
        found(id, n)?;
        self.event(
            Some(id),
            "status",
            &format!(
                "{status}{}",
                reason.map(|r| format!(": {r}")).unwrap_or_default()
            ),
        )
        .await
    }

    /// A licence by its id or its key.
    pub async fn find(&self, id_or_key: &str) -> anyhow::Result<Option<LicenseRow>> {
        let id_or_key = crate::license::key::normalise(id_or_key);
        if let Some(l) = self.license(&id_or_key).await? {
            return Ok(Some(l));
        }
        let id: Option<String> = sqlx::query_scalar("SELECT id FROM licenses WHERE key = ?")
            .bind(&id_or_key)
            .fetch_optional(&self.pool)
            .await?;
        match id {
            Some(id) => self.license(&id).await,
            None => Ok(None),
        }
    }

    /// A licence's audit trail, oldest first: (kind, detail, at).
    pub async fn audit_of(&self, id: &str) -> anyhow::Result<Vec<(String, String, DateTime<Utc>)>> {
        Ok(
            sqlx::query_as("SELECT kind, detail, at FROM audit WHERE license_id = ? ORDER BY id")
                .bind(id)
                .fetch_all(&self.pool)
                .await?,
        )
    }

    pub async fn set_auto_renew(&self, id: &str, on: bool) -> anyhow::Result<()> {
        let n = sqlx::query("UPDATE licenses SET auto_renew = ? WHERE id = ?")
            .bind(on)
            .bind(id)
            .execute(&self.pool)
            .await?
            .rows_affected();
        found(id, n)?;
        self.event(Some(id), "auto_renew", if on { "on" } else { "off" })
            .await
    }

    /// Sets the end of the paid period (a payment, or a test).
    pub async fn set_paid_until(&self, id: &str, until: DateTime<Utc>) -> anyhow::Result<()> {
        sqlx::query("UPDATE licenses SET paid_until = ? WHERE id = ?")
            .bind(until)
            .bind(id)
            .execute(&self.pool)
            .await?;
        self.event(Some(id), "paid_until", &until.to_rfc3339())
            .await
    }

    pub async fn event(
        &self,
        license: Option<&str>,
        kind: &str,
        detail: &str,
    ) -> anyhow::Result<()> {
        sqlx::query("INSERT INTO audit (license_id, kind, detail, at) VALUES (?, ?, ?, ?)")
            .bind(license)
            .bind(kind)
            .bind(detail)
            .bind(Utc::now())
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
