//! The states things move through, as enums stored by name.
//!
//! The campaign lifecycle is specs/campaigns.md: `draft → scheduled → running ⇄ paused →
//! completed`, or `cancelled` from draft, scheduled, running and paused.

use serde::{Deserialize, Serialize};

macro_rules! text_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, sqlx::Type)]
        #[serde(rename_all = "snake_case")]
        #[sqlx(type_name = "TEXT", rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vdoc])* $variant),+
        }

        impl $name {
            /// Every value, in lifecycle order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stable name stored in the database.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                match s {
                    $($text => Ok($name::$variant),)+
                    other => Err(format!(
                        "unknown {} `{}`", stringify!($name), other
                    )),
                }
            }
        }
    };
}

text_enum!(
    /// Whether an account may send.
    AccountStatus {
        /// Sends when a campaign asks.
        Active => "active",
        /// Sends nothing; the reason is stored beside it.
        Paused => "paused",
    }
);

/// How the reason of an account paused by the platform (token, permission, policy, payment)
/// begins, as opposed to one the operator paused: `halted: 190 Session has expired`.
pub const HALTED_PREFIX: &str = "halted: ";

/// Whether a pause reason says the platform halted the account.
pub fn is_halt_reason(reason: Option<&str>) -> bool {
    reason.is_some_and(|r| r.starts_with(HALTED_PREFIX))
}

/// A paused account's state in words: `halted: 190 …` as the platform's halt reads, or
/// `paused (REASON)` for the operator's own pause.
pub fn pause_words(reason: Option<&str>) -> String {
    match reason {
        Some(why) if is_halt_reason(reason) => why.to_string(),
        Some(why) => format!("paused ({why})"),
        None => "paused".to_string(),
    }
}

text_enum!(
    /// Where a campaign is in its lifecycle.
    CampaignStatus {
        /// Being composed; nothing materialised.
        Draft => "draft",
        /// Will start by itself at its scheduled time.
        Scheduled => "scheduled",
        /// Its outbox is being worked by an engine.
        Running => "running",
        /// No new rows are claimed; in-flight sends finish and are recorded.
        Paused => "paused",
        /// No queued or sending rows are left.
        Completed => "completed",
        /// Stopped for good; remaining queued rows were skipped.
        Cancelled => "cancelled",
    }
);

impl CampaignStatus {
    /// Whether the lifecycle allows moving from `self` to `to`.
    pub fn can_become(self, to: CampaignStatus) -> bool {
        use CampaignStatus::*;
        matches!(
            (self, to),
            (Draft, Scheduled)
                | (Draft, Running)
                | (Scheduled, Running)
                | (Scheduled, Draft)
                | (Running, Paused)
                | (Paused, Running)
                | (Running, Completed)
                | (Draft | Scheduled | Running | Paused, Cancelled)
        )
    }

    /// Whether an engine has (or may soon have) work for this campaign.
    pub fn is_active(self) -> bool {
        matches!(self, CampaignStatus::Running | CampaignStatus::Scheduled)
    }

    /// Whether the campaign can change no more.
    pub fn is_final(self) -> bool {
        matches!(self, CampaignStatus::Completed | CampaignStatus::Cancelled)
    }
}

text_enum!(
    /// The state of one message to one subscriber (ARCHITECTURE.md §4).
    OutboxState {
        /// Waiting for its time and its turn.
        Queued => "queued",
        /// Claimed by a sender under a lease.
        Sending => "sending",
        /// Accepted by the platform.
        Sent => "sent",
        /// Delivered to the device.
        Delivered => "delivered",
        /// Read by the recipient.
        Read => "read",
        /// Will not be delivered; class and code say why.
        Failed => "failed",
        /// Never sent, on purpose; the reason says why.
        Skipped => "skipped",
        /// May have reached the platform; never re-sent automatically.
        Unknown => "unknown",
    }
);

impl OutboxState {
    /// Rank along the delivery path; status updates only ever raise it.
    pub fn delivery_rank(self) -> Option<u8> {
        match self {
            OutboxState::Sent => Some(1),
            OutboxState::Delivered => Some(2),
            OutboxState::Read => Some(3),
            _ => None,
        }
    }
}

text_enum!(
    /// What a consent covers.
    ConsentScope {
        /// Promotions and news.
        Marketing => "marketing",
        /// Transactional messages about the subscriber's own orders or account.
        Service => "service",
    }
);

/// Marketing: what a consent recorded without naming its scope covers (the commands'
/// `--scope`).
impl Default for ConsentScope {
    fn default() -> Self {
        ConsentScope::Marketing
    }
}

text_enum!(
    /// A consent event's direction.
    ConsentStatus {
        /// The subscriber agreed.
        Granted => "granted",
        /// The subscriber took the agreement back.
        Withdrawn => "withdrawn",
    }
);

#[cfg(test)]
mod tests {
    use super::*;
    use CampaignStatus::*;

    #[test]
    fn final_states_go_nowhere() {
        for &from in [Completed, Cancelled].iter() {
            for &to in CampaignStatus::ALL {
                assert!(!from.can_become(to), "{from} -> {to}");
            }
        }
    }

    #[test]
    fn cancel_from_every_live_state() {
        for from in [Draft, Scheduled, Running, Paused] {
            assert!(from.can_become(Cancelled));
        }
        assert!(Running.can_become(Paused) && Paused.can_become(Running));
        assert!(!Paused.can_become(Completed));
    }

    #[test]
    fn names_round_trip() {
        for &s in OutboxState::ALL {
            assert_eq!(s.as_str().parse::<OutboxState>(), Ok(s));
        }
        for &s in CampaignStatus::ALL {
            assert_eq!(s.as_str().parse::<CampaignStatus>(), Ok(s));
        }
    }
}
