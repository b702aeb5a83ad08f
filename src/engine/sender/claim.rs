//! Claiming a batch: the account's running campaigns, the licence's and WhatsApp's limits,
//! fair shares between campaigns, and the check of a batch claimed ahead just before it goes
//! (stopped campaigns, suppressions and withdrawals since; the batch started by one row).

use super::record::{Write, flush};
use super::{EngineOptions, LICENCE_PREFIX};
use crate::domain::quiet;
use crate::domain::{AccountStatus, CampaignId, CampaignStatus};
use crate::store::outbox::{self, Claimed, Outcome, RunningCampaign};
use crate::store::{self, Store, StoreError};
use chrono::Utc;
use rand::RngExt;
use sqlx::Connection;
use std::collections::HashSet;
use std::time::{Duration, Instant};

/// What claiming needs to remember between batches.
pub(super) struct ClaimState {
    pub(super) batch: i64,
    /// Unique WhatsApp recipients of the last 24 hours as last counted, and when.
    pub(super) tier_used: Option<(Instant, i64)>,
    /// Messages sent through real accounts since the day began (when counted, which day).
    pub(super) day_used: Option<(Instant, chrono::DateTime<Utc>, i64)>,
    pub(super) next_campaign: usize,
    /// Template campaigns whose messages the platform has accepted: the others send one
    /// message at a time until it does (see `claim_batch`).
    pub(super) proven: HashSet<CampaignId>,
}

/// How often the unique WhatsApp recipients of the last 24 hours are counted again.
pub(super) const TIER_RECOUNT: Duration = Duration::from_secs(60);

/// Rows claimed for one batch, with the running campaigns they belong to.
pub(super) struct Claim {
    pub(super) campaigns: Vec<RunningCampaign>,
    /// Each row with the index of its campaign.
    pub(super) rows: Vec<(Claimed, usize)>,
    /// Template campaigns none of whose messages the platform has accepted yet: their one
    /// row here goes out alone, and a template error on it pauses the campaign.
    pub(super) probes: Vec<CampaignId>,
    /// The token of a batch claimed ahead, which `go_ahead` needs to start it; 0 for
    /// rows that count as started (claimed to go at once, or started already).
    pub(super) ahead: i64,
    /// What could stop its rows, as of the claim: `go_ahead` checks the rows again only
    /// when it has moved since.
    pub(super) mark: outbox::StopMark,
}

pub(super) enum Next {
    Rows(Claim),
    Idle(Duration),
    /// No running campaign left on this account, or the account stopped.
    Done,
}

