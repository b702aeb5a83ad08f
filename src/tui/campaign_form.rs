//! The campaign form: name, list and account pickers, the message (several lines) with a
//! live preview for the list's first subscribers and the content policy's verdict as it is
//! typed, the schedule and the quiet hours. On a WhatsApp account the message can instead be
//! an approved template (`NAME:LANG`), the message rows then being its parameters, one a
//! line. It checks with the same rules as
//! `clever campaigns create` ([`crate::engine::campaigns::check_message`]); the worker
//! checks again against the database when it saves.

use crate::domain::policy;
use crate::domain::quiet::SendWindow;
use crate::domain::template::MessageTemplate;
use crate::domain::{AccountId, Channel, ListId};
use crate::engine::campaigns::{self, Sample, Spec};
use ratatui::style::{Modifier, Style};
use ratatui_textarea::{CursorMove, TextArea};

/// The rows of the form, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Row {
    Name,
    List,
    Account,
    Template,
    Message,
    Schedule,
    Quiet,
}

impl Row {
    pub const ALL: [Row; 7] = [
        Row::Name,
        Row::List,
        Row::Account,
        Row::Template,
        Row::Message,
        Row::Schedule,
        Row::Quiet,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Row::Name => "Name",
            Row::List => "List",
            Row::Account => "Account",
            Row::Template => "Template",
            Row::Message => "Message",
            Row::Schedule => "Schedule",
            Row::Quiet => "Quiet hours",
        }
    }

    /// Whether ← → choose among values instead of typing.
    pub fn is_picker(self) -> bool {
        matches!(self, Row::List | Row::Account)
    }
}

/// A list to choose.
#[derive(Debug, Clone, PartialEq)]
pub struct ListChoice {
    pub id: ListId,
    pub name: String,
    pub members: i64,
}

/// An account to choose.
#[derive(Debug, Clone, PartialEq)]
pub struct AccountChoice {
    pub id: AccountId,
    pub name: String,
    pub channel: Channel,
}

/// How many subscribers the preview shows: the list's first, which lead the samples.
pub const PREVIEW: usize = crate::engine::campaigns::PREVIEWED as usize;

const TEXT_INSTEAD: &str = "WhatsApp: approved template NAME:LANG; empty sends the text";
const MESSAGE_HINT: &str =
    "Hello, {{ name }}! Enter starts a new line; {{ attributes.city }} works too";
const PARAMS_HINT: &str = "one parameter a line, {{1}} first: {{ name }}, BF20, …";

/// Composing a new campaign.
pub struct CampaignForm {
    pub name: TextArea<'static>,
    /// A WhatsApp template as `NAME:LANG`; empty sends the message as text.
    pub template: TextArea<'static>,
    pub message: TextArea<'static>,
    pub schedule: TextArea<'static>,
    pub quiet: TextArea<'static>,
    pub lists: Vec<ListChoice>,
    pub list: usize,
    /// `None` until the worker has answered.
    pub accounts: Option<Vec<AccountChoice>>,
    pub account: usize,
    pub focus: Row,
    /// Problems under their rows.
    pub errors: Vec<(Row, String)>,
    /// A problem that belongs to no one row (the database).
    pub error: Option<String>,
    pub saving: bool,
    /// Subscribers of the chosen list the message is tried on, once they have come.
    pub samples: Option<(ListId, Vec<Sample>)>,
    /// The message for the first subscribers, or why it cannot be written for them.
    pub preview: Vec<(String, Result<String, String>)>,
    /// What is wrong with the message as typed: compile errors, a subscriber it cannot be
    /// written for, content policy hits.
    pub problems: Vec<String>,
}

fn input(text: &str, placeholder: &str) -> TextArea<'static> {
    let mut t = TextArea::new(text.lines().map(str::to_string).collect());
    t.move_cursor(CursorMove::Bottom);
    t.move_cursor(CursorMove::End);
    t.set_cursor_line_style(Style::default());
    t.set_placeholder_text(placeholder);
    t
}

