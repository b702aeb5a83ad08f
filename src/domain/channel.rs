//! The three official messenger channels and what the product knows about each.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A messenger channel reached through its official business API.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, sqlx::Type,
)]
#[serde(rename_all = "lowercase")]
#[sqlx(type_name = "TEXT", rename_all = "lowercase")]
pub enum Channel {
    /// WhatsApp Business Cloud API.
    WhatsApp,
    /// Telegram Bot API.
    Telegram,
    /// Instagram Messaging API.
    Instagram,
}

impl Channel {
    /// Every channel, in display order.
    pub const ALL: [Channel; 3] = [Channel::WhatsApp, Channel::Telegram, Channel::Instagram];

    /// Its place in [`Channel::ALL`] (for what is kept per channel in that order).
    pub fn index(self) -> usize {
        match self {
            Channel::WhatsApp => 0,
            Channel::Telegram => 1,
            Channel::Instagram => 2,
        }
    }

    /// Whether a message reaches only those who wrote to the account in the last 24 hours:
    /// always on Instagram, for free text on WhatsApp (an approved template does not need
    /// it), never on Telegram.
    pub fn needs_window(self, template: bool) -> bool {
        match self {
            Channel::Instagram => true,
            Channel::WhatsApp => !template,
            Channel::Telegram => false,
        }
    }

    /// The stable name stored in the database and used on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::WhatsApp => "whatsapp",
            Channel::Telegram => "telegram",
            Channel::Instagram => "instagram",
        }
    }

    /// The name shown to operators.
    pub fn label(self) -> &'static str {
        match self {
            Channel::WhatsApp => "WhatsApp",
            Channel::Telegram => "Telegram",
            Channel::Instagram => "Instagram",
        }
    }

    /// An account's name with its channel, `Shop (WhatsApp)`; the name alone when it already
    /// says the channel (`Shop · WhatsApp`).
    pub fn account_label(self, name: &str) -> String {
        if name.to_lowercase().contains(&self.label().to_lowercase()) {
            name.to_string()
        } else {
            format!("{name} ({})", self.label())
        }
    }

    /// One-letter badge for narrow columns.
    pub fn badge(self) -> char {
        match self {
            Channel::WhatsApp => 'W',
            Channel::Telegram => 'T',
            Channel::Instagram => 'I',
        }
    }

    /// The platform's default sending rate for one account, in messages per second
    /// (ARCHITECTURE.md §5, specs/channels.md). Accounts may override it.
    pub fn default_rate_per_sec(self) -> f64 {
        match self {
            Channel::WhatsApp => 80.0,
            Channel::Telegram => 30.0,
            Channel::Instagram => 10.0,
        }
    }

    /// What the address of a subscriber on this channel is.
    pub fn address_kind(self) -> &'static str {
        match self {
            Channel::WhatsApp => "phone (E.164)",
            Channel::Telegram => "chat id",
            Channel::Instagram => "Instagram-scoped id",
        }
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// A channel name that is not one of the three.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown channel `{0}`: use whatsapp, telegram or instagram")]
pub struct UnknownChannel(pub String);

impl FromStr for Channel {
    type Err = UnknownChannel;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "whatsapp" | "wa" => Ok(Channel::WhatsApp),
            "telegram" | "tg" => Ok(Channel::Telegram),
            "instagram" | "ig" => Ok(Channel::Instagram),
            _ => Err(UnknownChannel(s.to_string())),
        }
    }
}

impl TryFrom<String> for Channel {
    type Error = UnknownChannel;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_is_named_with_its_channel_once() {
        assert_eq!(Channel::WhatsApp.account_label("Shop"), "Shop (WhatsApp)");
        assert_eq!(
            Channel::WhatsApp.account_label("Clever Shop · WhatsApp"),
            "Clever Shop · WhatsApp"
        );
        assert_eq!(
            Channel::Telegram.account_label("shop telegram bot"),
            "shop telegram bot"
        );
        assert_eq!(
            Channel::Instagram.account_label("WhatsApp backup"),
            "WhatsApp backup (Instagram)"
        );
    }

    #[test]
    fn names_round_trip() {
        for c in Channel::ALL {
            assert_eq!(c.as_str().parse::<Channel>(), Ok(c));
        }
        assert!("sms".parse::<Channel>().is_err());
    }
}
