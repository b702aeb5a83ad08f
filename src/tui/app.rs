//! The console's state and the one place it changes: [`App::update`].
//!
//! Keys (through the keymap), terminal resizes, signals and worker replies all arrive as a
//! [`Msg`]; `update` changes the state and returns the requests for the worker. Nothing
//! here does I/O, so the whole console can be driven and checked in tests.

use super::action::{Action, PaneId};
use super::campaign_form::{self, CampaignForm};
use super::consent_form::ConsentForm;
use super::form::AccountForm;
use super::keymap::{Keymap, Mode};
use super::theme::Theme;
use super::window::{Fetch, ListWindow, RowId};
use super::worker::{Detail, Reply, Request, Rows, Tagged, Workspace};
use crate::domain::{
    AccountId, AccountStatus, CampaignId, CampaignStatus, Channel, ListId, SubscriberId,
};
use crate::engine::campaigns::Step;
use crate::import::{ImportSummary, Progress};
use crate::store::accounts::AccountRow;
use crate::store::campaigns::CampaignRow;
use crate::store::lists::ListRow;
use crate::store::lookups::LookupRow;
use crate::store::overview::Overview;
use crate::store::subscribers::SubscriberRow;
use ratatui::crossterm::event::KeyEvent;
use ratatui_textarea::TextArea;

/// Below this width the detail view is not shown beside the list; it opens full screen.
pub const WIDE: u16 = 100;
/// The smallest terminal the console draws in.
pub const MIN_SIZE: (u16, u16) = (40, 12);

/// Something that happened.
#[derive(Debug, Clone)]
pub enum Msg {
    Key(KeyEvent),
    Resize(u16, u16),
    Reply(Tagged<Reply>),
    /// SIGTERM, SIGHUP or SIGINT: leave now, cleanly.
    Signal(&'static str),
    /// A second passed while campaigns run: refresh their progress.
    Tick,
    /// The engine of this process published its state (at most twice a second, only when
    /// it changed).
    Engine(crate::engine::sender::EngineState),
    /// The licence sync published what it knows.
    Licence(Box<crate::license::sync::Licence>),
}

/// Which part of a pane has the keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    List,
    Detail,
}

/// A question waiting for yes or no.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confirm {
    pub title: String,
    pub message: String,
    pub on_yes: OnYes,
}

/// What a confirmed question does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OnYes {
    Quit,
    DeleteList(ListId, String),
    Resume(AccountId),
    StartCampaign(CampaignId),
    StepCampaign(CampaignId, Step),
    RequeueUnknown(CampaignId),
    Licence(crate::tui::worker::LicenceStep),
}

/// What covers the panes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Overlay {
    None,
    Help { scroll: usize },
    Confirm(Confirm),
}

/// Subscribers that may be messaged, per channel.
pub type SendableCounts = Vec<(Channel, i64)>;

/// What a text field is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PromptKind {
    Search,
    ImportPath,
    /// Why the account is paused.
    PauseReason(AccountId),
    /// Why every address of a subscriber is suppressed or, with `lift`, freed.
    SuppressReason {
        id: SubscriberId,
        lift: bool,
    },
    /// A licence key to activate with (masked).
    LicenceKey,
    /// A counterparty's number to check (validated as it is typed).
    CheckNumber,
    /// A search over the history of checks.
    CheckSearch,
    /// Where to write the history of checks as CSV.
    ExportPath,
}

/// A one-line text field.
pub struct Prompt {
    pub kind: PromptKind,
    pub field: TextArea<'static>,
    /// After Tab in a file prompt: the entries the path could go on to.
    pub choices: Vec<String>,
}

impl Prompt {
    fn new(kind: PromptKind, text: String) -> Prompt {
        Prompt {
            kind,
            field: Prompt::field(text),
            choices: Vec::new(),
        }
    }

    /// A one-line field holding `text`, the cursor at its end.
    fn field(text: String) -> TextArea<'static> {
        let mut field = TextArea::new(vec![text]);
        field.move_cursor(ratatui_textarea::CursorMove::End);
        field.set_cursor_line_style(ratatui::style::Style::default());
        field
    }

    /// Whether the field takes a file path (Tab completes it).
    pub fn takes_a_path(&self) -> bool {
        matches!(self.kind, PromptKind::ImportPath | PromptKind::ExportPath)
    }

    /// Takes what a worker's Tab completion made of the path, if the path is still as it
    /// was when Tab was pressed.
    fn completed(&mut self, typed: &str, done: crate::tui::complete::Completion) {
        if self.takes_a_path() && self.text() == typed {
            self.field = Prompt::field(done.text);
            self.choices = done.choices;
        }
    }

    /// The text typed, trimmed.
    pub fn text(&self) -> String {
        self.field.lines().join(" ").trim().to_string()
    }
}

/// An import started from the console.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportView {
    pub path: String,
    pub list: String,
    pub progress: Progress,
    pub result: Option<Result<ImportSummary, String>>,
}

/// A line for the operator, shown in the status bar until the next key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub text: String,
    pub error: bool,
}