impl CampaignForm {
    /// An empty form over the workspace's lists; `selected` is the list to start on.
    pub fn new(lists: Vec<ListChoice>, selected: Option<ListId>) -> CampaignForm {
        let list = selected
            .and_then(|id| lists.iter().position(|l| l.id == id))
            .unwrap_or(0);
        let mut f = CampaignForm {
            name: input("", "how the campaign is called in the console"),
            template: input("", TEXT_INSTEAD),
            message: input("", MESSAGE_HINT),
            schedule: input(
                "",
                &format!(
                    "empty: on start; or 2026-12-01 10:00 (here UTC{})",
                    chrono::Local::now().format("%:z")
                ),
            ),
            quiet: input(
                "",
                "empty: any time; or 09:00-21:00 in each recipient's zone",
            ),
            lists,
            list,
            accounts: None,
            account: 0,
            focus: Row::Name,
            errors: Vec::new(),
            error: None,
            saving: false,
            samples: None,
            preview: Vec::new(),
            problems: Vec::new(),
        };
        f.show_cursor();
        f
    }

    pub fn chosen_list(&self) -> Option<&ListChoice> {
        self.lists.get(self.list)
    }

    pub fn chosen_account(&self) -> Option<&AccountChoice> {
        self.accounts.as_ref()?.get(self.account)
    }

    /// The accounts have come from the worker.
    pub fn set_accounts(&mut self, accounts: Vec<AccountChoice>) {
        self.account = self.account.min(accounts.len().saturating_sub(1));
        self.accounts = Some(accounts);
    }

    /// Sample subscribers have come; ignored when another list has been chosen since.
    pub fn set_samples(&mut self, list: ListId, samples: Vec<Sample>) {
        if self.chosen_list().map(|l| l.id) == Some(list) {
            self.samples = Some((list, samples));
            self.refresh();
        }
    }

    /// Whether the samples of the chosen list are still to be asked for.
    pub fn wants_samples(&self) -> Option<ListId> {
        let list = self.chosen_list()?.id;
        match &self.samples {
            Some((l, _)) if *l == list => None,
            _ => Some(list),
        }
    }

    /// The text typed in a single-line row, trimmed.
    fn line(t: &TextArea<'_>) -> String {
        t.lines().join("").trim().to_string()
    }

    /// The message as typed (lines joined with newlines, outer blank space trimmed).
    pub fn message_text(&self) -> String {
        self.message.lines().join("\n").trim().to_string()
    }

    /// Whether a WhatsApp template is given, the message rows being its parameters.
    pub fn template_mode(&self) -> bool {
        !Self::line(&self.template).is_empty()
    }

    /// The template as (name, language), or what is wrong with how it is written.
    fn template_parts(&self) -> Result<(String, String), String> {
        let text = Self::line(&self.template);
        let mut parts = text
            .split(|c: char| c == ':' || c.is_whitespace())
            .filter(|p| !p.is_empty());
        match (parts.next(), parts.next(), parts.next()) {
            (Some(name), Some(lang), None) => Ok((name.to_string(), lang.to_string())),
            _ => Err(format!(
                "write the template as NAME:LANG, e.g. black_friday_2026:ru (not `{text}`)"
            )),
        }
    }

    /// The template's parameters: the message's lines that are not blank.
    pub fn params(&self) -> Vec<String> {
        self.message
            .lines()
            .iter()
            .map(|l| l.trim().to_string())
            .filter(|l| !l.is_empty())
            .collect()
    }

