//! The forms' keys and saving: the account, campaign and consent forms.

use super::App;
use crate::tui::action::Action;
use crate::tui::campaign_form::{self, CampaignForm};
use crate::tui::worker::{Request, Tagged};
use ratatui::crossterm::event::KeyEvent;

/// A form of rows saved as a whole (the consent form, the subscriber form).
pub(crate) trait RowForm {
    fn saving(&self) -> bool;
    fn on_last(&self) -> bool;
    fn move_focus(&mut self, step: isize);
    fn on_key(&mut self, key: KeyEvent);
}

/// The trait over a form's own methods of the same names.
macro_rules! row_form {
    ($($form:ty),*) => {$(
        impl RowForm for $form {
            fn saving(&self) -> bool {
                self.saving
            }
            fn on_last(&self) -> bool {
                <$form>::on_last(self)
            }
            fn move_focus(&mut self, step: isize) {
                <$form>::move_focus(self, step)
            }
            fn on_key(&mut self, key: KeyEvent) {
                <$form>::on_key(self, key)
            }
        }
    )*};
}

row_form!(
    crate::tui::consent_form::ConsentForm,
    crate::tui::subscriber_form::SubscriberForm
);

impl App {
    /// A key in the campaign form. In the message, Enter starts a new line and Up/Down move
    /// between its lines (leaving the field from its first or last line); in a picker, ← →
    /// choose.
    pub(super) fn on_campaign_form_key(
        &mut self,
        key: KeyEvent,
        action: Option<Action>,
    ) -> Vec<Tagged<Request>> {
        use ratatui::crossterm::event::KeyCode;
        let Some(form) = &mut self.campaign_form else {
            return Vec::new();
        };
        self.dirty = true;
        let plain = key.modifiers.is_empty();
        let in_message = form.focus == campaign_form::Row::Message;
        let row = form.message.cursor().0;
        let last = form.message.lines().len().saturating_sub(1);
        let stays_in_message = in_message
            && plain
            && match key.code {
                KeyCode::Enter => true,
                KeyCode::Up => row > 0,
                KeyCode::Down => row < last,
                _ => false,
            };
        match action {
            Some(Action::FormCancel) => {
                self.campaign_form = None;
                return Vec::new();
            }
            Some(Action::ForceQuit) => return self.act(Action::ForceQuit),
            Some(Action::FormSave) => return self.save_campaign_form(),
            Some(Action::FormNext) if !stays_in_message => {
                if form.on_last() {
                    return self.save_campaign_form();
                }
                form.move_focus(1);
            }
            Some(Action::FormPrev) if !stays_in_message => form.move_focus(-1),
            _ if form.focus.is_picker() => match key.code {
                KeyCode::Left | KeyCode::Char('h') => form.cycle(-1),
                KeyCode::Right | KeyCode::Char('l' | ' ') => form.cycle(1),
                _ => {}
            },
            _ => form.type_key(key),
        }
        self.campaign_form_wants()
    }

    pub(super) fn on_consent_form_key(
        &mut self,
        key: KeyEvent,
        action: Option<Action>,
    ) -> Vec<Tagged<Request>> {
        self.on_row_form_key(key, action, |a| &mut a.consent_form, App::save_consent_form)
    }

    pub(super) fn on_subscriber_form_key(
        &mut self,
        key: KeyEvent,
        action: Option<Action>,
    ) -> Vec<Tagged<Request>> {
        self.on_row_form_key(
            key,
            action,
            |a| &mut a.subscriber_form,
            App::save_subscriber_form,
        )
    }

    /// A key in a form of rows held in `slot`: Tab and Enter go forward (Enter on the last
    /// row saves, with `save`), Shift-Tab back, Esc closes it; other keys are the form's.
    /// While it is being saved only leaving is taken.
    fn on_row_form_key<F: RowForm>(
        &mut self,
        key: KeyEvent,
        action: Option<Action>,
        slot: fn(&mut App) -> &mut Option<F>,
        save: fn(&mut App) -> Vec<Tagged<Request>>,
    ) -> Vec<Tagged<Request>> {
        self.dirty = true;
        let Some(form) = slot(self).as_mut() else {
            return Vec::new();
        };
        if form.saving() {
            if action == Some(Action::ForceQuit) {
                return self.act(Action::ForceQuit);
            }
            return Vec::new();
        }
        match action {
            Some(Action::FormCancel) => *slot(self) = None,
            Some(Action::ForceQuit) => return self.act(Action::ForceQuit),
            Some(Action::FormSave) => return save(self),
            Some(Action::FormNext) if form.on_last() => return save(self),
            Some(Action::FormNext) => form.move_focus(1),
            Some(Action::FormPrev) => form.move_focus(-1),
            _ => form.on_key(key),
        }
        Vec::new()
    }

    pub(super) fn save_subscriber_form(&mut self) -> Vec<Tagged<Request>> {
        let Some(form) = &mut self.subscriber_form else {
            return Vec::new();
        };
        let Some(entry) = form.check() else {
            return Vec::new();
        };
        form.saving = true;
        vec![Tagged::any(Request::AddSubscriber {
            list: form.list,
            entry,
        })]
    }

    pub(super) fn save_consent_form(&mut self) -> Vec<Tagged<Request>> {
        let Some(form) = &mut self.consent_form else {
            return Vec::new();
        };
        let Some(draft) = form.check() else {
            return Vec::new();
        };
        form.saving = true;
        vec![Tagged::any(Request::RecordConsent(draft))]
    }

    /// The samples the campaign form still needs.
    pub(super) fn campaign_form_wants(&self) -> Vec<Tagged<Request>> {
        self.campaign_form
            .as_ref()
            .and_then(CampaignForm::wants_samples)
            .map(|list| Tagged::any(Request::ListSamples { list }))
            .into_iter()
            .collect()
    }

    /// Checks the campaign form and, when it passes, sends it to be created.
    pub(super) fn save_campaign_form(&mut self) -> Vec<Tagged<Request>> {
        let Some(form) = &mut self.campaign_form else {
            return Vec::new();
        };
        if form.saving {
            return Vec::new();
        }
        let Some(spec) = form.check() else {
            return self.campaign_form_wants();
        };
        form.saving = true;
        vec![Tagged::any(Request::CreateCampaign { spec })]
    }

    /// Checks the form and, when it passes, sends it to be saved.
    pub(super) fn save_form(&mut self) -> Vec<Tagged<Request>> {
        let Some(form) = &mut self.form else {
            return Vec::new();
        };
        if form.saving {
            return Vec::new();
        }
        let Some(draft) = form.check() else {
            return Vec::new();
        };
        form.saving = true;
        vec![Tagged::any(Request::SaveAccount {
            id: form.editing,
            channel: form.channel,
            draft,
        })]
    }
}
