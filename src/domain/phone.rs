//! Phone numbers to E.164 with libphonenumber's rules (the `phonenumber` crate): `8 701 …`,
//! `+7 (701) …` and `77011234567` all become `+77011234567` for the default region KZ.
//!
//! The crate parses and formats. Whether a parsed number is valid is decided here, with the
//! crate's own metadata and rules (`phonenumber::is_valid`, followed step by step in
//! [`is_valid`]) but with each region's patterns compiled once per thread: the crate looks
//! every pattern up in a shared cache (a lock, then its whole text hashed and compared) about
//! twenty times for a `+7` number, which made validation two thirds of a number's cost
//! (BENCHMARKS.md, import). A test holds the two to the same answers, and the same for
//! whether a number may be a mobile one ([`may_be_mobile`]).

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use phonenumber::metadata::{DATABASE, Descriptor, Descriptors};
use phonenumber::{Metadata, Mode, PhoneNumber, country};
use regex::{Regex, RegexBuilder};

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
    if !is_valid(&number) {
        return Err(PhoneError::Invalid(text.to_string()));
    }
    Ok(number.format().mode(Mode::E164).to_string())
}

/// Whether a number in E.164 is a mobile one, or one its region's numbering cannot tell from
/// a landline (the United States'): WhatsApp is on mobile numbers, and a landline goes after
/// them where someone has both.
pub fn may_be_mobile(e164: &str) -> bool {
    let Some(digits) = e164.strip_prefix('+') else {
        return false;
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    // Country codes are prefix-free: the one of one to three digits the database knows.
    let Some((code, national)) = (1..=digits.len().min(3)).find_map(|n| {
        let code: u16 = digits[..n].parse().ok()?;
        DATABASE.region(&code)?;
        Some((code, &digits[n..]))
    }) else {
        return false;
    };
    match region(code, national).map(|meta| meta.map(rules)) {
        Ok(Some(Some(rules))) => rules.may_be_mobile(national),
        Ok(None) => false,
        // A pattern that did not compile here: the crate decides.
        Ok(Some(None)) | Err(()) => phonenumber::parse(None, e164).is_ok_and(|n| {
            matches!(
                n.number_type(&DATABASE),
                phonenumber::Type::Mobile | phonenumber::Type::FixedLineOrMobile
            )
        }),
    }
}

/// One of a region's number patterns, compiled: a national number matches when its length is
/// one the pattern allows (any, if it lists none) and the pattern matches from its start, as
/// the crate's `Descriptor::is_match` decides.
struct Pattern {
    lengths: Vec<u16>,
    regex: Regex,
}

impl Pattern {
    /// `None` when the crate's pattern does not compile here (it then decides, see `Rules`).
    fn new(source: &str, lengths: &[u16]) -> Option<Pattern> {
        // The crate compiles its patterns ignoring whitespace; the line break ends a comment
        // a pattern might end with before the group closes.
        let regex = RegexBuilder::new(&format!("^(?:{source}\n)"))
            .ignore_whitespace(true)
            .build()
            .ok()?;
        Some(Pattern {
            lengths: lengths.to_vec(),
            regex,
        })
    }

    fn of(descriptor: &Descriptor) -> Option<Pattern> {
        Pattern::new(
            descriptor.national_number().as_str(),
            descriptor.possible_length(),
        )
    }

    fn matches(&self, national: &str) -> bool {
        (self.lengths.is_empty() || self.lengths.contains(&(national.len() as u16)))
            && self.regex.is_match(national)
    }
}

/// A region's rules for validity: its general pattern, the pattern of each kind of number the
/// crate tells apart (a number is valid when it matches the general one and any of these),
/// and the leading digits that pick the region among those sharing its country code.
struct Rules {
    general: Pattern,
    /// Each with its place in [`kinds`]' order.
    kinds: Vec<(usize, Pattern)>,
    leading: Option<Regex>,
}

impl Rules {
    /// `None` when a pattern does not compile: the crate's own check is used for the region.
    fn of(meta: &Metadata) -> Option<Rules> {
        let d = meta.descriptors();
        let leading = match meta.leading_digits() {
            Some(pattern) => Some(Pattern::new(pattern.as_str(), &[])?.regex),
            None => None,
        };
        Some(Rules {
            general: Pattern::of(d.general())?,
            kinds: kinds(d)
                .into_iter()
                .enumerate()
                .filter_map(|(i, kind)| Some((i, kind?)))
                .map(|(i, kind)| Some((i, Pattern::of(kind)?)))
                .collect::<Option<_>>()?,
            leading,
        })
    }

    /// Whether the national number is of a known kind for the region (the crate's
    /// `number_type(…) != Type::Unknown`).
    fn known(&self, national: &str) -> bool {
        self.general.matches(national) && self.kinds.iter().any(|(_, k)| k.matches(national))
    }

    /// Whether the national number is a mobile one, or a fixed line the region cannot tell
    /// from one (the crate's `number_type` is `Mobile` or `FixedLineOrMobile`): the first
    /// kind it matches is a fixed line or a mobile, and the mobile pattern matches it.
    fn may_be_mobile(&self, national: &str) -> bool {
        self.general.matches(national)
            && self
                .kinds
                .iter()
                .find(|(_, k)| k.matches(national))
                .is_some_and(|&(i, _)| i >= FIXED_LINE)
            && self
                .kinds
                .iter()
                .any(|(i, k)| *i == MOBILE && k.matches(national))
    }
}

/// Where fixed lines and mobiles are in [`kinds`]' order (last, as the crate tries them).
const FIXED_LINE: usize = 8;
const MOBILE: usize = 9;

/// The kinds of number the crate tells apart, each a region may have a pattern for.
fn kinds(d: &Descriptors) -> [Option<&Descriptor>; 10] {
    [
        d.premium_rate(),
        d.toll_free(),
        d.shared_cost(),
        d.voip(),
        d.personal_number(),
        d.pager(),
        d.uan(),
        d.voicemail(),
        d.fixed_line(),
        d.mobile(),
    ]
}

thread_local! {
    /// Each region's compiled rules, by the address of its metadata in the crate's database
    /// (a static that never moves); `None` for a region whose patterns did not compile.
    static RULES: RefCell<HashMap<usize, Option<Rc<Rules>>>> = RefCell::new(HashMap::new());
}

fn rules(meta: &Metadata) -> Option<Rc<Rules>> {
    let key = meta as *const Metadata as usize;
    RULES.with(|cache| {
        cache
            .borrow_mut()
            .entry(key)
            .or_insert_with(|| Rules::of(meta).map(Rc::new))
            .clone()
    })
}

/// Whether a parsed number is valid, as `phonenumber::is_valid` decides it: the number is
/// valid when the patterns of its region (see [`region`]) know it.
fn is_valid(number: &PhoneNumber) -> bool {
    let national = number.national().to_string();
    match region(number.country().code(), &national).map(|meta| meta.map(rules)) {
        Ok(Some(Some(rules))) => rules.known(&national),
        Ok(None) => false,
        // A pattern that did not compile here: the crate decides.
        Ok(Some(None)) | Err(()) => number.is_valid(),
    }
}

/// A number's region, as the crate finds it (`validator::source_for`): the only one with
/// its country code, else the first of them whose leading digits start the number or, for
/// a region without any, whose patterns know it. `Err` when a region's patterns did not
/// compile on the way.
fn region(code: u16, national: &str) -> Result<Option<&'static Metadata>, ()> {
    let Some(regions) = DATABASE.region(&code) else {
        return Ok(None);
    };
    if let [only] = regions[..] {
        return Ok(if only == "001" {
            DATABASE.by_code(&code).and_then(|m| m.into_iter().next())
        } else if only.parse::<country::Id>().is_ok() {
            DATABASE.by_id(only)
        } else {
            None
        });
    }
    for region in regions {
        let Some(meta) = DATABASE.by_id(region) else {
            continue;
        };
        let rules = rules(meta).ok_or(())?;
        let here = match &rules.leading {
            Some(leading) => leading.is_match(national),
            None => rules.known(national),
        };
        if here {
            return Ok(Some(meta));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn mobile_numbers_are_told_from_landlines() {
        assert!(may_be_mobile("+77011234567"));
        assert!(may_be_mobile("+79161234567"));
        assert!(!may_be_mobile("+77272500001"), "Almaty");
        assert!(!may_be_mobile("+74951234567"), "Moscow");
        assert!(
            may_be_mobile("+12025550123"),
            "the United States cannot tell"
        );
        assert!(!may_be_mobile("not a phone"));
    }

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

    /// The region found here is the crate's, where both read the same digits (the crate's
    /// `metadata` reads the national number without an Italian leading zero).
    fn same_region(number: &PhoneNumber) {
        let national = number.national();
        if national.to_string() == national.value().to_string() {
            let here = region(number.country().code(), &national.to_string()).unwrap();
            assert_eq!(
                here.map(Metadata::id),
                number.metadata(&DATABASE).map(Metadata::id),
                "{number:?}"
            );
        }
    }

    /// Every example number the crate's metadata holds (each region, each kind), and each of
    /// them with a digit added, dropped or changed: the validity decided here is the crate's.
    #[test]
    fn validity_is_the_crates_for_every_region() {
        let mut checked = 0;
        let mut valid = 0;
        for meta in DATABASE.iter() {
            let d = meta.descriptors();
            let examples = std::iter::once(d.general())
                .chain(kinds(d).into_iter().flatten())
                .filter_map(Descriptor::example);
            for example in examples {
                let code = meta.country_code();
                let variants = [
                    example.to_string(),
                    format!("{example}1"),
                    example[..example.len().saturating_sub(1)].to_string(),
                    format!("9{}", &example[1.min(example.len())..]),
                    format!("1{example}"),
                ];
                for national in variants {
                    let text = format!("+{code}{national}");
                    let Ok(number) = phonenumber::parse(None, &text) else {
                        continue;
                    };
                    assert_eq!(is_valid(&number), number.is_valid(), "{text}");
                    // The crate types the national number without an Italian leading zero
                    // (a Congolese mobile `06…` is not one to it): compared where the digits
                    // are the same.
                    let national = number.national();
                    if number.is_valid() && national.to_string() == national.value().to_string() {
                        let e164 = number.format().mode(Mode::E164).to_string();
                        assert_eq!(
                            may_be_mobile(&e164),
                            matches!(
                                number.number_type(&DATABASE),
                                phonenumber::Type::Mobile | phonenumber::Type::FixedLineOrMobile
                            ),
                            "{text}"
                        );
                    }
                    same_region(&number);
                    checked += 1;
                    valid += usize::from(number.is_valid());
                }
            }
        }
        // Both answers are well represented (the examples are valid, most variants not).
        assert!(
            checked > 3000 && valid > 1000 && checked - valid > 1000,
            "{checked} {valid}"
        );
    }

    proptest! {
        /// Random digits after a country code shared by several regions or not: the same
        /// answer as the crate's.
        #[test]
        fn validity_is_the_crates_for_any_digits(
            code in prop::sample::select(vec![1u16, 7, 44, 49, 39, 33, 61, 86, 90, 380, 998, 996, 992, 375, 374, 994, 995, 800, 979, 882, 262, 590, 599]),
            digits in "[0-9]{2,15}",
        ) {
            if let Ok(number) = phonenumber::parse(None, format!("+{code}{digits}")) {
                prop_assert_eq!(is_valid(&number), number.is_valid());
                same_region(&number);
            }
        }

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
