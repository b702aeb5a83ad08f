//! The account form: a field per line (ratatui-textarea), the token masked, every problem
//! shown under its field, checked by the same rules as `clever accounts add`
//! ([`crate::domain::account`]).

use crate::domain::account::{self, Draft, Field};
use crate::domain::{AccountId, Channel};
use crate::store::accounts::AccountRow;
use ratatui::style::{Modifier, Style};
use ratatui_textarea::{CursorMove, TextArea};

/// Types a key into a text field, with the shell's `Ctrl-U` (delete to the start of the line)
/// instead of the field's own undo; `Ctrl-K`, `Ctrl-W` and the rest are the field's.
pub fn edit_field(input: &mut TextArea<'static>, key: ratatui::crossterm::event::KeyEvent) {
    use ratatui::crossterm::event::{KeyCode, KeyModifiers};
    if key.code == KeyCode::Char('u') && key.modifiers == KeyModifiers::CONTROL {
        input.delete_line_by_head();
    } else {
        input.input(key);
    }
}

/// What a consent entered by hand lacks (`manual_gaps`), each under its row of a form.
pub fn hand_consent_problems<R: Copy>(
    status: crate::domain::ConsentStatus,
    source: &str,
    proof: &str,
    (source_row, proof_row): (R, R),
) -> impl Iterator<Item = (R, String)> {
    use crate::domain::consent::{ManualGap, manual_gaps};
    manual_gaps(status, source, proof)
        .into_iter()
        .map(move |gap| {
            let row = match gap {
                ManualGap::Source => source_row,
                ManualGap::Proof => proof_row,
            };
            (row, gap.in_a_form().to_string())
        })
}

/// Puts a form's problems in the order of its rows (`order`); the row of the first, to focus.
pub fn first_problem<R: PartialEq + Copy>(problems: &mut [(R, String)], order: &[R]) -> Option<R> {
    problems.sort_by_key(|(row, _)| order.iter().position(|r| r == row));
    problems.first().map(|(row, _)| *row)
}

/// One text field of the form.
pub struct FormField {
    pub field: Field,
    pub input: TextArea<'static>,
    /// What is wrong with it, shown under it.
    pub error: Option<String>,
}

impl FormField {
    fn new(field: Field, text: String, editing: bool) -> FormField {
        let mut input = TextArea::new(vec![text]);
        input.move_cursor(CursorMove::End);
        input.set_cursor_line_style(Style::default());
        let placeholder = match field {
            Field::Token if editing => "leave empty to keep the current token",
            Field::Token => "paste the access token or bot token",
            Field::BaseUrl => "empty: the platform's own host",
            Field::Rate => "empty: the channel's limit",
            Field::WaTier => "250, 1000, 2000, 10000 or 100000",
            Field::WabaId => "optional",
            _ => "",
        };
        input.set_placeholder_text(placeholder);
        if field == Field::Token {
            input.set_mask_char('•');
        }
        FormField {
            field,
            input,
            error: None,
        }
    }

    /// The text typed, trimmed.
    pub fn text(&self) -> String {
        self.input.lines().join("").trim().to_string()
    }
}

/// Adding or changing an account.
pub struct AccountForm {
    /// The account being changed; `None` when adding.
    pub editing: Option<AccountId>,
    pub channel: Channel,
    pub fields: Vec<FormField>,
    /// The focused row: when adding, row 0 is the channel and fields start at 1.
    pub focus: usize,
    /// Sent to be saved; waiting for the answer.
    pub saving: bool,
    /// A problem that belongs to no one field (the database, the network).
    pub error: Option<String>,
}

impl AccountForm {
    /// An empty form for a new account.
    pub fn add() -> AccountForm {
        let mut f = AccountForm {
            editing: None,
            channel: Channel::WhatsApp,
            fields: Vec::new(),
            focus: 1,
            saving: false,
            error: None,
        };
        f.set_channel(Channel::WhatsApp);
        f
    }

    /// A form holding an account's values; the token is left empty (kept unless replaced).
    pub fn edit(a: &AccountRow) -> AccountForm {
        let d = crate::store::accounts::draft_of(a, None);
        let fields = Field::for_channel(a.channel)
            .iter()
            .map(|&field| {
                let text = match field {
                    Field::Name => d.name.clone(),
                    Field::Token => String::new(),
                    Field::PhoneNumberId => d.phone_number_id.clone(),
                    Field::WabaId => d.waba_id.clone(),
                    Field::IgUserId => d.ig_user_id.clone(),
                    Field::BaseUrl => d.base_url.clone(),
                    Field::Rate => d.rate.clone(),
                    Field::WaTier => d.wa_tier.clone(),
                };
                FormField::new(field, text, true)
            })
            .collect();
        let mut f = AccountForm {
            editing: Some(a.id),
            channel: a.channel,
            fields,
            focus: 0,
            saving: false,
            error: None,
        };
        f.show_cursor();
        f
    }

    /// Rows before the first field (the channel picker, when adding).
    pub fn offset(&self) -> usize {
        usize::from(self.editing.is_none())
    }

    /// The number of rows.
    pub fn rows(&self) -> usize {
        self.offset() + self.fields.len()
    }

    /// Whether the channel picker has the keys.
    pub fn on_channel(&self) -> bool {
        self.editing.is_none() && self.focus == 0
    }

    /// The field with the keys, if a text field has them.
    pub fn focused_mut(&mut self) -> Option<&mut FormField> {
        let i = self.focus.checked_sub(self.offset())?;
        self.fields.get_mut(i)
    }

