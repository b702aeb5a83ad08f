//! The consent form: records a consent a subscriber gave or withdrew outside the platform
//! (a call, a paper form, a visit) for one of their addresses, with where it came from and
//! its proof. It checks by the same rule as `clever subscribers consent`
//! ([`crate::domain::consent::manual_gaps`]) and saves through the same store function
//! ([`crate::store::subscribers::change_consent`]), audited.

use crate::domain::consent::{OnRecord, against_record, given_at};
use crate::domain::{Channel, ConsentScope, ConsentStatus, SubscriberId};
use crate::store::subscribers::SubscriberDetail;
use crate::tui::form::{edit_field, first_problem, hand_consent_problems};
use chrono::{DateTime, Utc};
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use ratatui::style::Style;
use ratatui_textarea::{CursorMove, TextArea};

/// The rows of the form, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Row {
    Channel,
    Scope,
    Change,
    When,
    Source,
    Proof,
}

impl Row {
    pub const ALL: [Row; 6] = [
        Row::Channel,
        Row::Scope,
        Row::Change,
        Row::When,
        Row::Source,
        Row::Proof,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Row::Channel => "Address",
            Row::Scope => "Scope",
            Row::Change => "Consent",
            Row::When => "Given",
            Row::Source => "Source",
            Row::Proof => "Proof",
        }
    }

    /// Whether ← → choose among values instead of typing.
    pub fn is_picker(self) -> bool {
        matches!(self, Row::Channel | Row::Scope | Row::Change)
    }
}

/// One address the consent can be for.
#[derive(Debug, Clone, PartialEq)]
pub struct Address {
    pub channel: Channel,
    pub address: String,
    /// Why it is suppressed, if it is.
    pub suppressed: Option<String>,
}

/// What the form asks the worker to record.
#[derive(Debug, Clone, PartialEq)]
pub struct ConsentDraft {
    pub subscriber: SubscriberId,
    pub channel: Channel,
    pub scope: ConsentScope,
    pub status: ConsentStatus,
    pub source: String,
    pub proof: String,
    /// When it was given; `None` is now.
    pub at: Option<DateTime<Utc>>,
}

/// Recording a consent for one subscriber.
pub struct ConsentForm {
    pub subscriber: SubscriberId,
    pub name: String,
    pub addresses: Vec<Address>,
    /// The latest event per channel and scope, from the subscriber's history, with when it
    /// was given.
    latest: Vec<(Channel, ConsentScope, ConsentStatus, DateTime<Utc>)>,
    pub address: usize,
    pub scope: ConsentScope,
    pub status: ConsentStatus,
    /// When it was given: empty is now.
    pub when: TextArea<'static>,
    pub source: TextArea<'static>,
    pub proof: TextArea<'static>,
    pub focus: Row,
    /// Problems under their rows.
    pub errors: Vec<(Row, String)>,
    /// A problem that belongs to no one row (the database, the licence).
    pub error: Option<String>,
    pub saving: bool,
}

fn input(placeholder: &str) -> TextArea<'static> {
    let mut t = TextArea::default();
    t.move_cursor(CursorMove::End);
    t.set_cursor_line_style(Style::default());
    t.set_placeholder_text(placeholder);
    t
}

fn text(t: &TextArea<'static>) -> String {
    t.lines().join(" ").trim().to_string()
}

