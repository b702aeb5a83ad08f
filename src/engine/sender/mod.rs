//! The sender: one task per account with running campaigns claims due rows (fairly across
//! that account's campaigns), paces them through the account's token bucket (governor),
//! keeps each recipient's spacing and send window, sends concurrently, and records every
//! result of a batch in one transaction.
//!
//! Only the engine that holds the database's engine lease sends; another one stands by and
//! takes over when the lease runs out. Housekeeping runs beside it: expired leases become
//! `unknown`, status webhooks move rows forward, scheduled campaigns start, finished ones
//! complete.
//!
//! This file holds the engine's round and each account's loop; the steps of a batch have a
//! file each: `claim` (what may go, and the last check before it does), `send` (pacing
//! and the requests), `record` (the results in one transaction), and `housekeeping`
//! (health checks and opt-out replies). They see only each other and `crate`'s lower layers.

use crate::channels::client::Client;
use crate::domain::{AccountId, AccountStatus, CampaignId};
use crate::license::sync::Licence;
use crate::store::outbox::{self, RunningCampaign};
use crate::store::{Store, StoreError};
use chrono::Utc;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;

mod claim;
mod housekeeping;
mod record;
mod send;

use claim::{Claim, ClaimState, Next, batch_for, claim_batch, give_back, still_running};
use housekeeping::{check_due_accounts, send_opt_out_replies};
use record::{Write, flush, write};
use send::{Outlet, SendState, limiter, send_claimed};

/// How the engine works; the defaults suit a real account.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// Who this engine is, in the lease (host and process id).
    pub holder: String,
    /// Rows claimed at a time per account.
    pub batch: i64,
    /// Requests in flight at once per account.
    pub concurrency: usize,
    /// How long a claimed row may stay `sending` before it counts as lost.
    pub lease: Duration,
    /// Attempts before a row that keeps failing transiently fails for good.
    pub max_attempts: i64,
    /// Time zone for recipients with none (subscriber's, then list's, then this).
    pub operator_tz: chrono_tz::Tz,
    /// Tokens the account's bucket holds: how far a second may run over the rate.
    pub burst: u32,
    /// Sending rate override for every account (benchmarks lift the limits with it).
    pub rate_override: Option<f64>,
    /// The first retry waits about this long; each next one twice as long.
    pub backoff_base: Duration,
    /// The longest an account is slowed or a row waits for a retry.
    pub max_pause: Duration,
    /// How long the engine lease lasts without renewal: a standby engine takes over after it.
    pub takeover: Duration,
    /// The licence, when this process syncs one: real accounts send only while it allows,
    /// sandbox accounts while it allows the sandbox, within the tariff's messages a day.
    /// `None` sends unchecked (tests and benchmarks).
    pub licence: Option<watch::Receiver<Licence>>,
    /// How often the engine that holds the lease checks each account's token against its
    /// platform, as `c` does; `None` never (tests and benchmarks).
    pub health_every: Option<Duration>,
    /// The reply to an address's first opt-out keyword, sent once from the account it was
    /// written to; `None` sends none (tests and benchmarks, or `opt_out_reply = ""`).
    pub opt_out_reply: Option<String>,
}

/// The reply an opt-out keyword gets unless `[engine] opt_out_reply` says otherwise.
pub const OPT_OUT_REPLY: &str = "Вы отписались от рассылки и больше не получите сообщений. \
Сіз таратылымнан бас тарттыңыз. You are unsubscribed.";

/// The reason a campaign paused by the licence carries; it resumes when the licence allows.
pub const LICENCE_PREFIX: &str = "licence: ";

impl EngineOptions {
    /// The defaults with `[engine]` from `config.toml`.
    pub fn configured(c: &crate::config::EngineConfig) -> EngineOptions {
        let d = EngineOptions::default();
        EngineOptions {
            operator_tz: c.time_zone.map_or(d.operator_tz, |t| t.0),
            lease: c
                .lease_seconds
                .map_or(d.lease, |s| Duration::from_secs(s.max(5))),
            takeover: c
                .takeover_seconds
                .map_or(d.takeover, |s| Duration::from_secs(s.max(2))),
            health_every: match c.health_check_minutes {
                Some(0) => None,
                Some(m) => Some(Duration::from_secs(m * 60)),
                None => Some(HEALTH_EVERY),
            },
            opt_out_reply: match c.opt_out_reply.as_deref().map(str::trim) {
                Some("") => None,
                Some(text) => Some(text.to_string()),
                None => Some(OPT_OUT_REPLY.to_string()),
            },
            ..d
        }
    }
}