    /// The message row's label: the parameters' when a template is given.
    pub fn label(&self, row: Row) -> &'static str {
        match row {
            Row::Message if self.template_mode() => "Parameters",
            r => r.label(),
        }
    }

    /// Whether the chosen account is a WhatsApp one sending free text, which reaches only
    /// those who wrote in the last 24 hours.
    pub fn text_on_whatsapp(&self) -> bool {
        !self.template_mode()
            && self
                .chosen_account()
                .is_some_and(|a| a.channel == Channel::WhatsApp)
    }
    /// The text field with the keys, if one has them.
    pub fn focused_input(&mut self) -> Option<&mut TextArea<'static>> {
        match self.focus {
            Row::Name => Some(&mut self.name),
            Row::Template => Some(&mut self.template),
            Row::Message => Some(&mut self.message),
            Row::Schedule => Some(&mut self.schedule),
            Row::Quiet => Some(&mut self.quiet),
            Row::List | Row::Account => None,
        }
    }

    /// Moves the focus by `step` rows, wrapping.
    pub fn move_focus(&mut self, step: isize) {
        let n = Row::ALL.len() as isize;
        let i = Row::ALL.iter().position(|r| *r == self.focus).unwrap_or(0) as isize;
        self.focus = Row::ALL[(i + step).rem_euclid(n) as usize];
        self.show_cursor();
    }

    /// Whether the focus is on the last row (Enter there saves).
    pub fn on_last(&self) -> bool {
        self.focus == Row::Quiet
    }

    /// Chooses the next list or account in `step` direction.
    pub fn cycle(&mut self, step: isize) {
        let next = |i: usize, n: usize| (i as isize + step).rem_euclid(n.max(1) as isize) as usize;
        match self.focus {
            Row::List => {
                self.list = next(self.list, self.lists.len());
                self.samples = None;
                self.refresh();
            }
            Row::Account => {
                let n = self.accounts.as_ref().map_or(0, Vec::len);
                self.account = next(self.account, n);
            }
            _ => return,
        }
        self.clear_error(self.focus);
    }

    /// Forgets the problem shown under a row (it is being changed).
    pub fn clear_error(&mut self, row: Row) {
        self.errors.retain(|(r, _)| *r != row);
        self.error = None;
    }

    /// A key typed into the focused text row; the preview follows the message.
    pub fn type_key(&mut self, key: ratatui::crossterm::event::KeyEvent) {
        use ratatui::crossterm::event::KeyCode;
        let row = self.focus;
        let Some(input) = self.focused_input() else {
            return;
        };
        // Only the message has several lines.
        if key.code == KeyCode::Enter && row != Row::Message {
            return;
        }
        crate::tui::form::edit_field(input, key);
        self.clear_error(row);
        if row == Row::Template {
            self.message.set_placeholder_text(if self.template_mode() {
                PARAMS_HINT
            } else {
                MESSAGE_HINT
            });
            self.clear_error(Row::Message);
        }
        if matches!(row, Row::Message | Row::Template) {
            self.refresh();
        }
    }

    /// Renders the preview and finds what is wrong with the message as it stands.
    pub fn refresh(&mut self) {
        if self.template_mode() {
            return self.refresh_template();
        }
        let text = self.message_text();
        self.preview.clear();
        self.problems.clear();
        if text.is_empty() {
            return;
        }
        let hits = policy::check(&text);
        let template = match MessageTemplate::compile(&text) {
            Ok(t) => t,
            Err(e) => {
                self.problems.push(e);
                self.problems.extend(hits.iter().map(|h| h.to_string()));
                return;
            }
        };
        self.try_on_samples(|s| template.render(&s.recipient()));
        self.problems.extend(hits.iter().map(|h| h.to_string()));
    }

    /// The message as the first sampled subscribers get it, and the first sampled
    /// subscriber it cannot be written for, if any.
    fn try_on_samples(&mut self, render: impl Fn(&Sample) -> Result<String, String>) {
        let Some((_, samples)) = &self.samples else {
            return;
        };
        for s in samples.iter().take(PREVIEW) {
            let label = if s.name.is_empty() {
                "(no name)".to_string()
            } else {
                s.name.clone()
            };
            self.preview.push((label, render(s)));
        }
        if let Some((s, e)) = samples.iter().find_map(|s| render(s).err().map(|e| (s, e))) {
            self.problems
                .push(format!("cannot be written for {}: {e}", s.who()));
        }
    }

    /// The preview and problems of a template's parameters, as the console's campaign
    /// detail shows them (`template NAME: value · value`).
    fn refresh_template(&mut self) {
        self.preview.clear();
        self.problems.clear();
        let name = match self.template_parts() {
            Ok((name, _)) => name,
            Err(_) => Self::line(&self.template),
        };
        let mut compiled = Vec::new();
        for (i, p) in self.params().iter().enumerate() {
            match MessageTemplate::compile(p) {
                Ok(t) => compiled.push(t),
                Err(e) => self
                    .problems
                    .push(format!("parameter {{{{{}}}}}: {e}", i + 1)),
            }
        }
        if self.problems.is_empty() {
            self.try_on_samples(|s| {
                let values = compiled
                    .iter()
                    .map(|t| t.render(&s.recipient()))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(if values.is_empty() {
                    format!("template {name}, no parameters")
                } else {
                    format!("template {name}: {}", values.join(" · "))
                })
            });
        }
        let hits = policy::check(&self.params().join("\n"));
        self.problems.extend(hits.iter().map(|h| h.to_string()));
    }

    /// Only the focused text row shows a cursor.
    fn show_cursor(&mut self) {
        let focus = self.focus;
        for (row, t) in [
            (Row::Name, &mut self.name),
            (Row::Template, &mut self.template),
            (Row::Message, &mut self.message),
            (Row::Schedule, &mut self.schedule),
            (Row::Quiet, &mut self.quiet),
        ] {
            t.set_cursor_style(if row == focus {
                Style::default().add_modifier(Modifier::REVERSED)
            } else {
                Style::default()
            });
        }
    }

    /// Shows why the campaign was not made: under the field it is about, focused, else
    /// below the form.
    pub fn refused(&mut self, field: Option<campaigns::SpecField>, why: String) {
        use campaigns::SpecField as F;
        let row = field.map(|f| match f {
            F::Name => Row::Name,
            F::List => Row::List,
            F::Account => Row::Account,
            // A template's parameters are written where a text would be.
            F::Message => Row::Message,
            F::QuietHours => Row::Quiet,
        });
        match row {
            Some(row) => {
                self.errors.push((row, why));
                self.focus = row;
                self.show_cursor();
            }
            None => self.error = Some(why),
        }
    }

    /// Checks the form; on problems, shows each under its row, focuses the first and
    /// returns `None`.
    pub fn check(&mut self) -> Option<Spec> {
        self.errors.clear();
        self.error = None;
        let name = Self::line(&self.name);
        if name.is_empty() {
            self.errors
                .push((Row::Name, "give the campaign a name".into()));
        }
        let list = self.chosen_list().map(|l| l.name.clone());
        if list.is_none() {
            self.errors.push((
                Row::List,
                "there are no lists yet: import subscribers first (Subscribers pane, i)".into(),
            ));
        }
        let account = self.chosen_account().map(|a| a.name.clone());
        if account.is_none() {
            self.errors.push((
                Row::Account,
                match self.accounts {
                    None => "the accounts are still loading; try again in a moment".into(),
                    Some(_) => {
                        "there are no accounts yet: connect one first (Accounts pane, a)".into()
                    }
                },
            ));
        }
        let template = if self.template_mode() {
            match self.template_parts() {
                Ok(_)
                    if self
                        .chosen_account()
                        .is_some_and(|a| a.channel != Channel::WhatsApp) =>
                {
                    self.errors.push((
                        Row::Template,
                        "templates are a WhatsApp feature: leave this empty to send the text"
                            .into(),
                    ));
                    None
                }
                Ok(parts) => Some(parts),
                Err(e) => {
                    self.errors.push((Row::Template, e));
                    None
                }
            }
        } else {
            None
        };
        let text = self.message_text();
        if text.is_empty() && !self.template_mode() {
            self.errors
                .push((Row::Message, "write the message to send".into()));
        } else {
            self.refresh();
            if let Some(first) = self.problems.first() {
                let more = self.problems.len() - 1;
                self.errors.push((
                    Row::Message,
                    if more > 0 {
                        format!("{first} (and {more} more, listed below)")
                    } else {
                        first.clone()
                    },
                ));
            } else if self.samples.is_none() {
                self.errors.push((
                    Row::Message,
                    "the list's subscribers are still loading; try again in a moment".into(),
                ));
            }
        }
        let schedule_text = Self::line(&self.schedule);
        let schedule = if schedule_text.is_empty() {
            None
        } else {
            match campaigns::parse_schedule(&schedule_text, chrono::Utc::now()) {
                Ok(at) => Some(at),
                Err(e) => {
                    self.errors.push((Row::Schedule, e));
                    None
                }
            }
        };
        let quiet_text = Self::line(&self.quiet);
        if !quiet_text.is_empty()
            && let Err(e) = SendWindow::parse(&quiet_text)
        {
            self.errors.push((Row::Quiet, e));
        }
        if let Some((row, _)) = Row::ALL
            .iter()
            .find_map(|r| self.errors.iter().find(|(e, _)| e == r))
        {
            self.focus = *row;
            self.show_cursor();
            return None;
        }
        let (text, wa_template, wa_lang, wa_params) = match template {
            Some((name, lang)) => (None, Some(name), Some(lang), self.params()),
            None => (Some(text), None, None, Vec::new()),
        };
        Some(Spec {
            name,
            list: list?,
            account: account?,
            text,
            wa_template,
            wa_lang,
            wa_params,
            schedule,
            quiet_hours: (!quiet_text.is_empty()).then_some(quiet_text),
        })
    }

    /// The problem shown under a row.
    pub fn error_of(&self, row: Row) -> Option<&str> {
        self.errors
            .iter()
            .find(|(r, _)| *r == row)
            .map(|(_, e)| e.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

    fn form() -> CampaignForm {
        let mut f = CampaignForm::new(
            vec![
                ListChoice {
                    id: ListId(1),
                    name: "Almaty".into(),
                    members: 10,
                },
                ListChoice {
                    id: ListId(2),
                    name: "Astana".into(),
                    members: 5,
                },
            ],
            Some(ListId(2)),
        );
        f.set_accounts(vec![AccountChoice {
            id: AccountId(7),
            name: "Shop".into(),
            channel: Channel::Telegram,
        }]);
        f
    }

    fn sample(name: &str, city: Option<&str>) -> Sample {
        Sample {
            name: name.into(),
            locale: None,
            attributes: match city {
                Some(c) => serde_json::json!({ "city": c }),
                None => serde_json::json!({}),
            },
        }
    }

    fn type_text(f: &mut CampaignForm, text: &str) {
        for c in text.chars() {
            let code = if c == '\n' {
                KeyCode::Enter
            } else {
                KeyCode::Char(c)
            };
            f.type_key(KeyEvent::new(code, KeyModifiers::NONE));
        }
    }

    #[test]
    fn the_preview_follows_the_message_and_names_who_it_cannot_be_written_for() {
        let mut f = form();
        assert_eq!(
            f.chosen_list().unwrap().name,
            "Astana",
            "starts on the list shown"
        );
        assert_eq!(f.wants_samples(), Some(ListId(2)));
        f.set_samples(ListId(1), vec![sample("Wrong list", None)]);
        assert!(f.samples.is_none(), "another list's samples are ignored");
        f.set_samples(
            ListId(2),
            vec![sample("Айгерим", Some("Алматы")), sample("Bob", None)],
        );
        f.focus = Row::Message;
        type_text(&mut f, "Привет, {{ name }}!\nГород: {{ attributes.city }}");
        assert_eq!(
            f.message_text(),
            "Привет, {{ name }}!\nГород: {{ attributes.city }}"
        );
        assert_eq!(
            f.preview[0],
            (
                "Айгерим".into(),
                Ok("Привет, Айгерим!\nГород: Алматы".into())
            )
        );
        assert!(f.preview[1].1.is_err(), "{:?}", f.preview);
        assert!(f.problems[0].contains("“Bob”"), "{:?}", f.problems);
        // A default makes it writable for everyone.
        f.message = input(
            "Привет, {{ name }}! {{ attributes.city | default('') }}",
            "",
        );
        f.refresh();
        assert!(f.problems.is_empty(), "{:?}", f.problems);
    }

    #[test]
    fn policy_hits_show_as_typed_and_block_the_save() {
        let mut f = form();
        f.set_samples(ListId(2), vec![sample("A", None)]);
        f.focus = Row::Name;
        type_text(&mut f, "Offer");
        f.focus = Row::Message;
        type_text(&mut f, "Гарантированный доход 300% в месяц! bit.ly/x");
        assert!(
            f.problems.iter().any(|p| p.contains("bit.ly/x")),
            "{:?}",
            f.problems
        );
        assert!(f.check().is_none());
        assert_eq!(f.focus, Row::Message);
        assert!(f.error_of(Row::Message).unwrap().contains("more"));
    }

    #[test]
    fn every_bad_row_is_named_and_a_good_form_makes_the_spec() {
        let mut f = form();
        f.set_samples(ListId(2), vec![sample("A", None)]);
        assert!(f.check().is_none());
        assert_eq!(f.focus, Row::Name, "the first problem gets the focus");
        assert!(f.error_of(Row::Message).is_some());
        f.focus = Row::Name;
        type_text(&mut f, "Friday");
        f.focus = Row::Message;
        type_text(&mut f, "Hi {{ name }}");
        f.focus = Row::Schedule;
        type_text(&mut f, "tomorrow");
        f.focus = Row::Quiet;
        type_text(&mut f, "25:00-26:00");
        assert!(f.check().is_none());
        assert!(
            f.error_of(Row::Schedule)
                .unwrap()
                .contains("2026-12-01 10:00")
        );
        assert!(f.error_of(Row::Quiet).is_some());
        assert_eq!(f.focus, Row::Schedule);
        f.schedule = input("2000-12-01T10:00:00+05:00", "");
        assert!(f.check().is_none());
        assert!(f.error_of(Row::Schedule).unwrap().contains("has passed"));
        f.schedule = input("2099-12-01T10:00:00+05:00", "");
        f.quiet = input("09:00-21:00", "");
        let spec = f.check().expect("valid");
        assert_eq!(spec.name, "Friday");
        assert_eq!(spec.list, "Astana");
        assert_eq!(spec.account, "Shop");
        assert_eq!(spec.text.as_deref(), Some("Hi {{ name }}"));
        assert_eq!(
            spec.schedule.unwrap().to_rfc3339(),
            "2099-12-01T05:00:00+00:00"
        );
        assert_eq!(spec.quiet_hours.as_deref(), Some("09:00-21:00"));
    }

    #[test]
    fn pickers_cycle_and_a_new_list_asks_for_its_subscribers() {
        let mut f = form();
        f.set_samples(ListId(2), vec![sample("A", None)]);
        assert_eq!(f.wants_samples(), None);
        f.focus = Row::List;
        f.cycle(1);
        assert_eq!(f.chosen_list().unwrap().name, "Almaty");
        assert_eq!(f.wants_samples(), Some(ListId(1)));
        f.focus = Row::Account;
        f.cycle(-1);
        assert_eq!(f.chosen_account().unwrap().name, "Shop");
        f.move_focus(-3);
        assert_eq!(f.focus, Row::Quiet, "focus wraps");
    }

    #[test]
    fn a_whatsapp_template_takes_its_parameters_from_the_message_rows() {
        let mut f = form();
        f.set_accounts(vec![
            AccountChoice {
                id: AccountId(7),
                name: "Shop".into(),
                channel: Channel::Telegram,
            },
            AccountChoice {
                id: AccountId(8),
                name: "WA".into(),
                channel: Channel::WhatsApp,
            },
        ]);
        f.set_samples(
            ListId(2),
            vec![sample("Айгерим", Some("Алматы")), sample("Bob", None)],
        );
        f.focus = Row::Name;
        type_text(&mut f, "Friday");
        f.focus = Row::Template;
        type_text(&mut f, "black_friday_2026");
        assert_eq!(f.label(Row::Message), "Parameters");
        f.focus = Row::Message;
        type_text(&mut f, "{{ name }}\n\nBF20\n");
        assert_eq!(f.params(), ["{{ name }}", "BF20"]);
        assert_eq!(
            f.preview[0],
            (
                "Айгерим".into(),
                Ok("template black_friday_2026: Айгерим · BF20".into())
            )
        );
        // Without its language, or on the Telegram account, it is refused where it is typed.
        assert!(f.check().is_none());
        assert!(f.error_of(Row::Template).unwrap().contains("NAME:LANG"));
        assert_eq!(f.focus, Row::Template);
        type_text(&mut f, ":ru");
        assert!(f.check().is_none());
        assert!(f.error_of(Row::Template).unwrap().contains("WhatsApp"));
        f.focus = Row::Account;
        f.cycle(1);
        let spec = f.check().expect("valid");
        assert_eq!(spec.account, "WA");
        assert_eq!(spec.text, None);
        assert_eq!(spec.wa_template.as_deref(), Some("black_friday_2026"));
        assert_eq!(spec.wa_lang.as_deref(), Some("ru"));
        assert_eq!(spec.wa_params, ["{{ name }}", "BF20"]);
        // A parameter that cannot be written for a subscriber is named.
        f.focus = Row::Message;
        type_text(&mut f, "{{ attributes.city }}");
        assert!(f.problems[0].contains("“Bob”"), "{:?}", f.problems);
        assert!(f.check().is_none());
        // Emptied, the template gives way to the text again.
        f.template = input("", "");
        f.refresh();
        assert_eq!(f.label(Row::Message), "Message");
        assert!(f.text_on_whatsapp());
    }
}