    /// Switches the channel of a new account, keeping what fits the new one.
    pub fn set_channel(&mut self, channel: Channel) {
        let keep: Vec<(Field, String)> = self.fields.iter().map(|f| (f.field, f.text())).collect();
        self.channel = channel;
        self.fields = Field::for_channel(channel)
            .iter()
            .map(|&field| {
                let text = keep
                    .iter()
                    .find(|(k, _)| *k == field)
                    .map(|(_, t)| t.clone())
                    .unwrap_or_default();
                FormField::new(field, text, false)
            })
            .collect();
        self.focus = self.focus.min(self.rows() - 1);
        self.show_cursor();
    }

    /// The next channel in `step` direction.
    pub fn cycle_channel(&mut self, step: isize) {
        let n = Channel::ALL.len() as isize;
        let i = Channel::ALL
            .iter()
            .position(|c| *c == self.channel)
            .unwrap_or(0) as isize;
        self.set_channel(Channel::ALL[(i + step).rem_euclid(n) as usize]);
    }

    /// Moves the focus by `step` rows, wrapping.
    pub fn move_focus(&mut self, step: isize) {
        let n = self.rows() as isize;
        self.focus = (self.focus as isize + step).rem_euclid(n) as usize;
        self.show_cursor();
    }

    /// Only the focused field shows a cursor.
    fn show_cursor(&mut self) {
        let focused = self.focus.checked_sub(self.offset());
        for (i, f) in self.fields.iter_mut().enumerate() {
            f.input.set_cursor_style(if Some(i) == focused {
                Style::default().add_modifier(Modifier::REVERSED)
            } else {
                Style::default()
            });
        }
    }

    /// What was typed, as a draft for the shared checks.
    pub fn draft(&self) -> Draft {
        let text = |field: Field| {
            self.fields
                .iter()
                .find(|f| f.field == field)
                .map(FormField::text)
                .unwrap_or_default()
        };
        let token = text(Field::Token);
        Draft {
            name: text(Field::Name),
            token: if self.editing.is_some() && token.is_empty() {
                None
            } else {
                Some(token)
            },
            phone_number_id: text(Field::PhoneNumberId),
            waba_id: text(Field::WabaId),
            ig_user_id: text(Field::IgUserId),
            base_url: text(Field::BaseUrl),
            rate: text(Field::Rate),
            wa_tier: text(Field::WaTier),
        }
    }

    /// Checks the form; on problems, shows each under its field, focuses the first and
    /// returns `None`.
    pub fn check(&mut self) -> Option<Draft> {
        let draft = self.draft();
        self.error = None;
        for f in &mut self.fields {
            f.error = None;
        }
        match account::validate(self.channel, &draft) {
            Ok(_) => Some(draft),
            Err(errors) => {
                self.show_errors(&errors);
                None
            }
        }
    }

    /// Shows problems under their fields (or for the whole form) and focuses the first.
    pub fn show_errors(&mut self, errors: &[(Field, String)]) {
        let mut first = None;
        for (field, why) in errors {
            match self.fields.iter().position(|f| f.field == *field) {
                Some(i) => {
                    self.fields[i].error = Some(why.clone());
                    first = Some(first.map_or(i, |f: usize| f.min(i)));
                }
                None => self.error = Some(format!("{}: {why}", field.label())),
            }
        }
        if let Some(i) = first {
            self.focus = i + self.offset();
            self.show_cursor();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ctrl_u_clears_to_the_start_as_in_a_shell() {
        use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
        let mut input = TextArea::new(vec!["/home/op/old.csv".to_string()]);
        input.move_cursor(CursorMove::End);
        edit_field(
            &mut input,
            KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL),
        );
        assert_eq!(input.lines(), [""]);
        for c in "new.csv".chars() {
            edit_field(
                &mut input,
                KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE),
            );
        }
        assert_eq!(input.lines(), ["new.csv"]);
    }

    fn type_into(form: &mut AccountForm, text: &str) {
        let f = form.focused_mut().unwrap();
        f.input.insert_str(text);
    }

    #[test]
    fn problems_land_under_their_fields_and_switching_channel_keeps_shared_values() {
        let mut form = AccountForm::add();
        assert_eq!(form.focus, 1, "the name is first to type");
        type_into(&mut form, "Shop");
        assert!(form.check().is_none());
        let errors: Vec<Field> = form
            .fields
            .iter()
            .filter(|f| f.error.is_some())
            .map(|f| f.field)
            .collect();
        assert_eq!(errors, [Field::PhoneNumberId, Field::Token]);
        assert_eq!(form.focused_mut().unwrap().field, Field::PhoneNumberId);
        form.cycle_channel(1);
        assert_eq!(form.channel, Channel::Telegram);
        assert_eq!(form.fields[0].text(), "Shop", "the name survives");
        assert!(!form.fields.iter().any(|f| f.field == Field::PhoneNumberId));
        form.focus = 2;
        type_into(&mut form, "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw");
        let d = form.check().expect("valid");
        assert_eq!(
            d.token.as_deref(),
            Some("123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw")
        );
    }

    #[test]
    fn focus_wraps_over_the_channel_row() {
        let mut form = AccountForm::add();
        form.move_focus(-1);
        assert!(form.on_channel());
        form.move_focus(-1);
        assert_eq!(form.focus, form.rows() - 1);
    }
}