impl Default for EngineOptions {
    fn default() -> EngineOptions {
        EngineOptions {
            holder: format!("{}:{}", crate::host::name(), std::process::id()),
            batch: 100,
            concurrency: 16,
            lease: Duration::from_secs(120),
            max_attempts: 8,
            operator_tz: chrono_tz::Asia::Almaty,
            burst: 2,
            rate_override: None,
            backoff_base: Duration::from_secs(2),
            max_pause: Duration::from_secs(600),
            takeover: Duration::from_secs(20),
            licence: None,
            health_every: None,
            opt_out_reply: None,
        }
    }
}

/// How often accounts' tokens are checked unless `[engine] health_check_minutes` says.
pub const HEALTH_EVERY: Duration = Duration::from_secs(30 * 60);

/// What the engine is doing, published on a `watch` channel.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EngineState {
    /// This process holds the lease and sends.
    pub active: bool,
    /// Another process holds it (this one stands by).
    pub other: Option<String>,
    /// Accounts being sent from now.
    pub accounts: usize,
    /// Messages accepted since this engine started.
    pub sent: u64,
    /// The same per campaign, for live progress without asking the database.
    pub sent_by_campaign: BTreeMap<CampaignId, u64>,
}

/// Messages accepted per campaign since the engine started, shared by its senders.
type SentCounts = Arc<std::sync::Mutex<BTreeMap<CampaignId, u64>>>;

/// The running engine; dropping the handle does not stop it, [`Engine::stop`] does.
pub struct Engine {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
    pub state: watch::Receiver<EngineState>,
}

impl Engine {
    /// Starts the engine in the current runtime.
    pub fn start(store: Store, client: Client, options: EngineOptions) -> Engine {
        let (stop, stopped) = watch::channel(false);
        let (state_tx, state) = watch::channel(EngineState::default());
        let task = tokio::spawn(run(
            store.own_connection(),
            client,
            options,
            stopped,
            state_tx,
        ));
        Engine { stop, task, state }
    }

    /// Stops claiming, lets requests in flight finish and be recorded (each is bounded by
    /// the client's timeout), then gives up the lease.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

async fn run(
    store: Store,
    client: Client,
    options: EngineOptions,
    stopped: watch::Receiver<bool>,
    state: watch::Sender<EngineState>,
) {
    let options = Arc::new(options);
    let mut senders: HashMap<AccountId, tokio::task::JoinHandle<()>> = HashMap::new();
    let sent: SentCounts = Arc::default();
    let mut holding = false;
    // Senders stop at their next batch when this engine loses the lease.
    let lease_held = Arc::new(std::sync::atomic::AtomicBool::new(false));
    // Token checks run beside the sending, one round at a time, looked for once a minute.
    let mut checks: Option<tokio::task::JoinHandle<()>> = None;
    let mut next_checks = tokio::time::Instant::now();
    // Opt-out replies go out beside the sending, a round at a time.
    let mut replies: Option<tokio::task::JoinHandle<()>> = None;
    loop {
        if *stopped.borrow() {
            break;
        }
        let result = tick(&store, &options, &mut holding).await;
        lease_held.store(holding, std::sync::atomic::Ordering::Relaxed);
        match result {
            Ok(Some(campaigns)) => {
                if let Some(every) = options.health_every
                    && tokio::time::Instant::now() >= next_checks
                    && checks.as_ref().is_none_or(|c| c.is_finished())
                {
                    next_checks = tokio::time::Instant::now() + Duration::from_secs(60);
                    checks = Some(tokio::spawn(check_due_accounts(
                        store.clone(),
                        client.clone(),
                        every,
                    )));
                }
                if replies.as_ref().is_none_or(|r| r.is_finished()) {
                    replies = Some(tokio::spawn(send_opt_out_replies(
                        store.clone(),
                        client.clone(),
                        options.opt_out_reply.clone(),
                    )));
                }
                senders.retain(|_, t| !t.is_finished());
                for account in campaigns.iter().map(|c| c.account_id) {
                    senders.entry(account).or_insert_with(|| {
                        tokio::spawn(send_for_account(
                            store.clone(),
                            client.clone(),
                            options.clone(),
                            account,
                            stopped.clone(),
                            sent.clone(),
                            lease_held.clone(),
                        ))
                    });
                }
                let sent_by_campaign = sent.lock().map(|m| m.clone()).unwrap_or_default();
                let now = EngineState {
                    active: true,
                    other: None,
                    accounts: senders.len(),
                    sent: sent_by_campaign.values().sum(),
                    sent_by_campaign,
                };
                // Watchers wake only when something moved.
                state.send_if_modified(|s| {
                    let changed = *s != now;
                    *s = now;
                    changed
                });
            }
            Ok(None) => {
                let other = match store.read().await {
                    Ok(mut c) => outbox::engine_holder(&mut c).await.ok().flatten(),
                    Err(_) => None,
                };
                let now = EngineState {
                    other,
                    ..EngineState::default()
                };
                state.send_if_modified(|s| {
                    let changed = *s != now;
                    *s = now;
                    changed
                });
            }
            Err(e) => retrying(None, &e, "engine housekeeping failed"),
        }
        let mut stopped = stopped.clone();
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(500)) => {}
            _ = stopped.changed() => {}
        }
    }
    // A check cut short records nothing; the next engine checks that account again.
    if let Some(c) = checks {
        c.abort();
    }
    for (_, task) in senders {
        let _ = task.await;
    }
    if holding && let Ok(mut c) = store.begin().await {
        let _ = outbox::release_engine_lease(&mut c, &options.holder).await;
        let _ = c.commit().await;
    }
    state.send_replace(EngineState::default());
}