impl ConsentForm {
    /// A form for the subscriber in `d`, or `None` when they have no address to consent on.
    /// It starts on their first address, marketing, and the change their history calls for
    /// (a withdrawal where consent is granted, else a grant).
    pub fn new(d: &SubscriberDetail) -> Option<ConsentForm> {
        let mut addresses: Vec<Address> = d
            .identities
            .iter()
            .map(|i| Address {
                channel: i.channel,
                address: i.address.clone(),
                suppressed: i.suppressed.clone(),
            })
            .collect();
        // In the channels' own order (WhatsApp first), as everywhere in the console.
        addresses.sort_by_key(|a| a.channel.index());
        if addresses.is_empty() {
            return None;
        }
        // The history is newest first: the first event of each channel and scope is its
        // latest.
        let mut latest: Vec<(Channel, ConsentScope, ConsentStatus, DateTime<Utc>)> = Vec::new();
        for e in &d.consents {
            if !latest
                .iter()
                .any(|(c, s, _, _)| *c == e.channel && *s == e.scope)
            {
                latest.push((e.channel, e.scope, e.status, e.at));
            }
        }
        let mut f = ConsentForm {
            subscriber: d.row.id,
            name: d.row.name.clone(),
            addresses,
            latest,
            address: 0,
            scope: ConsentScope::Marketing,
            status: ConsentStatus::Granted,
            when: input("now; or the day given: 2026-11-20, 20.11.2026 14:30"),
            source: input("where it came from: call to the shop, paper form, visit"),
            proof: input("a form's number, a recording's id, a ticket"),
            focus: Row::Channel,
            errors: Vec::new(),
            error: None,
            saving: false,
        };
        f.status = f.suggested();
        Some(f)
    }

    /// The chosen address.
    pub fn chosen(&self) -> &Address {
        &self.addresses[self.address]
    }

    /// The latest consent on record for the chosen address and scope.
    pub fn current(&self) -> Option<ConsentStatus> {
        self.current_event().map(|(status, _)| status)
    }

    /// The latest consent on record for the chosen address and scope, with when it was given.
    fn current_event(&self) -> Option<(ConsentStatus, DateTime<Utc>)> {
        let channel = self.chosen().channel;
        self.latest
            .iter()
            .find(|(c, s, _, _)| *c == channel && *s == self.scope)
            .map(|(_, _, st, at)| (*st, *at))
    }

    /// The change that would alter something: a withdrawal where consent is granted, else
    /// a grant.
    fn suggested(&self) -> ConsentStatus {
        match self.current() {
            Some(ConsentStatus::Granted) => ConsentStatus::Withdrawn,
            _ => ConsentStatus::Granted,
        }
    }

    /// Moves the focus by `step` rows, staying within the form.
    pub fn move_focus(&mut self, step: isize) {
        let i = Row::ALL.iter().position(|r| *r == self.focus).unwrap_or(0) as isize;
        let n = Row::ALL.len() as isize;
        self.focus = Row::ALL[(i + step).clamp(0, n - 1) as usize];
    }

    /// Whether the focus is on the last row (Enter there saves).
    pub fn on_last(&self) -> bool {
        self.focus == Row::Proof
    }

    /// A key typed into the form, other than the form's own actions: ← → on the pickers,
    /// text on the fields.
    pub fn on_key(&mut self, key: KeyEvent) {
        let step = match key.code {
            KeyCode::Left | KeyCode::Char('h') => -1,
            KeyCode::Right | KeyCode::Char('l' | ' ') => 1,
            _ => 0,
        };
        match self.focus {
            Row::Channel if step != 0 => {
                let n = self.addresses.len() as isize;
                self.address = (self.address as isize + step).rem_euclid(n) as usize;
                self.status = self.suggested();
            }
            Row::Scope if step != 0 => {
                self.scope = match self.scope {
                    ConsentScope::Marketing => ConsentScope::Service,
                    ConsentScope::Service => ConsentScope::Marketing,
                };
                self.status = self.suggested();
            }
            Row::Change if step != 0 => {
                self.status = match self.status {
                    ConsentStatus::Granted => ConsentStatus::Withdrawn,
                    ConsentStatus::Withdrawn => ConsentStatus::Granted,
                };
            }
            Row::When if key.code != KeyCode::Enter => edit_field(&mut self.when, key),
            Row::Source if key.code != KeyCode::Enter => edit_field(&mut self.source, key),
            Row::Proof if key.code != KeyCode::Enter => edit_field(&mut self.proof, key),
            _ => return,
        }
        self.errors.clear();
        self.error = None;
    }

