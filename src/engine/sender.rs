//! The sender: one task per account with running campaigns claims due rows (fairly across
//! that account's campaigns), paces them through the account's token bucket (governor),
//! keeps each recipient's spacing and send window, sends concurrently, and records every
//! result of a batch in one transaction.
//!
//! Only the engine that holds the database's engine lease sends; another one stands by and
//! takes over when the lease runs out. Housekeeping runs beside it: expired leases become
//! `unknown`, status webhooks move rows forward, scheduled campaigns start, finished ones
//! complete.

use crate::channels::Outcome as SendOutcome;
use crate::channels::client::{Client, Message, Target};
use crate::domain::quiet::{self, SendWindow};
use crate::domain::states::HALTED_PREFIX;
use crate::domain::template::{MessageTemplate, Recipient};
use crate::domain::{AccountId, AccountStatus, CampaignId, CampaignStatus, Channel};
use crate::license::sync::Licence;
use crate::store::outbox::{self, Claimed, Outcome, RunningCampaign};
use crate::store::{self, Store, StoreError};
use chrono::Utc;
use futures::StreamExt;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use rand::RngExt;
use sqlx::Connection;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;

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

/// Checks the token of each account not checked for `every`, one after the other, and
/// records the result as its health (the Accounts pane shows it); a token that stops
/// working is logged as a warning, one that works again as news.
async fn check_due_accounts(store: Store, client: Client, every: Duration) {
    let before = Utc::now() - chrono::Duration::from_std(every).unwrap_or_default();
    let due = match store.accounts_due_for_health(before).await {
        Ok(d) => d,
        Err(e) => return retrying(None, &e, "could not list the accounts to check"),
    };
    for account in due {
        let was_ok = account.health_ok();
        match super::check_account(&store, &client, account.id).await {
            Ok(Some((_, health))) if !health.ok && was_ok != Some(false) => tracing::warn!(
                account = %account.name,
                "the account's token check failed: {}; sends from it will fail until it is fixed",
                health.detail
            ),
            Ok(Some((_, health))) if health.ok && was_ok == Some(false) => tracing::info!(
                account = %account.name,
                "the account's token check passes again: {}",
                health.detail
            ),
            Ok(_) => {}
            Err(e) => retrying(Some(account.id), &e, "could not record an account's health"),
        }
    }
}

