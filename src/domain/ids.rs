//! Newtype identifiers: a campaign id can never be passed where a subscriber id is meant.

use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
            sqlx::Type,
        )]
        #[sqlx(transparent)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id_type!(
    /// A messenger account (one WhatsApp number, one Telegram bot, one Instagram account).
    AccountId
);
id_type!(
    /// A person who may receive messages on one or more channels.
    SubscriberId
);
id_type!(
    /// A named list of subscribers.
    ListId
);
id_type!(
    /// A campaign: one message to one list through one account.
    CampaignId
);
