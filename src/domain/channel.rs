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

    /// An address on this channel as it is stored, or why `input` is not one: a phone in
    /// E.164 (`region` for one written without a country code), a Telegram chat id as a
    /// number, an Instagram-scoped id as 5 to 25 digits. The import and the commands that
    /// take an address read it here, so an address typed by hand matches an imported one.
    pub fn normalize_address(
        self,
        input: &str,
        region: super::phone::Region,
    ) -> Result<String, String> {
        let v = input.trim();
        match self {
            Channel::WhatsApp => {
                super::phone::normalize(v, region).map_err(|e| format!("invalid phone ({e})"))
            }
            Channel::Telegram => v
                .parse::<i64>()
                .map(|id| id.to_string())
                .map_err(|_| format!("invalid telegram chat id (`{v}` is not a number)")),
            Channel::Instagram => {
                if (5..=25).contains(&v.len()) && v.bytes().all(|b| b.is_ascii_digit()) {
                    Ok(v.to_string())
                } else {
                    Err(format!(
                        "invalid instagram id (`{v}` is not an Instagram-scoped id)"
                    ))
                }
            }
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
    fn an_address_is_read_the_same_wherever_it_is_typed() {
        let kz = crate::domain::phone::Region::default();
        let read = |c: Channel, s: &str| c.normalize_address(s, kz);
        assert_eq!(
            read(Channel::WhatsApp, " 8 (701) 123-45-67 ").unwrap(),
            "+77011234567"
        );
        assert!(
            read(Channel::WhatsApp, "12345")
                .unwrap_err()
                .starts_with("invalid phone (")
        );
        // Chat ids are numbers; a group's is negative.
        assert_eq!(read(Channel::Telegram, " 123456789 ").unwrap(), "123456789");
        assert_eq!(
            read(Channel::Telegram, "-1001234567").unwrap(),
            "-1001234567"
        );
        assert_eq!(
            read(Channel::Telegram, "@shop").unwrap_err(),
            "invalid telegram chat id (`@shop` is not a number)"
        );
        assert_eq!(
            read(Channel::Instagram, "17841400000000").unwrap(),
            "17841400000000"
        );
        for bad in ["1234", "shop.kz", "12345678901234567890123456"] {
            assert!(read(Channel::Instagram, bad).is_err(), "{bad}");
        }
    }

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