/// The state of the console.
pub struct App {
    pub keymap: Keymap,
    pub theme: Theme,
    pub workspace: Workspace,
    pub pane: PaneId,
    pub focus: Focus,
    pub accounts: ListWindow<AccountRow>,
    pub subscribers: ListWindow<SubscriberRow>,
    pub campaigns: ListWindow<CampaignRow>,
    pub lookups: ListWindow<LookupRow>,
    pub overview: Option<Overview>,
    pub license_cursor: usize,
    /// The detail of the selected row: (pane, id, detail).
    pub detail: Option<(PaneId, i64, Detail)>,
    detail_generation: u64,
    /// The detail shown is kept on screen but fetched again with the next page (live
    /// progress), without losing its scroll position.
    detail_stale: bool,
    pub detail_scroll: u16,
    /// How far the detail can scroll before its last line leaves the bottom, as last drawn.
    pub detail_scroll_max: std::cell::Cell<u16>,
    /// The width inside the detail's border, set just before its lines are made, for the
    /// few lines that fit themselves to it (the send-rate sparkline).
    pub detail_width: std::cell::Cell<u16>,
    /// How far the help overlay scrolls, as last drawn (it depends on the terminal's size).
    pub help_scroll_max: std::cell::Cell<usize>,
    /// A one-line text field while it is being edited.
    pub prompt: Option<Prompt>,
    /// The account form, while it is open.
    pub form: Option<AccountForm>,
    /// The campaign form, while it is open.
    pub campaign_form: Option<CampaignForm>,
    /// The consent form, while it is open.
    pub consent_form: Option<ConsentForm>,
    /// Live progress of this process's engine.
    pub live: super::live::LiveProgress,
    /// The licence as the sync last published it (`None` without a sync: tests).
    pub licence: Option<crate::license::sync::Licence>,
    /// Subscriber lists, for the Subscribers pane.
    pub lists: Vec<ListRow>,
    /// Which list the Subscribers pane shows: 0 is everyone, `i` is `lists[i - 1]`.
    pub list_index: usize,
    /// Sendable subscribers per channel in the shown list.
    pub sendable: Option<(Option<ListId>, SendableCounts)>,
    /// The import running or just finished.
    pub import: Option<ImportView>,
    /// The search in force on the Subscribers list.
    pub search: Option<String>,
    /// The search in force on the history of counterparty checks.
    pub lookup_search: Option<String>,
    /// The number being checked against the registries.
    pub checking: Option<String>,
    pub overlay: Overlay,
    pub notices: Vec<Notice>,
    pub size: (u16, u16),
    pub quit: bool,
    /// Set by `update` when the screen must be drawn again.
    pub dirty: bool,
}

impl RowId for AccountRow {
    fn row_id(&self) -> i64 {
        self.id.0
    }
}
impl RowId for SubscriberRow {
    fn row_id(&self) -> i64 {
        self.id.0
    }
}
impl RowId for CampaignRow {
    fn row_id(&self) -> i64 {
        self.id.0
    }
}
impl RowId for LookupRow {
    fn row_id(&self) -> i64 {
        self.id
    }
}

