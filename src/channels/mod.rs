//! The messenger channels: what a send to WhatsApp Cloud API, Telegram Bot API or Instagram
//! Messaging API came to, as one classified [`Outcome`] the sender acts on.
//!
//! Owns: the outcome classes of ARCHITECTURE.md §5 and the mapping of every platform answer
//! to them (specs/channels.md, "Outcome classes"); the [`Channel`] trait and its three
//! implementations (`whatsapp.rs`, `telegram.rs`, `instagram.rs`) driven by one shared
//! [`client::Client`]; webhook signatures and payloads (`webhooks.rs`). Depends on `domain`
//! only. The inbound server and the engine act on what it returns.

pub mod classify;
pub mod client;
pub mod instagram;
pub mod telegram;
pub mod webhooks;
pub mod whatsapp;

pub use client::Channel;

use std::time::Duration;

/// What one send attempt came to, and so what the sender must do next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Accepted by the platform; the id links later status webhooks to the message.
    Sent { provider_id: String },
    /// The whole account must slow down for this long (throughput or server trouble).
    RetryAfter(Duration),
    /// Only this recipient must wait this long (per-recipient pacing).
    RetryRecipient(Duration),
    /// This message will never go through; `code` is the platform's.
    Permanent { code: String, message: String },
    /// The recipient opted out or blocked the sender: suppress the address.
    OptOut { code: String, message: String },
    /// The account cannot send (token, permissions, policy block, payment): pause it and
    /// tell the operator.
    AccountHalt { code: String, reason: String },
    /// The campaign's template was paused or disabled: stop the campaign, not the account.
    CampaignHalt { code: String, reason: String },
    /// The platform may or may not have the message: record `unknown`, never resend blindly.
    Ambiguous { reason: String },
}

impl Outcome {
    /// The class name, as stored in `outbox.fail_class` and shown in reports.
    pub fn class(&self) -> &'static str {
        match self {
            Outcome::Sent { .. } => "sent",
            Outcome::RetryAfter(_) => "retry_account",
            Outcome::RetryRecipient(_) => "retry_recipient",
            Outcome::Permanent { .. } => "permanent",
            Outcome::OptOut { .. } => "opt_out",
            Outcome::AccountHalt { .. } => "account_halt",
            Outcome::CampaignHalt { .. } => "campaign_halt",
            Outcome::Ambiguous { .. } => "ambiguous",
        }
    }
}
