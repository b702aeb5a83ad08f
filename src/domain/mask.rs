//! Masking of secrets and personal data before they reach a log, `--json` output or a
//! screen that does not need them whole.

/// A secret shown only as "set" plus its length class: never any of its characters.
pub fn secret(value: &str) -> String {
    if value.is_empty() {
        "not set".to_string()
    } else {
        "•••••••• (set)".to_string()
    }
}

/// A phone number or other address with all but the last `keep` characters hidden,
/// for logs: `+77011234567` → `+7•••••••4567`.
pub fn address(value: &str, keep: usize) -> String {
    let chars: Vec<char> = value.chars().collect();
    if chars.len() <= keep + 2 {
        return "•".repeat(chars.len());
    }
    let head: String = chars.iter().take(2).collect();
    let tail: String = chars[chars.len() - keep..].iter().collect();
    format!("{head}{}{tail}", "•".repeat(chars.len() - keep - 2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_leak_characters() {
        let s = secret("EAAGm0PX4ZCpsBA");
        assert!(!s.contains("EAA") && !s.contains("sBA"));
        assert_eq!(secret(""), "not set");
    }

    #[test]
    fn addresses_keep_their_tail() {
        assert_eq!(address("+77011234567", 4), "+7••••••4567");
        assert_eq!(address("12", 4), "••");
    }
}
