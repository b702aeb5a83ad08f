//! Counterparty identifiers (specs/counterparty.md), validated and decoded offline: KZ IIN
//! and BIN ([`kz`]), RU INN, OGRN and OGRNIP ([`ru`]), a Kazakh IBAN and a BIC ([`bank`]).
//! The input is normalised first (spaces, no-break spaces, dashes and dots removed, letters
//! upper-cased); the kind is detected from its shape, and a 12-digit number, which is both
//! a KZ IIN/BIN and a RU INN-12 shape, is read by the configured country, saying when the
//! other reading is valid too. Registry sources come on top of this.

pub mod bank;
pub mod check;
pub mod kz;
pub mod risk;
pub mod ru;
pub mod sources;

use serde::Serialize;

/// Which country a 12-digit number is read for first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
pub enum Country {
    #[default]
    Kz,
    Ru,
}

impl Country {
    /// `KZ` or `RU`, any case.
    pub fn parse(s: &str) -> Option<Country> {
        match s.trim().to_ascii_uppercase().as_str() {
            "KZ" => Some(Country::Kz),
            "RU" => Some(Country::Ru),
            _ => None,
        }
    }
}

/// What an identifier is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    KzIin,
    KzBin,
    RuInn,
    RuOgrn,
    RuOgrnip,
    Iban,
    Bic,
    Unknown,
}

/// The offline verdict on one identifier.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Validation {
    pub input: String,
    pub normalized: String,
    pub kind: Kind,
    pub valid: bool,
    pub errors: Vec<String>,
    pub warnings: Vec<String>,
    /// What the digits encode (birth date and sex as "probable", registration month,
    /// entity type, bank).
    pub decoded: serde_json::Value,
}

/// Removes what people and documents put between the characters.
pub fn normalise(input: &str) -> String {
    input
        .chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '-' | '.' | '\u{2010}'..='\u{2015}'))
        .flat_map(char::to_uppercase)
        .collect()
}

/// Validates and decodes one identifier.
pub fn validate(input: &str, country: Country) -> Validation {
    let normalized = normalise(input);
    let mut v = Validation {
        input: input.to_string(),
        normalized: normalized.clone(),
        kind: Kind::Unknown,
        valid: false,
        errors: Vec::new(),
        warnings: Vec::new(),
        decoded: serde_json::Value::Null,
    };
    let all_digits = !normalized.is_empty() && normalized.bytes().all(|b| b.is_ascii_digit());
    match (all_digits, normalized.len()) {
        (true, 12) => {
            let kz = kz::check(&normalized);
            let ru = ru::inn(&normalized);
            let kz_ok = matches!(kz, Some(Ok(_)));
            let ru_ok = matches!(ru, Some(Ok(())));
            match country {
                Country::Kz => {
                    fill_kz(&mut v, kz);
                    if ru_ok {
                        v.warnings
                            .push("read as Kazakh; it is also a valid Russian INN-12".into());
                    }
                }
                Country::Ru => {
                    v.kind = Kind::RuInn;
                    fill_ru(&mut v, ru);
                    if kz_ok {
                        v.warnings
                            .push("read as Russian; it is also a valid Kazakh IIN/BIN".into());
                    }
                }
            }
        }
        (true, 10) => {
            v.kind = Kind::RuInn;
            fill_ru(&mut v, ru::inn(&normalized));
        }
        (true, 13) => {
            v.kind = Kind::RuOgrn;
            fill_ru(&mut v, ru::ogrn(&normalized));
        }
        (true, 15) => {
            v.kind = Kind::RuOgrnip;
            fill_ru(&mut v, ru::ogrn(&normalized));
        }
        (true, n) => v.errors.push(format!(
            "{n} digits is no identifier's length: an IIN or BIN has 12, an INN 10 or 12, an OGRN 13, an OGRNIP 15"
        )),
        (false, _) if normalized.starts_with("KZ") && normalized.len() > 11 => {
            v.kind = Kind::Iban;
            match bank::kz_iban(&normalized) {
                Ok(i) => {
                    v.valid = true;
                    v.decoded = serde_json::json!({
                        "bank_code": i.bank_code, "bank": i.bank, "bic": i.bic,
                    });
                    if i.bank.is_none() {
                        v.warnings.push(format!(
                            "bank code {} is not in this console's list of banks",
                            i.bank_code
                        ));
                    }
                }
                Err(e) => v.errors.push(e.to_string()),
            }
        }
        (false, 8 | 11) => {
            v.kind = Kind::Bic;
            match bank::bic(&normalized) {
                Ok(bank) => {
                    v.valid = true;
                    v.decoded = serde_json::json!({ "bank": bank });
                }
                Err(e) => v.errors.push(e.to_string()),
            }
        }
        _ => v.errors.push(
            "not an IIN, BIN, INN, OGRN, OGRNIP, IBAN or BIC: check what was pasted".into(),
        ),
    }
    v
}

