//! Opt-out keywords (specs/campaigns.md): a subscriber who writes one of them, alone, is
//! never messaged again on that channel. Matched case-insensitively on the whole trimmed
//! message, in English, Russian and Kazakh; the list can be extended from configuration.

/// The keywords every workspace honours.
pub const DEFAULT_KEYWORDS: &[&str] = &[
    "STOP",
    "UNSUBSCRIBE",
    "СТОП",
    "ОТПИСАТЬСЯ",
    "ОТПИСКА",
    "/stop",
    "ТОҚТАТУ",
    "ЖАЗЫЛЫМНАН БАС ТАРТУ",
];

/// Whether a message, as a whole, asks to stop messages.
pub fn is_opt_out(message: &str, extra: &[String]) -> bool {
    let text = normalize(message);
    if text.is_empty() {
        return false;
    }
    DEFAULT_KEYWORDS
        .iter()
        .map(|k| normalize(k))
        .chain(extra.iter().map(|k| normalize(k)))
        .any(|k| k == text)
}

/// Upper case, with surrounding space and final punctuation removed and inner space folded.
fn normalize(s: &str) -> String {
    s.trim()
        .trim_end_matches(['.', '!', '?'])
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_uppercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_message_any_case_any_script() {
        for m in [
            "stop",
            " STOP ",
            "Stop!",
            "стоп",
            "Отписаться",
            "/STOP",
            "тоқтату",
            "жазылымнан  бас тартУ",
        ] {
            assert!(is_opt_out(m, &[]), "{m}");
        }
        for m in [
            "stop sending me the price list",
            "don't stop",
            "",
            "   ",
            "STOPPER",
        ] {
            assert!(!is_opt_out(m, &[]), "{m}");
        }
        assert!(is_opt_out("хватит", &["ХВАТИТ".to_string()]));
    }
}
