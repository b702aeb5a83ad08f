//! Header names to meanings, in English, Russian and Kazakh, case-insensitive. Columns that
//! mean nothing here become subscriber attributes under their own name.

use crate::domain::{Channel, ConsentScope};

/// What a column holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Column {
    Phone,
    TelegramChatId,
    InstagramId,
    Name,
    Locale,
    TimeZone,
    /// Consent on every channel the row has an address on.
    Consent,
    /// Consent on one channel for a scope (`subscribers export` writes one column per
    /// channel and scope: `consent_whatsapp` for marketing, `service_consent_whatsapp` for
    /// service); for marketing it wins over [`Column::Consent`] on that channel.
    ConsentOn(ConsentScope, Channel),
    ConsentSource,
    /// What proves the consent (a signed form's number, a recording, a web page and time).
    ConsentProof,
    ConsentAt,
    /// When, from where and with what proof the consent on one channel for a scope was given
    /// (`subscribers export` writes them beside each channel's value); each wins over the
    /// row's own on its channel.
    ConsentAtOn(ConsentScope, Channel),
    ConsentSourceOn(ConsentScope, Channel),
    ConsentProofOn(ConsentScope, Channel),
    /// The number `subscribers export` gives a subscriber: it means nothing to another
    /// workspace, and a subscriber is matched by their addresses, so it is read past.
    ExportedId,
    /// Kept as an attribute under this name.
    Attribute(String),
}

const ALIASES: &[(&[&str], Column)] = &[
    (
        &[
            "phone",
            "phone_number",
            "mobile",
            "msisdn",
            "whatsapp",
            "телефон",
            "тел",
            "номер",
            "номер_телефона",
            "мобильный",
            "моб_телефон",
            "мобильный_телефон",
            "рабочий_телефон",
            "домашний_телефон",
            "другой_телефон",
            "mobile_phone",
            "cell",
            "cell_phone",
            "work_phone",
            "home_phone",
            "other_phone",
            "телефон_нөмірі",
            "нөмір",
        ],
        Column::Phone,
    ),
    (
        &[
            "telegram_chat_id",
            "telegram",
            "telegram_id",
            "chat_id",
            "tg",
            "телеграм",
            "телеграмм",
        ],
        Column::TelegramChatId,
    ),
    (
        &["instagram_id", "instagram", "igsid", "ig_id", "инстаграм"],
        Column::InstagramId,
    ),
    (
        &[
            "name",
            "full_name",
            "fullname",
            "имя",
            "фио",
            "клиент",
            "имя_клиента",
            "аты",
            "аты_жөні",
            "есімі",
        ],
        Column::Name,
    ),
    (
        &["locale", "language", "lang", "язык", "тіл"],
        Column::Locale,
    ),
    (
        &[
            "timezone",
            "time_zone",
            "tz",
            "часовой_пояс",
            "уақыт_белдеуі",
        ],
        Column::TimeZone,
    ),
    (
        &[
            "consent",
            "opt_in",
            "optin",
            "marketing_consent",
            "согласие",
            "согласие_на_рассылку",
            "келісім",
        ],
        Column::Consent,
    ),
    (
        &[
            "consent_source",
            "источник_согласия",
            "источник",
            "келісім_көзі",
        ],
        Column::ConsentSource,
    ),
    (
        &["consent_proof", "доказательство_согласия", "келісім_дәлелі"],
        Column::ConsentProof,
    ),
    (
        &[
            "consent_at",
            "consent_date",
            "дата_согласия",
            "келісім_күні",
        ],
        Column::ConsentAt,
    ),
    (
        &["consent_whatsapp", "whatsapp_consent", "согласие_whatsapp"],
        Column::ConsentOn(ConsentScope::Marketing, Channel::WhatsApp),
    ),
    (
        &["consent_telegram", "telegram_consent", "согласие_telegram"],
        Column::ConsentOn(ConsentScope::Marketing, Channel::Telegram),
    ),
    (
        &[
            "consent_instagram",
            "instagram_consent",
            "согласие_instagram",
        ],
        Column::ConsentOn(ConsentScope::Marketing, Channel::Instagram),
    ),
    (&["subscriber_id"], Column::ExportedId),
];

/// Lower case, BOM and outer spaces removed, inner spaces and dashes as `_`.
pub fn normalize_header(h: &str) -> String {
    h.trim_start_matches('\u{feff}')
        .trim()
        .to_lowercase()
        .split(|c: char| c.is_whitespace() || c == '-' || c == '.')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("_")
}

/// The column a normalised header names, if it is one of the import's own.
fn lookup(norm: &str) -> Option<Column> {
    marketing(norm)
        .or_else(|| service(norm))
        .or_else(|| numbered(norm))
}

/// Whether a column holds a subscriber's address on a channel. Several may: each adds an
/// address (a CRM's mobile and work phones, `subscribers export`'s `phone_2`).
pub fn is_address(column: &Column) -> bool {
    matches!(
        column,
        Column::Phone | Column::TelegramChatId | Column::InstagramId
    )
}

