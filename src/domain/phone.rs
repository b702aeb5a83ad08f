//! Phone numbers to E.164 with libphonenumber's rules (the `phonenumber` crate): `8 701 …`,
//! `+7 (701) …` and `77011234567` all become `+77011234567` for the default region KZ.

use phonenumber::country;
use phonenumber::{Mode, PhoneNumber};

/// Why a phone number was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    #[error("empty phone number")]
    Empty,
    #[error("`{0}` is not a phone number")]
    NotANumber(String),
    #[error("`{0}` is not a valid number for its country")]
    Invalid(String),
}

/// A region for numbers written without a country code, e.g. `KZ`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Region(pub country::Id);

impl std::str::FromStr for Region {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        s.trim()
            .to_ascii_uppercase()
            .parse::<country::Id>()
            .map(Region)
            .map_err(|_| {
                format!("unknown region `{s}`: use a two-letter country code such as KZ or RU")
            })
    }
}

impl Default for Region {
    fn default() -> Self {
        Region(country::Id::KZ)
    }
}

/// Normalises a phone number to E.164 (`+77011234567`), or says why it cannot.
pub fn normalize(input: &str, region: Region) -> Result<String, PhoneError> {
    let text = input.trim();
    if text.is_empty() {
        return Err(PhoneError::Empty);
    }
    let number: PhoneNumber = phonenumber::parse(Some(region.0), text)
        .map_err(|_| PhoneError::NotANumber(text.to_string()))?;
    if !number.is_valid() {
        return Err(PhoneError::Invalid(text.to_string()));
    }
    Ok(number.format().mode(Mode::E164).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn local_formats_become_e164() {
        let kz = Region::default();
        for input in [
            "+77011234567",
            "8 701 123 45 67",
            "8(701)123-45-67",
            "+7 (701) 123-45-67",
            "77011234567",
            " 8 701 1234567 ",
        ] {
            assert_eq!(
                normalize(input, kz).as_deref(),
                Ok("+77011234567"),
                "{input}"
            );
        }
        assert_eq!(
            normalize("+44 20 7946 0958", kz).as_deref(),
            Ok("+442079460958")
        );
        let ru: Region = "ru".parse().unwrap();
        assert_eq!(
            normalize("8 (916) 123-45-67", ru).as_deref(),
            Ok("+79161234567")
        );
    }

    #[test]
    fn rubbish_is_refused() {
        let kz = Region::default();
        assert_eq!(normalize("", kz), Err(PhoneError::Empty));
        assert!(normalize("call me", kz).is_err());
        assert!(normalize("12", kz).is_err());
        assert!(normalize("+7 000 000 00 00", kz).is_err());
        assert!("XX".parse::<Region>().is_err());
    }

    proptest! {
        #[test]
        fn never_panics_and_output_is_e164(s in "\\PC{0,30}") {
            if let Ok(n) = normalize(&s, Region::default()) {
                prop_assert!(n.starts_with('+'));
                prop_assert!(n[1..].chars().all(|c| c.is_ascii_digit()));
                prop_assert_eq!(normalize(&n, Region::default()), Ok(n.clone()));
            }
        }
    }
}
