//! Messenger accounts: one row per WhatsApp number, Telegram bot or Instagram account.
//!
//! The secret column is written here and read only by the channel clients (later); no
//! query in this file that feeds a screen or `--json` selects it.

use super::page::{self, page_sql};
use super::{PageRequest, Store, StoreError, now};
use crate::domain::account::{self, Field};
use crate::domain::{AccountId, AccountStatus, Channel};
use chrono::{DateTime, Utc};
use sqlx::SqliteConnection;

/// An account as screens and reports see it: everything but the secret.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct AccountRow {
    pub id: AccountId,
    pub channel: Channel,
    pub name: String,
    /// JSON object of channel fields.
    pub settings: String,
    pub has_secret: bool,
    pub base_url: Option<String>,
    pub api_version: Option<String>,
    pub sandbox: bool,
    pub rate_per_sec: Option<f64>,
    pub wa_daily_tier: Option<i64>,
    /// The tier the platform reported at the last health check (see [`Self::wa_budget`]).
    pub wa_platform_tier: Option<i64>,
    pub status: AccountStatus,
    pub status_reason: Option<String>,
    pub health: Option<String>,
    pub health_checked_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// Campaigns that use this account and are not finished.
    pub open_campaigns: i64,
    /// Messages accepted since local midnight; filled in by whoever shows it.
    #[sqlx(skip)]
    pub sent_today: i64,
    /// Replies to opt-outs written since local midnight; filled in by whoever shows it.
    #[sqlx(skip)]
    pub replies_today: super::inbound::RepliesSince,
}

impl AccountRow {
    /// How its last token check went (the stored line starts `ok:` or `failed:`); `None`
    /// when it was never checked.
    pub fn health_ok(&self) -> Option<bool> {
        self.health.as_deref().map(|h| h.starts_with("ok"))
    }

    /// The unique recipients a day the sender budgets on WhatsApp: the lower of the
    /// account's setting and what the platform reported at its last check, `None` when
    /// neither says.
    pub fn wa_budget(&self) -> Option<i64> {
        match (self.wa_daily_tier, self.wa_platform_tier) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The sending rate in force: the account's own or the channel's default.
    pub fn effective_rate(&self) -> f64 {
        self.rate_per_sec
            .unwrap_or_else(|| self.channel.default_rate_per_sec())
    }
}

/// A new account.
#[derive(Debug, Clone)]
pub struct NewAccount<'a> {
    pub channel: Channel,
    pub name: &'a str,
    pub settings: serde_json::Value,
    pub secret: &'a str,
    pub base_url: Option<&'a str>,
    pub api_version: Option<&'a str>,
    pub sandbox: bool,
    pub rate_per_sec: Option<f64>,
    pub wa_daily_tier: Option<i64>,
}

macro_rules! select {
    () => {
        "SELECT a.id, a.channel, a.name, a.settings, a.secret <> '' AS has_secret, \
     a.base_url, a.api_version, a.sandbox, a.rate_per_sec, a.wa_daily_tier, a.wa_platform_tier, a.status, \
     a.status_reason, a.health, a.health_checked_at, a.created_at, \
     (SELECT count(*) FROM campaigns c WHERE c.account_id = a.id \
        AND c.status NOT IN ('completed', 'cancelled')) AS open_campaigns \
     FROM accounts a"
    };
}

