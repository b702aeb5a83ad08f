//! Kazakhstan's IIN (individuals) and BIN (legal entities): 12 digits with one check digit
//! computed in up to two passes (specs/counterparty.md). The check digit is the hard rule;
//! since 2013 the law no longer promises that an IIN's digits match the person, so the
//! decoded birth date and sex are "probable" and impossible dates are warnings.

use chrono::NaiveDate;
use serde::Serialize;

const FIRST: [u32; 11] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
const SECOND: [u32; 11] = [3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2];

/// The check digit of the first 11 digits, or `None` when both passes give 10 (no valid
/// number starts with those digits).
pub fn check_digit(d: &[u32; 12]) -> Option<u32> {
    let pass = |w: &[u32; 11]| w.iter().zip(d).map(|(w, d)| w * d).sum::<u32>() % 11;
    match pass(&FIRST) {
        10 => match pass(&SECOND) {
            10 => None,
            r => Some(r),
        },
        r => Some(r),
    }
}

/// Why a 12-digit number is not a valid IIN or BIN.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum KzError {
    /// Both passes of the check give 10: no number has these first 11 digits.
    NoCheckDigit,
    /// The check digit should be `expected`.
    CheckDigit { expected: u32, found: u32 },
}

impl std::fmt::Display for KzError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KzError::NoCheckDigit => f.write_str(
                "the check cannot be computed (both passes give 10), so no IIN or BIN has these digits",
            ),
            KzError::CheckDigit { expected, found } => write!(
                f,
                "the last digit should be {expected}, not {found}: a digit was mistyped"
            ),
        }
    }
}

/// What an IIN's digits say (probably).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Iin {
    pub birth_date: Option<NaiveDate>,
    pub sex: Option<&'static str>,
    pub warnings: Vec<String>,
}

/// What a BIN's digits say.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Bin {
    /// Registration year and month.
    pub registered: Option<(i32, u32)>,
    pub entity: &'static str,
    pub unit: &'static str,
    pub warnings: Vec<String>,
}

/// Which of the two a 12-digit number is, decoded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum KzId {
    Iin(Iin),
    Bin(Bin),
}

fn digits(s: &str) -> Option<[u32; 12]> {
    if s.len() != 12 {
        return None;
    }
    let mut d = [0u32; 12];
    for (i, c) in s.chars().enumerate() {
        d[i] = c.to_digit(10)?;
    }
    Some(d)
}

/// Validates and decodes 12 digits as an IIN or BIN (the 5th digit tells which).
pub fn check(s: &str) -> Option<Result<KzId, KzError>> {
    let d = digits(s)?;
    Some(match check_digit(&d) {
        None => Err(KzError::NoCheckDigit),
        Some(r) if r != d[11] => Err(KzError::CheckDigit {
            expected: r,
            found: d[11],
        }),
        Some(_) => Ok(decode(&d)),
    })
}