/// An address column numbered after its name, as `subscribers export` writes a second
/// address on a channel (`phone_2`, `telegram_chat_id_2`) and spreadsheets name them
/// (`Телефон 2`, `phone2`).
fn numbered(norm: &str) -> Option<Column> {
    let name = norm.trim_end_matches(|c: char| c.is_ascii_digit());
    if name.len() == norm.len() {
        return None;
    }
    let name = name.strip_suffix('_').unwrap_or(name);
    marketing(name).filter(is_address)
}

/// The column a normalised header names, with the per-channel consent columns for
/// marketing.
fn marketing(norm: &str) -> Option<Column> {
    ALIASES
        .iter()
        .find(|(names, _)| names.contains(&norm))
        .map(|(_, c)| c.clone())
        .or_else(|| per_channel(norm))
}

/// A service consent's column on one channel: a marketing one's name after `service_`, as
/// `subscribers export` writes it (`service_consent_whatsapp`, `service_consent_whatsapp_at`,
/// …; `service_согласие_whatsapp` reads too).
fn service(norm: &str) -> Option<Column> {
    let scope = ConsentScope::Service;
    match marketing(norm.strip_prefix("service_")?)? {
        Column::ConsentOn(_, c) => Some(Column::ConsentOn(scope, c)),
        Column::ConsentAtOn(_, c) => Some(Column::ConsentAtOn(scope, c)),
        Column::ConsentSourceOn(_, c) => Some(Column::ConsentSourceOn(scope, c)),
        Column::ConsentProofOn(_, c) => Some(Column::ConsentProofOn(scope, c)),
        _ => None,
    }
}

