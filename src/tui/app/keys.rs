//! Keys: what a key means in the mode the console is in (a form, a prompt, a confirm, the
//! panes), turned into an [`Action`] and carried out.

use super::{
    App, Confirm, Focus, ImportView, OnYes, Overlay, Prompt, PromptKind, expand_home, group,
};
use crate::domain::{AccountStatus, one_line};
use crate::import::Progress;
use crate::tui::action::{Action, PaneId};
use crate::tui::campaign_form::{self, CampaignForm};
use crate::tui::consent_form::ConsentForm;
use crate::tui::form::AccountForm;
use crate::tui::keymap::Mode;
use crate::tui::subscriber_form::SubscriberForm;
use crate::tui::worker::{Detail, Request, Tagged};
use ratatui::crossterm::event::KeyEvent;

impl App {
    pub(super) fn on_key(&mut self, key: KeyEvent) -> Vec<Tagged<Request>> {
        let mode = self.mode();
        let action = self.keymap.action(mode, &key);
        if !self.notices.is_empty() && action.is_some() {
            self.notices.clear();
            self.dirty = true;
        }
        if mode == Mode::Form && self.campaign_form.is_some() {
            return self.on_campaign_form_key(key, action);
        }
        if mode == Mode::Form && self.consent_form.is_some() {
            return self.on_consent_form_key(key, action);
        }
        if mode == Mode::Form && self.subscriber_form.is_some() {
            return self.on_subscriber_form_key(key, action);
        }
        match (mode, action) {
            (
                Mode::Search,
                Some(a @ (Action::SearchApply | Action::SearchCancel | Action::ForceQuit)),
            ) => self.act(a),
            (
                Mode::Form,
                Some(
                    a @ (Action::FormNext
                    | Action::FormPrev
                    | Action::FormSave
                    | Action::FormCancel
                    | Action::ForceQuit),
                ),
            ) => self.act(a),
            (Mode::Form, _) => {
                if let Some(form) = &mut self.form {
                    use ratatui::crossterm::event::KeyCode;
                    if form.on_channel() {
                        match key.code {
                            KeyCode::Left | KeyCode::Char('h') => form.cycle_channel(-1),
                            KeyCode::Right | KeyCode::Char('l' | ' ') => form.cycle_channel(1),
                            _ => {}
                        }
                    } else if let Some(field) = form.focused_mut()
                        && key.code != KeyCode::Enter
                    {
                        crate::tui::form::edit_field(&mut field.input, key);
                        field.error = None;
                    }
                    self.dirty = true;
                }
                Vec::new()
            }
            (Mode::Search, _) => {
                let Some(input) = &mut self.prompt else {
                    return Vec::new();
                };
                // Tab in a file prompt: the folder is read by a worker (a slow mount never
                // holds up the screen).
                if key.code == ratatui::crossterm::event::KeyCode::Tab && input.takes_a_path() {
                    return vec![Tagged::any(Request::CompletePath {
                        typed: input.text(),
                    })];
                }
                // A list's name, from the lists the console has.
                if key.code == ratatui::crossterm::event::KeyCode::Tab
                    && matches!(input.kind, PromptKind::AddToList(_))
                {
                    let names: Vec<&str> = self.lists.iter().map(|l| l.name.as_str()).collect();
                    let done = crate::tui::complete::complete_name(&input.text(), &names);
                    input.field = Prompt::field(done.text);
                    input.choices = done.choices;
                    self.dirty = true;
                    return Vec::new();
                }
                // Single-line field: Enter is handled above, so no newline gets in.
                crate::tui::form::edit_field(&mut input.field, key);
                input.choices.clear();
                self.dirty = true;
                Vec::new()
            }
            (_, Some(a)) => self.act(a),
            (_, None) => Vec::new(),
        }
    }