    /// What to record, or `None` with the problems set under their rows.
    pub fn check(&mut self) -> Option<ConsentDraft> {
        self.errors.clear();
        self.error = None;
        let (source, proof, when) = (text(&self.source), text(&self.proof), text(&self.when));
        let now = Utc::now();
        let at = match given_at(&when, now) {
            _ if when.is_empty() => None,
            // A date later today somewhere is taken as now, as on the command line.
            Ok(at) => (at < now).then_some(at),
            Err(e) => {
                self.errors
                    .push((Row::When, format!("{}; empty is now", e.explain(&when))));
                None
            }
        };
        match against_record(self.current_event(), self.status, at.unwrap_or(now)) {
            Some(OnRecord::Same) => self.errors.push((
                Row::Change,
                format!(
                    "it is {} already: nothing would change; ← → to choose the other",
                    self.status
                ),
            )),
            Some(OnRecord::Newer { status, at: latest }) => self.errors.push((
                Row::When,
                format!(
                    "it was {status} on {}, after this date: an older statement does not change a newer one",
                    latest.format("%Y-%m-%d %H:%M UTC")
                ),
            )),
            None => {}
        }
        self.errors.extend(hand_consent_problems(
            self.status,
            &source,
            &proof,
            (Row::Source, Row::Proof),
        ));
        if let Some(row) = first_problem(&mut self.errors, &Row::ALL) {
            self.focus = row;
            return None;
        }
        Some(ConsentDraft {
            subscriber: self.subscriber,
            channel: self.chosen().channel,
            scope: self.scope,
            status: self.status,
            source,
            proof,
            at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::subscribers::{ConsentEvent, IdentityRow, SubscriberRow};
    use ratatui::crossterm::event::KeyModifiers;

    fn detail(consents: &[(Channel, ConsentScope, ConsentStatus)]) -> SubscriberDetail {
        SubscriberDetail {
            row: SubscriberRow {
                id: SubscriberId(7),
                name: "Айгерим".into(),
                locale: None,
                time_zone: None,
                channels: Some("whatsapp,telegram".into()),
                marketing: None,
                suppressed: Some("telegram".into()),
            },
            attributes: Default::default(),
            created_at: chrono::Utc::now(),
            identities: vec![
                IdentityRow {
                    id: 1,
                    channel: Channel::WhatsApp,
                    address: "+77011234567".into(),
                    suppressed: None,
                },
                IdentityRow {
                    id: 2,
                    channel: Channel::Telegram,
                    address: "5550001".into(),
                    suppressed: Some("asked by phone".into()),
                },
            ],
            // Newest first, as the store gives them.
            consents: consents
                .iter()
                .enumerate()
                .map(|(i, (channel, scope, status))| ConsentEvent {
                    id: 100 - i as i64,
                    channel: *channel,
                    scope: *scope,
                    status: *status,
                    source: "import".into(),
                    proof: String::new(),
                    at: chrono::Utc::now(),
                    recorded_by: "t".into(),
                    recorded_at: None,
                })
                .collect(),
            lists: Vec::new(),
            messages: Vec::new(),
        }
    }

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    fn typed(f: &mut ConsentForm, s: &str) {
        for c in s.chars() {
            f.on_key(key(KeyCode::Char(c)));
        }
    }

    #[test]
    fn it_suggests_the_change_the_history_calls_for() {
        use ConsentScope::*;
        use ConsentStatus::*;
        let d = detail(&[
            (Channel::WhatsApp, Marketing, Granted),
            (Channel::WhatsApp, Marketing, Withdrawn),
            (Channel::Telegram, Marketing, Withdrawn),
        ]);
        let mut f = ConsentForm::new(&d).unwrap();
        // The newest WhatsApp marketing event is the grant.
        assert_eq!((f.current(), f.status), (Some(Granted), Withdrawn));
        // Service on WhatsApp: nothing on record, so a grant.
        f.focus = Row::Scope;
        f.on_key(key(KeyCode::Right));
        assert_eq!((f.scope, f.current(), f.status), (Service, None, Granted));
        // Telegram marketing, withdrawn: a grant.
        f.on_key(key(KeyCode::Left));
        f.focus = Row::Channel;
        f.on_key(key(KeyCode::Right));
        assert_eq!(f.chosen().channel, Channel::Telegram);
        assert_eq!((f.current(), f.status), (Some(Withdrawn), Granted));
        // Around again to WhatsApp.
        f.on_key(key(KeyCode::Right));
        assert_eq!(f.chosen().channel, Channel::WhatsApp);
    }

    #[test]
    fn a_grant_needs_a_source_and_proof_and_a_change() {
        let d = detail(&[]);
        let mut f = ConsentForm::new(&d).unwrap();
        assert_eq!(f.status, ConsentStatus::Granted);
        assert!(f.check().is_none());
        let rows: Vec<Row> = f.errors.iter().map(|(r, _)| *r).collect();
        assert_eq!(rows, [Row::Source, Row::Proof]);
        assert_eq!(f.focus, Row::Source, "the first problem takes the focus");
        typed(&mut f, "  call to the shop ");
        f.focus = Row::Proof;
        typed(&mut f, "recording 17");
        let draft = f.check().expect("complete");
        assert_eq!(
            draft,
            ConsentDraft {
                subscriber: SubscriberId(7),
                channel: Channel::WhatsApp,
                scope: ConsentScope::Marketing,
                status: ConsentStatus::Granted,
                source: "call to the shop".into(),
                proof: "recording 17".into(),
                at: None,
            }
        );
    }

    #[test]
    fn a_withdrawal_needs_no_proof_but_not_the_status_on_record() {
        use ConsentScope::*;
        use ConsentStatus::*;
        let d = detail(&[(Channel::WhatsApp, Marketing, Granted)]);
        let mut f = ConsentForm::new(&d).unwrap();
        f.focus = Row::Source;
        typed(&mut f, "asked in the shop");
        let draft = f.check().expect("no proof needed to withdraw");
        assert_eq!((draft.status, draft.proof.as_str()), (Withdrawn, ""));
        // Choosing the status on record is refused under its row.
        f.focus = Row::Change;
        f.on_key(key(KeyCode::Char(' ')));
        assert_eq!(f.status, Granted);
        f.proof.insert_str("form 3");
        assert!(f.check().is_none());
        assert_eq!(f.errors[0].0, Row::Change, "{:?}", f.errors);
    }

    #[test]
    fn it_can_be_dated_but_not_before_the_consent_on_record() {
        use ConsentScope::*;
        use ConsentStatus::*;
        // Granted just now: a withdrawal dated last year would be older.
        let d = detail(&[(Channel::WhatsApp, Marketing, Granted)]);
        let mut f = ConsentForm::new(&d).unwrap();
        f.focus = Row::Source;
        typed(&mut f, "letter");
        f.focus = Row::When;
        typed(&mut f, "15.01.2025");
        assert!(f.check().is_none());
        assert_eq!(f.focus, Row::When);
        assert!(
            f.errors[0].1.contains("it was granted on"),
            "{:?}",
            f.errors
        );
        let clear = |f: &mut ConsentForm, s: &str| {
            f.when = input("");
            f.focus = Row::When;
            typed(f, s);
            f.check()
        };
        assert!(clear(&mut f, "next week").is_none());
        assert!(f.errors[0].1.contains("is not a date"), "{:?}", f.errors);
        let later = (Utc::now() + chrono::Duration::days(3))
            .format("%d.%m.%Y")
            .to_string();
        assert!(clear(&mut f, &later).is_none());
        assert!(f.errors[0].1.contains("in the future"), "{:?}", f.errors);
        let draft = clear(&mut f, "").expect("empty is now");
        assert_eq!((draft.status, draft.at), (Withdrawn, None));
        // Nothing on record for service: any past date will do.
        f.focus = Row::Scope;
        f.on_key(key(KeyCode::Right));
        f.proof.insert_str("form 9");
        let draft = clear(&mut f, "2025-01-15 10:30").expect("dated");
        assert_eq!(
            draft.at.map(|t| t.to_rfc3339()),
            Some("2025-01-15T10:30:00+00:00".into())
        );
    }

    #[test]
    fn nobody_without_an_address_gets_a_form() {
        let mut d = detail(&[]);
        d.identities.clear();
        assert!(ConsentForm::new(&d).is_none());
    }
}
