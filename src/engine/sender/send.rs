//! Sending a claimed batch: each row's message, quiet hours, recipients' spacing and the
//! account's token bucket, the requests (concurrently), and what their answers mean for the
//! rows, the account and the campaign.

use super::EngineOptions;
use super::claim::Claim;
use super::record::Write;
use crate::channels::Outcome as SendOutcome;
use crate::channels::client::{Client, Message, Target};
use crate::domain::quiet::{self, SendWindow};
use crate::domain::template::{MessageTemplate, Recipient};
use crate::domain::{CampaignId, Channel};
use crate::store;
use crate::store::outbox::{Claimed, Outcome, RunningCampaign};
use chrono::Utc;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use rand::RngExt;
use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A running campaign's message, ready to render.
pub(super) struct Prepared {
    pub(super) template: Option<MessageTemplate>,
    /// A WhatsApp template's name, language and body parameters (each a small template).
    pub(super) wa_template: Option<(String, String, Vec<MessageTemplate>)>,
    pub(super) window: Option<SendWindow>,
}

pub(super) fn prepare(c: &RunningCampaign) -> Result<Prepared, String> {
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
pub(super) fn message_for(p: &Prepared, row: &Claimed) -> Result<Message, Outcome> {
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
pub(super) fn spacing(channel: Channel) -> Duration {
    match channel {
        Channel::WhatsApp => Duration::from_secs(6),
        Channel::Telegram => Duration::from_secs(1),
        Channel::Instagram => Duration::ZERO,
    }
}

pub(super) fn limiter(rate: f64, burst: u32) -> DefaultDirectRateLimiter {
    let burst = NonZeroU32::new(burst.max(1)).unwrap_or(NonZeroU32::MIN);
    let period = Duration::from_secs_f64(1.0 / rate.clamp(0.001, 1_000_000.0));
    let quota = Quota::with_period(period)
        .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
        .allow_burst(burst);
    RateLimiter::direct(quota)
}

/// Exponential backoff with jitter: base, 2×base, 4×base … up to `max`, each ±50 %.
pub(super) fn backoff(attempts: i64, base: Duration, max: Duration) -> Duration {
    let factor = 2f64.powi((attempts - 1).clamp(0, 16) as i32);
    let wait = (base.as_secs_f64() * factor).min(max.as_secs_f64());
    Duration::from_secs_f64(wait * rand::rng().random_range(0.5..1.5))
}

/// What sending needs to remember between batches.
pub(super) struct SendState {
    /// Addresses the platform reported opted out lately (their write may still be under
    /// way), with when; kept a minute.
    pub(super) opted_out: HashMap<String, Instant>,
    /// Slow-downs without a time since the last accepted message.
    pub(super) strikes: i64,
    pub(super) slow_until: Option<Instant>,
    pub(super) last_sent: HashMap<String, Instant>,
    /// When `last_sent` and `opted_out` were last cleared of old entries.
    pub(super) last_pruned: Instant,
    pub(super) prepared: HashMap<CampaignId, Result<Prepared, String>>,
}

/// What sending a batch came to.
pub(super) struct Done {
    /// Messages accepted, per campaign.
    pub(super) sent: Vec<(CampaignId, u64)>,
    pub(super) write: Write,
}

/// Where an account's messages go: the client, the account's endpoint and its token bucket.
pub(super) struct Outlet {
    pub(super) client: Client,
    pub(super) target: Arc<Target>,
    pub(super) bucket: Arc<DefaultDirectRateLimiter>,
}

/// One message to send: its row, campaign, address, message and attempts so far.
type ToSend = (i64, CampaignId, String, Message, i64);

/// What came back for one message: its row, campaign, address, attempts and the outcome.
type Answered = (i64, CampaignId, String, i64, SendOutcome);

/// The messages still to send and the answers so far, in the order they came.
struct Work {
    queue: std::vec::IntoIter<ToSend>,
    answered: Vec<Answered>,
}

/// Sends the messages, `concurrency` at a time, each when the account's bucket allows; what
/// came back for each, in the order the answers came (a slow-down counts from the last
/// accepted message before it).
///
/// The requests go from `concurrency` tasks that each take the next message when their last
/// one is answered, so both runtime threads build requests and read answers (polled inline,
/// one task would do all of it on one thread); a task for each request instead cost a 2.4 KB
/// allocation and its copies a message (BENCHMARKS.md, campaign engine). Rendering in these
/// tasks instead of before them measured more CPU a message, and no faster. A send that
/// panics counts as ambiguous, and its task goes on with the next message.
async fn send_all(outlet: &Outlet, concurrency: usize, to_send: Vec<ToSend>) -> Vec<Answered> {
    let count = to_send.len();
    if count == 0 {
        return Vec::new();
    }
    let work = Arc::new(std::sync::Mutex::new(Work {
        queue: to_send.into_iter(),
        answered: Vec::with_capacity(count),
    }));
    let tasks: Vec<_> = (0..concurrency.clamp(1, count))
        .map(|_| {
            let (work, client, target, bucket) = (
                work.clone(),
                outlet.client.clone(),
                outlet.target.clone(),
                outlet.bucket.clone(),
            );
            tokio::spawn(async move {
                let mut last: Option<Answered> = None;
                loop {
                    // One lock a message: the last answer in, the next message out. Nothing
                    // panics while holding it, so the work is whole even if it is poisoned.
                    let next = {
                        let mut w = work.lock().unwrap_or_else(|e| e.into_inner());
                        w.answered.extend(last.take());
                        w.queue.next()
                    };
                    let Some((id, campaign, address, message, attempts)) = next else {
                        break;
                    };
                    bucket.until_ready().await;
                    let send =
                        std::panic::AssertUnwindSafe(client.send(&target, &address, &message));
                    let outcome =
                        futures::FutureExt::catch_unwind(send)
                            .await
                            .unwrap_or_else(|_| SendOutcome::Ambiguous {
                                reason: "the send stopped: it panicked".into(),
                            });
                    last = Some((id, campaign, address, attempts, outcome));
                }
            })
        })
        .collect();
    // Each send's panic is caught above; a task cut short otherwise (the runtime shutting
    // down) leaves the row it was sending claimed, and it turns `unknown`.
    for task in tasks {
        let _ = task.await;
    }
    let mut w = work.lock().unwrap_or_else(|e| e.into_inner());
    std::mem::take(&mut w.answered)
}

/// Sends a claimed batch: quiet hours, recipients' spacing and the account's bucket, then
/// the requests, concurrently; classifies what came back.
pub(super) async fn send_claimed(
    outlet: &Outlet,
    options: &EngineOptions,
    account: &store::accounts::AccountRow,
    st: &mut SendState,
    claim: Claim,
) -> Done {
    let Claim {
        campaigns,
        rows,
        probes,
        ahead,
        mark: _,
    } = claim;
    debug_assert_eq!(ahead, 0, "a batch claimed ahead goes only once started");
    let now = Utc::now();
    let mut results: Vec<(i64, Outcome)> = Vec::new();
    let mut to_send: Vec<ToSend> = Vec::new();
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
    let answered = send_all(outlet, options.concurrency, to_send).await;
    let mut sent: Vec<(CampaignId, u64)> = Vec::new();
    let mut opt_outs = Vec::new();
    let mut halt: Option<(String, String)> = None;
    let mut campaign_halts: Vec<(CampaignId, String)> = Vec::new();
    for (id, campaign, address, attempts, outcome) in answered {
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