/// Renews the lease and does the housekeeping; the running campaigns when this engine
/// sends, `None` while another holds the lease.
async fn tick(
    store: &Store,
    options: &EngineOptions,
    holding: &mut bool,
) -> Result<Option<Vec<RunningCampaign>>, StoreError> {
    let mut tx = store.begin().await?;
    let until = Utc::now() + chrono::Duration::from_std(options.takeover).unwrap_or_default();
    let held = outbox::take_engine_lease(&mut tx, &options.holder, until).await?;
    if !held {
        tx.commit().await?;
        *holding = false;
        return Ok(None);
    }
    if !*holding {
        tracing::info!(holder = %options.holder, "engine lease taken; this engine sends");
    }
    *holding = true;
    let lost = outbox::expire_leases(&mut tx).await?;
    if lost.unknown > 0 {
        tracing::warn!(
            rows = lost.unknown,
            "rows whose engine stopped while sending are now unknown"
        );
    }
    if lost.requeued > 0 {
        tracing::info!(
            rows = lost.requeued,
            "rows claimed ahead by an engine that stopped before sending them are queued again"
        );
    }
    outbox::apply_statuses(&mut tx).await?;
    if let Some(licence) = &options.licence {
        let (allows, accounts) = {
            let l = licence.borrow();
            (l.allows(), l.accounts_limit())
        };
        let resumed = outbox::resume_paused_by(
            &mut tx,
            LICENCE_PREFIX,
            allows.send_sandbox,
            allows.send,
            accounts,
        )
        .await?;
        if resumed > 0 {
            tracing::info!(
                resumed,
                "the licence allows sending again; campaigns resumed"
            );
        }
    }
    let (started, completed) = outbox::advance_campaigns(&mut tx).await?;
    if started + completed > 0 {
        tracing::info!(started, completed, "campaigns moved on");
    }
    let running = outbox::running(&mut tx).await?;
    tx.commit().await?;
    Ok(Some(running))
}

