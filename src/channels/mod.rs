//! The messenger channels: what a send to WhatsApp Cloud API, Telegram Bot API or Instagram
//! Messaging API came to, as one classified [`Outcome`] the sender acts on.
//!
//! Owns: the outcome classes of ARCHITECTURE.md §5 and the mapping of every platform answer
//! to them (specs/channels.md, "Outcome classes"); the [`Channel`] trait and its three
//! implementations (`whatsapp.rs`, `telegram.rs`, `instagram.rs`) driven by one shared
//! [`client::Client`] and its kept-alive connections (`pool.rs`); webhook signatures and
//! payloads (`webhooks.rs`). Depends on `domain`
//! only. The inbound server and the engine act on what it returns.

pub mod classify;
pub mod client;
pub mod instagram;
mod pool;
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

/// One line an operator reads, e.g. `refused, code 131026: Message Undeliverable` or
/// `the account must wait 6 s`.
impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let coded = |f: &mut std::fmt::Formatter<'_>, what: &str, code: &str, words: &str| {
            write!(f, "{what}, code {code}")?;
            match platform_words(code, words) {
                Some(w) => write!(f, ": {w}"),
                None => Ok(()),
            }
        };
        let secs = |d: &Duration| d.as_secs_f64().ceil().max(1.0);
        match self {
            Outcome::Sent { provider_id } => write!(f, "accepted as {provider_id}"),
            Outcome::RetryAfter(d) => write!(f, "the account must wait {} s", secs(d)),
            Outcome::RetryRecipient(d) => {
                write!(f, "this person can be written to again in {} s", secs(d))
            }
            Outcome::Permanent { code, message } => coded(f, "refused", code, message),
            Outcome::OptOut { code, message } => {
                coded(f, "the person blocked the account", code, message)
            }
            Outcome::AccountHalt { code, reason } => {
                coded(f, "the account cannot send", code, reason)
            }
            Outcome::CampaignHalt { code, reason } => {
                coded(f, "the template is stopped", code, reason)
            }
            Outcome::Ambiguous { reason } => write!(f, "no clear answer: {reason}"),
        }
    }
}

/// The platform's message for a failure, as kept with the row next to its code: without
/// Meta's `(#131026)` prefix that repeats the code, at most 200 characters, none when it
/// said nothing.
pub fn platform_words(code: &str, message: &str) -> Option<String> {
    let m = message.trim();
    let m = [format!("(#{code})"), format!("({code})")]
        .iter()
        .find_map(|p| m.strip_prefix(p.as_str()))
        .unwrap_or(m)
        .trim();
    (!m.is_empty()).then(|| m.chars().take(200).collect())
}

#[cfg(test)]
mod tests {
    use super::{Outcome, platform_words};
    use std::time::Duration;

    #[test]
    fn platform_words_drop_the_repeated_code() {
        assert_eq!(
            platform_words("131026", "(#131026) Message Undeliverable."),
            Some("Message Undeliverable.".into())
        );
        assert_eq!(
            platform_words("131026", " (131026) Message Undeliverable"),
            Some("Message Undeliverable".into())
        );
        assert_eq!(
            platform_words("403", "Forbidden: user is deactivated"),
            Some("Forbidden: user is deactivated".into())
        );
        assert_eq!(platform_words("100", "(#100) "), None);
        assert_eq!(platform_words("1", &"x".repeat(500)).unwrap().len(), 200);
    }

    #[test]
    fn an_outcome_reads_as_a_sentence() {
        let permanent = Outcome::Permanent {
            code: "131026".into(),
            message: "(#131026) Message Undeliverable".into(),
        };
        assert_eq!(
            permanent.to_string(),
            "refused, code 131026: Message Undeliverable"
        );
        let bare = Outcome::AccountHalt {
            code: "190".into(),
            reason: " ".into(),
        };
        assert_eq!(bare.to_string(), "the account cannot send, code 190");
        assert_eq!(
            Outcome::RetryRecipient(Duration::from_millis(5200)).to_string(),
            "this person can be written to again in 6 s"
        );
        assert_eq!(
            Outcome::RetryAfter(Duration::ZERO).to_string(),
            "the account must wait 1 s"
        );
    }
}
