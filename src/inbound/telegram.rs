//! Telegram updates by long poll (`getUpdates`), for bots that have no webhook set: one task
//! per bot, started and stopped as bots are added and removed.
//!
//! Each update is applied with [`super::apply`] (which skips anything seen before) and the
//! next offset is stored only after, in the workspace settings, so a crash re-reads
//! unconfirmed updates rather than losing them. A bot whose webhook is set (Telegram answers
//! 409) is left to the webhook; a refused token is retried rarely; a network failure is
//! retried with exponential backoff up to five minutes.

use super::apply;
use crate::channels::client::{Client, UpdatesError};
use crate::channels::webhooks;
use crate::domain::{AccountId, Channel};
use crate::store::{self, Store, StoreError};
use std::collections::HashMap;
use std::time::Duration;
use tokio::task::{AbortHandle, JoinHandle, JoinSet};

/// How long one `getUpdates` waits for an update.
pub const LONG_POLL: Duration = Duration::from_secs(25);
/// How often the list of bots is read again.
const RESCAN: Duration = Duration::from_secs(30);
const MAX_BACKOFF: Duration = Duration::from_secs(300);

fn offset_key(account: AccountId) -> String {
    format!("telegram.updates_offset.{account}")
}

/// What one poll did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Polled {
    /// Updates applied (possibly none); poll again at once.
    Applied(u32),
    /// The bot has a webhook: stop polling it.
    WebhookSet,
    /// Try again after this long.
    Wait(Duration),
}

/// Polls one bot once: fetches what came after the stored offset, applies it, stores the
/// new offset.
pub async fn poll_once(
    store: &Store,
    client: &Client,
    account: AccountId,
    wait: Duration,
    extra_keywords: &[String],
) -> Result<Polled, StoreError> {
    let Some((_, target)) = crate::engine::target(store, account).await? else {
        return Ok(Polled::WebhookSet);
    };
    let offset: i64 = store
        .setting(&offset_key(account))
        .await?
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let updates = match client.telegram_updates(&target, offset, wait).await {
        Ok(u) => u,
        Err(UpdatesError::WebhookSet) => return Ok(Polled::WebhookSet),
        Err(UpdatesError::Unauthorised) => {
            tracing::warn!(%account, "Telegram refuses the bot's token; updates wait for a new one");
            return Ok(Polled::Wait(Duration::from_secs(600)));
        }
        Err(UpdatesError::Transport(why)) => {
            tracing::info!(%account, %why, "Telegram updates not fetched");
            return Ok(Polled::Wait(Duration::from_secs(5)));
        }
    };
    let mut next = offset;
    let mut applied = 0;
    for update in &updates {
        match webhooks::parse_telegram(update) {
            Ok((update_id, events)) => {
                apply(store, account, Channel::Telegram, &events, extra_keywords).await?;
                next = next.max(update_id + 1);
                applied += 1;
            }
            Err(e) => {
                tracing::warn!(%account, error = %e, "a Telegram update could not be read; skipped");
            }
        }
    }
    if next != offset {
        store
            .set_setting(&offset_key(account), &next.to_string())
            .await?;
    }
    Ok(Polled::Applied(applied))
}

/// Polls one bot until the task is aborted or the bot turns out to have a webhook.
async fn poll_bot(store: Store, client: Client, account: AccountId, extra_keywords: Vec<String>) {
    let mut backoff = Duration::from_secs(1);
    loop {
        match poll_once(&store, &client, account, LONG_POLL, &extra_keywords).await {
            Ok(Polled::Applied(_)) => backoff = Duration::from_secs(1),
            Ok(Polled::WebhookSet) => {
                tracing::info!(%account, "the bot has a webhook; its updates come by webhook");
                return;
            }
            Ok(Polled::Wait(d)) => {
                tokio::time::sleep(d.max(backoff)).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
            Err(e) => {
                tracing::error!(%account, error = %e, "Telegram updates not applied; retrying");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}

/// Keeps one poller per Telegram bot in the workspace until aborted.
pub async fn supervise(store: Store, client: Client, extra_keywords: Vec<String>) {
    // The set aborts every poller when this task is aborted.
    let mut tasks = JoinSet::new();
    let mut pollers: HashMap<AccountId, AbortHandle> = HashMap::new();
    loop {
        let ids = match store.read().await {
            Ok(mut conn) => store::accounts::ids_on_channel(&mut conn, Channel::Telegram).await,
            Err(e) => Err(e),
        };
        match ids {
            Ok(ids) => {
                pollers.retain(|id, task| {
                    let keep = ids.contains(id);
                    if !keep {
                        task.abort();
                    }
                    keep
                });
                for id in ids {
                    pollers.entry(id).or_insert_with(|| {
                        tasks.spawn(poll_bot(
                            store.clone(),
                            client.clone(),
                            id,
                            extra_keywords.clone(),
                        ))
                    });
                }
            }
            Err(e) => tracing::error!(error = %e, "cannot list Telegram bots"),
        }
        // Reap finished pollers while waiting for the next scan.
        let _ = tokio::time::timeout(RESCAN, async {
            while tasks.join_next().await.is_some() {}
            std::future::pending::<()>().await
        })
        .await;
    }
}

/// Starts [`supervise`] as a task; abort the handle to stop every poller.
pub fn spawn(store: Store, client: Client, extra_keywords: Vec<String>) -> Supervisor {
    Supervisor(tokio::spawn(supervise(store, client, extra_keywords)))
}

/// The running pollers; dropping it stops them.
pub struct Supervisor(JoinHandle<()>);

impl Drop for Supervisor {
    fn drop(&mut self) {
        self.0.abort();
    }
}