async fn send_for_account(
    store: Store,
    client: Client,
    options: Arc<EngineOptions>,
    account: AccountId,
    stopped: watch::Receiver<bool>,
    sent_total: SentCounts,
    lease_held: Arc<std::sync::atomic::AtomicBool>,
) {
    let Ok(Some((row, target))) = crate::engine::target(&store, account).await else {
        return;
    };
    if row.status != AccountStatus::Active {
        return;
    }
    let rate = options
        .rate_override
        .unwrap_or_else(|| row.effective_rate());
    let outlet = Outlet {
        client,
        target: Arc::new(target),
        bucket: Arc::new(limiter(rate, options.burst)),
    };
    let mut st = AccountState {
        claim: ClaimState {
            batch: batch_for(rate, options.batch),
            tier_used: None,
            day_used: None,
            next_campaign: 0,
            proven: Default::default(),
        },
        send: SendState {
            strikes: 0,
            opted_out: Default::default(),
            slow_until: None,
            last_sent: HashMap::new(),
            last_pruned: Instant::now(),
            prepared: HashMap::new(),
        },
        pending: None,
    };
    tracing::info!(%account, rate, "sending");
    // While a batch is sent, the previous batch's results are written and the next batch is
    // claimed (one after the other: SQLite has one writer), so sending never waits for the
    // database. A batch claimed ahead is checked again before it is sent, and given back to
    // the queue when its campaign stopped, the account was slowed down or halted, or the
    // engine stops.
    let mut ahead: Option<Claim> = None;
    loop {
        if *stopped.borrow() || !lease_held.load(std::sync::atomic::Ordering::Relaxed) {
            break;
        }
        if let Some(until) = st.send.slow_until {
            let now = Instant::now();
            if until > now {
                if let Err(e) = give_back(&store, &row, &mut st.pending, ahead.take()).await {
                    retrying(Some(account), &e, "a batch could not be recorded");
                }
                let mut stopped = stopped.clone();
                tokio::select! {
                    _ = tokio::time::sleep(until - now) => {}
                    _ = stopped.changed() => {}
                }
                continue;
            }
            st.send.slow_until = None;
        }
        let claimed = match ahead.take() {
            Some(claim) => still_running(&store, &options, &row, claim, &mut st.pending).await,
            None => claim_batch(&store, &options, &row, &mut st.claim, 0).await,
        };
        let claim = match claimed {
            Ok(Next::Rows(claim)) => claim,
            Ok(Next::Idle(wait)) => {
                if let Err(e) = flush(&store, &mut st.pending).await {
                    retrying(Some(account), &e, "a batch could not be recorded");
                }
                let mut stopped = stopped.clone();
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = stopped.changed() => {}
                }
                continue;
            }
            Ok(Next::Done) => break,
            Err(e) => {
                retrying(
                    Some(account),
                    &e,
                    "a batch could not be claimed or recorded",
                );
                tokio::time::sleep(Duration::from_secs(2)).await;
                continue;
            }
        };
        let in_flight = claim.rows.len() as i64;
        let previous = st.pending.take();
        let claim_state = &mut st.claim;
        let (store_ahead, options_ahead, row_ahead) = (&store, &options, &row);
        let (done, (unwritten, next)) = tokio::join!(
            send_claimed(&outlet, &options, &row, &mut st.send, claim),
            async move {
                // Results that cannot be written now (another writer holds the database
                // past the busy timeout, the disk is full) are kept and go with the next
                // batch's: dropped, their rows would turn `unknown` though their answers
                // are known.
                if let Some(w) = previous
                    && let Err(e) = write(store_ahead, &w).await
                {
                    return (Some(w), Err(e));
                }
                let next = claim_batch(
                    store_ahead,
                    options_ahead,
                    row_ahead,
                    claim_state,
                    in_flight,
                )
                .await;
                (None, next)
            }
        );
        ahead = match next {
            Ok(Next::Rows(claim)) => Some(claim),
            // Waiting or stopping is decided again once this batch is in.
            Ok(_) => None,
            Err(e) => {
                retrying(
                    Some(account),
                    &e,
                    "a batch could not be claimed or recorded",
                );
                None
            }
        };
        let accepted = done.sent.iter().map(|(_, n)| *n as i64).sum::<i64>();
        if let Some((_, used)) = &mut st.claim.tier_used {
            *used += accepted;
        }
        if let Some((_, _, used)) = &mut st.claim.day_used {
            *used += accepted;
        }
        st.claim
            .proven
            .extend(done.sent.iter().filter(|(_, n)| *n > 0).map(|(c, _)| *c));
        if let Ok(mut total) = sent_total.lock() {
            for (campaign, n) in done.sent {
                *total.entry(campaign).or_default() += n;
            }
        }
        let halted = done.write.halt.is_some();
        let campaign_halted = !done.write.campaign_halts.is_empty();
        st.pending = Some(match unwritten {
            Some(mut earlier) => {
                earlier.absorb(done.write);
                earlier
            }
            None => done.write,
        });
        if halted {
            break;
        }
        // A campaign to pause is paused before the next claim, which would send more of it
        // (a batch claimed ahead is checked again before it goes).
        if campaign_halted && let Err(e) = flush(&store, &mut st.pending).await {
            retrying(Some(account), &e, "a batch could not be recorded");
        }
    }
    // What was claimed ahead goes back to the queue; the last results are written, with a
    // few more tries while another writer holds the database.
    let mut claimed_ahead = ahead.take();
    for attempt in 1..=LAST_WRITE_TRIES {
        match give_back(&store, &row, &mut st.pending, claimed_ahead.take()).await {
            Ok(()) => break,
            Err(e) if attempt < LAST_WRITE_TRIES => {
                retrying(Some(account), &e, "the last batch could not be recorded");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            Err(e) => {
                tracing::error!(%account, error = %e, "the last batch could not be recorded; its rows will count as unknown");
            }
        }
    }
    tracing::info!(%account, "sender stopped");
}

struct AccountState {
    claim: ClaimState,
    send: SendState,
    /// The last batch's results, written while the next batch is sent.
    pending: Option<Write>,
}

/// Logs a failure that is about to be retried (of an account's batch, or of the
/// housekeeping): a warning while another writer holds the database (it passes), an error
/// otherwise.
fn retrying(account: Option<AccountId>, e: &StoreError, what: &str) {
    // Recorded only when there is one.
    let account = account.map(|a| a.0);
    if e.is_busy() {
        tracing::warn!(account, error = %e, "{what}: the database is busy with another writer (a large import?); retrying");
    } else {
        tracing::error!(account, error = %e, "{what}; retrying");
    }
}

/// How many times a stopping sender tries to write its last results.
const LAST_WRITE_TRIES: u32 = 3;
