//! The licence sync that runs in the console and in `clever run`: it reads the stored lease
//! every minute (so active → grace → invalid follows the clock), refreshes it from the
//! licence server every few hours with jitter and on demand, backs off exponentially while
//! the server is unreachable, and publishes what it knows on a `watch` channel that the
//! engine, the status bar and the License pane read.

use super::client::{ClientError, LicenseClient};
use super::local::{Local, Standing};
use super::state::{Allows, LicenseState, REFRESH_EVERY};
use crate::store::Store;
use chrono::{DateTime, Duration, Utc};
use rand::RngExt;
use std::sync::Arc;
use tokio::sync::{Notify, watch};

/// What the console knows of its licence.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Licence {
    /// `None` until the files were first read.
    pub standing: Option<Standing>,
    /// The last lease's issue time: when the server last answered.
    pub last_sync: Option<DateTime<Utc>>,
    /// When the next refresh is due (none without an activated key).
    pub next_sync: Option<DateTime<Utc>>,
    /// Why the last refresh failed.
    pub last_error: Option<String>,
}

impl Licence {
    pub fn state(&self) -> LicenseState {
        self.standing
            .as_ref()
            .map_or(LicenseState::Unlicensed, |s| s.state.clone())
    }

    pub fn allows(&self) -> Allows {
        self.state().allows()
    }

    /// The tariff's messages a day, when limited.
    pub fn messages_per_day(&self) -> Option<u64> {
        self.standing
            .as_ref()?
            .lease
            .as_ref()?
            .tariff
            .messages_per_day
    }

    /// The tariff's real accounts, when limited.
    pub fn accounts_limit(&self) -> Option<u32> {
        self.standing.as_ref()?.lease.as_ref()?.tariff.accounts
    }

    /// The tariff's counterparty lookups a day, when limited.
    pub fn lookups_per_day(&self) -> Option<u64> {
        self.standing
            .as_ref()?
            .lease
            .as_ref()?
            .tariff
            .lookups_per_day
    }
}

/// The running sync.
pub struct LicenceSync {
    pub state: watch::Receiver<Licence>,
    now: Arc<Notify>,
    task: tokio::task::JoinHandle<()>,
}

impl LicenceSync {
    /// Refreshes from the server now.
    pub fn sync_now(&self) {
        self.now.notify_one();
    }

    /// What the console's worker needs to act on the licence and wake the sync after.
    pub fn control(&self, local: Local) -> LicenceControl {
        LicenceControl {
            local,
            wake: self.now.clone(),
        }
    }
}

/// The licence's files and a way to make the sync read them again at once.
#[derive(Debug, Clone)]
pub struct LicenceControl {
    pub local: Local,
    wake: Arc<Notify>,
}

impl LicenceControl {
    /// A control without a running sync (tests).
    pub fn detached(local: Local) -> LicenceControl {
        LicenceControl {
            local,
            wake: Arc::default(),
        }
    }

    /// Makes the sync read the files again (and refresh) now.
    pub fn wake(&self) {
        self.wake.notify_one();
    }
}

impl Drop for LicenceSync {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// How long to wait after `failures` failed refreshes in a row: 1, 2, 4… minutes, at most
/// an hour, with a tenth of jitter.
pub fn backoff(failures: u32) -> Duration {
    let base = Duration::minutes(1 << failures.saturating_sub(1).min(6)).min(Duration::hours(1));
    jitter(base)
}

fn jitter(d: Duration) -> Duration {
    let spread = d.num_milliseconds() / 10;
    d + Duration::milliseconds(rand::rng().random_range(-spread..=spread.max(0)))
}

/// Starts the sync in the current runtime.
pub fn spawn(store: Store, local: Local) -> LicenceSync {
    let (tx, state) = watch::channel(Licence::default());
    let now = Arc::new(Notify::new());
    let wake = now.clone();
    let task = tokio::spawn(async move {
        let client = LicenseClient::new(&local.server_url).ok();
        let mut failures = 0u32;
        let mut forced = false;
        let mut known = Licence::default();
        loop {
            match local.standing(&store).await {
                Ok(s) => known.standing = Some(s),
                Err(e) => tracing::error!(error = %e, "licence files unreadable"),
            }
            let lease_at = known
                .standing
                .as_ref()
                .and_then(|s| s.lease.as_ref())
                .map(|l| l.issued_at);
            known.last_sync = lease_at;
            let key = local.stored_key();
            if key.is_none() {
                known.next_sync = None;
            } else if known.next_sync.is_none() {
                known.next_sync =
                    Some(lease_at.map_or_else(Utc::now, |t| t + jitter(REFRESH_EVERY)));
            }
            let due = known.next_sync.is_some_and(|t| Utc::now() >= t);
            if let (Some(key), Some(client), Ok(fp), true) = (
                &key,
                &client,
                local.fingerprint(),
                due || (forced && key.is_some()),
            ) {
                forced = false;
                match client
                    .lease(
                        "/v1/heartbeat",
                        key,
                        &fp,
                        &crate::host::name(),
                        &local.trusted,
                    )
                    .await
                {
                    Ok((lease, signed)) => {
                        if let Err(e) = local.keep(key, &signed) {
                            tracing::error!(error = %e, "the new lease could not be kept");
                        }
                        tracing::info!(status = ?lease.status, "licence lease refreshed");
                        failures = 0;
                        known.last_error = None;
                        known.next_sync = Some(Utc::now() + jitter(REFRESH_EVERY));
                        if let Ok(s) = local.standing(&store).await {
                            known.last_sync = s.lease.as_ref().map(|l| l.issued_at);
                            known.standing = Some(s);
                        }
                    }
                    Err(e) => {
                        failures += 1;
                        let wait = match &e {
                            // The server answered: no point asking again soon.
                            ClientError::Refused { .. } => Duration::hours(1),
                            _ => backoff(failures),
                        };
                        tracing::warn!(error = %e, failures, "licence refresh failed");
                        known.last_error = Some(e.to_string());
                        known.next_sync = Some(Utc::now() + wait);
                    }
                }
            }
            tx.send_if_modified(|old| {
                let changed = *old != known;
                if changed {
                    *old = known.clone();
                }
                changed
            });
            let until_next = known
                .next_sync
                .map(|t| (t - Utc::now()).to_std().unwrap_or_default())
                .unwrap_or(std::time::Duration::from_secs(60));
            tokio::select! {
                _ = tokio::time::sleep(until_next.min(std::time::Duration::from_secs(60))) => {}
                _ = wake.notified() => forced = true,
            }
            if tx.is_closed() {
                break;
            }
        }
    });
    LicenceSync { state, now, task }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_an_hour() {
        let minutes = |f| backoff(f).num_seconds() as f64 / 60.0;
        assert!((0.9..=1.1).contains(&minutes(1)));
        assert!((1.8..=2.2).contains(&minutes(2)));
        assert!((7.2..=8.8).contains(&minutes(4)));
        assert!((54.0..=66.0).contains(&minutes(30)));
    }
}
