//! The form for one subscriber entered by hand (a customer at the till, a caller): their
//! addresses, name, language, time zone and consent (marketing or service). It checks here what the
//! console can tell at once (an address, each address's form, the zone, the consent's date,
//! source and proof) and saves through [`crate::import::hand`], by the import's rules, as
//! `clever subscribers add` does; what the import still refuses (a suppressed address, say)
//! comes back under its row.

use crate::domain::consent::given_at;
use crate::domain::phone::Region;
use crate::domain::{Channel, ConsentScope, ConsentStatus, ListId};
use crate::import::hand::Entry;
use crate::tui::form::{edit_field, first_problem, hand_consent_problems};
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use ratatui::style::Style;
use ratatui_textarea::{CursorMove, TextArea};

/// The rows of the form, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Row {
    Phone,
    Telegram,
    Instagram,
    Name,
    Language,
    TimeZone,
    Consent,
    Scope,
    When,
    Source,
    Proof,
}

impl Row {
    pub const ALL: [Row; 11] = [
        Row::Phone,
        Row::Telegram,
        Row::Instagram,
        Row::Name,
        Row::Language,
        Row::TimeZone,
        Row::Consent,
        Row::Scope,
        Row::When,
        Row::Source,
        Row::Proof,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Row::Phone => "Phone",
            Row::Telegram => "Telegram",
            Row::Instagram => "Instagram",
            Row::Name => "Name",
            Row::Language => "Language",
            Row::TimeZone => "Time zone",
            Row::Consent => "Consent",
            Row::Scope => "Covers",
            Row::When => "Given",
            Row::Source => "Source",
            Row::Proof => "Proof",
        }
    }

    fn placeholder(self) -> &'static str {
        match self {
            Row::Phone => "any format: 8 701 123 45 67, +7 (701) 123-45-67",
            Row::Telegram => "the chat id the bot sees at Start",
            Row::Instagram => "the Instagram-scoped id",
            Row::Name => "the name messages greet them by",
            Row::Language => "ru, kk, en",
            Row::TimeZone => "empty: the list's; Asia/Aqtobe, Актобе, UTC+5",
            Row::Consent | Row::Scope => "",
            Row::When => "now; or the day given: 2026-11-20, 20.11.2026 14:30",
            Row::Source => "where it came from: paper form at the till, call",
            Row::Proof => "a form's number, a recording's id, a ticket",
        }
    }

    /// The channel whose address the row holds.
    fn channel(self) -> Option<Channel> {
        match self {
            Row::Phone => Some(Channel::WhatsApp),
            Row::Telegram => Some(Channel::Telegram),
            Row::Instagram => Some(Channel::Instagram),
            _ => None,
        }
    }
}

/// A new subscriber for one list.
pub struct SubscriberForm {
    pub list: ListId,
    pub list_name: String,
    /// The text rows (every row but the consent and its scope).
    inputs: Vec<(Row, TextArea<'static>)>,
    /// A consent given or refused; `None` records none.
    pub consent: Option<ConsentStatus>,
    /// What the consent covers.
    pub scope: ConsentScope,
    pub focus: Row,
    /// Problems under their rows.
    pub errors: Vec<(Row, String)>,
    /// A problem that belongs to no one row (the database, the licence).
    pub error: Option<String>,
    pub saving: bool,
    region: Region,
}

impl SubscriberForm {
    /// An empty form for list `list`; phones without a country code are read in `region`.
    pub fn new(list: ListId, list_name: String, region: Region) -> SubscriberForm {
        let inputs = Row::ALL
            .into_iter()
            .filter(|r| !matches!(r, Row::Consent | Row::Scope))
            .map(|r| {
                let mut t = TextArea::default();
                t.move_cursor(CursorMove::End);
                t.set_cursor_line_style(Style::default());
                t.set_placeholder_text(r.placeholder());
                (r, t)
            })
            .collect();
        let mut f = SubscriberForm {
            list,
            list_name,
            inputs,
            consent: None,
            scope: ConsentScope::Marketing,
            focus: Row::Phone,
            errors: Vec::new(),
            error: None,
            saving: false,
            region,
        };
        f.show_cursor();
        f
    }

    /// The field of a text row.
    pub fn input(&self, row: Row) -> Option<&TextArea<'static>> {
        self.inputs.iter().find(|(r, _)| *r == row).map(|(_, t)| t)
    }

    fn text(&self, row: Row) -> String {
        self.input(row)
            .map(|t| t.lines().join(" ").trim().to_string())
            .unwrap_or_default()
    }

