//! Plain types and rules of the product, with no I/O.
//!
//! Owns: identifiers, channels, the states of accounts, campaigns and outbox rows, consent
//! vocabulary, and masking of secrets and personal data for display and logs.
//! Must not touch: the database, the network, the terminal. Everything else depends on
//! this module; it depends on nothing in the crate.

pub mod account;
pub mod channel;
pub mod consent;
pub mod ids;
pub mod mask;
pub mod optout;
pub mod phone;
pub mod policy;
pub mod quiet;
pub mod states;
pub mod template;

pub use channel::Channel;
pub use ids::{AccountId, CampaignId, ListId, SubscriberId};
pub use states::{AccountStatus, CampaignStatus, ConsentScope, ConsentStatus, OutboxState};

/// `one` for a count of 1, `many` otherwise: `{n} {noun(n, "message", "messages")}`.
pub fn noun<'a, N: PartialEq + From<u8>>(n: N, one: &'a str, many: &'a str) -> &'a str {
    if n == N::from(1) { one } else { many }
}