/// Inserts an account.
pub async fn insert(
    conn: &mut SqliteConnection,
    a: &NewAccount<'_>,
) -> Result<AccountId, StoreError> {
    let at = now();
    let id = sqlx::query_scalar(
        "INSERT INTO accounts (channel, name, settings, secret, base_url, api_version, sandbox, \
         rate_per_sec, wa_daily_tier, created_at, updated_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(a.channel)
    .bind(a.name)
    .bind(a.settings.to_string())
    .bind(a.secret)
    .bind(a.base_url)
    .bind(a.api_version)
    .bind(a.sandbox)
    .bind(a.rate_per_sec)
    .bind(a.wa_daily_tier)
    .bind(at)
    .bind(at)
    .fetch_one(conn)
    .await?;
    Ok(AccountId(id))
}

/// Pauses an account with a reason the operator will read.
pub async fn set_status(
    conn: &mut SqliteConnection,
    id: AccountId,
    status: AccountStatus,
    reason: Option<&str>,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE accounts SET status = ?, status_reason = ?, updated_at = ? WHERE id = ?")
        .bind(status)
        .bind(reason)
        .bind(now())
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

impl Store {
    /// How many accounts there are.
    pub async fn count_accounts(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar("SELECT count(*) FROM accounts")
            .fetch_one(self.pool())
            .await?)
    }

    /// One page of accounts, by id.
    pub async fn account_page(&self, req: PageRequest) -> Result<Vec<AccountRow>, StoreError> {
        const SQL: [&str; 2] = page_sql!(select!(), "1 = 1", "a.id", "?1", "?2");
        page::fetch(self.pool(), SQL, req).await
    }

    /// Accounts whose token was never checked or last checked before `before`, the longest
    /// unchecked first.
    pub async fn accounts_due_for_health(
        &self,
        before: DateTime<Utc>,
    ) -> Result<Vec<AccountRow>, StoreError> {
        Ok(sqlx::query_as(concat!(
            select!(),
            " WHERE a.health_checked_at IS NULL OR a.health_checked_at < ? \
             ORDER BY a.health_checked_at IS NOT NULL, a.health_checked_at, a.id"
        ))
        .bind(before)
        .fetch_all(self.pool())
        .await?)
    }

    /// One account by id.
    pub async fn account(&self, id: AccountId) -> Result<Option<AccountRow>, StoreError> {
        Ok(sqlx::query_as(concat!(select!(), " WHERE a.id = ?"))
            .bind(id)
            .fetch_optional(self.pool())
            .await?)
    }
}

/// The token of an account, for the channel clients only. Never print or log it.
pub async fn secret(conn: &mut SqliteConnection, id: AccountId) -> Result<String, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT secret FROM accounts WHERE id = ?")
            .bind(id)
            .fetch_one(conn)
            .await?,
    )
}

/// Records the result of a health check.
pub async fn set_health(
    conn: &mut SqliteConnection,
    id: AccountId,
    health: &str,
    wa_platform_tier: Option<i64>,
) -> Result<(), StoreError> {
    // A failed check says nothing about the tier: the last one reported is kept.
    sqlx::query(
        "UPDATE accounts SET health = ?1, health_checked_at = ?2, \
         wa_platform_tier = CASE WHEN ?1 LIKE 'ok%' THEN ?3 ELSE wa_platform_tier END \
         WHERE id = ?4",
    )
    .bind(health)
    .bind(now())
    .bind(wa_platform_tier)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Points every SANDBOX account at the emulators' address (the demo starts them anew on a
/// free port each time).
pub async fn point_sandbox_accounts(
    conn: &mut SqliteConnection,
    base_url: &str,
) -> Result<u64, StoreError> {
    let done = sqlx::query("UPDATE accounts SET base_url = ? WHERE sandbox = 1")
        .bind(base_url)
        .execute(conn)
        .await?;
    Ok(done.rows_affected())
}

/// Pauses (with a reason) or resumes an account and records who did it.
pub async fn change_status(
    conn: &mut SqliteConnection,
    id: AccountId,
    status: AccountStatus,
    reason: Option<&str>,
    actor: &str,
) -> Result<(), StoreError> {
    set_status(conn, id, status, reason).await?;
    super::audit::record(
        conn,
        actor,
        &format!("account.{status}"),
        "account",
        Some(&id.to_string()),
        &serde_json::json!({ "reason": reason }),
    )
    .await
}

/// An account's id by name.
pub async fn id_by_name(
    conn: &mut SqliteConnection,
    name: &str,
) -> Result<Option<AccountId>, StoreError> {
    Ok(sqlx::query_scalar("SELECT id FROM accounts WHERE name = ?")
        .bind(name)
        .fetch_optional(conn)
        .await?)
}

/// Whether the account named so is a sandbox one (`None`: no such account).
pub async fn sandbox_by_name(store: &Store, name: &str) -> Result<Option<bool>, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT sandbox FROM accounts WHERE name = ?")
            .bind(name)
            .fetch_optional(store.pool())
            .await?,
    )
}

/// Whether a campaign's account is a sandbox one (`None`: no such campaign).
pub async fn campaign_on_sandbox(
    store: &Store,
    campaign: crate::domain::CampaignId,
) -> Result<Option<bool>, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT a.sandbox FROM campaigns c JOIN accounts a ON a.id = c.account_id WHERE c.id = ?",
    )
    .bind(campaign)
    .fetch_optional(store.pool())
    .await?)
}

/// Removes an account unless a campaign refers to it. `Err(n)` inside: `n` campaigns do.
pub async fn delete_unused(
    conn: &mut SqliteConnection,
    id: AccountId,
) -> Result<Result<(), i64>, StoreError> {
    let used: i64 = sqlx::query_scalar("SELECT count(*) FROM campaigns WHERE account_id = ?")
        .bind(id)
        .fetch_one(&mut *conn)
        .await?;
    if used > 0 {
        return Ok(Err(used));
    }
    sqlx::query("DELETE FROM accounts WHERE id = ?")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(Ok(()))
}

