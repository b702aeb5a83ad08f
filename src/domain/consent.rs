//! Consent is the gate: the one place that decides whether a subscriber may be messaged on a
//! channel for a scope (specs/campaigns.md). The engine uses [`sendable`]; the store's
//! set-based counterpart (`store::subscribers::sendable_counts`) is tested against it.

use super::{Channel, ConsentScope, ConsentStatus};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

/// A consent value as written in an import file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsentValue {
    Yes,
    No,
}

/// Reads `yes/no/true/false/1/0/да/нет/иә/жоқ` (any case). Empty is `None`; anything else
/// is an error naming the value.
pub fn parse_value(text: &str) -> Result<Option<ConsentValue>, String> {
    let t = text.trim().to_lowercase();
    Ok(match t.as_str() {
        "" => None,
        "yes" | "y" | "true" | "1" | "да" | "д" | "иә" | "ия" | "+" | "granted" => {
            Some(ConsentValue::Yes)
        }
        "no" | "n" | "false" | "0" | "нет" | "н" | "жоқ" | "жок" | "-" | "withdrawn" => {
            Some(ConsentValue::No)
        }
        _ => {
            return Err(format!(
                "consent value `{}` is not yes/no/true/false/1/0/да/нет",
                text.trim()
            ));
        }
    })
}

/// One consent event, as far as the decision needs it. `seq` orders events (the database id).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConsentFact {
    pub seq: i64,
    pub channel: Channel,
    pub scope: ConsentScope,
    pub status: ConsentStatus,
}

/// Why a subscriber may not be messaged on a channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotSendable {
    /// No address on that channel.
    NoIdentity,
    /// No consent was ever recorded for that channel and scope.
    NoConsent,
    /// The latest consent event is a withdrawal.
    Withdrawn,
    /// The address is on the do-not-contact list.
    Suppressed,
}

impl NotSendable {
    /// The reason as reported to operators.
    pub fn as_str(self) -> &'static str {
        match self {
            NotSendable::NoIdentity => "no identity on the channel",
            NotSendable::NoConsent => "no consent",
            NotSendable::Withdrawn => "consent withdrawn",
            NotSendable::Suppressed => "suppressed",
        }
    }
}

/// Decides whether a subscriber may be messaged on `channel` for `scope`.
///
/// `identities` are the subscriber's (channel, address) pairs, `suppressed` tells whether an
/// address is on the do-not-contact list, `consents` are the subscriber's events in any order.
/// Yes only when there is an address on the channel that is not suppressed and the latest
/// event for (channel, scope) is `granted`. Returns the address to send to.
pub fn sendable<'a>(
    channel: Channel,
    scope: ConsentScope,
    identities: &'a [(Channel, String)],
    consents: &[ConsentFact],
    suppressed: impl Fn(Channel, &str) -> bool,
) -> Result<&'a str, NotSendable> {
    let addresses: Vec<&str> = identities
        .iter()
        .filter(|(c, _)| *c == channel)
        .map(|(_, a)| a.as_str())
        .collect();
    if addresses.is_empty() {
        return Err(NotSendable::NoIdentity);
    }
    let latest = consents
        .iter()
        .filter(|c| c.channel == channel && c.scope == scope)
        .max_by_key(|c| c.seq);
    match latest.map(|c| c.status) {
        None => return Err(NotSendable::NoConsent),
        Some(ConsentStatus::Withdrawn) => return Err(NotSendable::Withdrawn),
        Some(ConsentStatus::Granted) => {}
    }
    addresses
        .into_iter()
        .find(|a| !suppressed(channel, a))
        .ok_or(NotSendable::Suppressed)
}

/// What a consent recorded by hand (a call, a paper form, a visit) must say that it does
/// not: the one rule for `clever subscribers consent` and the console's consent form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ManualGap {
    /// Where it came from: always needed.
    Source,
    /// What proves it: needed for a grant.
    Proof,
}