    /// Moves the focus by `step` rows, staying within the form.
    pub fn move_focus(&mut self, step: isize) {
        let i = Row::ALL.iter().position(|r| *r == self.focus).unwrap_or(0) as isize;
        let n = Row::ALL.len() as isize;
        self.focus = Row::ALL[(i + step).clamp(0, n - 1) as usize];
        self.show_cursor();
    }

    /// Whether the focus is on the last row (Enter there saves).
    pub fn on_last(&self) -> bool {
        self.focus == Row::Proof
    }

    /// Only the focused field shows a cursor.
    fn show_cursor(&mut self) {
        use ratatui::style::Modifier;
        for (r, t) in &mut self.inputs {
            t.set_cursor_style(if *r == self.focus {
                Style::default().add_modifier(Modifier::REVERSED)
            } else {
                Style::default()
            });
        }
    }

    /// A key typed into the form, other than the form's own actions: ← → on the consent and
    /// its scope, text on the fields.
    pub fn on_key(&mut self, key: KeyEvent) {
        if matches!(self.focus, Row::Consent | Row::Scope) {
            let step: isize = match key.code {
                KeyCode::Left | KeyCode::Char('h') => -1,
                KeyCode::Right | KeyCode::Char('l' | ' ') => 1,
                _ => return,
            };
            if self.focus == Row::Scope {
                self.scope = match self.scope {
                    ConsentScope::Marketing => ConsentScope::Service,
                    ConsentScope::Service => ConsentScope::Marketing,
                };
            } else {
                const ORDER: [Option<ConsentStatus>; 3] = [
                    None,
                    Some(ConsentStatus::Granted),
                    Some(ConsentStatus::Withdrawn),
                ];
                let i = ORDER.iter().position(|c| *c == self.consent).unwrap_or(0) as isize;
                self.consent = ORDER[(i + step).rem_euclid(3) as usize];
            }
        } else if key.code != KeyCode::Enter
            && let Some((_, t)) = self.inputs.iter_mut().find(|(r, _)| *r == self.focus)
        {
            edit_field(t, key);
        } else {
            return;
        }
        self.errors.retain(|(r, _)| *r != self.focus);
        self.error = None;
    }

    /// What to save, or `None` with the problems set under their rows and the focus on the
    /// first.
    pub fn check(&mut self) -> Option<Entry> {
        self.errors.clear();
        self.error = None;
        let mut any_address = false;
        for row in [Row::Phone, Row::Telegram, Row::Instagram] {
            let typed = self.text(row);
            let channel = row.channel().unwrap_or(Channel::WhatsApp);
            if typed.is_empty() {
                continue;
            }
            any_address = true;
            if let Err(e) = channel.normalize_address(&typed, self.region) {
                self.errors.push((row, e));
            }
        }
        if !any_address {
            self.errors.push((
                Row::Phone,
                "give an address: a phone, a Telegram chat id or an Instagram id".into(),
            ));
        }
        let zone = self.text(Row::TimeZone);
        if !zone.is_empty()
            && let Err(e) = crate::domain::quiet::parse_zone(&zone)
        {
            self.errors.push((Row::TimeZone, e));
        }
        let (when, source, proof) = (
            self.text(Row::When),
            self.text(Row::Source),
            self.text(Row::Proof),
        );
        if !when.is_empty()
            && let Err(e) = given_at(&when, chrono::Utc::now())
        {
            self.errors
                .push((Row::When, format!("{}; empty is now", e.explain(&when))));
        }
        match self.consent {
            None if !(when.is_empty() && source.is_empty() && proof.is_empty()) => {
                self.errors.push((
                    Row::Consent,
                    "a date, source or proof is for a consent: ← → to choose grant or withdraw"
                        .into(),
                ));
            }
            None => {}
            Some(status) => self.errors.extend(hand_consent_problems(
                status,
                &source,
                &proof,
                (Row::Source, Row::Proof),
            )),
        }
        if let Some(row) = first_problem(&mut self.errors, &Row::ALL) {
            self.focus = row;
            self.show_cursor();
            return None;
        }
        Some(Entry {
            phone: self.text(Row::Phone),
            telegram: self.text(Row::Telegram),
            instagram: self.text(Row::Instagram),
            name: self.text(Row::Name),
            locale: self.text(Row::Language).to_lowercase(),
            time_zone: zone,
            consent: self.consent,
            scope: self.scope,
            source,
            proof,
            at: when,
        })
    }