/// The Instagram account of a professional account id.
pub async fn by_ig_user_id(
    conn: &mut SqliteConnection,
    ig_user_id: &str,
) -> Result<Option<AccountId>, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM accounts WHERE channel = 'instagram' \
         AND json_extract(settings, '$.ig_user_id') = ? ORDER BY id LIMIT 1",
    )
    .bind(ig_user_id)
    .fetch_optional(conn)
    .await?)
}

/// The WhatsApp account of a phone number id (webhooks name the number, not the account).
pub async fn by_phone_number_id(
    conn: &mut SqliteConnection,
    phone_number_id: &str,
) -> Result<Option<AccountId>, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM accounts WHERE channel = 'whatsapp' \
         AND json_extract(settings, '$.phone_number_id') = ? ORDER BY id LIMIT 1",
    )
    .bind(phone_number_id)
    .fetch_optional(conn)
    .await?)
}

/// Every account on a channel, paused or not (opt-outs arrive for paused accounts too).
pub async fn ids_on_channel(
    conn: &mut SqliteConnection,
    channel: Channel,
) -> Result<Vec<AccountId>, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT id FROM accounts WHERE channel = ? ORDER BY id")
            .bind(channel)
            .fetch_all(conn)
            .await?,
    )
}

/// An account's stored values as a draft for the shared checks (`account::validate`), with
/// `token` as its new token (`None` keeps the stored one).
pub fn draft_of(a: &AccountRow, token: Option<String>) -> account::Draft {
    let settings: serde_json::Value = serde_json::from_str(&a.settings).unwrap_or_default();
    let setting = |k: &str| settings[k].as_str().unwrap_or_default().to_string();
    account::Draft {
        name: a.name.clone(),
        token,
        phone_number_id: setting("phone_number_id"),
        waba_id: setting("waba_id"),
        ig_user_id: setting("ig_user_id"),
        base_url: a.base_url.clone().unwrap_or_default(),
        rate: a.rate_per_sec.map(|r| r.to_string()).unwrap_or_default(),
        wa_tier: a.wa_daily_tier.map(|t| t.to_string()).unwrap_or_default(),
    }
}

/// Refuses a second account on what one account already reaches: a WhatsApp number, a
/// Telegram bot, an Instagram account. The platform's limits are per number, bot or
/// account, so two accounts on one would each send at the full rate and count the daily
/// tier apart; webhooks name the number, not the account.
async fn taken_by_another(
    conn: &mut SqliteConnection,
    channel: Channel,
    settings: &serde_json::Value,
    except: Option<AccountId>,
) -> Result<Option<Refusal>, StoreError> {
    let (key, what, field) = match channel {
        Channel::WhatsApp => ("phone_number_id", "WhatsApp number", Field::PhoneNumberId),
        Channel::Telegram => ("bot_id", "Telegram bot", Field::Token),
        Channel::Instagram => ("ig_user_id", "Instagram account", Field::IgUserId),
    };
    let Some(value) = settings[key].as_str().filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    let other: Option<String> = sqlx::query_scalar(
        "SELECT name FROM accounts WHERE channel = ? AND json_extract(settings, '$.' || ?) = ? \
         AND id IS NOT ? ORDER BY id LIMIT 1",
    )
    .bind(channel)
    .bind(key)
    .bind(value)
    .bind(except)
    .fetch_optional(conn)
    .await?;
    Ok(other.map(|name| {
        (field, format!(
            "{what} {value} is connected already as “{name}”: one {what} is one account, as the \
             platform's limits are per {what}; change that account instead (a new token: \
             `clever accounts set-token`)"
        ))
    }))
}

/// Why an account was not saved, and the field the operator should change.
pub type Refusal = (Field, String);