impl ManualGap {
    /// What to fill in, as a form says it under the row.
    pub fn in_a_form(self) -> &'static str {
        match self {
            ManualGap::Source => {
                "say where the consent came from, e.g. call to the shop, paper form at the till"
            }
            ManualGap::Proof => {
                "a consent is granted only with proof: a form's number, a recording's id, a ticket"
            }
        }
    }
}

/// What a hand-recorded consent of `status` lacks, in the order a form asks for it.
pub fn manual_gaps(status: ConsentStatus, source: &str, proof: &str) -> Vec<ManualGap> {
    let mut gaps = Vec::new();
    if source.trim().is_empty() {
        gaps.push(ManualGap::Source);
    }
    if status == ConsentStatus::Granted && proof.trim().is_empty() {
        gaps.push(ManualGap::Proof);
    }
    gaps
}

/// Why a consent recorded by hand would change nothing, by what is on record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnRecord {
    /// The latest consent there already says so.
    Same,
    /// The latest consent there says otherwise and was given later: an older statement does
    /// not override a newer one (as in an import).
    Newer {
        status: ConsentStatus,
        at: DateTime<Utc>,
    },
}

/// Whether a consent of `status` given at `at` would change nothing against the latest one on
/// record (its status and when it was given): the one rule for `clever subscribers consent`
/// and the console's consent form. `None`: it is recorded.
pub fn against_record(
    latest: Option<(ConsentStatus, DateTime<Utc>)>,
    status: ConsentStatus,
    at: DateTime<Utc>,
) -> Option<OnRecord> {
    match latest {
        Some((on_record, _)) if on_record == status => Some(OnRecord::Same),
        Some((on_record, given)) if given > at => Some(OnRecord::Newer {
            status: on_record,
            at: given,
        }),
        _ => None,
    }
}

/// Why a time a consent was given at cannot be taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GivenAt {
    /// Not RFC 3339, `YYYY-MM-DD[ HH:MM[:SS]]` or `DD.MM.YYYY[ HH:MM[:SS]]`.
    NotADate,
    /// More than a day after `now` (a day allows for time zones): a consent given "later"
    /// would outrank every statement made until then, a withdrawal by phone included.
    Future,
}

impl GivenAt {
    /// What is wrong with `text` and what to give instead, worded once for the import, the
    /// command line and the console.
    pub fn explain(self, text: &str) -> String {
        match self {
            GivenAt::NotADate => format!(
                "`{text}` is not a date: use YYYY-MM-DD or DD.MM.YYYY, either with HH:MM, or \
                 RFC 3339 (2026-11-20T14:30:00+05:00)"
            ),
            GivenAt::Future => {
                format!("`{text}` is in the future: give the date the consent was given")
            }
        }
    }
}