fn decode(d: &[u32; 12]) -> KzId {
    let yy = (d[0] * 10 + d[1]) as i32;
    let mm = d[2] * 10 + d[3];
    if d[4] >= 4 {
        let mut warnings = Vec::new();
        let registered = if (1..=12).contains(&mm) {
            // Registration years: two digits, so 00–(this year) are 2000s, the rest 1900s.
            let this_year = chrono::Utc::now()
                .format("%y")
                .to_string()
                .parse::<i32>()
                .unwrap_or(99);
            Some((
                if yy <= this_year {
                    2000 + yy
                } else {
                    1900 + yy
                },
                mm,
            ))
        } else {
            warnings.push(format!(
                "month {mm:02} does not exist; the registration date cannot be read"
            ));
            None
        };
        let entity = match d[4] {
            4 => "resident legal entity",
            5 => "non-resident legal entity",
            6 => "individual entrepreneur in joint entrepreneurship",
            _ => {
                warnings.push(format!("entity type {} is not one the law defines", d[4]));
                "unknown"
            }
        };
        let unit = match d[5] {
            0 => "head unit",
            1 => "branch",
            2 => "representative office",
            3 => "peasant farm (joint)",
            _ => {
                warnings.push(format!(
                    "unit attribute {} is not one the law defines",
                    d[5]
                ));
                "unknown"
            }
        };
        return KzId::Bin(Bin {
            registered,
            entity,
            unit,
            warnings,
        });
    }
    let dd = d[4] * 10 + d[5];
    let mut warnings = Vec::new();
    let (century, sex) = match d[6] {
        1 => (Some(1800), Some("male")),
        2 => (Some(1800), Some("female")),
        3 => (Some(1900), Some("male")),
        4 => (Some(1900), Some("female")),
        5 => (Some(2000), Some("male")),
        6 => (Some(2000), Some("female")),
        c => {
            warnings.push(format!(
                "century digit {c} is not 1–6: birth century and sex cannot be read"
            ));
            (None, None)
        }
    };
    let birth_date = century.and_then(|c| NaiveDate::from_ymd_opt(c + yy, mm, dd));
    if century.is_some() && birth_date.is_none() {
        warnings.push(format!(
            "{dd:02}.{mm:02}.{} is not a date: the digits do not encode a birth date",
            century.unwrap_or(0) + yy
        ));
    }
    if birth_date.is_some_and(|b| b > chrono::Utc::now().date_naive()) {
        warnings.push("the encoded birth date is in the future".into());
    }
    KzId::Iin(Iin {
        birth_date,
        sex,
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn iin(s: &str) -> Iin {
        match check(s).unwrap().unwrap() {
            KzId::Iin(i) => i,
            other => panic!("{s}: {other:?}"),
        }
    }

    fn bin(s: &str) -> Bin {
        match check(s).unwrap().unwrap() {
            KzId::Bin(b) => b,
            other => panic!("{s}: {other:?}"),
        }
    }

    #[test]
    fn the_spec_vectors() {
        let i = iin("911105302575");
        assert_eq!(i.birth_date, NaiveDate::from_ymd_opt(1991, 11, 5));
        assert_eq!(i.sex, Some("male"));
        let i = iin("871008401427");
        assert_eq!(i.birth_date, NaiveDate::from_ymd_opt(1987, 10, 8));
        assert_eq!(i.sex, Some("female"));
        let i = iin("031231500126");
        assert_eq!(i.birth_date, NaiveDate::from_ymd_opt(2003, 12, 31));
        assert_eq!(i.sex, Some("male"));
        assert_eq!(
            check("010101600586"),
            Some(Err(KzError::CheckDigit {
                expected: 5,
                found: 6
            }))
        );
        assert_eq!(check("821214240092"), Some(Err(KzError::NoCheckDigit)));
        let b = bin("940140000385");
        assert_eq!(b.registered, Some((1994, 1)));
        assert_eq!((b.entity, b.unit), ("resident legal entity", "head unit"));
        assert!(check("940140000380").unwrap().is_err());
        assert_eq!(bin("950341000052").unit, "branch");
        // Valid through the second pass.
        let d = digits("011140001654").unwrap();
        assert_eq!(
            FIRST.iter().zip(&d).map(|(w, d)| w * d).sum::<u32>() % 11,
            10,
            "the first pass gives 10"
        );
        assert!(check("011140001654").unwrap().is_ok());
        assert!(check("123456789012").unwrap().is_err());
        assert_eq!(check("12345"), None, "not 12 digits");
    }

    #[test]
    fn impossible_dates_are_warnings_not_errors() {
        // 31 February, century digit 3: find the check digit and build a valid number.
        let mut d = [9, 1, 0, 2, 3, 1, 3, 0, 0, 0, 0, 0];
        d[11] = check_digit(&d).unwrap_or_else(|| {
            d[10] = 1;
            check_digit(&d).unwrap()
        });
        let s: String = d
            .iter()
            .map(|x| char::from_digit(*x, 10).unwrap())
            .collect();
        let i = iin(&s);
        assert_eq!(i.birth_date, None);
        assert!(i.warnings[0].contains("not a date"), "{:?}", i.warnings);
    }

    fn valid_from(first: [u32; 11]) -> Option<String> {
        let mut d = [0u32; 12];
        d[..11].copy_from_slice(&first);
        d[11] = check_digit(&d)?;
        Some(
            d.iter()
                .map(|x| char::from_digit(*x, 10).unwrap())
                .collect(),
        )
    }

    proptest! {
        /// Every number built with its check digit validates.
        #[test]
        fn generated_numbers_validate(first in proptest::array::uniform11(0u32..10)) {
            if let Some(s) = valid_from(first) {
                prop_assert!(check(&s).unwrap().is_ok());
            }
        }

        /// A change of one digit is caught, except where the algorithm cannot see it:
        /// - the 11th digit's first-pass weight is 11, which is 0 mod 11, so a change of
        ///   the 11th digit is invisible whenever both numbers are decided by the first pass;
        /// - otherwise the weights are non-zero mod 11 and the first-pass sum changes, so a
        ///   change goes unnoticed only when exactly one of the two numbers is decided by the
        ///   second pass and that pass gives the same check digit.
        /// Both blind spots are the published algorithm's, documented in the README.
        #[test]
        fn a_single_changed_digit_is_caught_unless_the_second_pass_hides_it(
            first in proptest::array::uniform11(0u32..10),
            pos in 0usize..12,
            delta in 1u32..10,
        ) {
            if let Some(s) = valid_from(first) {
                let original = digits(&s).unwrap();
                let mut d = original;
                d[pos] = (d[pos] + delta) % 10;
                let changed: String = d.iter().map(|x| char::from_digit(*x, 10).unwrap()).collect();
                if check(&changed).unwrap().is_ok() {
                    let first_pass = |d: &[u32; 12]| FIRST.iter().zip(d).map(|(w, d)| w * d).sum::<u32>() % 11;
                    prop_assert!(pos < 11, "a changed check digit is always caught");
                    let second = |d: &[u32; 12]| first_pass(d) == 10;
                    prop_assert!(
                        (pos == 10 && !second(&original) && !second(&d))
                            || second(&original) != second(&d),
                        "{} → {} passed the check", s, changed
                    );
                }
            }
        }

        #[test]
        fn nothing_panics(s in "\\\\PC{0,20}") {
            let _ = check(&s);
        }
    }
}
