//! What an account needs before it is stored, checked field by field so that the command
//! line and the console's form give the same answers: the command line prefixes each with
//! its flag, the form shows it under the field.

use super::Channel;
use serde_json::json;

/// A field of an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    Name,
    Token,
    PhoneNumberId,
    WabaId,
    IgUserId,
    BaseUrl,
    Rate,
    WaTier,
}

impl Field {
    /// The command-line flag that sets it.
    pub fn flag(self) -> &'static str {
        match self {
            Field::Name => "--name",
            Field::Token => "--token-file",
            Field::PhoneNumberId => "--phone-number-id",
            Field::WabaId => "--waba-id",
            Field::IgUserId => "--ig-user-id",
            Field::BaseUrl => "--base-url",
            Field::Rate => "--rate",
            Field::WaTier => "--wa-tier",
        }
    }

    /// Its label in the form.
    pub fn label(self) -> &'static str {
        match self {
            Field::Name => "Name",
            Field::Token => "Token",
            Field::PhoneNumberId => "Phone number id",
            Field::WabaId => "WABA id",
            Field::IgUserId => "Account id",
            Field::BaseUrl => "API base URL",
            Field::Rate => "Rate, msg/s",
            Field::WaTier => "Daily tier",
        }
    }

    /// The fields a channel's form shows, in order.
    pub fn for_channel(channel: Channel) -> &'static [Field] {
        match channel {
            Channel::WhatsApp => &[
                Field::Name,
                Field::PhoneNumberId,
                Field::WabaId,
                Field::Token,
                Field::BaseUrl,
                Field::Rate,
                Field::WaTier,
            ],
            Channel::Telegram => &[Field::Name, Field::Token, Field::BaseUrl, Field::Rate],
            Channel::Instagram => &[
                Field::Name,
                Field::IgUserId,
                Field::Token,
                Field::BaseUrl,
                Field::Rate,
            ],
        }
    }
}

/// WhatsApp's messaging tiers: business-initiated unique recipients per moving 24 hours.
pub const WA_TIERS: [i64; 5] = [250, 1000, 2000, 10_000, 100_000];

/// The unique recipients a day of WhatsApp's `messaging_limit_tier` (`TIER_250`, `TIER_2K`,
/// `TIER_10K`…); `None` for `TIER_UNLIMITED` and anything not of that form.
pub fn wa_tier_limit(tier: &str) -> Option<i64> {
    let n = tier.strip_prefix("TIER_")?;
    let (digits, scale) = match n.strip_suffix('K') {
        Some(d) => (d, 1000),
        None => (n, 1),
    };
    digits
        .parse::<i64>()
        .ok()
        .filter(|v| *v > 0)
        .map(|v| v * scale)
}

/// An account as typed: every value is text, as it came from a form or the command line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Draft {
    pub name: String,
    /// `None` keeps the stored token (editing); adding needs one.
    pub token: Option<String>,
    pub phone_number_id: String,
    pub waba_id: String,
    pub ig_user_id: String,
    pub base_url: String,
    pub rate: String,
    pub wa_tier: String,
}

/// A draft that passed every check.
#[derive(Debug, Clone, PartialEq)]
pub struct Valid {
    pub name: String,
    pub token: Option<String>,
    /// The channel fields, as stored in `accounts.settings`.
    pub settings: serde_json::Value,
    pub base_url: Option<String>,
    pub rate: Option<f64>,
    pub wa_tier: Option<i64>,
    /// A plain-http base URL is only ever the loopback sandbox.
    pub sandbox: bool,
}

fn digits(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_digit())
}

