//! Bank details: a Kazakh IBAN (ИИК; ISO 13616 mod-97, the bank named from its code) and a
//! BIC's shape (ISO 9362; Kazakh ones named from the same table). The table is data,
//! `assets/counterparty/kz-banks.tsv`, compiled in.

const BANKS: &str = include_str!("../../assets/counterparty/kz-banks.tsv");

/// (code, BIC, name) of the known Kazakh banks.
pub fn banks() -> impl Iterator<Item = (&'static str, &'static str, &'static str)> {
    BANKS
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| {
            let mut f = l.split('\t');
            Some((f.next()?, f.next()?, f.next()?))
        })
}

/// Why an IBAN or BIC is not valid.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub enum BankError {
    Length { expected: usize, found: usize },
    Shape(&'static str),
    Checksum,
}

impl std::fmt::Display for BankError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BankError::Length { expected, found } => {
                write!(
                    f,
                    "a Kazakh IBAN has {expected} characters, this has {found}"
                )
            }
            BankError::Shape(what) => f.write_str(what),
            BankError::Checksum => {
                f.write_str("the check digits do not match (mod 97): a character was mistyped")
            }
        }
    }
}

/// A Kazakh IBAN: its bank code and the bank's name when known.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Iban {
    pub bank_code: String,
    pub bank: Option<&'static str>,
    pub bic: Option<&'static str>,
}

/// ISO 13616: the first four characters moved to the end, letters as 10–35, mod 97 = 1.
pub fn mod97(s: &str) -> Option<u32> {
    let rearranged = s.get(4..)?.chars().chain(s.get(..4)?.chars());
    let mut r = 0u32;
    for c in rearranged {
        let v = c.to_digit(36)?;
        r = if v < 10 {
            (r * 10 + v) % 97
        } else {
            (r * 100 + v) % 97
        };
    }
    Some(r)
}

/// Validates a Kazakh IBAN (upper case, no spaces).
pub fn kz_iban(s: &str) -> Result<Iban, BankError> {
    if s.len() != 20 {
        return Err(BankError::Length {
            expected: 20,
            found: s.chars().count(),
        });
    }
    if !s.starts_with("KZ") {
        return Err(BankError::Shape("a Kazakh IBAN starts with KZ"));
    }
    if !s[2..4].bytes().all(|b| b.is_ascii_digit()) || !s[4..7].bytes().all(|b| b.is_ascii_digit())
    {
        return Err(BankError::Shape(
            "after KZ come two check digits and a three-digit bank code",
        ));
    }
    if !s[7..]
        .bytes()
        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
    {
        return Err(BankError::Shape(
            "the account part is letters and digits only",
        ));
    }
    if mod97(s) != Some(1) {
        return Err(BankError::Checksum);
    }
    let code = &s[4..7];
    let known = banks().find(|(c, _, _)| *c == code);
    Ok(Iban {
        bank_code: code.to_string(),
        bank: known.map(|(_, _, n)| n),
        bic: known.map(|(_, b, _)| b),
    })
}

/// Validates a BIC's shape; the bank's name for a known Kazakh one.
pub fn bic(s: &str) -> Result<Option<&'static str>, BankError> {
    let ok_len = s.len() == 8 || s.len() == 11;
    let b = s.as_bytes();
    if !ok_len
        || !b[..4.min(b.len())].iter().all(u8::is_ascii_uppercase)
        || !b
            .get(4..6)
            .is_some_and(|c| c.iter().all(u8::is_ascii_uppercase))
        || !b.get(6..).is_some_and(|c| {
            c.iter()
                .all(|x| x.is_ascii_uppercase() || x.is_ascii_digit())
        })
    {
        return Err(BankError::Shape(
            "a BIC is 4 letters (bank), 2 letters (country), 2 letters or digits (place), and optionally 3 more (branch)",
        ));
    }
    Ok(banks()
        .find(|(_, b, _)| s.starts_with(b))
        .map(|(_, _, n)| n))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_spec_vectors_and_the_bank_table() {
        let i = kz_iban("KZ86125KZT5004100100").unwrap();
        assert_eq!(i.bank_code, "125");
        assert_eq!(kz_iban("KZ87125KZT5004100100"), Err(BankError::Checksum));
        assert!(matches!(kz_iban("KZ86125"), Err(BankError::Length { .. })));
        assert!(matches!(
            kz_iban("DE86125KZT5004100100"),
            Err(BankError::Shape(_))
        ));
        assert_eq!(bic("CASPKZKA"), Ok(Some("Kaspi Bank")));
        assert_eq!(bic("HSBKKZKX"), Ok(Some("Halyk Bank")));
        assert_eq!(bic("DEUTDEFF500"), Ok(None));
        assert!(bic("CASP1ZKA").is_err());
        assert!(bic("CASPKZ").is_err());
        assert!(banks().count() >= 5);
        assert!(banks().any(|(c, _, n)| c == "722" && n == "Kaspi Bank"));
    }

    fn with_check(bank: &str, account: &str) -> String {
        let body = format!("KZ00{bank}{account}");
        let r = mod97(&body).unwrap();
        format!("KZ{:02}{bank}{account}", 98 - r)
    }

    proptest! {
        /// Every IBAN made with its check digits validates; changing one character for
        /// another of its kind (digit for digit, letter for letter) is always caught: the
        /// number changes by a multiple of a power of ten below 97 times, never by a
        /// multiple of 97.
        #[test]
        fn generated_ibans_validate_and_a_changed_character_is_caught(
            bank in "[0-9]{3}",
            account in "[A-Z0-9]{13}",
            pos in 4usize..20,
            replacement in "[A-Z0-9]",
        ) {
            let iban = with_check(&bank, &account);
            prop_assert!(kz_iban(&iban).is_ok(), "{}", iban);
            let mut chars: Vec<char> = iban.chars().collect();
            let c = replacement.chars().next().unwrap();
            prop_assume!(chars[pos] != c);
            prop_assume!(chars[pos].is_ascii_digit() == c.is_ascii_digit());
            chars[pos] = c;
            let changed: String = chars.into_iter().collect();
            prop_assert!(kz_iban(&changed).is_err(), "{} → {}", iban, changed);
        }

        #[test]
        fn nothing_panics(s in "\\\\PC{0,30}") {
            let _ = kz_iban(&s);
            let _ = bic(&s);
            let _ = mod97(&s);
        }
    }
}