fn fill_kz(v: &mut Validation, r: Option<Result<kz::KzId, kz::KzError>>) {
    let Some(r) = r else { return };
    v.kind = if v.normalized.as_bytes()[4] >= b'4' {
        Kind::KzBin
    } else {
        Kind::KzIin
    };
    match r {
        Ok(kz::KzId::Iin(i)) => {
            v.valid = true;
            v.warnings.extend(i.warnings);
            v.decoded = serde_json::json!({
                "probable_birth_date": i.birth_date, "probable_sex": i.sex,
            });
        }
        Ok(kz::KzId::Bin(b)) => {
            v.valid = true;
            v.warnings.extend(b.warnings);
            v.decoded = serde_json::json!({
                "registered": b.registered.map(|(y, m)| format!("{y}-{m:02}")),
                "entity": b.entity, "unit": b.unit,
            });
        }
        Err(e) => v.errors.push(e.to_string()),
    }
}

fn fill_ru(v: &mut Validation, r: Option<Result<(), ru::RuError>>) {
    match r {
        Some(Ok(())) => v.valid = true,
        Some(Err(e)) => v.errors.push(e.to_string()),
        None => v.errors.push("not a Russian number's shape".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn pastes_are_normalised_and_kinds_detected() {
        let v = validate("990 140 004 654", Country::Kz);
        assert_eq!(v.normalized, "990140004654");
        assert_eq!(v.kind, Kind::KzBin);
        let v = validate("911105-302575", Country::Kz);
        assert_eq!((v.kind, v.valid), (Kind::KzIin, true));
        assert_eq!(v.decoded["probable_birth_date"], "1991-11-05");
        assert_eq!(v.decoded["probable_sex"], "male");
        assert_eq!(validate("7707083893", Country::Kz).kind, Kind::RuInn);
        assert_eq!(validate("1027700132195", Country::Kz).kind, Kind::RuOgrn);
        assert_eq!(
            validate("304500116000157", Country::Kz).kind,
            Kind::RuOgrnip
        );
        let v = validate("kz86 125K ZT50 0410 0100", Country::Kz);
        assert_eq!((v.kind, v.valid), (Kind::Iban, true));
        assert_eq!(
            validate("CASPKZKA", Country::Kz).decoded["bank"],
            "Kaspi Bank"
        );
        let v = validate("12345", Country::Kz);
        assert!(!v.valid && v.errors[0].contains("length"), "{v:?}");
    }

    #[test]
    fn a_12_digit_number_is_read_by_the_country_and_the_other_reading_reported() {
        // A valid RU INN-12 read in Kazakhstan and in Russia.
        let kz = validate("526317984689", Country::Kz);
        assert!(
            kz.warnings
                .iter()
                .any(|w| w.contains("also a valid Russian")),
            "{kz:?}"
        );
        let ru = validate("526317984689", Country::Ru);
        assert_eq!((ru.kind, ru.valid), (Kind::RuInn, true));
        // A valid KZ IIN read in Russia: the Kazakh reading is always reported.
        let ru = validate("911105302575", Country::Ru);
        assert!(
            ru.warnings
                .iter()
                .any(|w| w.contains("also a valid Kazakh")),
            "{ru:?}"
        );
    }

    proptest! {
        #[test]
        fn nothing_panics(s in "\\\\PC{0,40}") {
            let v = validate(&s, Country::Kz);
            // Valid exactly when nothing is wrong: an invalid verdict always says why.
            prop_assert_eq!(v.valid, v.errors.is_empty());
            let _ = validate(&s, Country::Ru);
        }
    }
}