/// Puts rows claimed but not sent back in the queue, after the pending results.
pub(super) async fn give_back(
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
pub(super) fn hand_back(
    account: &store::accounts::AccountRow,
    pending: &mut Option<Write>,
    claim: Claim,
) {
    let back = claim.rows.into_iter().map(|(r, _)| (r.id, returned()));
    match pending {
        Some(w) => w.results.extend(back),
        None => *pending = Some(Write::results(account, back.collect())),
    }
}

/// The outcome of a row claimed but not sent: due again now, the attempt not counted.
pub(super) fn returned() -> Outcome {
    Outcome::Requeue {
        at: Utc::now(),
        counts: false,
    }
}

/// When a lease taken now runs out.
pub(super) fn lease_from_now(options: &EngineOptions) -> chrono::DateTime<Utc> {
    Utc::now() + chrono::Duration::from_std(options.lease).unwrap_or_default()
}

/// How many seconds of sending a batch holds. A batch is checked for suppressions when it
/// is claimed and again just before it goes, so an opt-out or an operator's suppression
/// reaches every later send within this (specs/campaigns.md: within a second); results are
/// recorded, and seen, as often.
pub(super) const BATCH_SECONDS: f64 = 1.0;

/// The batch size at `rate` messages a second, at most `cap`.
pub(super) fn batch_for(rate: f64, cap: i64) -> i64 {
    ((rate * BATCH_SECONDS).ceil() as i64).clamp(1, cap.max(1))
}

/// A batch claimed ahead, less the rows whose campaign or account stopped meanwhile (those
/// went back to the queue when it was started), with the rows whose address was suppressed,
/// whose consent was withdrawn, or whose subscriber left the campaign's list meanwhile
/// marked to be skipped. When that cannot be told, the whole batch goes back, to be claimed
/// again.
pub(super) async fn still_running(
    store: &Store,
    options: &EngineOptions,
    account: &store::accounts::AccountRow,
    claim: Claim,
    pending: &mut Option<Write>,
) -> Result<Next, StoreError> {
    let (running, stopped, ours) = match go_ahead(store, options, account, &claim).await {
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
        mark,
    } = claim;
    // Not started, the rows are no longer this engine's: its lease ran out while it waited
    // (another writer held the database that long) and recovery queued them again. The
    // next claim finds them, or whatever is due.
    if !ours {
        tracing::warn!(
            account = %account.id,
            rows = rows.len(),
            "rows claimed ahead waited past their lease and went back to the queue; not sent from this batch"
        );
        return Ok(Next::Idle(Duration::ZERO));
    }
    // Suppressed or consent withdrawn since the claim (an operator's `o`, `subscribers
    // suppress` or `consent --withdraw`, an import, a STOP by webhook), or taken off the
    // campaign's list (`lists remove`, the console's `-`): skipped as the claim would have
    // skipped them.
    for (row, _) in &mut rows {
        if row.stopped.is_none()
            && let Some((_, why)) = stopped.iter().find(|(id, _)| *id == row.id)
        {
            row.stopped = Some(why.clone());
        }
    }
    // Rows of campaigns stopped meanwhile went back to the queue when the claim started.
    rows.retain(|(_, k)| running.contains(&campaigns[*k].id));
    if rows.is_empty() {
        return Ok(if running.is_empty() {
            Next::Done
        } else {
            Next::Idle(Duration::ZERO)
        });
    }
    Ok(Next::Rows(Claim {
        campaigns,
        rows,
        probes,
        ahead: 0,
        mark,
    }))
}

/// Just before a batch claimed ahead goes: the account's running campaigns (none when the
/// account is not active), which of the claimed rows must not go now and why, and whether the
/// claim is still this engine's. The claim is started (a crash from here on leaves its rows
/// `unknown`) and, in the same transaction, its rows of campaigns not running any more go
/// back to the queue (skipped, for a cancelled one). One write transaction, committed (and
/// synced) before any request goes out.
pub(super) async fn go_ahead(
    store: &Store,
    options: &EngineOptions,
    account: &store::accounts::AccountRow,
    claim: &Claim,
) -> Result<(Vec<CampaignId>, Vec<(i64, String)>, bool), StoreError> {
    let mut conn = store.writer(true).await?;
    let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
    let lease_until = lease_from_now(options);
    let ours = outbox::start_claim(&mut tx, claim.ahead, lease_until).await?;
    if !ours {
        tx.commit().await?;
        return Ok((Vec::new(), Vec::new(), false));
    }
    // Most batches: nothing that could stop a row changed since the claim read them.
    let stopped = if outbox::stop_mark(&mut tx).await? == claim.mark {
        Vec::new()
    } else {
        let ids: Vec<i64> = claim.rows.iter().map(|(r, _)| r.id).collect();
        outbox::stopped_among(&mut tx, &ids).await?
    };
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
    let back: Vec<(i64, Outcome)> = claim
        .rows
        .iter()
        .filter(|(_, k)| !running.contains(&claim.campaigns[*k].id))
        .map(|(r, _)| (r.id, returned()))
        .collect();
    if !back.is_empty() {
        outbox::record(&mut tx, &back).await?;
    }
    tx.commit().await?;
    Ok((running, stopped, true))
}

/// Claims the next batch of the account's running campaigns, within what the licence and
/// WhatsApp's tier leave; `in_flight` rows of a batch still being sent count as used.
pub(super) async fn claim_batch(
    store: &Store,
    options: &EngineOptions,
    account: &store::accounts::AccountRow,
    st: &mut ClaimState,
    in_flight: i64,
) -> Result<Next, StoreError> {
    // On disk before any of its requests goes out: a power cut must not queue it again. A
    // batch claimed ahead (`in_flight` > 0) goes only once `go_ahead` has started it, whose
    // commit is synced, so this one would not need to be; it is synced all the same, while
    // the previous batch's requests are out, with the results written before it (the log is
    // written in order). Left to `go_ahead`, those writes made its sync take 5–6 ms a batch
    // with nothing in flight; after this one, about 2 ms (BENCHMARKS.md, campaign engine).
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
    // Read with the rows, before the commit: the rows' `stopped` is as of this mark.
    let mark = outbox::stop_mark(&mut tx).await?;
    tx.commit().await?;
    if rows.is_empty() {
        return Ok(Next::Idle(Duration::from_millis(250)));
    }
    Ok(Next::Rows(Claim {
        campaigns,
        rows,
        probes,
        ahead,
        mark,
    }))
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
