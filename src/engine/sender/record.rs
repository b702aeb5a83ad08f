//! Recording a batch: its results, opt-outs and halts in one transaction, kept pending while
//! the database cannot take them.

use crate::domain::states::HALTED_PREFIX;
use crate::domain::{AccountId, AccountStatus, CampaignId, CampaignStatus, Channel};
use crate::store::outbox::{self, Outcome};
use crate::store::{self, Store, StoreError};
use sqlx::Connection;

/// Writes the pending results; they stay pending when the write fails.
pub(super) async fn flush(store: &Store, pending: &mut Option<Write>) -> Result<(), StoreError> {
    if let Some(w) = pending.as_ref() {
        write(store, w).await?;
    }
    *pending = None;
    Ok(())
}

/// What a batch came to, written in one transaction while the next batch is sent.
pub(super) struct Write {
    pub(super) account: AccountId,
    pub(super) channel: Channel,
    pub(super) results: Vec<(i64, Outcome)>,
    pub(super) opt_outs: Vec<(String, String)>,
    pub(super) halt: Option<(String, String)>,
    pub(super) campaign_halts: Vec<(CampaignId, String)>,
}

impl Write {
    /// Results alone (no opt-outs or halts), of rows claimed but not sent.
    pub(super) fn results(
        account: &store::accounts::AccountRow,
        results: Vec<(i64, Outcome)>,
    ) -> Write {
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
    pub(super) fn absorb(&mut self, later: Write) {
        self.results.extend(later.results);
        self.opt_outs.extend(later.opt_outs);
        self.halt = self.halt.take().or(later.halt);
        self.campaign_halts.extend(later.campaign_halts);
    }
}

pub(super) async fn write(store: &Store, w: &Write) -> Result<(), StoreError> {
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