    pub(super) fn act(&mut self, action: Action) -> Vec<Tagged<Request>> {
        self.dirty = true;
        let mode = self.mode();
        match (mode, action) {
            (_, Action::ForceQuit) => self.quit = true,
            (Mode::Help, Action::CloseHelp) => self.overlay = Overlay::None,
            (Mode::Help, Action::Up | Action::Down | Action::PageUp | Action::PageDown) => {
                if let Overlay::Help { scroll } = &mut self.overlay {
                    let step: isize = match action {
                        Action::Up => -1,
                        Action::Down => 1,
                        Action::PageUp => -10,
                        _ => 10,
                    };
                    *scroll = scroll
                        .saturating_add_signed(step)
                        .min(self.help_scroll_max.get());
                }
            }
            (Mode::Confirm, Action::Confirm) => {
                if let Overlay::Confirm(c) = std::mem::replace(&mut self.overlay, Overlay::None) {
                    match c.on_yes {
                        OnYes::Quit => self.quit = true,
                        OnYes::DeleteList(id, name) => {
                            return vec![Tagged::any(Request::DeleteList { id, name })];
                        }
                        OnYes::NewListWith(list, id, name) => {
                            return vec![Tagged::any(Request::NewListWith { list, id, name })];
                        }
                        OnYes::RemoveFromList(list, id, name) => {
                            return vec![Tagged::any(Request::ChangeMembers {
                                list,
                                id,
                                name,
                                add: false,
                            })];
                        }
                        OnYes::Resume(id) => {
                            return vec![Tagged::any(Request::SetAccountStatus {
                                id,
                                reason: None,
                            })];
                        }
                        OnYes::StartCampaign(id) => {
                            return vec![Tagged::any(Request::StartCampaign { id })];
                        }
                        OnYes::StepCampaign(id, step) => {
                            return vec![Tagged::any(Request::StepCampaign { id, step })];
                        }
                        OnYes::RequeueUnknown(id) => {
                            return vec![Tagged::any(Request::RequeueUnknown { id })];
                        }
                        OnYes::Licence(step) => {
                            self.notify("asking the licence server…", false);
                            return vec![Tagged::any(Request::Licence(step))];
                        }
                    }
                }
            }
            (Mode::Confirm, Action::Cancel) => {
                // A new list not wanted: back to the name, to type another.
                if let Overlay::Confirm(Confirm {
                    on_yes: OnYes::NewListWith(list, id, _),
                    ..
                }) = std::mem::replace(&mut self.overlay, Overlay::None)
                {
                    self.prompt = Some(Prompt::new(PromptKind::AddToList(id), list));
                }
            }
            (Mode::Search, Action::SearchApply) => {
                let Some(prompt) = self.prompt.take() else {
                    return Vec::new();
                };
                let text = prompt.text();
                match prompt.kind {
                    PromptKind::Search => {
                        self.search = (!text.is_empty()).then_some(text);
                        return self.reload_pane(PaneId::Subscribers, true);
                    }
                    PromptKind::PauseReason(_) if text.is_empty() => {
                        self.notify("a pause needs a reason; nothing changed", false);
                    }
                    PromptKind::PauseReason(id) => {
                        return vec![Tagged::any(Request::SetAccountStatus {
                            id,
                            reason: Some(text),
                        })];
                    }
                    PromptKind::SuppressReason { lift, .. } if text.is_empty() => {
                        self.notify(
                            if lift {
                                "lifting a suppression needs a reason; nothing changed"
                            } else {
                                "a suppression needs a reason; nothing changed"
                            },
                            false,
                        );
                    }
                    PromptKind::SuppressReason { id, lift } => {
                        return vec![Tagged::any(Request::Suppress {
                            id,
                            lift,
                            reason: text,
                        })];
                    }
                    PromptKind::TimeZone(id) => {
                        if let Some(zone) = self.typed_zone(prompt.kind, text) {
                            return vec![Tagged::any(Request::SetTimeZone { id, zone })];
                        }
                    }
                    PromptKind::ListTimeZone(id) => {
                        if let Some(zone) = self.typed_zone(prompt.kind, text) {
                            return vec![Tagged::any(Request::SetListTimeZone { id, zone })];
                        }
                    }
                    PromptKind::AddToList(_) if text.is_empty() => {}
                    PromptKind::AddToList(id) => {
                        let low = text.to_lowercase();
                        let list = self.lists.iter().find(|l| l.name == text).or_else(|| {
                            let mut same =
                                self.lists.iter().filter(|l| l.name.to_lowercase() == low);
                            same.next().filter(|_| same.next().is_none())
                        });
                        let name = self
                            .subscribers
                            .selected()
                            .filter(|s| s.id == id)
                            .map_or_else(|| format!("#{id}"), |s| one_line(&s.name).into_owned());
                        match list {
                            Some(l) => {
                                return vec![Tagged::any(Request::ChangeMembers {
                                    list: l.id,
                                    id,
                                    name,
                                    add: true,
                                })];
                            }
                            // Asked first: a mistyped name would start a list of one.
                            None => {
                                self.overlay = Overlay::Confirm(Confirm {
                                    title: "New list?".into(),
                                    message: format!(
                                        "There is no list “{text}”. Make it and add {name} to it? (n: back to the name; Tab completes the lists there are)"
                                    ),
                                    on_yes: OnYes::NewListWith(text, id, name),
                                });
                            }
                        }
                    }
                    PromptKind::LicenceKey if text.is_empty() => {
                        self.notify("no key typed; nothing changed", false);
                    }
                    PromptKind::LicenceKey => {
                        self.notify("activating with the licence server…", false);
                        return vec![Tagged::any(Request::Licence(
                            crate::tui::worker::LicenceStep::Activate(
                                prompt.field.lines().join(""),
                            ),
                        ))];
                    }
                    PromptKind::CheckNumber if text.is_empty() => {}
                    PromptKind::CheckNumber => {
                        self.checking = Some(text.clone());
                        return vec![Tagged::any(Request::CheckNumber { input: text })];
                    }
                    PromptKind::CheckSearch => {
                        self.lookup_search = (!text.is_empty()).then_some(text);
                        return self.reload_pane(PaneId::Counterparty, true);
                    }
                    PromptKind::ExportPath if text.is_empty() => {}
                    PromptKind::ExportPath => {
                        return vec![Tagged::any(Request::ExportChecks {
                            path: expand_home(&text),
                            search: self.lookup_search.clone(),
                        })];
                    }
                    PromptKind::ExportList if text.is_empty() => {}
                    PromptKind::ExportList => {
                        return vec![Tagged::any(Request::ExportList {
                            path: expand_home(&text),
                            list: self.selected_list().map(|l| l.id),
                            name: self.shown_list_name(),
                        })];
                    }
                    PromptKind::ImportPath if text.is_empty() => {}
                    PromptKind::ImportPath => {
                        let list = self.import_target();
                        self.import = Some(ImportView {
                            path: text.clone(),
                            list: list.clone(),
                            progress: Progress::default(),
                            result: None,
                        });
                        return vec![Tagged::any(Request::Import {
                            path: expand_home(&text),
                            list,
                        })];
                    }
                }
            }
            (Mode::Search, Action::SearchCancel) => self.prompt = None,
            (Mode::Form, Action::FormCancel) => self.form = None,
            (Mode::Form, Action::FormPrev) => {
                if let Some(f) = &mut self.form {
                    f.move_focus(-1);
                }
            }
            (Mode::Form, Action::FormNext) => match &mut self.form {
                Some(f) if f.focus + 1 < f.rows() => f.move_focus(1),
                Some(_) => return self.save_form(),
                None => {}
            },
            (Mode::Form, Action::FormSave) => return self.save_form(),
            (Mode::Normal, a) => return self.act_normal(a),
            _ => {}
        }
        Vec::new()
    }