/// When, from where and with what proof one channel's consent was given, as `subscribers
/// export` names them (`consent_whatsapp_at`) or in Russian (`дата_согласия_whatsapp`).
fn per_channel(norm: &str) -> Option<Column> {
    // English after `consent_CHANNEL_`; Russian and Kazakh (as the row's own columns are
    // named) before `_CHANNEL`.
    type Kind = (
        &'static str,
        [&'static str; 2],
        fn(ConsentScope, Channel) -> Column,
    );
    let kinds: [Kind; 3] = [
        ("at", ["дата_согласия", "келісім_күні"], Column::ConsentAtOn),
        (
            "source",
            ["источник_согласия", "келісім_көзі"],
            Column::ConsentSourceOn,
        ),
        (
            "proof",
            ["доказательство_согласия", "келісім_дәлелі"],
            Column::ConsentProofOn,
        ),
    ];
    Channel::ALL.into_iter().find_map(|channel| {
        let ch = channel.as_str();
        kinds
            .iter()
            .find(|(en, local, _)| {
                norm.strip_prefix("consent_")
                    .and_then(|rest| rest.strip_prefix(ch))
                    .and_then(|rest| rest.strip_prefix('_'))
                    == Some(en)
                    || norm
                        .strip_suffix(ch)
                        .and_then(|rest| rest.strip_suffix('_'))
                        .is_some_and(|name| local.contains(&name))
            })
            .map(|(_, _, column)| column(ConsentScope::Marketing, channel))
    })
}

/// Whether the import reads a header as one of its own columns rather than an attribute.
pub fn is_known(header: &str) -> bool {
    lookup(&normalize_header(header)).is_some()
}

/// Maps every header to a column. Fails when two headers mean the same thing (but address
/// columns, which may repeat) or when no column can identify a subscriber.
pub fn map(headers: &[String]) -> Result<Vec<Column>, String> {
    let mut out = Vec::with_capacity(headers.len());
    for h in headers {
        let norm = normalize_header(h);
        let col = lookup(&norm).unwrap_or_else(|| {
            Column::Attribute(h.trim_start_matches('\u{feff}').trim().to_string())
        });
        let earlier = out.iter().position(|c| *c == col);
        if let Some(earlier) = earlier
            && !matches!(col, Column::Attribute(_))
            && !is_address(&col)
        {
            return Err(format!(
                "two columns mean the same thing: `{}` (column {}) is read as `{}` (column {}); \
                 delete or rename one of them (a header the import does not read as one of \
                 its own is kept as an attribute)",
                h.trim(),
                out.len() + 1,
                headers[earlier].trim_start_matches('\u{feff}').trim(),
                earlier + 1,
            ));
        }
        match col {
            Column::Attribute(name) if name.is_empty() => {
                out.push(Column::Attribute(format!("column_{}", out.len() + 1)))
            }
            // Two columns of one name both keep their values (a spreadsheet's second `Город`
            // becomes `Город 2`).
            Column::Attribute(name) if earlier.is_some() => {
                let taken = |n: &String| out.contains(&Column::Attribute(n.clone()));
                let name = (2..)
                    .map(|i| format!("{name} {i}"))
                    .find(|n| !taken(n))
                    .unwrap_or_default();
                out.push(Column::Attribute(name));
            }
            col => out.push(col),
        }
    }
    if !out.iter().any(is_address) {
        return Err(format!(
            "no column identifies a subscriber: the header needs phone, telegram_chat_id or \
             instagram_id (or телефон, телеграм, инстаграм). The header read was: {}",
            headers
                .iter()
                .map(|h| h.trim())
                .collect::<Vec<_>>()
                .join(" | ")
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const M: ConsentScope = ConsentScope::Marketing;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn aliases_in_three_languages() {
        let cols = map(&s(&[
            "\u{feff}Телефон",
            "ФИО",
            "Согласие",
            "Город",
            "Telegram ID",
            "Тіл",
        ]))
        .unwrap();
        assert_eq!(
            cols,
            vec![
                Column::Phone,
                Column::Name,
                Column::Consent,
                Column::Attribute("Город".into()),
                Column::TelegramChatId,
                Column::Locale
            ]
        );
    }

    #[test]
    fn a_channels_consent_date_source_and_proof() {
        let cols = map(&s(&[
            "phone",
            "consent_telegram_at",
            "Consent WhatsApp Source",
            "доказательство согласия instagram",
            "consent_whatsapp_when",
        ]))
        .unwrap();
        assert_eq!(
            cols,
            vec![
                Column::Phone,
                Column::ConsentAtOn(M, Channel::Telegram),
                Column::ConsentSourceOn(M, Channel::WhatsApp),
                Column::ConsentProofOn(M, Channel::Instagram),
                Column::Attribute("consent_whatsapp_when".into()),
            ]
        );
        assert!(is_known("дата согласия telegram") && !is_known("telegram_at"));
        assert_eq!(
            map(&s(&["phone", "Келісім көзі WhatsApp"])).unwrap()[1],
            Column::ConsentSourceOn(M, Channel::WhatsApp)
        );
    }

    /// A service consent's columns are a marketing one's after `service_`, as `subscribers
    /// export` writes them; nothing else takes the prefix.
    #[test]
    fn a_channels_service_consent() {
        let s_ = ConsentScope::Service;
        let cols = map(&s(&[
            "phone",
            "consent_whatsapp",
            "service_consent_whatsapp",
            "Service Consent Telegram At",
            "service_consent_instagram_source",
            "service_consent_whatsapp_proof",
            "service_consent",
            "service_phone",
        ]))
        .unwrap();
        assert_eq!(
            cols,
            vec![
                Column::Phone,
                Column::ConsentOn(M, Channel::WhatsApp),
                Column::ConsentOn(s_, Channel::WhatsApp),
                Column::ConsentAtOn(s_, Channel::Telegram),
                Column::ConsentSourceOn(s_, Channel::Instagram),
                Column::ConsentProofOn(s_, Channel::WhatsApp),
                Column::Attribute("service_consent".into()),
                Column::Attribute("service_phone".into()),
            ]
        );
        assert_eq!(
            map(&s(&["phone", "Service дата согласия Telegram"])).unwrap()[1],
            Column::ConsentAtOn(s_, Channel::Telegram)
        );
        assert!(!is_known("service_") && !is_known("service_service_consent_whatsapp"));
    }

    #[test]
    fn needs_an_identity_and_no_repeats() {
        assert!(
            map(&s(&["name", "city"]))
                .unwrap_err()
                .contains("no column identifies")
        );
        assert_eq!(
            map(&s(&["name", "phone", " Имя "])).unwrap_err(),
            "two columns mean the same thing: `Имя` (column 3) is read as `name` (column 1); \
             delete or rename one of them (a header the import does not read as one of its own \
             is kept as an attribute)"
        );
    }

    /// Two columns of one name that the import keeps as attributes both keep their values.
    #[test]
    fn repeated_attribute_names_are_numbered() {
        let cols = map(&s(&["phone", "Город", "Город", "Город 2", "Город", "", ""])).unwrap();
        assert_eq!(
            cols[1..],
            [
                Column::Attribute("Город".into()),
                Column::Attribute("Город 2".into()),
                Column::Attribute("Город 2 2".into()),
                Column::Attribute("Город 3".into()),
                Column::Attribute("column_6".into()),
                Column::Attribute("column_7".into()),
            ]
        );
    }

    /// A channel can have several address columns: each adds an address.
    #[test]
    fn several_addresses_on_a_channel() {
        let cols = map(&s(&[
            "Мобильный телефон",
            "Рабочий телефон",
            "phone_2",
            "Телефон 3",
            "telegram_chat_id_2",
            "tg",
            "instagram2",
            "consent_whatsapp_2",
            "name_2",
            "2",
        ]))
        .unwrap();
        assert_eq!(
            cols,
            vec![
                Column::Phone,
                Column::Phone,
                Column::Phone,
                Column::Phone,
                Column::TelegramChatId,
                Column::TelegramChatId,
                Column::InstagramId,
                Column::Attribute("consent_whatsapp_2".into()),
                Column::Attribute("name_2".into()),
                Column::Attribute("2".into()),
            ]
        );
        assert!(is_known("phone_2") && !is_known("phone_"));
    }
}
