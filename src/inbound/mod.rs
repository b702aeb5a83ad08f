//! Applying what the platforms send us (parsed by `channels::webhooks`) to the workspace:
//! inbound messages open the 24-hour window; an opt-out keyword or a platform block
//! suppresses the address and withdraws marketing consent at once (a keyword's first also
//! queues the one reply the engine sends to say so); delivery statuses are kept for the
//! sender. Every event is applied once, however often it is delivered.
//!
//! Sits beside the engine: it uses `channels` (the events), `domain` (opt-out keywords) and
//! `store` (the writes), one transaction per webhook.

pub mod server;
pub mod telegram;

use crate::channels::webhooks::{DeliveryStatus, Inbound};
use crate::domain::{AccountId, Channel, optout};
use crate::store::{self, Store, StoreError};
use chrono::{DateTime, TimeZone, Utc};

/// What a webhook did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Applied {
    pub messages: u32,
    pub opt_outs: u32,
    pub statuses: u32,
    /// Events seen before and skipped.
    pub repeats: u32,
}

/// The address form stored for a channel: WhatsApp sends `77011234567`, we keep E.164.
fn address(channel: Channel, raw: &str) -> String {
    match channel {
        Channel::WhatsApp if !raw.starts_with('+') => format!("+{raw}"),
        _ => raw.to_string(),
    }
}

fn time(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(secs, 0)
        .single()
        .filter(|_| secs > 0)
        .unwrap_or_else(Utc::now)
}

/// Whether any of the events stops messages to someone: an opt-out keyword or a block.
fn opts_out(events: &[Inbound], extra_keywords: &[String]) -> bool {
    events.iter().any(|e| match e {
        Inbound::Message { text, .. } => optout::is_opt_out(text, extra_keywords),
        Inbound::Blocked { .. } => true,
        Inbound::Status { .. } => false,
    })
}

/// Applies the events of one webhook (or one Telegram update) for an account.
pub async fn apply(
    store: &Store,
    account: AccountId,
    channel: Channel,
    events: &[Inbound],
    extra_keywords: &[String],
) -> Result<Applied, StoreError> {
    let mut applied = Applied::default();
    // A webhook is answered once its events are written, and the platform does not send it
    // again: an opt-out in it must survive a power cut, so its commit is synced to disk.
    let mut tx = if opts_out(events, extra_keywords) {
        store.begin_synced().await?
    } else {
        store.begin().await?
    };
    for event in events {
        match event {
            Inbound::Message { from, id, text, at } => {
                // Telegram numbers messages per chat, so the sender is part of the key.
                let key = format!("{}:{from}:{id}", channel.as_str());
                if !store::inbound::first_time(&mut tx, "message", &key).await? {
                    applied.repeats += 1;
                    continue;
                }
                let addr = address(channel, from);
                store::inbound::record_inbound(&mut tx, account, channel, &addr, time(*at)).await?;
                applied.messages += 1;
                if optout::is_opt_out(text, extra_keywords) {
                    let proof = format!("inbound message {id}: “{}”", text.trim());
                    // The first opt-out of an address gets one reply that says it worked;
                    // the engine sends it. A keyword written again gets none.
                    if store::inbound::opt_out(&mut tx, channel, &addr, "opt-out keyword", &proof)
                        .await?
                    {
                        store::inbound::queue_reply(&mut tx, account, channel, &addr).await?;
                    }
                    applied.opt_outs += 1;
                }
            }
            Inbound::Blocked { from, at } => {
                let key = format!("{}:{from}:{at}", channel.as_str());
                if !store::inbound::first_time(&mut tx, "blocked", &key).await? {
                    applied.repeats += 1;
                    continue;
                }
                let addr = address(channel, from);
                store::inbound::opt_out(
                    &mut tx,
                    channel,
                    &addr,
                    "blocked on the platform",
                    "platform signal",
                )
                .await?;
                applied.opt_outs += 1;
            }
            Inbound::Status {
                provider_id,
                status,
                recipient,
                at,
                error_code,
                error_title,
            } => {
                let name = match status {
                    DeliveryStatus::Sent => "sent",
                    DeliveryStatus::Delivered => "delivered",
                    DeliveryStatus::Read => "read",
                    DeliveryStatus::Failed => "failed",
                };
                if store::inbound::record_status(
                    &mut tx,
                    &store::inbound::NewStatus {
                        channel,
                        provider_id,
                        recipient: &address(channel, recipient),
                        status: name,
                        error_code: *error_code,
                        error_title: error_title.as_deref(),
                        at: time(*at),
                    },
                )
                .await?
                {
                    applied.statuses += 1;
                } else {
                    applied.repeats += 1;
                }
            }
        }
    }
    tx.commit().await?;
    Ok(applied)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(text: &str) -> Inbound {
        Inbound::Message {
            from: "77011234567".into(),
            id: "wamid.in".into(),
            text: text.into(),
            at: 1,
        }
    }

    /// Only a webhook that stops messages to someone pays for a commit synced to disk.
    #[test]
    fn only_opt_outs_and_blocks_are_synced() {
        let status = Inbound::Status {
            provider_id: "wamid.out".into(),
            status: DeliveryStatus::Read,
            recipient: "77011234567".into(),
            at: 1,
            error_code: None,
            error_title: None,
        };
        let blocked = Inbound::Blocked {
            from: "123".into(),
            at: 1,
        };
        assert!(!opts_out(&[status.clone(), message("Спасибо!")], &[]));
        assert!(opts_out(&[status.clone(), message("СТОП")], &[]));
        assert!(!opts_out(&[message("хватит")], &[]));
        assert!(opts_out(&[message("хватит")], &["Хватит".into()]));
        assert!(opts_out(&[status, blocked], &[]));
    }
}
