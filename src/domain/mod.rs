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
