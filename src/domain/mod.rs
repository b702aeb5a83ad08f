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

/// `text` on one line: every run of control characters (line breaks, tabs, escape
/// sequences' introducers) becomes one space. For names, which a spreadsheet cell can break
/// over lines, and for showing any text from outside on a terminal, where a raw newline
/// breaks a table and an escape character could drive the operator's terminal.
pub fn one_line(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut in_run = false;
    for c in text.chars() {
        if c.is_control() {
            if !in_run {
                out.push(' ');
            }
            in_run = true;
        } else {
            out.push(c);
            in_run = false;
        }
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::one_line;

    #[test]
    fn text_from_outside_shows_on_one_line() {
        assert_eq!(one_line("Айгерим"), "Айгерим");
        assert!(matches!(one_line("plain"), std::borrow::Cow::Borrowed(_)));
        assert_eq!(one_line("Иван \"Ваня\"\r\nПетров"), "Иван \"Ваня\" Петров");
        assert_eq!(one_line("a\tb"), "a b");
        assert_eq!(one_line("x\u{1b}[2Jy"), "x [2Jy");
        assert_eq!(one_line("\u{7f}\u{85}z"), " z");
    }
}