/// Sends the replies queued by opt-out keywords, each once, from the account the keyword was
/// written to. They are the one message a suppressed address gets, so they pass no consent
/// check; a paused account keeps its replies until it is resumed (they are not read). A failed reply is tried
/// again at the next round, up to `REPLY_ATTEMPTS` times, the reason kept each time.
async fn send_opt_out_replies(store: Store, client: Client, text: Option<String>) {
    use crate::store::inbound::{pending_replies, reply_done, reply_sending};
    let pending = match store.read().await {
        Ok(mut conn) => {
            let p = pending_replies(&mut conn, 20).await;
            let _ = conn.commit().await;
            p
        }
        Err(e) => Err(e),
    };
    let pending = match pending {
        Ok(p) => p,
        Err(e) => return retrying(None, &e, "could not read the opt-out replies to send"),
    };
    for reply in pending {
        use crate::channels::Outcome as O;
        use crate::store::inbound::ReplyResult as R;
        let why;
        let result = match &text {
            None => R::GiveUp("replies to opt-outs are turned off"),
            Some(text) => match super::target(&store, reply.account_id).await {
                Ok(None) => R::GiveUp("the account was removed"),
                Ok(Some((_, target))) => {
                    let marked = async {
                        let mut tx = store.begin().await?;
                        let marked = reply_sending(&mut tx, reply.id, reply.attempts).await?;
                        tx.commit().await?;
                        Ok::<bool, StoreError>(marked)
                    };
                    match marked.await {
                        Ok(true) => {}
                        Ok(false) => continue,
                        Err(e) => {
                            return retrying(
                                Some(reply.account_id),
                                &e,
                                "could not mark an opt-out reply as going out",
                            );
                        }
                    }
                    let outcome = client
                        .send(&target, &reply.address, &Message::Text(text.clone()))
                        .await;
                    why = outcome.to_string();
                    match outcome {
                        O::Sent { .. } => R::Sent,
                        O::RetryAfter(wait) | O::RetryRecipient(wait) => R::Later(
                            &why,
                            Utc::now() + chrono::Duration::from_std(wait).unwrap_or_default(),
                        ),
                        O::Ambiguous { .. } => R::GiveUp(&why),
                        _ => R::Failed(&why),
                    }
                }
                Err(e) => return retrying(Some(reply.account_id), &e, "could not read an account"),
            },
        };
        let to = crate::domain::mask::address(&reply.address, 4);
        match result {
            R::Sent => {
                tracing::info!(channel = reply.channel.as_str(), to = %to, "replied to an opt-out")
            }
            R::Failed(why) => tracing::warn!(
                channel = reply.channel.as_str(),
                to = %to,
                "the reply to an opt-out failed (attempt {} of {}): {why}",
                reply.attempts + 1,
                crate::store::inbound::REPLY_ATTEMPTS
            ),
            R::GiveUp(why) if text.is_some() => tracing::warn!(
                channel = reply.channel.as_str(),
                to = %to,
                "the reply to an opt-out is not sent: {why}"
            ),
            _ => {}
        }
        let written = async {
            let mut tx = store.begin().await?;
            reply_done(&mut tx, reply.id, reply.attempts, result).await?;
            tx.commit().await?;
            Ok::<(), StoreError>(())
        };
        if let Err(e) = written.await {
            // It stays marked as sent without a recorded answer: never sent twice.
            return retrying(
                Some(reply.account_id),
                &e,
                "could not record an opt-out reply",
            );
        }
    }
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

/// A running campaign's message, ready to render.
struct Prepared {
    template: Option<MessageTemplate>,
    /// A WhatsApp template's name, language and body parameters (each a small template).
    wa_template: Option<(String, String, Vec<MessageTemplate>)>,
    window: Option<SendWindow>,
}

fn prepare(c: &RunningCampaign) -> Result<Prepared, String> {
    let window = match (&c.quiet_start, &c.quiet_end) {
        (Some(a), Some(b)) => Some(SendWindow::parse(&format!("{a}-{b}"))?),
        _ => None,
    };
    let template = c
        .message_text
        .as_deref()
        .map(MessageTemplate::compile)
        .transpose()?;
    let wa_template = match (&c.wa_template_name, &c.wa_template_lang) {
        (Some(n), Some(l)) => {
            let params: Vec<String> =
                serde_json::from_str(&c.wa_template_params).unwrap_or_default();
            // Compiled once per campaign, not once per message.
            let params = params
                .iter()
                .map(|p| MessageTemplate::compile(p))
                .collect::<Result<Vec<_>, _>>()?;
            Some((n.clone(), l.clone(), params))
        }
        _ => None,
    };
    Ok(Prepared {
        template,
        wa_template,
        window,
    })
}

/// What to send to one claimed row, or what to record instead.
fn message_for(p: &Prepared, row: &Claimed) -> Result<Message, Outcome> {
    let attributes: serde_json::Value = serde_json::from_str(&row.attributes).unwrap_or_default();
    let recipient = Recipient {
        name: &row.name,
        locale: row.locale.as_deref(),
        attributes: &attributes,
    };
    let failed = |e: String| Outcome::Failed {
        class: "template".into(),
        code: e.chars().take(200).collect(),
        detail: None,
    };
    if let Some((name, lang, params)) = &p.wa_template {
        // Each parameter is a small template of its own: `{{ name }}`, `{{ attributes.city }}`.
        let mut values = Vec::new();
        for t in params {
            values.push(t.render(&recipient).map_err(failed)?);
        }
        return Ok(Message::Template {
            name: name.clone(),
            language: lang.clone(),
            params: values,
        });
    }
    match &p.template {
        Some(t) => t.render(&recipient).map(Message::Text).map_err(failed),
        None => Err(failed("the campaign has no message".into())),
    }
}

/// The least time between two messages to one recipient from one account.
fn spacing(channel: Channel) -> Duration {
    match channel {
        Channel::WhatsApp => Duration::from_secs(6),
        Channel::Telegram => Duration::from_secs(1),
        Channel::Instagram => Duration::ZERO,
    }
}

fn limiter(rate: f64, burst: u32) -> DefaultDirectRateLimiter {
    let burst = NonZeroU32::new(burst.max(1)).unwrap_or(NonZeroU32::MIN);
    let period = Duration::from_secs_f64(1.0 / rate.clamp(0.001, 1_000_000.0));
    let quota = Quota::with_period(period)
        .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
        .allow_burst(burst);
    RateLimiter::direct(quota)
}

/// Exponential backoff with jitter: base, 2×base, 4×base … up to `max`, each ±50 %.
fn backoff(attempts: i64, base: Duration, max: Duration) -> Duration {
    let factor = 2f64.powi((attempts - 1).clamp(0, 16) as i32);
    let wait = (base.as_secs_f64() * factor).min(max.as_secs_f64());
    Duration::from_secs_f64(wait * rand::rng().random_range(0.5..1.5))
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
    let bucket = Arc::new(limiter(rate, options.burst));
    let target = Arc::new(target);
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
            send_claimed(
                &client,
                &options,
                &row,
                &target,
                &bucket,
                &mut st.send,
                claim
            ),
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

/// What claiming needs to remember between batches.
struct ClaimState {
    batch: i64,
    /// Unique WhatsApp recipients of the last 24 hours as last counted, and when.
    tier_used: Option<(Instant, i64)>,
    /// Messages sent through real accounts since the day began (when counted, which day).
    day_used: Option<(Instant, chrono::DateTime<Utc>, i64)>,
    next_campaign: usize,
    /// Template campaigns whose messages the platform has accepted: the others send one
    /// message at a time until it does (see `claim_batch`).
    proven: HashSet<CampaignId>,
}

/// What sending needs to remember between batches.
struct SendState {
    /// Addresses the platform reported opted out lately (their write may still be under
    /// way), with when; kept a minute.
    opted_out: HashMap<String, Instant>,
    /// Slow-downs without a time since the last accepted message.
    strikes: i64,
    slow_until: Option<Instant>,
    last_sent: HashMap<String, Instant>,
    /// When `last_sent` and `opted_out` were last cleared of old entries.
    last_pruned: Instant,
    prepared: HashMap<CampaignId, Result<Prepared, String>>,
}

/// How often the unique WhatsApp recipients of the last 24 hours are counted again.
const TIER_RECOUNT: Duration = Duration::from_secs(60);

/// Rows claimed for one batch, with the running campaigns they belong to.
struct Claim {
    campaigns: Vec<RunningCampaign>,
    /// Each row with the index of its campaign.
    rows: Vec<(Claimed, usize)>,
    /// Template campaigns none of whose messages the platform has accepted yet: their one
    /// row here goes out alone, and a template error on it pauses the campaign.
    probes: Vec<CampaignId>,
    /// The token of a batch claimed ahead, which `go_ahead` needs to start its rows; 0 for
    /// rows that count as started (claimed to go at once, or started already).
    ahead: i64,
}

enum Next {
    Rows(Claim),
    Idle(Duration),
    /// No running campaign left on this account, or the account stopped.
    Done,
}

/// Puts rows claimed but not sent back in the queue, after the pending results.
async fn give_back(
    store: &Store,
    account: &store::accounts::AccountRow,
    pending: &mut Option<Write>,
    claim: Option<Claim>,
) -> Result<(), StoreError> {
    if let Some(claim) = claim {
        hand_back(account, pending, claim);
    }
    flush(store, pending).await
}

/// Adds rows claimed but not sent to the pending results, as due again now: they go back to
/// the queue with the next write, however long the database makes it wait.
fn hand_back(account: &store::accounts::AccountRow, pending: &mut Option<Write>, claim: Claim) {
    let back = claim.rows.into_iter().map(|(r, _)| (r.id, returned()));
    match pending {
        Some(w) => w.results.extend(back),
        None => *pending = Some(Write::results(account, back.collect())),
    }
}

/// The outcome of a row claimed but not sent: due again now, the attempt not counted.
fn returned() -> Outcome {
    Outcome::Requeue {
        at: Utc::now(),
        counts: false,
    }
}

/// When a lease taken now runs out.
fn lease_from_now(options: &EngineOptions) -> chrono::DateTime<Utc> {
    Utc::now() + chrono::Duration::from_std(options.lease).unwrap_or_default()
}

/// How many seconds of sending a batch holds. A batch is checked for suppressions when it
/// is claimed and again just before it goes, so an opt-out or an operator's suppression
/// reaches every later send within this (specs/campaigns.md: within a second); results are
/// recorded, and seen, as often.
const BATCH_SECONDS: f64 = 1.0;

/// The batch size at `rate` messages a second, at most `cap`.
fn batch_for(rate: f64, cap: i64) -> i64 {
    ((rate * BATCH_SECONDS).ceil() as i64).clamp(1, cap.max(1))
}

/// A batch claimed ahead, less the rows whose campaign or account stopped meanwhile (those
/// go back to the queue with the pending results), with the rows whose address was
/// suppressed or whose consent was withdrawn meanwhile marked to be skipped. When that
/// cannot be told, the whole batch goes back, to be claimed again.
async fn still_running(
    store: &Store,
    options: &EngineOptions,
    account: &store::accounts::AccountRow,
    claim: Claim,
    pending: &mut Option<Write>,
) -> Result<Next, StoreError> {
    let (running, stopped, started) = match go_ahead(store, options, account, &claim).await {
        Ok(found) => found,
        Err(e) => {
            hand_back(account, pending, claim);
            return Err(e);
        }
    };
    let Claim {
        campaigns,
        mut rows,
        probes,
        ahead: _,
    } = claim;
    // A row not started is no longer this engine's: its lease ran out while it waited
    // (another writer held the database that long) and recovery queued it again.
    let before = rows.len();
    rows.retain(|(r, k)| !running.contains(&campaigns[*k].id) || started.contains(&r.id));
    if rows.len() < before {
        tracing::warn!(
            account = %account.id,
            rows = before - rows.len(),
            "rows claimed ahead waited past their lease and went back to the queue; not sent from this batch"
        );
    }
    // Suppressed or consent withdrawn since the claim (an operator's `o`, `subscribers
    // suppress` or `consent --withdraw`, an import, a STOP by webhook): skipped as the claim
    // would have skipped them.
    for (row, _) in &mut rows {
        if row.stopped.is_none()
            && let Some((_, why)) = stopped.iter().find(|(id, _)| *id == row.id)
        {
            row.stopped = Some(why.clone());
        }
    }
    let (keep, stop): (Vec<_>, Vec<_>) = rows
        .into_iter()
        .partition(|(_, k)| running.contains(&campaigns[*k].id));
    if !stop.is_empty() {
        let stop = Claim {
            campaigns: Vec::new(),
            rows: stop,
            probes: Vec::new(),
            ahead: 0,
        };
        // Kept pending when it cannot be written now; the rows still running go out.
        if let Err(e) = give_back(store, account, pending, Some(stop)).await {
            retrying(Some(account.id), &e, "a batch could not be recorded");
        }
    }
    if keep.is_empty() {
        return Ok(if running.is_empty() {
            Next::Done
        } else {
            Next::Idle(Duration::ZERO)
        });
    }
    Ok(Next::Rows(Claim {
        campaigns,
        rows: keep,
        probes,
        ahead: 0,
    }))
}

/// Just before a batch claimed ahead goes: the account's running campaigns (none when the
/// account is not active), which of the claimed rows must not go now and why, and the rows
/// of running campaigns marked started (a crash from here on leaves them `unknown`). One
/// write transaction, committed before any request goes out.
async fn go_ahead(
    store: &Store,
    options: &EngineOptions,
    account: &store::accounts::AccountRow,
    claim: &Claim,
) -> Result<(Vec<CampaignId>, Vec<(i64, String)>, HashSet<i64>), StoreError> {
    let ids: Vec<i64> = claim.rows.iter().map(|(r, _)| r.id).collect();
    let mut conn = store.writer(true).await?;
    let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
    let stopped = outbox::stopped_among(&mut tx, &ids).await?;
    let account = account.id;
    let status: Option<AccountStatus> = store::accounts::status_of(&mut tx, account).await?;
    let running: Vec<CampaignId> = if status == Some(AccountStatus::Active) {
        outbox::running(&mut tx)
            .await?
            .into_iter()
            .filter(|c| c.account_id == account)
            .map(|c| c.id)
            .collect()
    } else {
        Vec::new()
    };
    let going: Vec<i64> = claim
        .rows
        .iter()
        .filter(|(_, k)| running.contains(&claim.campaigns[*k].id))
        .map(|(r, _)| r.id)
        .collect();
    let lease_until = lease_from_now(options);
    let started = outbox::start_claimed(&mut tx, &going, claim.ahead, lease_until).await?;
    tx.commit().await?;
    Ok((running, stopped, started.into_iter().collect()))
}

/// Claims the next batch of the account's running campaigns, within what the licence and
/// WhatsApp's tier leave; `in_flight` rows of a batch still being sent count as used.
async fn claim_batch(
    store: &Store,
    options: &EngineOptions,
    account: &store::accounts::AccountRow,
    st: &mut ClaimState,
    in_flight: i64,
) -> Result<Next, StoreError> {
    // On disk before any of its requests goes out: a power cut must not queue it again.
    let mut conn = store.writer(true).await?;
    let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
    let status: Option<AccountStatus> = store::accounts::status_of(&mut tx, account.id).await?;
    let campaigns: Vec<RunningCampaign> = outbox::running(&mut tx)
        .await?
        .into_iter()
        .filter(|c| c.account_id == account.id)
        .collect();
    if status != Some(AccountStatus::Active) || campaigns.is_empty() {
        tx.commit().await?;
        return Ok(Next::Done);
    }
    // The licence: paused with a reason while it does not allow this account to send; the
    // tariff's messages a day bound the batch.
    let mut budget: Option<i64> = None;
    if let Some(licence) = &options.licence {
        let (allows, label, per_day, accounts) = {
            let l = licence.borrow();
            (
                l.allows(),
                l.state().label(),
                l.messages_per_day(),
                l.accounts_limit(),
            )
        };
        // A tariff of N accounts lets the first N real accounts connected send (accounts
        // added before a move to a smaller tariff are refused here, not only when added).
        let beyond = match (accounts, account.sandbox) {
            (Some(max), false) => {
                let rank = store::accounts::real_rank(&mut tx, account.id).await?;
                (rank >= i64::from(max)).then(|| {
                    format!(
                        "the tariff allows {max} real account{}; this is number {} (remove one, or move to a larger tariff)",
                        if max == 1 { "" } else { "s" },
                        rank + 1
                    )
                })
            }
            _ => None,
        };
        let allowed = if account.sandbox {
            allows.send_sandbox
        } else {
            allows.send
        };
        if !allowed || beyond.is_some() {
            let why = format!(
                "{LICENCE_PREFIX}{}",
                beyond.unwrap_or_else(|| label.to_string())
            );
            for c in &campaigns {
                outbox::transition(
                    &mut tx,
                    c.id,
                    &[CampaignStatus::Running],
                    CampaignStatus::Paused,
                    Some(&why),
                )
                .await?;
            }
            tx.commit().await?;
            tracing::warn!(account = %account.id, %why, "the licence does not allow sending; campaigns paused");
            return Ok(Next::Done);
        }
        if let (Some(cap), false) = (per_day, account.sandbox) {
            // Counted every ten seconds (and kept up between), in the operator's day.
            let midnight = quiet::start_of_day(Utc::now().with_timezone(&options.operator_tz));
            let today = match st.day_used {
                Some((at, day, n)) if day == midnight && at.elapsed() < Duration::from_secs(10) => {
                    n
                }
                _ => {
                    let n = store::accounts::real_sent_since(&mut tx, midnight).await?;
                    st.day_used = Some((Instant::now(), midnight, n));
                    n
                }
            };
            let left = cap as i64 - today - in_flight;
            if left <= 0 {
                tx.commit().await?;
                // With a batch still out, this is decided again once it is in.
                if in_flight == 0 {
                    tracing::warn!(account = %account.id, cap, "the tariff's messages for today are used up; waiting for tomorrow");
                }
                return Ok(Next::Idle(Duration::from_secs(60)));
            }
            budget = Some(left);
        }
    }
    // WhatsApp's business-initiated recipients per moving 24 hours. Counting them reads
    // every row sent in a day, so the count is taken once a minute and kept up between
    // (each accepted message counted as a new recipient: the count can only run high).
    if let Some(tier) = account.wa_budget() {
        let used = match st.tier_used {
            Some((at, n)) if at.elapsed() < TIER_RECOUNT => n,
            _ => {
                let n = outbox::recipients_since(
                    &mut tx,
                    account.id,
                    Utc::now() - chrono::Duration::hours(24),
                )
                .await?;
                st.tier_used = Some((Instant::now(), n));
                n
            }
        };
        let left = tier - used - in_flight;
        budget = Some(budget.map_or(left, |b| b.min(left)));
        if left <= 0 {
            tx.commit().await?;
            if in_flight == 0 {
                tracing::warn!(account = %account.id, used, tier, "daily WhatsApp tier reached; waiting");
            }
            return Ok(Next::Idle(Duration::from_secs(60)));
        }
    }
    // Fair shares: each running campaign of the account gets its part of the batch, and the
    // first campaign asked turns round.
    let batch = budget.map_or(st.batch, |b| st.batch.min(b));
    let share = (batch / campaigns.len() as i64).max(1);
    let lease_until = lease_from_now(options);
    // A WhatsApp template that does not exist, or takes other parameters, fails every
    // message the same way: until the platform has accepted one of a template campaign's
    // messages, its next goes out alone, so a mistake costs one message, not a batch. While
    // a batch is out (it may hold that message), nothing is claimed ahead.
    let mut probes = Vec::new();
    for c in &campaigns {
        if c.wa_template_name.is_some() && !st.proven.contains(&c.id) {
            if outbox::any_accepted(&mut tx, c.id).await? {
                st.proven.insert(c.id);
            } else {
                probes.push(c.id);
            }
        }
    }
    if !probes.is_empty() && in_flight > 0 {
        tx.commit().await?;
        return Ok(Next::Idle(Duration::ZERO));
    }
    let mut rows: Vec<(Claimed, usize)> = Vec::new();
    // Claimed while another batch is out, the rows go only once `go_ahead` starts them.
    let ahead = if in_flight > 0 {
        rand::rng().random_range(1..i64::MAX)
    } else {
        0
    };
    for k in 0..campaigns.len() {
        let i = (st.next_campaign + k) % campaigns.len();
        let c = &campaigns[i];
        let share = if probes.contains(&c.id) { 1 } else { share };
        for row in outbox::claim(
            &mut tx,
            c.id,
            c.scope,
            c.needs_window(),
            share,
            lease_until,
            ahead,
        )
        .await?
        {
            rows.push((row, i));
        }
    }
    st.next_campaign = st.next_campaign.wrapping_add(1);
    tx.commit().await?;
    if rows.is_empty() {
        return Ok(Next::Idle(Duration::from_millis(250)));
    }
    Ok(Next::Rows(Claim {
        campaigns,
        rows,
        probes,
        ahead,
    }))
}

/// What sending a batch came to.
struct Done {
    /// Messages accepted, per campaign.
    sent: Vec<(CampaignId, u64)>,
    write: Write,
}

/// Sends a claimed batch: quiet hours, recipients' spacing and the account's bucket, then
/// the requests, concurrently; classifies what came back.
async fn send_claimed(
    client: &Client,
    options: &EngineOptions,
    account: &store::accounts::AccountRow,
    target: &Arc<Target>,
    bucket: &Arc<DefaultDirectRateLimiter>,
    st: &mut SendState,
    claim: Claim,
) -> Done {
    let Claim {
        campaigns,
        rows,
        probes,
        ahead,
    } = claim;
    debug_assert_eq!(ahead, 0, "a batch claimed ahead goes only once started");
    let now = Utc::now();
    let mut results: Vec<(i64, Outcome)> = Vec::new();
    let mut to_send: Vec<(i64, CampaignId, String, Message, i64)> = Vec::new();
    let mut in_batch: std::collections::HashSet<String> = std::collections::HashSet::new();
    for (row, k) in rows {
        let c = &campaigns[k];
        let prepared = st.prepared.entry(c.id).or_insert_with(|| prepare(c));
        let prepared = match prepared {
            Ok(p) => p,
            Err(e) => {
                results.push((
                    row.id,
                    Outcome::Failed {
                        class: "template".into(),
                        code: e.clone(),
                        detail: None,
                    },
                ));
                continue;
            }
        };
        // Stopped since the outbox was made; or opted out by the platform's answer to an
        // earlier batch whose results may not be written yet.
        let stopped = row.stopped.clone().or_else(|| {
            st.opted_out
                .contains_key(&row.address)
                .then(|| "opted out".to_string())
        });
        if let Some(reason) = stopped {
            results.push((row.id, Outcome::Skipped { reason }));
            continue;
        }
        if let Some(window) = &prepared.window {
            let tz = quiet::zone(
                &[row.time_zone.as_deref(), row.list_time_zone.as_deref()],
                options.operator_tz,
            );
            if let Some(open) = window.next_open(now, tz) {
                results.push((
                    row.id,
                    Outcome::Requeue {
                        at: open,
                        counts: false,
                    },
                ));
                continue;
            }
        }
        let gap = spacing(account.channel);
        let wait = match st.last_sent.get(&row.address) {
            Some(last) if last.elapsed() < gap => Some(gap - last.elapsed()),
            // Two campaigns' rows for one address in the same batch: the first in claim
            // order goes now, the other after the spacing (sent together, the platform
            // would refuse one for the pair limit).
            _ if !gap.is_zero() && !in_batch.insert(row.address.clone()) => Some(gap),
            _ => None,
        };
        if let Some(wait) = wait {
            results.push((
                row.id,
                Outcome::Requeue {
                    at: now + chrono::Duration::from_std(wait).unwrap_or_default(),
                    counts: false,
                },
            ));
            continue;
        }
        match message_for(prepared, &row) {
            Ok(m) => to_send.push((row.id, c.id, row.address, m, row.attempts)),
            Err(o) => results.push((row.id, o)),
        }
    }
    let sends = futures::stream::iter(to_send.into_iter().map(
        |(id, campaign, address, message, attempts)| {
            let (client, target, bucket) = (client.clone(), target.clone(), bucket.clone());
            // Each request a task of its own, so both runtime threads build requests and
            // read answers; polled inline, one task would do all of it on one thread.
            let to = address.clone();
            let send = tokio::spawn(async move {
                bucket.until_ready().await;
                client.send(&target, &to, &message).await
            });
            async move {
                let outcome = send.await.unwrap_or_else(|e| SendOutcome::Ambiguous {
                    reason: format!("the send stopped: {e}"),
                });
                (id, campaign, address, attempts, outcome)
            }
        },
    ))
    .buffer_unordered(options.concurrency.max(1))
    .collect::<Vec<_>>()
    .await;
    let mut sent: Vec<(CampaignId, u64)> = Vec::new();
    let mut opt_outs = Vec::new();
    let mut halt: Option<(String, String)> = None;
    let mut campaign_halts: Vec<(CampaignId, String)> = Vec::new();
    for (id, campaign, address, attempts, outcome) in sends {
        let now = Utc::now();
        let requeue_or_fail = |attempts: i64, wait: Duration, code: &str| {
            if attempts >= options.max_attempts {
                Outcome::Failed {
                    class: "retries_exhausted".into(),
                    code: code.to_string(),
                    detail: None,
                }
            } else {
                Outcome::Requeue {
                    at: now + chrono::Duration::from_std(wait).unwrap_or_default(),
                    counts: true,
                }
            }
        };
        let result = match outcome {
            SendOutcome::Sent { provider_id } => {
                match sent.iter_mut().find(|(c, _)| *c == campaign) {
                    Some((_, n)) => *n += 1,
                    None => sent.push((campaign, 1)),
                }
                st.strikes = 0;
                st.last_sent.insert(address, Instant::now());
                Outcome::Sent { provider_id }
            }
            SendOutcome::RetryAfter(d) => {
                // No time named by the platform: back off by how often the account was told
                // to slow down lately, from short to long.
                let d = if d == crate::channels::classify::DEFAULT_BACKOFF {
                    st.strikes += 1;
                    backoff(st.strikes, options.backoff_base, options.max_pause)
                } else {
                    d.min(options.max_pause)
                };
                let wait = d.max(backoff(attempts, options.backoff_base, options.max_pause));
                let until = Instant::now() + d;
                st.slow_until = Some(st.slow_until.map_or(until, |u| u.max(until)));
                requeue_or_fail(attempts, wait, "slowed down")
            }
            SendOutcome::RetryRecipient(d) => Outcome::Requeue {
                at: now
                    + chrono::Duration::from_std(d.max(Duration::from_secs(1))).unwrap_or_default(),
                counts: false,
            },
            SendOutcome::Permanent { code, message } => {
                let words = crate::channels::platform_words(&code, &message);
                if probes.contains(&campaign)
                    && crate::channels::classify::is_template_error(&code)
                    && !campaign_halts.iter().any(|(c, _)| *c == campaign)
                {
                    campaign_halts.push((
                        campaign,
                        format!(
                            "its first message failed with the template error {code}{}; \
                             nothing else was sent. Check the template's name, language and \
                             parameters on the platform, then resume",
                            words
                                .as_deref()
                                .map(|w| format!(" ({w})"))
                                .unwrap_or_default()
                        ),
                    ));
                }
                Outcome::Failed {
                    class: "permanent".into(),
                    detail: words,
                    code,
                }
            }
            SendOutcome::OptOut { code, message } => {
                opt_outs.push((address, format!("{code}: {message}")));
                Outcome::Failed {
                    class: "opt_out".into(),
                    detail: crate::channels::platform_words(&code, &message),
                    code,
                }
            }
            SendOutcome::AccountHalt { code, reason } => {
                halt.get_or_insert((code, reason));
                Outcome::Requeue {
                    at: now,
                    counts: false,
                }
            }
            SendOutcome::CampaignHalt { code, reason } => {
                if !campaign_halts.iter().any(|(c, _)| *c == campaign) {
                    campaign_halts.push((
                        campaign,
                        format!("the platform stopped its template: {code} {reason}"),
                    ));
                }
                Outcome::Requeue {
                    at: now,
                    counts: false,
                }
            }
            SendOutcome::Ambiguous { reason } => Outcome::Unknown {
                reason: reason.chars().take(200).collect(),
            },
        };
        results.push((id, result));
    }
    for (address, _) in &opt_outs {
        st.opted_out.insert(address.clone(), Instant::now());
    }
    // Memory stays flat whatever the campaign's size: only recent sends and opt-outs are
    // kept (cleared of old entries once a second).
    if st.last_pruned.elapsed() >= Duration::from_secs(1) {
        let gap = spacing(account.channel);
        st.last_sent.retain(|_, at| at.elapsed() < gap);
        st.opted_out
            .retain(|_, at| at.elapsed() < Duration::from_secs(60));
        st.last_pruned = Instant::now();
    }
    Done {
        sent,
        write: Write {
            account: account.id,
            channel: account.channel,
            results,
            opt_outs,
            halt,
            campaign_halts,
        },
    }
}

/// Writes the pending results; they stay pending when the write fails.
async fn flush(store: &Store, pending: &mut Option<Write>) -> Result<(), StoreError> {
    if let Some(w) = pending.as_ref() {
        write(store, w).await?;
    }
    *pending = None;
    Ok(())
}

/// What a batch came to, written in one transaction while the next batch is sent.
struct Write {
    account: AccountId,
    channel: Channel,
    results: Vec<(i64, Outcome)>,
    opt_outs: Vec<(String, String)>,
    halt: Option<(String, String)>,
    campaign_halts: Vec<(CampaignId, String)>,
}

impl Write {
    /// Results alone (no opt-outs or halts), of rows claimed but not sent.
    fn results(account: &store::accounts::AccountRow, results: Vec<(i64, Outcome)>) -> Write {
        Write {
            account: account.id,
            channel: account.channel,
            results,
            opt_outs: Vec::new(),
            halt: None,
            campaign_halts: Vec::new(),
        }
    }

    /// Adds a later batch's results to these, which could not be written yet.
    fn absorb(&mut self, later: Write) {
        self.results.extend(later.results);
        self.opt_outs.extend(later.opt_outs);
        self.halt = self.halt.take().or(later.halt);
        self.campaign_halts.extend(later.campaign_halts);
    }
}

/// How many times a stopping sender tries to write its last results.
const LAST_WRITE_TRIES: u32 = 3;

async fn write(store: &Store, w: &Write) -> Result<(), StoreError> {
    // Not synced: a power cut that takes these back leaves their rows `sending`, and they
    // turn `unknown` when the lease runs out; nothing is sent twice.
    let mut conn = store.writer(false).await?;
    let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
    outbox::record(&mut tx, &w.results).await?;
    for (address, proof) in &w.opt_outs {
        store::inbound::opt_out(
            &mut tx,
            w.channel,
            address,
            "the platform reports an opt-out",
            proof,
        )
        .await?;
    }
    if let Some((code, reason)) = &w.halt {
        let why = format!("{HALTED_PREFIX}{code} {reason}");
        store::accounts::change_status(
            &mut tx,
            w.account,
            AccountStatus::Paused,
            Some(&why),
            "engine",
        )
        .await?;
        tracing::error!(account = %w.account, %why, "account halted; its rows stay queued");
    }
    for (campaign, why) in &w.campaign_halts {
        outbox::transition(
            &mut tx,
            *campaign,
            &[CampaignStatus::Running],
            CampaignStatus::Paused,
            Some(why),
        )
        .await?;
        tracing::error!(%campaign, %why, "campaign paused");
    }
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::batch_for;

    #[test]
    fn a_batch_holds_a_second_of_sending() {
        assert_eq!(batch_for(80.0, 100), 80);
        assert_eq!(batch_for(6.0, 100), 6);
        assert_eq!(batch_for(0.5, 100), 1);
        assert_eq!(batch_for(1000.0, 100), 100);
        assert_eq!(batch_for(30.0, 0), 1);
    }
}