/// Rows of the License pane: (label, value, explanation).
pub type FactRow = (&'static str, String, String);

/// The number of rows in the License pane.
pub const LICENSE_ROWS: usize = 10;

impl App {
    /// A console on a workspace, nothing loaded yet.
    pub fn new(keymap: Keymap, theme: Theme, workspace: Workspace, size: (u16, u16)) -> App {
        App {
            keymap,
            theme,
            workspace,
            pane: PaneId::Accounts,
            focus: Focus::List,
            accounts: ListWindow::default(),
            subscribers: ListWindow::default(),
            campaigns: ListWindow::default(),
            lookups: ListWindow::default(),
            overview: None,
            license_cursor: 0,
            detail: None,
            detail_generation: 0,
            detail_stale: false,
            detail_scroll: 0,
            detail_scroll_max: std::cell::Cell::new(u16::MAX),
            detail_width: std::cell::Cell::new(u16::MAX),
            help_scroll_max: std::cell::Cell::new(usize::MAX),
            prompt: None,
            form: None,
            campaign_form: None,
            consent_form: None,
            live: Default::default(),
            licence: None,
            lists: Vec::new(),
            list_index: 0,
            sendable: None,
            import: None,
            search: None,
            lookup_search: None,
            checking: None,
            overlay: Overlay::None,
            notices: Vec::new(),
            size,
            quit: false,
            dirty: true,
        }
    }

    /// The requests that load every pane.
    pub fn start(&mut self) -> Vec<Tagged<Request>> {
        let mut out = vec![
            Tagged {
                generation: 0,
                body: Request::Overview,
            },
            Tagged {
                generation: 0,
                body: Request::Lists,
            },
            Tagged {
                generation: 0,
                body: Request::Sendable { list: None },
            },
        ];
        for pane in [
            PaneId::Accounts,
            PaneId::Subscribers,
            PaneId::Campaigns,
            PaneId::Counterparty,
        ] {
            let fetch = self.reset_pane(pane);
            out.extend(fetch.map(|f| self.page_request(pane, f)));
        }
        out
    }

    /// Adds a notice for the operator.
    pub fn notify(&mut self, text: impl Into<String>, error: bool) {
        self.notices.push(Notice {
            text: text.into(),
            error,
        });
        self.dirty = true;
    }

    /// The mode keys are read in now.
    pub fn mode(&self) -> Mode {
        let form =
            self.form.is_some() || self.campaign_form.is_some() || self.consent_form.is_some();
        match (&self.overlay, form, &self.prompt) {
            (Overlay::Confirm(_), ..) => Mode::Confirm,
            (Overlay::Help { .. }, ..) => Mode::Help,
            (Overlay::None, true, _) => Mode::Form,
            (Overlay::None, false, Some(_)) => Mode::Search,
            (Overlay::None, false, None) => Mode::Normal,
        }
    }

    /// Whether campaigns are running, so progress is refreshed every second.
    pub fn live(&self) -> bool {
        self.overview
            .as_ref()
            .is_some_and(|o| o.campaigns_running > 0)
    }

    /// Whether the detail view sits beside the list.
    pub fn wide(&self) -> bool {
        self.size.0 >= WIDE
    }

    /// Takes one message; returns the requests it calls for.
    pub fn update(&mut self, msg: Msg) -> Vec<Tagged<Request>> {
        match msg {
            Msg::Resize(w, h) => {
                self.size = (w, h);
                self.dirty = true;
                Vec::new()
            }
            Msg::Signal(name) => {
                tracing::info!(signal = name, "leaving on signal");
                self.quit = true;
                Vec::new()
            }
            Msg::Reply(reply) => self.on_reply(reply),
            Msg::Tick => {
                let mut out = vec![Tagged {
                    generation: 0,
                    body: Request::Overview,
                }];
                if matches!(self.pane, PaneId::Campaigns | PaneId::Accounts) {
                    // The selected campaign's detail is fetched again with the page.
                    if self.pane == PaneId::Campaigns {
                        self.detail_stale = true;
                    }
                    out.extend(self.reload_pane(self.pane, false));
                }
                out
            }
            Msg::Key(key) => self.on_key(key),
            Msg::Licence(licence) => {
                self.licence = Some(*licence);
                self.dirty = true;
                Vec::new()
            }
            Msg::Engine(state) => {
                let role = (self.live.active, self.live.other.clone());
                self.live.record(std::time::Instant::now(), &state);
                self.dirty = true;
                // This engine took over or stood down: the status bar's figures change.
                if role != (self.live.active, self.live.other.clone()) {
                    vec![Tagged {
                        generation: 0,
                        body: Request::Overview,
                    }]
                } else {
                    Vec::new()
                }
            }
        }
    }

    fn on_key(&mut self, key: KeyEvent) -> Vec<Tagged<Request>> {
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
                    return vec![Tagged {
                        generation: 0,
                        body: Request::CompletePath {
                            typed: input.text(),
                        },
                    }];
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

    fn act(&mut self, action: Action) -> Vec<Tagged<Request>> {
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
                            return vec![Tagged {
                                generation: 0,
                                body: Request::DeleteList { id, name },
                            }];
                        }
                        OnYes::Resume(id) => {
                            return vec![Tagged {
                                generation: 0,
                                body: Request::SetAccountStatus { id, reason: None },
                            }];
                        }
                        OnYes::StartCampaign(id) => {
                            return vec![Tagged {
                                generation: 0,
                                body: Request::StartCampaign { id },
                            }];
                        }
                        OnYes::StepCampaign(id, step) => {
                            return vec![Tagged {
                                generation: 0,
                                body: Request::StepCampaign { id, step },
                            }];
                        }
                        OnYes::RequeueUnknown(id) => {
                            return vec![Tagged {
                                generation: 0,
                                body: Request::RequeueUnknown { id },
                            }];
                        }
                        OnYes::Licence(step) => {
                            self.notify("asking the licence server…", false);
                            return vec![Tagged {
                                generation: 0,
                                body: Request::Licence(step),
                            }];
                        }
                    }
                }
            }
            (Mode::Confirm, Action::Cancel) => self.overlay = Overlay::None,
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
                        return vec![Tagged {
                            generation: 0,
                            body: Request::SetAccountStatus {
                                id,
                                reason: Some(text),
                            },
                        }];
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
                        return vec![Tagged {
                            generation: 0,
                            body: Request::Suppress {
                                id,
                                lift,
                                reason: text,
                            },
                        }];
                    }
                    PromptKind::LicenceKey if text.is_empty() => {
                        self.notify("no key typed; nothing changed", false);
                    }
                    PromptKind::LicenceKey => {
                        self.notify("activating with the licence server…", false);
                        return vec![Tagged {
                            generation: 0,
                            body: Request::Licence(crate::tui::worker::LicenceStep::Activate(
                                prompt.field.lines().join(""),
                            )),
                        }];
                    }
                    PromptKind::CheckNumber if text.is_empty() => {}
                    PromptKind::CheckNumber => {
                        self.checking = Some(text.clone());
                        return vec![Tagged {
                            generation: 0,
                            body: Request::CheckNumber { input: text },
                        }];
                    }
                    PromptKind::CheckSearch => {
                        self.lookup_search = (!text.is_empty()).then_some(text);
                        return self.reload_pane(PaneId::Counterparty, true);
                    }
                    PromptKind::ExportPath if text.is_empty() => {}
                    PromptKind::ExportPath => {
                        return vec![Tagged {
                            generation: 0,
                            body: Request::ExportChecks {
                                path: expand_home(&text),
                                search: self.lookup_search.clone(),
                            },
                        }];
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
                        return vec![Tagged {
                            generation: 0,
                            body: Request::Import {
                                path: expand_home(&text),
                                list,
                            },
                        }];
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

    fn act_normal(&mut self, action: Action) -> Vec<Tagged<Request>> {
        match action {
            Action::Quit => {
                let running = self.overview.as_ref().map_or(0, |o| o.campaigns_running);
                if running > 0 {
                    self.overlay = Overlay::Confirm(Confirm {
                        title: "Quit?".into(),
                        message: format!(
                            "{running} campaign{} marked running. Sending goes on only while \
                             an engine runs (this console or `clever run`). Quit anyway?",
                            if running == 1 { " is" } else { "s are" }
                        ),
                        on_yes: OnYes::Quit,
                    });
                } else {
                    self.quit = true;
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
            Action::ExportChecks => {
                if self.pane != PaneId::Counterparty {
                    self.notify(
                        "the history of checks is exported from the Counterparty pane (5, then E)",
                        false,
                    );
                    return Vec::new();
                }
                let name = format!(
                    "~/clever-checks-{}.csv",
                    chrono::Local::now().format("%Y%m%d-%H%M")
                );
                self.prompt = Some(Prompt::new(PromptKind::ExportPath, name));
                self.focus = Focus::List;
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
                        return vec![Tagged {
                            generation: 0,
                            body: Request::CheckAccount { id },
                        }];
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
                let mut out = vec![Tagged {
                    generation: 0,
                    body: Request::FormAccounts,
                }];
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
                out.push(Tagged {
                    generation: 0,
                    body: Request::Sendable {
                        list: self.selected_list().map(|l| l.id),
                    },
                });
                out
            }
            Action::Refresh => {
                let mut out = vec![Tagged {
                    generation: 0,
                    body: Request::Overview,
                }];
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

    /// Asks before a campaign step, or says why it does not apply to the selected one. A
    /// start is asked once the worker has counted whom the draft reaches.
    fn campaign_question(&mut self, action: Action) -> Vec<Tagged<Request>> {
        use CampaignStatus as S;
        let Some(c) = self.campaigns.selected() else {
            self.notify("no campaign selected", false);
            return Vec::new();
        };
        let (id, name, status) = (c.id, c.name.clone(), c.status);
        let unknown = c.counts.unknown;
        let ask = |title: &str, message: String, on_yes: OnYes| {
            Overlay::Confirm(Confirm {
                title: title.into(),
                message,
                on_yes,
            })
        };
        self.overlay = match (action, status) {
            (Action::StartCampaign, S::Draft) => {
                self.notify(format!("counting whom “{name}” reaches now…"), false);
                return vec![Tagged {
                    generation: 0,
                    body: Request::Reach { id },
                }];
            }
            (Action::PauseResume, S::Running | S::Scheduled) => ask(
                "Pause campaign?",
                format!(
                    "Pause “{name}”? Messages in flight finish; nothing else is sent until you resume."
                ),
                OnYes::StepCampaign(id, Step::Pause),
            ),
            (Action::PauseResume, S::Paused) => ask(
                "Resume campaign?",
                format!(
                    "Resume “{name}”? It continues from where it stopped; nobody gets it twice."
                ),
                OnYes::StepCampaign(id, Step::Resume),
            ),
            (Action::CancelCampaign, S::Draft | S::Scheduled | S::Running | S::Paused) => ask(
                "Cancel campaign?",
                format!(
                    "Cancel “{name}”? Every message not yet sent is skipped. This cannot be undone."
                ),
                OnYes::StepCampaign(id, Step::Cancel),
            ),
            (Action::RequeueUnknown, _) if unknown > 0 => ask(
                "Send unknown again?",
                format!(
                    "{unknown} {} of “{name}” got no answer and may have arrived. Send them \
                     again? Some people may get the message twice.",
                    crate::domain::noun(unknown, "message", "messages")
                ),
                OnYes::RequeueUnknown(id),
            ),
            (Action::RequeueUnknown, _) => {
                self.notify(format!("“{name}” has no messages of unknown fate"), false);
                return Vec::new();
            }
            (_, status) => {
                self.notify(format!("“{name}” is {status}: that does not apply"), false);
                return Vec::new();
            }
        };
        Vec::new()
    }

    /// The question before a start, with whom the draft reaches now.
    fn start_question(&mut self, id: CampaignId, reach: crate::engine::campaigns::Reach) {
        let name = self
            .campaigns
            .rows
            .iter()
            .find(|c| c.id == id)
            .map_or_else(|| format!("campaign {id}"), |c| c.name.clone());
        if !reach.policy.is_empty() {
            self.notify(
                format!(
                    "“{name}” cannot start: its message breaks the content policy: {}",
                    reach.policy.join("; ")
                ),
                true,
            );
            return;
        }
        // The operator moved on while it was counted: no question out of the blue.
        if self.pane != PaneId::Campaigns
            || self.overlay != Overlay::None
            || self.campaign_form.is_some()
            || self.prompt.is_some()
        {
            self.notify(
                format!(
                    "“{name}” reaches {} now; s in Campaigns starts it (asks first)",
                    group(reach.reaches)
                ),
                false,
            );
            return;
        }
        let left: Vec<String> = reach
            .left_out
            .iter()
            .map(|(reason, n)| format!("{} {reason}", group(*n)))
            .collect();
        let left = if left.is_empty() {
            "nobody in the list is left out".to_string()
        } else {
            format!("left out: {}", left.join(", "))
        };
        let (title, message) = if reach.reaches == 0 {
            (
                "Start campaign? It reaches nobody",
                format!(
                    "“{name}” reaches nobody now ({left}). Started, it completes at once with \
                     nothing sent. Start it anyway?"
                ),
            )
        } else {
            (
                "Start campaign?",
                format!(
                    "Start “{name}”? It reaches {} {} now; {left}. They are queued at \
                     once and sent at the account's pace.",
                    group(reach.reaches),
                    crate::domain::noun(reach.reaches, "subscriber", "subscribers")
                ),
            )
        };
        self.overlay = Overlay::Confirm(Confirm {
            title: title.into(),
            message,
            on_yes: OnYes::StartCampaign(id),
        });
    }

    /// A key in the campaign form. In the message, Enter starts a new line and Up/Down move
    /// between its lines (leaving the field from its first or last line); in a picker, ← →
    /// choose.
    fn on_campaign_form_key(
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

    fn on_consent_form_key(
        &mut self,
        key: KeyEvent,
        action: Option<Action>,
    ) -> Vec<Tagged<Request>> {
        let Some(form) = &mut self.consent_form else {
            return Vec::new();
        };
        self.dirty = true;
        if form.saving {
            // Only leaving is taken while the answer is awaited.
            if action == Some(Action::ForceQuit) {
                return self.act(Action::ForceQuit);
            }
            return Vec::new();
        }
        match action {
            Some(Action::FormCancel) => self.consent_form = None,
            Some(Action::ForceQuit) => return self.act(Action::ForceQuit),
            Some(Action::FormSave) => return self.save_consent_form(),
            Some(Action::FormNext) if form.on_last() => return self.save_consent_form(),
            Some(Action::FormNext) => form.move_focus(1),
            Some(Action::FormPrev) => form.move_focus(-1),
            _ => form.on_key(key),
        }
        Vec::new()
    }

    fn save_consent_form(&mut self) -> Vec<Tagged<Request>> {
        let Some(form) = &mut self.consent_form else {
            return Vec::new();
        };
        let Some(draft) = form.check() else {
            return Vec::new();
        };
        form.saving = true;
        vec![Tagged {
            generation: 0,
            body: Request::RecordConsent(draft),
        }]
    }

    /// The samples the campaign form still needs.
    fn campaign_form_wants(&self) -> Vec<Tagged<Request>> {
        self.campaign_form
            .as_ref()
            .and_then(CampaignForm::wants_samples)
            .map(|list| Tagged {
                generation: 0,
                body: Request::ListSamples { list },
            })
            .into_iter()
            .collect()
    }

    /// Checks the campaign form and, when it passes, sends it to be created.
    fn save_campaign_form(&mut self) -> Vec<Tagged<Request>> {
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
        vec![Tagged {
            generation: 0,
            body: Request::CreateCampaign { spec },
        }]
    }

    /// Checks the form and, when it passes, sends it to be saved.
    fn save_form(&mut self) -> Vec<Tagged<Request>> {
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
        vec![Tagged {
            generation: 0,
            body: Request::SaveAccount {
                id: form.editing,
                channel: form.channel,
                draft,
            },
        }]
    }

    fn show(&mut self, pane: PaneId) -> Vec<Tagged<Request>> {
        if self.pane != pane {
            self.pane = pane;
            self.focus = Focus::List;
            self.prompt = None;
        }
        self.request_detail()
    }

    fn page_height(&self) -> isize {
        (self.size.1 as isize - 6).max(1)
    }

    fn navigate(&mut self, action: Action) -> Vec<Tagged<Request>> {
        if self.focus == Focus::Detail {
            let step: i32 = match action {
                Action::Up => -1,
                Action::Down => 1,
                Action::PageUp => -(self.page_height() as i32),
                Action::PageDown => self.page_height() as i32,
                Action::Top => -(u16::MAX as i32),
                _ => {
                    // The end stays the end while the detail grows (live counts, rows
                    // still loading): drawing clamps it to the last line.
                    self.detail_scroll = u16::MAX;
                    return Vec::new();
                }
            };
            let max = i32::from(self.detail_scroll_max.get());
            let from = i32::from(self.detail_scroll).min(max);
            self.detail_scroll = (from + step).clamp(0, max) as u16;
            return Vec::new();
        }
        let page = self.page_height();
        let step = |a: Action| -> isize {
            match a {
                Action::Up => -1,
                Action::Down => 1,
                Action::PageUp => -page,
                _ => page,
            }
        };
        let pane = self.pane;
        let fetch = match pane {
            PaneId::License => {
                self.license_cursor = match action {
                    Action::Top => 0,
                    Action::Bottom => LICENSE_ROWS - 1,
                    a => (self.license_cursor as isize + step(a))
                        .clamp(0, LICENSE_ROWS as isize - 1) as usize,
                };
                None
            }
            _ => self.with_window(pane, |w| match action {
                Action::Top => w.top(),
                Action::Bottom => w.bottom(),
                a => w.move_by(step(a)),
            }),
        };
        let mut out: Vec<Tagged<Request>> = fetch
            .map(|f| self.page_request(pane, f))
            .into_iter()
            .collect();
        out.extend(self.request_detail());
        out
    }

    /// Runs `f` on the window of a list pane.
    fn with_window(
        &mut self,
        pane: PaneId,
        f: impl FnOnce(&mut dyn WindowNav) -> Option<Fetch>,
    ) -> Option<Fetch> {
        match pane {
            PaneId::Accounts => f(&mut self.accounts),
            PaneId::Subscribers => f(&mut self.subscribers),
            PaneId::Campaigns => f(&mut self.campaigns),
            PaneId::Counterparty => f(&mut self.lookups),
            PaneId::License => None,
        }
    }

    /// Loads a pane afresh: from its first row, but the history of checks from its newest.
    fn reset_pane(&mut self, pane: PaneId) -> Option<Fetch> {
        if pane == PaneId::Counterparty {
            return Some(self.lookups.reload_at_end());
        }
        self.with_window(pane, |w| Some(w.reset()))
    }

    fn reload_pane(&mut self, pane: PaneId, from_start: bool) -> Vec<Tagged<Request>> {
        if pane == PaneId::License {
            return vec![Tagged {
                generation: 0,
                body: Request::Overview,
            }];
        }
        let fetch = if from_start {
            self.reset_pane(pane)
        } else {
            self.with_window(pane, |w| Some(w.reload()))
        };
        fetch
            .map(|f| self.page_request(pane, f))
            .into_iter()
            .collect()
    }

    fn page_request(&self, pane: PaneId, f: Fetch) -> Tagged<Request> {
        let generation = match pane {
            PaneId::Accounts => self.accounts.generation,
            PaneId::Subscribers => self.subscribers.generation,
            PaneId::Campaigns => self.campaigns.generation,
            PaneId::Counterparty => self.lookups.generation,
            PaneId::License => 0,
        };
        Tagged {
            generation,
            body: Request::Page {
                pane,
                search: match pane {
                    PaneId::Subscribers => self.search.clone(),
                    PaneId::Counterparty => self.lookup_search.clone(),
                    _ => None,
                },
                list: (pane == PaneId::Subscribers)
                    .then(|| self.selected_list().map(|l| l.id))
                    .flatten(),
                page: f.page,
                fill: f.fill,
                count: f.count,
            },
        }
    }

    /// The list the Subscribers pane shows, `None` for everyone.
    pub fn selected_list(&self) -> Option<&ListRow> {
        self.list_index
            .checked_sub(1)
            .and_then(|i| self.lists.get(i))
    }

    /// The list an import from the console goes into: the shown list, or with everyone
    /// shown (not a list), a list named `Imported`, made if it does not exist.
    pub fn import_target(&self) -> String {
        self.selected_list()
            .map_or_else(|| "Imported".to_string(), |l| l.name.clone())
    }

    /// The id of the selected row of the current pane.
    pub fn selected_id(&self) -> Option<i64> {
        match self.pane {
            PaneId::Accounts => self.accounts.selected().map(RowId::row_id),
            PaneId::Subscribers => self.subscribers.selected().map(RowId::row_id),
            PaneId::Campaigns => self.campaigns.selected().map(RowId::row_id),
            PaneId::Counterparty => self.lookups.selected().map(RowId::row_id),
            PaneId::License => None,
        }
    }

    /// Asks for the detail of the selected row when the pane has one to fetch.
    fn request_detail(&mut self) -> Vec<Tagged<Request>> {
        let pane = self.pane;
        if !matches!(pane, PaneId::Subscribers | PaneId::Campaigns) {
            return Vec::new();
        }
        let Some(id) = self.selected_id() else {
            return Vec::new();
        };
        let same = matches!(&self.detail, Some((p, i, _)) if *p == pane && *i == id);
        if same && !self.detail_stale {
            return Vec::new();
        }
        self.detail_stale = false;
        self.detail_generation += 1;
        if !same {
            self.detail_scroll = 0;
        }
        vec![Tagged {
            generation: self.detail_generation,
            body: Request::Detail {
                pane,
                id,
                live: self.live.active,
            },
        }]
    }

    fn on_reply(&mut self, reply: Tagged<Reply>) -> Vec<Tagged<Request>> {
        let generation = reply.generation;
        match reply.body {
            Reply::Overview(o) => {
                self.overview = Some(o);
                self.dirty = true;
                Vec::new()
            }
            Reply::Lists(lists) => {
                let shown = self.selected_list().map(|l| l.id);
                self.lists = lists;
                self.list_index = shown
                    .and_then(|id| self.lists.iter().position(|l| l.id == id))
                    .map_or(0, |i| i + 1);
                self.dirty = true;
                Vec::new()
            }
            Reply::Sendable { list, counts } => {
                if list == self.selected_list().map(|l| l.id) {
                    self.sendable = Some((list, counts));
                    self.dirty = true;
                }
                Vec::new()
            }
            Reply::ConsentRecorded(Err(e)) => {
                if let Some(form) = &mut self.consent_form {
                    form.saving = false;
                    form.error = Some(e);
                } else {
                    self.notify(e, true);
                }
                self.dirty = true;
                Vec::new()
            }
            Reply::Suppressed(result) | Reply::ConsentRecorded(result) => {
                self.consent_form = None;
                match result {
                    Ok(m) => self.notify(m, false),
                    Err(e) => self.notify(e, true),
                }
                // The row's badges, the detail and the counts of who can be messaged change.
                self.detail_stale = true;
                let mut out = vec![Tagged {
                    generation: 0,
                    body: Request::Sendable {
                        list: self.selected_list().map(|l| l.id),
                    },
                }];
                out.extend(self.reload_pane(PaneId::Subscribers, false));
                out
            }
            Reply::AccountStatusSet(message) => {
                self.notify(message, false);
                let mut out = self.reload_pane(PaneId::Accounts, false);
                out.push(Tagged {
                    generation: 0,
                    body: Request::Overview,
                });
                out
            }
            Reply::Checked(result) => {
                self.checking = None;
                self.notices.clear();
                match result {
                    Ok(summary) => self.notify(summary, false),
                    Err(e) => self.notify(e, true),
                }
                // The new check is the newest row: show it with its result card.
                self.lookup_search = None;
                let fetch = self.lookups.reload_at_end();
                vec![
                    self.page_request(PaneId::Counterparty, fetch),
                    Tagged {
                        generation: 0,
                        body: Request::Overview,
                    },
                ]
            }
            Reply::Exported(result) => {
                match result {
                    Ok(m) => self.notify(m, false),
                    Err(e) => self.notify(e, true),
                }
                Vec::new()
            }
            Reply::LicenceChanged(result) => {
                self.notices.clear();
                match result {
                    Ok(m) => self.notify(m, false),
                    Err(e) => self.notify(e, true),
                }
                vec![Tagged {
                    generation: 0,
                    body: Request::Overview,
                }]
            }
            Reply::Reach { id, reach } => {
                self.notices.clear();
                match reach {
                    Ok(reach) => self.start_question(id, reach),
                    Err(e) => self.notify(e, true),
                }
                Vec::new()
            }
            Reply::CampaignChanged(result) => {
                match result {
                    Ok(m) => self.notify(m, false),
                    Err(e) => self.notify(e, true),
                }
                self.detail_stale = true;
                let mut out = self.reload_pane(PaneId::Campaigns, false);
                out.push(Tagged {
                    generation: 0,
                    body: Request::Overview,
                });
                out
            }
            Reply::FormAccounts(accounts) => {
                if let Some(f) = &mut self.campaign_form {
                    f.set_accounts(accounts);
                    self.dirty = true;
                }
                Vec::new()
            }
            Reply::PathCompleted { typed, completion } => {
                if let Some(p) = &mut self.prompt {
                    p.completed(&typed, completion);
                    self.dirty = true;
                }
                Vec::new()
            }
            Reply::ListSamples { list, samples } => {
                if let Some(f) = &mut self.campaign_form {
                    f.set_samples(list, samples);
                    self.dirty = true;
                }
                Vec::new()
            }
            Reply::CampaignCreated(Ok((id, name))) => {
                self.campaign_form = None;
                self.notices.clear();
                self.notify(
                    format!("campaign {id} “{name}” is a draft; s starts it"),
                    false,
                );
                self.detail = None;
                // The new campaign has the highest id: it is the last row, selected.
                let fetch = self.campaigns.reload_at_end();
                vec![self.page_request(PaneId::Campaigns, fetch)]
            }
            Reply::CampaignCreated(Err(why)) => {
                if let Some(f) = &mut self.campaign_form {
                    f.saving = false;
                    f.error = Some(why.replace('\n', " "));
                    self.dirty = true;
                }
                Vec::new()
            }
            Reply::AccountSaved(Ok((message, ok))) => {
                self.form = None;
                self.notices.clear();
                self.notify(message, !ok);
                let mut out = self.reload_pane(PaneId::Accounts, false);
                out.push(Tagged {
                    generation: 0,
                    body: Request::Overview,
                });
                out
            }
            Reply::AccountSaved(Err(errors)) => {
                if let Some(form) = &mut self.form {
                    form.saving = false;
                    form.show_errors(&errors);
                    self.dirty = true;
                }
                Vec::new()
            }
            Reply::AccountChecked { name, ok, detail } => {
                self.notices.clear();
                self.notify(
                    format!(
                        "{name}: {} — {detail}",
                        if ok { "token works" } else { "check failed" }
                    ),
                    !ok,
                );
                self.reload_pane(PaneId::Accounts, false)
            }
            Reply::ListDeleted(result) => {
                match result {
                    Ok(name) => self.notify(format!("deleted list “{name}”"), false),
                    Err(e) => self.notify(e, true),
                }
                self.list_index = 0;
                let mut out = vec![
                    Tagged {
                        generation: 0,
                        body: Request::Lists,
                    },
                    Tagged {
                        generation: 0,
                        body: Request::Sendable { list: None },
                    },
                ];
                out.extend(self.reload_pane(PaneId::Subscribers, true));
                out
            }
            Reply::ImportProgress(p) => {
                if let Some(i) = &mut self.import {
                    i.progress = p;
                    self.dirty = true;
                }
                Vec::new()
            }
            Reply::ImportDone(result) => {
                if let Some(i) = &mut self.import {
                    i.result = Some(result);
                }
                self.dirty = true;
                let mut out = vec![
                    Tagged {
                        generation: 0,
                        body: Request::Lists,
                    },
                    Tagged {
                        generation: 0,
                        body: Request::Overview,
                    },
                    Tagged {
                        generation: 0,
                        body: Request::Sendable {
                            list: self.selected_list().map(|l| l.id),
                        },
                    },
                ];
                out.extend(self.reload_pane(PaneId::Subscribers, false));
                out
            }
            Reply::Failed { pane, message } => {
                // A check that failed is over: another may be asked for.
                self.checking = None;
                if let Some(form) = self.campaign_form.as_mut().filter(|f| f.saving) {
                    form.saving = false;
                    form.error = Some(message);
                    self.dirty = true;
                    return Vec::new();
                }
                if let Some(form) = self.form.as_mut().filter(|f| f.saving) {
                    form.saving = false;
                    form.error = Some(message);
                    self.dirty = true;
                    return Vec::new();
                }
                if let Some(form) = self.consent_form.as_mut().filter(|f| f.saving) {
                    form.saving = false;
                    form.error = Some(message);
                    self.dirty = true;
                    return Vec::new();
                }
                if let Some(p) = pane {
                    self.with_window(p, |w| {
                        w.set_pending(false);
                        None
                    });
                }
                self.notify(message, true);
                Vec::new()
            }
            Reply::Detail { pane, id, detail } => {
                if generation == self.detail_generation {
                    self.detail = Some((pane, id, detail));
                    self.dirty = true;
                }
                Vec::new()
            }
            Reply::Page {
                pane,
                fill,
                total,
                rows,
            } => {
                let fetch = match (pane, rows) {
                    (PaneId::Accounts, Rows::Accounts(r))
                        if generation == self.accounts.generation =>
                    {
                        self.accounts.apply(fill, total, r)
                    }
                    (PaneId::Subscribers, Rows::Subscribers(r))
                        if generation == self.subscribers.generation =>
                    {
                        self.subscribers.apply(fill, total, r)
                    }
                    (PaneId::Campaigns, Rows::Campaigns(r))
                        if generation == self.campaigns.generation =>
                    {
                        self.campaigns.apply(fill, total, r)
                    }
                    (PaneId::Counterparty, Rows::Lookups(r))
                        if generation == self.lookups.generation =>
                    {
                        self.lookups.apply(fill, total, r)
                    }
                    _ => return Vec::new(), // stale
                };
                self.dirty = true;
                let mut out: Vec<Tagged<Request>> = fetch
                    .map(|f| self.page_request(pane, f))
                    .into_iter()
                    .collect();
                if pane == self.pane {
                    out.extend(self.request_detail());
                }
                out
            }
        }
    }

    /// The licence as this console knows it: the sync's, or the state read at start.
    pub fn licence_state(&self) -> crate::license::state::LicenseState {
        match &self.licence {
            Some(l) => l.state(),
            None => self.workspace.license.clone(),
        }
    }

    /// The License pane's rows, from what is known now.
    pub fn license_facts(&self) -> Vec<FactRow> {
        let o = self.overview.clone().unwrap_or_default();
        let known = self.overview.is_some();
        let n = |v: i64| if known { group(v) } else { "…".into() };
        let now = chrono::Utc::now();
        let licence = self.licence.clone().unwrap_or_default();
        let state = self.licence_state();
        let lease = licence.standing.as_ref().and_then(|s| s.lease.clone());
        let tariff = lease.as_ref().map(|l| l.tariff.clone());
        let ascii = self.theme.ascii;
        let usage = |used: i64, limit: Option<u64>| match (known, limit) {
            (false, _) => "…".to_string(),
            (true, Some(cap)) => format!(
                "{} {} of {}",
                crate::tui::widgets::text::bar(used as f64 / cap.max(1) as f64, 10, ascii),
                group(used),
                group(cap as i64)
            ),
            (true, None) => format!("{} (no limit)", group(used)),
        };
        let limit = |v: Option<u64>| v.map_or_else(|| "no limit".to_string(), |n| group(n as i64));
        let state_text = state.short(now);
        let hm = |t: &chrono::DateTime<chrono::Utc>| crate::tui::panes::when(t);
        vec![
            (
                "State",
                state_text,
                format!(
                    "{}\n\nA activates with a key (pasted into a masked field), S asks the \
                     licence server for a fresh lease, X frees this machine's seat.",
                    state.advice(now)
                ),
            ),
            (
                "Tariff",
                tariff.as_ref().map_or("—".into(), |t| t.name.clone()),
                match &tariff {
                    Some(t) => format!(
                        "Accounts: {}\nMessages a day: {}\nLookups a day: {}\nMachines: {}",
                        t.accounts.map_or("no limit".into(), |a| a.to_string()),
                        limit(t.messages_per_day),
                        limit(t.lookups_per_day),
                        t.machines
                    ),
                    None => "The tariff and its limits come with the licence.".into(),
                },
            ),
            (
                "Accounts",
                usage(
                    o.accounts,
                    tariff.as_ref().and_then(|t| t.accounts.map(u64::from)),
                ),
                format!(
                    "Messenger accounts in this workspace ({} active).",
                    n(o.accounts_active)
                ),
            ),
            (
                "Sent today",
                usage(
                    o.sent_since,
                    tariff.as_ref().and_then(|t| t.messages_per_day),
                ),
                "Messages accepted by a platform since midnight (this machine's time zone). \
                 When the tariff's messages a day are used up, campaigns wait for the next day."
                    .into(),
            ),
            (
                "Checks today",
                usage(
                    o.lookups_since,
                    tariff.as_ref().and_then(|t| t.lookups_per_day),
                ),
                "Counterparty checks since midnight; the tariff caps lookups per day.".into(),
            ),
            (
                "Paid until",
                match &lease {
                    Some(l) => format!(
                        "{} ({} days left), auto-renew {}",
                        crate::tui::panes::day(&l.paid_until),
                        (l.paid_until - now).num_days().max(0),
                        if l.auto_renew { "on" } else { "off" }
                    ),
                    None => "—".into(),
                },
                "With auto-renewal on, the saved card is charged 24 hours before the paid period \
                 ends; turned off (in the personal cabinet), the licence ends with the period."
                    .into(),
            ),
            (
                "Machine",
                match licence.standing.as_ref().map(|s| &s.fingerprint) {
                    Some(Ok(fp)) => fp.short(),
                    Some(Err(_)) => "cannot be identified".into(),
                    None => "…".into(),
                },
                match licence.standing.as_ref().map(|s| &s.fingerprint) {
                    Some(Ok(fp)) => format!(
                        "Fingerprint {fp}\nThe licence is bound to it; the machine id itself never \
                         leaves this machine."
                    ),
                    Some(Err(e)) => e.clone(),
                    None => String::new(),
                },
            ),
            (
                "Sync",
                match (&licence.last_sync, &licence.next_sync) {
                    (Some(l), Some(n)) => format!("last {}, next {}", hm(l), hm(n)),
                    (Some(l), None) => format!("last {}", hm(l)),
                    (None, Some(n)) => format!("next {}", hm(n)),
                    (None, None) => "—".into(),
                },
                format!(
                    "Server: {}{}",
                    self.workspace.license_server,
                    licence
                        .last_error
                        .as_ref()
                        .map(|e| format!("\nLast attempt failed: {e}"))
                        .unwrap_or_default()
                ),
            ),
            (
                "Subscribers",
                format!("{} in {} lists", n(o.subscribers), n(o.lists)),
                format!(
                    "{} addresses are suppressed (never messaged).",
                    n(o.suppressions)
                ),
            ),
            (
                "Workspace",
                self.workspace.label.clone(),
                format!(
                    "Database: {}\nLogs: {}",
                    self.workspace.database, self.workspace.log_dir
                ),
            ),
        ]
    }
}

/// `~/x.csv` → the home folder's `x.csv`; other paths as typed.
fn expand_home(path: &str) -> std::path::PathBuf {
    match (path.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => std::path::Path::new(&home).join(rest),
        _ => std::path::PathBuf::from(path),
    }
}

/// Navigation over a list window, whatever its row type.
pub trait WindowNav {
    fn reset(&mut self) -> Fetch;
    fn reload(&mut self) -> Fetch;
    fn move_by(&mut self, delta: isize) -> Option<Fetch>;
    fn top(&mut self) -> Option<Fetch>;
    fn bottom(&mut self) -> Option<Fetch>;
    fn set_pending(&mut self, pending: bool);
}

impl<T: RowId> WindowNav for ListWindow<T> {
    fn reset(&mut self) -> Fetch {
        ListWindow::reset(self)
    }
    fn reload(&mut self) -> Fetch {
        ListWindow::reload(self)
    }
    fn move_by(&mut self, delta: isize) -> Option<Fetch> {
        ListWindow::move_by(self, delta)
    }
    fn top(&mut self) -> Option<Fetch> {
        ListWindow::top(self)
    }
    fn bottom(&mut self) -> Option<Fetch> {
        ListWindow::bottom(self)
    }
    fn set_pending(&mut self, pending: bool) {
        self.pending = pending;
    }
}

/// A count with thin groups: 12345 → "12 345".
pub fn group(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(' ');
        }
        out.push(c);
    }
    if n < 0 {
        out.insert(0, '-');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_thousands() {
        assert_eq!(group(0), "0");
        assert_eq!(group(1234567), "1 234 567");
        assert_eq!(group(-1000), "-1 000");
    }
}