/// Reads when a consent was given (an import's `consent_at`, `subscribers consent --at`):
/// RFC 3339, `YYYY-MM-DD[ HH:MM[:SS]]` or `DD.MM.YYYY[ HH:MM[:SS]]`, a time without an
/// offset taken as UTC. A time up to a day after `now` is today somewhere (a date written in
/// Almaty is read as UTC midnight) and is taken as `now`: nothing on record is dated after
/// the moment it was recorded, so a statement made now is never older than one on record.
pub fn given_at(text: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, GivenAt> {
    let text = text.trim();
    let at = DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            [
                "%Y-%m-%d %H:%M:%S",
                "%Y-%m-%d %H:%M",
                "%d.%m.%Y %H:%M:%S",
                "%d.%m.%Y %H:%M",
            ]
            .iter()
            .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok())
            .map(|t| t.and_utc())
        })
        .or_else(|| {
            ["%Y-%m-%d", "%d.%m.%Y"]
                .iter()
                .find_map(|f| NaiveDate::parse_from_str(text, f).ok())
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|t| t.and_utc())
        })
        .ok_or(GivenAt::NotADate)?;
    if at > now + chrono::Duration::days(1) {
        return Err(GivenAt::Future);
    }
    Ok(at.min(now))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_consent_by_hand_needs_a_source_and_a_grant_proof() {
        use ConsentStatus::*;
        use ManualGap::*;
        assert_eq!(manual_gaps(Granted, " ", ""), [Source, Proof]);
        assert_eq!(manual_gaps(Granted, "call", " "), [Proof]);
        assert_eq!(manual_gaps(Granted, "call", "form 3"), []);
        assert_eq!(manual_gaps(Withdrawn, "", ""), [Source]);
        assert_eq!(manual_gaps(Withdrawn, "call", ""), []);
    }
    use proptest::prelude::*;

    fn channel() -> impl Strategy<Value = Channel> {
        prop_oneof![
            Just(Channel::WhatsApp),
            Just(Channel::Telegram),
            Just(Channel::Instagram)
        ]
    }
    fn scope() -> impl Strategy<Value = ConsentScope> {
        prop_oneof![Just(ConsentScope::Marketing), Just(ConsentScope::Service)]
    }
    fn status() -> impl Strategy<Value = ConsentStatus> {
        prop_oneof![Just(ConsentStatus::Granted), Just(ConsentStatus::Withdrawn)]
    }

    proptest! {
        /// Whatever is typed or found in a file, a consent's time is never after the moment
        /// it is read, and reading it never panics; a date it takes reads back the same.
        #[test]
        fn a_consent_time_is_never_after_now(
            text in "\\PC{0,30}|[0-9]{1,4}[-.][0-9]{1,2}[-.][0-9]{1,4}( [0-9]{1,2}:[0-9]{2})?",
            day in 0i64..40_000,
            ahead in -2_000i64..3_000,
        ) {
            let now = DateTime::parse_from_rfc3339("2026-11-27T10:00:00Z").unwrap().to_utc();
            if let Ok(at) = given_at(&text, now) {
                prop_assert!(at <= now, "{text} → {at}");
            }
            let date = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap()
                + chrono::Duration::days(day);
            let written = date.format("%d.%m.%Y").to_string();
            match given_at(&written, now) {
                Ok(at) if at < now => prop_assert_eq!(at.date_naive(), date),
                Ok(at) => prop_assert_eq!(at, now),
                Err(e) => {
                    prop_assert_eq!(e, GivenAt::Future);
                    prop_assert!(date.and_hms_opt(0, 0, 0).unwrap().and_utc() > now + chrono::Duration::days(1));
                }
            }
            let minutes = now + chrono::Duration::minutes(ahead);
            let at = given_at(&minutes.to_rfc3339(), now);
            prop_assert_eq!(at, if ahead <= 24 * 60 { Ok(minutes.min(now)) } else { Err(GivenAt::Future) });
        }

        /// It never says yes without a granted latest consent, with every address suppressed,
        /// or without an identity on the channel; and the address it gives is one of them.
        #[test]
        fn never_yes_without_consent_identity_or_with_suppression(
            ch in channel(),
            sc in scope(),
            ids in proptest::collection::vec((channel(), "[0-9]{3}"), 0..4),
            events in proptest::collection::vec((channel(), scope(), status()), 0..8),
            blocked in proptest::collection::btree_set("[0-9]{3}", 0..3),
        ) {
            let ids: Vec<(Channel, String)> = ids;
            let facts: Vec<ConsentFact> = events.iter().enumerate().map(|(i, (c, s, st))| ConsentFact {
                seq: i as i64, channel: *c, scope: *s, status: *st,
            }).collect();
            let result = sendable(ch, sc, &ids, &facts, |_, a| blocked.contains(a));
            if let Ok(addr) = result {
                prop_assert!(ids.iter().any(|(c, a)| *c == ch && a == addr));
                prop_assert!(!blocked.contains(addr));
                let latest = facts.iter().filter(|f| f.channel == ch && f.scope == sc).max_by_key(|f| f.seq);
                prop_assert_eq!(latest.map(|f| f.status), Some(ConsentStatus::Granted));
            }
            if !ids.iter().any(|(c, _)| *c == ch) {
                prop_assert_eq!(result, Err(NotSendable::NoIdentity));
            }
        }
    }

    #[test]
    fn withdrawal_after_grant_wins_and_order_is_by_seq() {
        let ids = vec![(Channel::WhatsApp, "+77011234567".to_string())];
        let ev = |seq, status| ConsentFact {
            seq,
            channel: Channel::WhatsApp,
            scope: ConsentScope::Marketing,
            status,
        };
        let no = |_: Channel, _: &str| false;
        let facts = [
            ev(2, ConsentStatus::Withdrawn),
            ev(1, ConsentStatus::Granted),
        ];
        assert_eq!(
            sendable(Channel::WhatsApp, ConsentScope::Marketing, &ids, &facts, no),
            Err(NotSendable::Withdrawn)
        );
        let facts = [
            ev(1, ConsentStatus::Withdrawn),
            ev(3, ConsentStatus::Granted),
        ];
        assert_eq!(
            sendable(Channel::WhatsApp, ConsentScope::Marketing, &ids, &facts, no),
            Ok("+77011234567")
        );
        assert_eq!(
            sendable(Channel::WhatsApp, ConsentScope::Service, &ids, &facts, no),
            Err(NotSendable::NoConsent)
        );
        assert_eq!(
            sendable(
                Channel::WhatsApp,
                ConsentScope::Marketing,
                &ids,
                &facts,
                |_, _| true
            ),
            Err(NotSendable::Suppressed)
        );
    }

    #[test]
    fn a_consent_by_hand_changes_what_is_on_record_or_nothing() {
        use ConsentStatus::*;
        let t = |s| DateTime::parse_from_rfc3339(s).unwrap().to_utc();
        let (jan, feb) = (t("2026-01-10T00:00:00Z"), t("2026-02-10T00:00:00Z"));
        assert_eq!(against_record(None, Granted, jan), None);
        assert_eq!(
            against_record(Some((Granted, feb)), Granted, jan),
            Some(OnRecord::Same)
        );
        assert_eq!(
            against_record(Some((Granted, feb)), Withdrawn, jan),
            Some(OnRecord::Newer {
                status: Granted,
                at: feb
            })
        );
        assert_eq!(against_record(Some((Granted, jan)), Withdrawn, feb), None);
        assert_eq!(against_record(Some((Granted, jan)), Withdrawn, jan), None);
    }

    #[test]
    fn consent_times() {
        let now = DateTime::parse_from_rfc3339("2026-11-27T10:00:00Z")
            .unwrap()
            .to_utc();
        let at = |s| given_at(s, now).map(|t| t.to_rfc3339());
        assert_eq!(at("2026-03-01"), Ok("2026-03-01T00:00:00+00:00".into()));
        assert_eq!(
            at(" 01.03.2026 10:30 "),
            Ok("2026-03-01T10:30:00+00:00".into())
        );
        assert_eq!(
            at("2026-03-01T10:00:00+05:00"),
            Ok("2026-03-01T05:00:00+00:00".into())
        );
        assert_eq!(at("yesterday"), Err(GivenAt::NotADate));
        assert_eq!(at("31.02.2026"), Err(GivenAt::NotADate));
        assert_eq!(
            at("2026-11-28"),
            Ok(now.to_rfc3339()),
            "within a day: today somewhere, taken as now"
        );
        assert_eq!(at("2026-11-29"), Err(GivenAt::Future));
    }

    #[test]
    fn consent_values() {
        for y in ["yes", "Да", "TRUE", "1", "иә"] {
            assert_eq!(parse_value(y), Ok(Some(ConsentValue::Yes)), "{y}");
        }
        for n in ["no", "НЕТ", "false", "0", "жоқ"] {
            assert_eq!(parse_value(n), Ok(Some(ConsentValue::No)), "{n}");
        }
        assert_eq!(parse_value("  "), Ok(None));
        assert!(parse_value("maybe").unwrap_err().contains("maybe"));
    }
}