/// Adds a checked account and records who did it; `Err` inside when the name is taken, or
/// another account reaches the same number, bot or Instagram account.
pub async fn add(
    conn: &mut SqliteConnection,
    channel: Channel,
    v: &account::Valid,
    api_version: Option<&str>,
    actor: &str,
    max_real: Option<u32>,
) -> Result<Result<AccountId, Refusal>, StoreError> {
    if id_by_name(conn, &v.name).await?.is_some() {
        return Ok(Err((
            Field::Name,
            format!(
                "an account named “{}” exists already; give this one another name",
                v.name
            ),
        )));
    }
    if let Some(why) = taken_by_another(conn, channel, &v.settings, None).await? {
        return Ok(Err(why));
    }
    // The licence's tariff counts real accounts; sandbox ones are free.
    if let (Some(max), false) = (max_real, v.sandbox) {
        let real: i64 = sqlx::query_scalar("SELECT count(*) FROM accounts WHERE sandbox = 0")
            .fetch_one(&mut *conn)
            .await?;
        if real >= i64::from(max) {
            return Ok(Err((
                Field::Name,
                format!(
                    "the licence's tariff allows {max} {} and {real} {} connected; remove one, or move to a larger tariff",
                    crate::domain::noun(max, "account", "accounts"),
                    crate::domain::noun(real, "is", "are")
                ),
            )));
        }
    }
    let id = insert(
        conn,
        &NewAccount {
            channel,
            name: &v.name,
            settings: v.settings.clone(),
            secret: v.token.as_deref().unwrap_or_default(),
            base_url: v.base_url.as_deref(),
            api_version: (channel != Channel::Telegram).then_some(api_version.unwrap_or("v23.0")),
            sandbox: v.sandbox,
            rate_per_sec: v.rate,
            wa_daily_tier: v.wa_tier,
        },
    )
    .await?;
    super::audit::record(
        conn,
        actor,
        "account.add",
        "account",
        Some(&id.to_string()),
        &serde_json::json!({ "name": v.name, "channel": channel }),
    )
    .await?;
    Ok(Ok(id))
}

/// Changes a checked account: its channel fields are merged, the token replaced only when a
/// new one is given. Records who did it and which fields changed (never the token's value).
/// `Err` inside when the new name belongs to another account.
pub async fn edit(
    conn: &mut SqliteConnection,
    id: AccountId,
    channel: Channel,
    v: &account::Valid,
    actor: &str,
) -> Result<Result<(), Refusal>, StoreError> {
    if let Some(other) = id_by_name(conn, &v.name).await?
        && other != id
    {
        return Ok(Err((
            Field::Name,
            format!(
                "an account named “{}” exists already; give this one another name",
                v.name
            ),
        )));
    }
    if let Some(why) = taken_by_another(conn, channel, &v.settings, Some(id)).await? {
        return Ok(Err(why));
    }
    sqlx::query(
        "UPDATE accounts SET name = ?, settings = json_patch(settings, ?), \
         secret = coalesce(?, secret), base_url = ?, sandbox = ?, rate_per_sec = ?, \
         wa_daily_tier = ?, updated_at = ? WHERE id = ?",
    )
    .bind(&v.name)
    .bind(v.settings.to_string())
    .bind(v.token.as_deref())
    .bind(v.base_url.as_deref())
    .bind(v.sandbox)
    .bind(v.rate)
    .bind(v.wa_tier)
    .bind(now())
    .bind(id)
    .execute(&mut *conn)
    .await?;
    super::audit::record(
        conn,
        actor,
        "account.edit",
        "account",
        Some(&id.to_string()),
        &serde_json::json!({
            "name": v.name, "token_replaced": v.token.is_some(), "base_url": v.base_url,
            "rate_per_sec": v.rate, "wa_daily_tier": v.wa_tier,
        }),
    )
    .await?;
    Ok(Ok(()))
}

/// Messages accepted by a platform since `since`, per account.
pub async fn sent_since(
    conn: &mut SqliteConnection,
    since: DateTime<Utc>,
) -> Result<Vec<(AccountId, i64)>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT account_id, count(*) FROM outbox INDEXED BY outbox_sent_at WHERE sent_at >= ? GROUP BY account_id",
    )
    .bind(since)
    .fetch_all(conn)
    .await?)
}

/// An account's status now (the sender checks it before each batch).
pub async fn status_of(
    conn: &mut SqliteConnection,
    id: AccountId,
) -> Result<Option<AccountStatus>, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT status FROM accounts WHERE id = ?")
            .bind(id)
            .fetch_optional(conn)
            .await?,
    )
}

/// How many real (not sandbox) accounts were connected before this one: a tariff of N
/// accounts lets the first N send.
pub async fn real_rank(conn: &mut SqliteConnection, id: AccountId) -> Result<i64, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT count(*) FROM accounts WHERE sandbox = 0 AND id < ?")
            .bind(id)
            .fetch_one(conn)
            .await?,
    )
}

/// Messages accepted through real (not sandbox) accounts since `since`: what a tariff's
/// messages a day counts.
pub async fn real_sent_since(
    conn: &mut SqliteConnection,
    since: DateTime<Utc>,
) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT count(*) FROM outbox INDEXED BY outbox_sent_at WHERE sent_at >= ?1 \
         AND account_id IN (SELECT id FROM accounts WHERE sandbox = 0)",
    )
    .bind(since)
    .fetch_one(conn)
    .await?)
}