    /// What the import refused the entry for, under the row it is about where one is.
    pub fn refused(&mut self, why: String) {
        self.saving = false;
        let row = if why.starts_with("invalid phone") {
            Some(Row::Phone)
        } else if why.starts_with("invalid telegram") {
            Some(Row::Telegram)
        } else if why.starts_with("invalid instagram") {
            Some(Row::Instagram)
        } else if why.starts_with("bad time zone") {
            Some(Row::TimeZone)
        } else if why.starts_with("bad consent date") {
            Some(Row::When)
        } else {
            None
        };
        match row {
            Some(row) => {
                self.errors.push((row, why));
                self.focus = row;
                self.show_cursor();
            }
            None => self.error = Some(why),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::crossterm::event::KeyModifiers;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    fn typed(f: &mut SubscriberForm, row: Row, s: &str) {
        f.focus = row;
        for c in s.chars() {
            f.on_key(key(KeyCode::Char(c)));
        }
    }

    fn form() -> SubscriberForm {
        SubscriberForm::new(ListId(1), "Shop".into(), Region::default())
    }

    fn rows_wrong(f: &SubscriberForm) -> Vec<Row> {
        f.errors.iter().map(|(r, _)| *r).collect()
    }

    #[test]
    fn it_needs_an_address_and_reads_each_as_the_import_does() {
        let mut f = form();
        typed(&mut f, Row::Name, "Гүлнар");
        assert!(f.check().is_none());
        assert_eq!(rows_wrong(&f), [Row::Phone]);
        assert_eq!(f.focus, Row::Phone, "the first problem takes the focus");
        typed(&mut f, Row::Phone, "123");
        typed(&mut f, Row::Telegram, "@shop");
        typed(&mut f, Row::TimeZone, "Mars");
        assert!(f.check().is_none());
        assert_eq!(rows_wrong(&f), [Row::Phone, Row::Telegram, Row::TimeZone]);
        // Put right: typing in a row clears its problem; the entry is as typed.
        f.focus = Row::Phone;
        for _ in 0..3 {
            f.on_key(key(KeyCode::Backspace));
        }
        typed(&mut f, Row::Phone, "8 701 111 22 33");
        f.focus = Row::Telegram;
        for _ in 0..5 {
            f.on_key(key(KeyCode::Backspace));
        }
        f.focus = Row::TimeZone;
        for _ in 0..4 {
            f.on_key(key(KeyCode::Backspace));
        }
        typed(&mut f, Row::TimeZone, "Актобе");
        typed(&mut f, Row::Language, "KK");
        let e = f.check().expect("valid");
        assert_eq!(
            (e.phone.as_str(), e.telegram.as_str(), e.locale.as_str()),
            ("8 701 111 22 33", "", "kk")
        );
        assert_eq!((e.time_zone.as_str(), e.consent), ("Актобе", None));
    }

    #[test]
    fn a_consent_needs_its_source_and_proof_and_they_need_a_consent() {
        let mut f = form();
        typed(&mut f, Row::Phone, "+77011112233");
        typed(&mut f, Row::Source, "paper form");
        assert!(f.check().is_none());
        assert_eq!(rows_wrong(&f), [Row::Consent]);
        f.focus = Row::Consent;
        f.on_key(key(KeyCode::Right));
        assert_eq!(f.consent, Some(ConsentStatus::Granted));
        assert!(f.check().is_none());
        assert_eq!(rows_wrong(&f), [Row::Proof], "a grant needs proof");
        f.focus = Row::Consent;
        f.on_key(key(KeyCode::Right));
        assert_eq!(f.consent, Some(ConsentStatus::Withdrawn));
        assert!(f.check().is_some(), "a refusal needs only its source");
        f.on_key(key(KeyCode::Right));
        assert_eq!(f.consent, None, "around to none");
        f.focus = Row::Consent;
        f.on_key(key(KeyCode::Left));
        typed(&mut f, Row::Proof, "form #1207");
        typed(&mut f, Row::When, "someday");
        assert!(f.check().is_none());
        assert_eq!(rows_wrong(&f), [Row::When]);
    }

    #[test]
    fn a_refusal_lands_under_its_row() {
        let mut f = form();
        f.saving = true;
        f.refused("bad time zone (unknown time zone `X`)".into());
        assert_eq!(
            (rows_wrong(&f), f.focus),
            (vec![Row::TimeZone], Row::TimeZone)
        );
        assert!(!f.saving);
        f.refused("suppressed".into());
        assert_eq!(f.error.as_deref(), Some("suppressed"));
    }
}