    pub(super) fn act_normal(&mut self, action: Action) -> Vec<Tagged<Request>> {
        match action {
            Action::Quit => {
                let running = self.overview.as_ref().map_or(0, |o| o.campaigns_running);
                let mut why = Vec::new();
                // An import is one transaction: quitting rolls it back, so a long one is
                // never thrown away by a stray key.
                if let Some(i) = self.import.as_ref().filter(|i| i.result.is_none()) {
                    why.push(format!(
                        "The import of {} into “{}” is not finished: quitting stops it, and \
                         nothing of it is kept.",
                        i.path, i.list
                    ));
                }
                if running > 0 {
                    why.push(format!(
                        "{running} campaign{} marked running. Sending goes on only while an \
                         engine runs (this console or `clever run`).",
                        if running == 1 { " is" } else { "s are" }
                    ));
                }
                if why.is_empty() {
                    self.quit = true;
                } else {
                    why.push("Quit anyway?".into());
                    self.overlay = Overlay::Confirm(Confirm {
                        title: "Quit?".into(),
                        message: why.join(" "),
                        on_yes: OnYes::Quit,
                    });
                }
                Vec::new()
            }
            Action::Help => {
                self.overlay = Overlay::Help { scroll: 0 };
                Vec::new()
            }
            Action::NextPane => self.show(self.pane.cycle(1)),
            Action::PrevPane => self.show(self.pane.cycle(-1)),
            Action::ShowPane(p) => self.show(p),
            Action::OpenDetail => {
                self.focus = Focus::Detail;
                self.detail_scroll = 0;
                Vec::new()
            }
            Action::Back => {
                if self.import.as_ref().is_some_and(|i| i.result.is_some()) {
                    self.import = None;
                    Vec::new()
                } else if self.focus == Focus::Detail {
                    self.focus = Focus::List;
                    Vec::new()
                } else if self.pane == PaneId::Subscribers && self.search.is_some() {
                    self.search = None;
                    self.reload_pane(PaneId::Subscribers, true)
                } else if self.pane == PaneId::Counterparty && self.lookup_search.is_some() {
                    self.lookup_search = None;
                    self.reload_pane(PaneId::Counterparty, true)
                } else {
                    Vec::new()
                }
            }
            Action::Search if self.pane == PaneId::Counterparty => {
                self.prompt = Some(Prompt::new(
                    PromptKind::CheckSearch,
                    self.lookup_search.clone().unwrap_or_default(),
                ));
                self.focus = Focus::List;
                Vec::new()
            }
            Action::CheckAccount if self.pane == PaneId::Counterparty => {
                if let Some(n) = &self.checking {
                    self.notify(format!("still checking {n}; wait for it to finish"), false);
                    return Vec::new();
                }
                let mut prompt = Prompt::new(PromptKind::CheckNumber, String::new());
                prompt
                    .field
                    .set_placeholder_text("BIN, IIN, INN, OGRN, IBAN or BIC, as pasted");
                self.prompt = Some(prompt);
                self.focus = Focus::List;
                Vec::new()
            }
            Action::Export if self.pane == PaneId::Subscribers => {
                let slug: String = self
                    .selected_list()
                    .map_or("everyone", |l| l.name.as_str())
                    .chars()
                    .map(|c| if c.is_alphanumeric() { c } else { '-' })
                    .collect();
                self.ask_export_path(PromptKind::ExportList, &slug);
                Vec::new()
            }
            Action::Export => {
                if self.pane != PaneId::Counterparty {
                    self.notify(
                        "E exports the shown list from the Subscribers pane (2) and the history of checks from the Counterparty pane (5)",
                        false,
                    );
                    return Vec::new();
                }
                self.ask_export_path(PromptKind::ExportPath, "checks");
                Vec::new()
            }
            Action::Search => {
                if self.pane != PaneId::Subscribers {
                    self.notify("search works in the Subscribers pane (2, then /)", false);
                    return Vec::new();
                }
                self.prompt = Some(Prompt::new(
                    PromptKind::Search,
                    self.search.clone().unwrap_or_default(),
                ));
                self.focus = Focus::List;
                Vec::new()
            }
            Action::Import => {
                if self.pane != PaneId::Subscribers {
                    self.notify("import works in the Subscribers pane (2, then i)", false);
                } else if self.import.as_ref().is_some_and(|i| i.result.is_none()) {
                    self.notify("an import is running; wait for it to finish", false);
                } else {
                    self.import = None;
                    let offer = self.workspace.sample_import.clone().unwrap_or_default();
                    self.prompt = Some(Prompt::new(PromptKind::ImportPath, offer));
                    self.focus = Focus::List;
                }
                Vec::new()
            }
            Action::CheckAccount => {
                match self.accounts.selected().map(|a| (a.id, a.name.clone())) {
                    Some((id, name)) if self.pane == PaneId::Accounts => {
                        self.notify(format!("checking “{name}”…"), false);
                        return vec![Tagged::any(Request::CheckAccount { id })];
                    }
                    _ => self.notify(
                        "accounts are checked from the Accounts pane (1, then c), numbers from the Counterparty pane (5, then c)",
                        false,
                    ),
                }
                Vec::new()
            }
            Action::AddAccount | Action::EditAccount if self.pane != PaneId::Accounts => {
                self.notify(
                    "accounts are added (a) and changed (e) in the Accounts pane (1)",
                    false,
                );
                Vec::new()
            }
            Action::AddAccount => {
                self.form = Some(AccountForm::add());
                Vec::new()
            }
            Action::ActivateLicence | Action::SyncLicence | Action::DeactivateLicence
                if self.pane != PaneId::License =>
            {
                self.notify(
                    "the licence is activated (A), synced (S) and deactivated (X) in the License pane (4)",
                    false,
                );
                Vec::new()
            }
            Action::ActivateLicence => {
                let mut prompt = Prompt::new(PromptKind::LicenceKey, String::new());
                prompt.field.set_mask_char('•');
                prompt
                    .field
                    .set_placeholder_text("paste the key from the e-mail or the personal cabinet");
                self.prompt = Some(prompt);
                Vec::new()
            }
            Action::SyncLicence => {
                self.overlay = Overlay::Confirm(Confirm {
                    title: "Sync the licence?".into(),
                    message: "Ask the licence server for a fresh lease now?".into(),
                    on_yes: OnYes::Licence(crate::tui::worker::LicenceStep::Sync),
                });
                Vec::new()
            }
            Action::DeactivateLicence => {
                self.overlay = Overlay::Confirm(Confirm {
                    title: "Deactivate this machine?".into(),
                    message: "Its seat on the licence goes free for another machine, and \
                              sending through real accounts stops here. Deactivate?"
                        .into(),
                    on_yes: OnYes::Licence(crate::tui::worker::LicenceStep::Deactivate),
                });
                Vec::new()
            }
            Action::NewCampaign if self.pane != PaneId::Campaigns => {
                self.notify(
                    "campaigns are composed (n) in the Campaigns pane (3)",
                    false,
                );
                Vec::new()
            }
            Action::NewCampaign => {
                let lists = self
                    .lists
                    .iter()
                    .map(|l| campaign_form::ListChoice {
                        id: l.id,
                        name: l.name.clone(),
                        members: l.members,
                    })
                    .collect();
                self.campaign_form = Some(CampaignForm::new(lists, None));
                let mut out = vec![Tagged::any(Request::FormAccounts)];
                out.extend(self.campaign_form_wants());
                out
            }
            Action::EditAccount => {
                match self.accounts.selected() {
                    Some(a) => self.form = Some(AccountForm::edit(a)),
                    None => self.notify("no account to change; add one with a", false),
                }
                Vec::new()
            }
            Action::PauseResume if self.pane == PaneId::Campaigns => {
                self.campaign_question(Action::PauseResume)
            }
            Action::StartCampaign | Action::CancelCampaign | Action::RequeueUnknown => {
                if self.pane == PaneId::Campaigns {
                    return self.campaign_question(action);
                } else {
                    self.notify(
                        "campaigns are started and stopped in the Campaigns pane (3)",
                        false,
                    );
                }
                Vec::new()
            }
            Action::PauseResume => {
                let selected = self
                    .accounts
                    .selected()
                    .map(|a| (a.id, a.name.clone(), a.status));
                match selected {
                    Some((id, _, AccountStatus::Active)) if self.pane == PaneId::Accounts => {
                        self.prompt = Some(Prompt::new(PromptKind::PauseReason(id), String::new()));
                    }
                    Some((id, name, AccountStatus::Paused)) if self.pane == PaneId::Accounts => {
                        self.overlay = Overlay::Confirm(Confirm {
                            title: "Resume account?".into(),
                            message: format!("Let “{name}” send again?"),
                            on_yes: OnYes::Resume(id),
                        });
                    }
                    _ => self.notify(
                        "accounts are paused from the Accounts pane (1, then p)",
                        false,
                    ),
                }
                Vec::new()
            }
            Action::OptOut => {
                let selected = self.subscribers.selected().map(|s| {
                    let have = s.channel_list();
                    let suppressed = s.suppressed_list();
                    (
                        s.id,
                        have.iter().all(|c| suppressed.contains(c)),
                        have.is_empty(),
                    )
                });
                match selected {
                    _ if self.pane != PaneId::Subscribers => self.notify(
                        "subscribers are opted out in the Subscribers pane (2, pick one, o)",
                        false,
                    ),
                    None => self.notify("no subscriber selected", false),
                    Some((_, _, true)) => {
                        self.notify("this subscriber has no address to suppress", false)
                    }
                    Some((id, lift, false)) => {
                        self.prompt = Some(Prompt::new(
                            PromptKind::SuppressReason { id, lift },
                            String::new(),
                        ));
                        // The field sits under the list; a full-screen detail would hide it.
                        self.focus = Focus::List;
                    }
                }
                Vec::new()
            }
            Action::TimeZone => {
                match self.subscribers.selected() {
                    _ if self.pane != PaneId::Subscribers => self.notify(
                        "time zones are set in the Subscribers pane (2, pick one, z)",
                        false,
                    ),
                    None => self.notify("no subscriber selected", false),
                    Some(s) => {
                        self.prompt = Some(Prompt::new(
                            PromptKind::TimeZone(s.id),
                            s.time_zone.clone().unwrap_or_default(),
                        ));
                        // The field sits under the list; a full-screen detail would hide it.
                        self.focus = Focus::List;
                    }
                }
                Vec::new()
            }
            Action::Consent => {
                let selected = self.subscribers.selected().map(|s| s.id);
                let detail = match (&self.detail, selected) {
                    (Some((PaneId::Subscribers, id, Detail::Subscriber(d))), Some(s))
                        if *id == s.0 =>
                    {
                        Some(d)
                    }
                    _ => None,
                };
                match (selected, detail) {
                    _ if self.pane != PaneId::Subscribers => self.notify(
                        "consents are recorded in the Subscribers pane (2, pick one, then the key again)",
                        false,
                    ),
                    (None, _) => self.notify("no subscriber selected", false),
                    (Some(_), None) => {
                        self.notify("their detail is still loading; try again in a moment", false)
                    }
                    (Some(_), Some(d)) => match ConsentForm::new(d) {
                        Some(form) => self.consent_form = Some(form),
                        None => self.notify(
                            "this subscriber has no address, so there is nothing to consent to",
                            false,
                        ),
                    },
                }
                Vec::new()
            }
            Action::ListTimeZone => {
                match self.selected_list() {
                    _ if self.pane != PaneId::Subscribers => self.notify(
                        "a list's time zone is set in the Subscribers pane (2, ] to pick it, Z)",
                        false,
                    ),
                    None => self.notify(
                        "pick a list with ] first; Everyone has no time zone of its own",
                        false,
                    ),
                    Some(l) => {
                        self.prompt = Some(Prompt::new(
                            PromptKind::ListTimeZone(l.id),
                            l.default_time_zone.clone().unwrap_or_default(),
                        ));
                        self.focus = Focus::List;
                    }
                }
                Vec::new()
            }
            Action::NewSubscriber => {
                match self.selected_list() {
                    _ if self.pane != PaneId::Subscribers => self.notify(
                        "subscribers are entered in the Subscribers pane (2, ] to pick the list, N)",
                        false,
                    ),
                    None => self.notify(
                        "pick the list they join with ] first (everyone is not a list)",
                        false,
                    ),
                    Some(l) => {
                        self.subscriber_form = Some(SubscriberForm::new(
                            l.id,
                            l.name.clone(),
                            self.workspace.default_region,
                        ))
                    }
                }
                Vec::new()
            }
            Action::AddToList => {
                match self.subscribers.selected() {
                    _ if self.pane != PaneId::Subscribers => self.notify(
                        "subscribers are added to lists in the Subscribers pane (2, pick one, +)",
                        false,
                    ),
                    None => self.notify("no subscriber selected", false),
                    Some(s) => {
                        self.prompt = Some(Prompt::new(PromptKind::AddToList(s.id), String::new()));
                        self.focus = Focus::List;
                    }
                }
                Vec::new()
            }
            Action::RemoveFromList => {
                match (self.selected_list(), self.subscribers.selected()) {
                    _ if self.pane != PaneId::Subscribers => self.notify(
                        "subscribers are taken off lists in the Subscribers pane (2, ] to pick the list, pick one, -)",
                        false,
                    ),
                    (None, _) => self.notify(
                        "pick a list with ] first; everyone is not a list (o stops messaging someone)",
                        false,
                    ),
                    (_, None) => self.notify("no subscriber selected", false),
                    (Some(l), Some(s)) => {
                        let name = crate::domain::one_line(&s.name).into_owned();
                        self.overlay = Overlay::Confirm(Confirm {
                            title: "Take off the list?".into(),
                            message: format!(
                                "Take {name} off list “{}”? They stay in the workspace and their other lists; their queued messages in campaigns on “{}” are skipped.",
                                l.name, l.name
                            ),
                            on_yes: OnYes::RemoveFromList(l.id, s.id, name),
                        })
                    }
                }
                Vec::new()
            }
            Action::DeleteList => {
                match self.selected_list() {
                    _ if self.pane != PaneId::Subscribers => self.notify(
                        "lists are deleted from the Subscribers pane (2, ] to pick one, D)",
                        false,
                    ),
                    None => self.notify(
                        "pick a list with ] first; Everyone cannot be deleted",
                        false,
                    ),
                    Some(l) => {
                        self.overlay = Overlay::Confirm(Confirm {
                            title: "Delete list?".into(),
                            message: format!(
                                "Delete list “{}” and its {} memberships? The subscribers stay.",
                                l.name,
                                group(l.members)
                            ),
                            on_yes: OnYes::DeleteList(l.id, l.name.clone()),
                        })
                    }
                }
                Vec::new()
            }
            Action::PrevList | Action::NextList if self.pane == PaneId::Subscribers => {
                let n = self.lists.len() + 1;
                self.list_index = if action == Action::NextList {
                    (self.list_index + 1) % n
                } else {
                    (self.list_index + n - 1) % n
                };
                let mut out = self.reload_pane(PaneId::Subscribers, true);
                out.push(Tagged::any(Request::Sendable {
                    list: self.selected_list().map(|l| l.id),
                }));
                out
            }
            Action::Refresh => {
                // Lists made or changed elsewhere (`clever lists …`) come in too.
                let mut out = vec![Tagged::any(Request::Overview), Tagged::any(Request::Lists)];
                out.extend(self.reload_pane(self.pane, false));
                out
            }
            Action::Up
            | Action::Down
            | Action::PageUp
            | Action::PageDown
            | Action::Top
            | Action::Bottom => self.navigate(action),
            _ => Vec::new(),
        }
    }

    /// A time zone typed in `kind`'s prompt, by its name (`Some(None)`: emptied, forget it);
    /// `None` when it is no zone: that is said, and the prompt comes back with the text, to
    /// be put right.
    fn typed_zone(&mut self, kind: PromptKind, text: String) -> Option<Option<String>> {
        if text.is_empty() {
            return Some(None);
        }
        match crate::domain::quiet::parse_zone(&text) {
            Ok(tz) => Some(Some(tz.name().to_string())),
            Err(e) => {
                self.notify(e, true);
                self.prompt = Some(Prompt::new(kind, text));
                None
            }
        }
    }

    /// Opens the field for the file an export writes, offering a new file in the home folder
    /// named after what it holds and the minute.
    fn ask_export_path(&mut self, kind: PromptKind, what: &str) {
        let name = format!(
            "~/clever-{what}-{}.csv",
            chrono::Local::now().format("%Y%m%d-%H%M")
        );
        self.prompt = Some(Prompt::new(kind, name));
        self.focus = Focus::List;
    }
}