/// Checks a draft for a channel; every problem is reported, each with its field.
pub fn validate(channel: Channel, d: &Draft) -> Result<Valid, Vec<(Field, String)>> {
    let mut errors = Vec::new();
    let name = d.name.trim();
    if name.is_empty() {
        errors.push((
            Field::Name,
            "a name to know the account by is needed".into(),
        ));
    } else if name.chars().count() > 80 {
        errors.push((Field::Name, "at most 80 characters".into()));
    }
    let token = d.token.as_deref().map(str::trim);
    match token {
        Some("") => errors.push((Field::Token, "the token is empty".into())),
        Some(t) if t.chars().any(char::is_whitespace) => errors.push((
            Field::Token,
            "the token has spaces or several lines; give only the token".into(),
        )),
        Some(t) if channel == Channel::Telegram => {
            let (bot, secret) = t.split_once(':').unwrap_or(("", ""));
            if !digits(bot) || secret.len() < 30 {
                errors.push((
                    Field::Token,
                    "not a Telegram bot token (it looks like 123456789:AA… from @BotFather)".into(),
                ));
            }
        }
        _ => {}
    }
    let base_url = d.base_url.trim();
    let sandbox = base_url.starts_with("http://");
    let allowed = [
        "https://",
        "http://127.",
        "http://localhost",
        "http://[::1]",
    ];
    if !base_url.is_empty() && !allowed.iter().any(|p| base_url.starts_with(p)) {
        errors.push((
            Field::BaseUrl,
            "must be https:// (plain http only for this machine's loopback sandbox)".into(),
        ));
    }
    let rate = match d.rate.trim() {
        "" => None,
        r => match r.replace(',', ".").parse::<f64>() {
            Ok(v) if v > 0.0 && v <= 1000.0 => Some(v),
            _ => {
                errors.push((
                    Field::Rate,
                    "a number of messages per second, above 0 and at most 1000".into(),
                ));
                None
            }
        },
    };
    let wa_tier = match d.wa_tier.trim().replace([' ', '\u{a0}'], "").as_str() {
        "" => None,
        t => match t.parse::<i64>() {
            Ok(v) if WA_TIERS.contains(&v) => Some(v),
            _ => {
                errors.push((
                    Field::WaTier,
                    "one of 250, 1000, 2000, 10000, 100000 (WhatsApp Manager → messaging limit)"
                        .into(),
                ));
                None
            }
        },
    };
    let settings = match channel {
        Channel::WhatsApp => {
            let id = d.phone_number_id.trim();
            if !digits(id) {
                errors.push((
                    Field::PhoneNumberId,
                    "digits, from WhatsApp Manager → phone numbers".into(),
                ));
            }
            let waba = d.waba_id.trim();
            if !waba.is_empty() && !digits(waba) {
                errors.push((Field::WabaId, "digits, or leave it empty".into()));
            }
            json!({ "phone_number_id": id, "waba_id": (!waba.is_empty()).then_some(waba) })
        }
        Channel::Telegram => match token.and_then(|t| t.split_once(':')) {
            Some((bot, _)) => json!({ "bot_id": bot }),
            None => json!({}),
        },
        Channel::Instagram => {
            let id = d.ig_user_id.trim();
            if !digits(id) {
                errors.push((
                    Field::IgUserId,
                    "digits, the professional account's id".into(),
                ));
            }
            json!({ "ig_user_id": id })
        }
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Valid {
        name: name.to_string(),
        token: token.map(str::to_string),
        settings,
        base_url: (!base_url.is_empty()).then(|| base_url.trim_end_matches('/').to_string()),
        rate,
        wa_tier: if channel == Channel::WhatsApp {
            wa_tier
        } else {
            None
        },
        sandbox,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn whatsapp_tiers_read_as_numbers() {
        use super::wa_tier_limit;
        assert_eq!(wa_tier_limit("TIER_250"), Some(250));
        assert_eq!(wa_tier_limit("TIER_2K"), Some(2000));
        assert_eq!(wa_tier_limit("TIER_100K"), Some(100_000));
        assert_eq!(wa_tier_limit("TIER_UNLIMITED"), None);
        assert_eq!(wa_tier_limit("TIER_0"), None);
        assert_eq!(wa_tier_limit("2K"), None);
    }

    use super::*;

    const BOT: &str = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw";

    fn draft(token: &str) -> Draft {
        Draft {
            name: "Shop".into(),
            token: Some(token.into()),
            ..Draft::default()
        }
    }

    fn fields(r: Result<Valid, Vec<(Field, String)>>) -> Vec<Field> {
        r.err()
            .unwrap_or_default()
            .into_iter()
            .map(|(f, _)| f)
            .collect()
    }

    #[test]
    fn each_channel_gets_what_it_needs() {
        assert_eq!(
            fields(validate(Channel::WhatsApp, &draft("EAAG"))),
            [Field::PhoneNumberId]
        );
        let mut wa = draft("EAAG");
        wa.phone_number_id = "106540352242922".into();
        let ok = validate(Channel::WhatsApp, &wa).unwrap();
        assert_eq!(ok.settings["phone_number_id"], "106540352242922");
        wa.wa_tier = "300".into();
        assert_eq!(fields(validate(Channel::WhatsApp, &wa)), [Field::WaTier]);
        wa.wa_tier = "10 000".into();
        assert_eq!(
            validate(Channel::WhatsApp, &wa).unwrap().wa_tier,
            Some(10_000)
        );
        assert_eq!(
            fields(validate(Channel::Telegram, &draft("nonsense"))),
            [Field::Token]
        );
        let tg = validate(Channel::Telegram, &draft(BOT)).unwrap();
        assert_eq!(tg.settings["bot_id"], "123456789");
        assert_eq!(
            fields(validate(Channel::Instagram, &draft("t"))),
            [Field::IgUserId]
        );
    }

    #[test]
    fn every_problem_is_reported_with_its_field() {
        let d = Draft {
            name: " ".into(),
            token: Some("two words".into()),
            base_url: "http://api.example.com".into(),
            rate: "fast".into(),
            ..Draft::default()
        };
        assert_eq!(
            fields(validate(Channel::Instagram, &d)),
            [
                Field::Name,
                Field::Token,
                Field::BaseUrl,
                Field::Rate,
                Field::IgUserId
            ]
        );
    }

    #[test]
    fn editing_keeps_the_token_and_loopback_is_the_sandbox() {
        let d = Draft {
            name: "Bot".into(),
            token: None,
            base_url: "http://127.0.0.1:4000/".into(),
            rate: "0,5".into(),
            ..Draft::default()
        };
        let v = validate(Channel::Telegram, &d).unwrap();
        assert_eq!(v.token, None);
        assert!(v.sandbox);
        assert_eq!(v.base_url.as_deref(), Some("http://127.0.0.1:4000"));
        assert_eq!(v.rate, Some(0.5));
    }
}
