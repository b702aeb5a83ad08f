//! The console's state and the one place it changes: [`App::update`].
//!
//! Keys (through the keymap), terminal resizes, signals and worker replies all arrive as a
//! [`Msg`]; `update` changes the state and returns the requests for the worker. Nothing
//! here does I/O, so the whole console can be driven and checked in tests.
//!
//! This file holds the state and `update`; what `update` does is split by what it answers:
//! `keys` (a key in each mode), `windows` (moving through the panes' lists), `forms` and
//! `campaigns` (the forms, and the questions before a campaign changes), `replies` (the
//! worker's answers) and `licence` (the License pane's facts). All of them are `impl App`.

use super::action::PaneId;
use super::campaign_form::CampaignForm;
use super::consent_form::ConsentForm;
use super::form::AccountForm;
use super::keymap::{Keymap, Mode};
use super::subscriber_form::SubscriberForm;
use super::theme::Theme;
use super::window::{Fetch, ListWindow, RowId};
use super::worker::{Detail, Reply, Request, Tagged, Workspace};
use crate::domain::{AccountId, CampaignId, Channel, ListId, SubscriberId};
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

mod campaigns;
mod forms;
mod keys;
mod licence;
mod replies;
mod windows;

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
    /// Take a subscriber (named) off a list.
    RemoveFromList(ListId, SubscriberId, String),
    /// Make a list of this name and add a subscriber (named) to it.
    NewListWith(String, SubscriberId, String),
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

/// How often the campaign detail counts the rows waiting for a later time.
pub const WAITING_EVERY: std::time::Duration = std::time::Duration::from_secs(10);

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
    /// A subscriber's time zone (empty forgets it).
    TimeZone(SubscriberId),
    /// A list's time zone (empty forgets it).
    ListTimeZone(ListId),
    /// The list to add a subscriber to (Tab completes a list's name).
    AddToList(SubscriberId),
    /// A licence key to activate with (masked).
    LicenceKey,
    /// A counterparty's number to check (validated as it is typed).
    CheckNumber,
    /// A search over the history of checks.
    CheckSearch,
    /// Where to write the history of checks as CSV.
    ExportPath,
    /// Where to write the shown list's subscribers as CSV.
    ExportList,
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

    /// Whether Tab completes what is typed: a file path, or a list's name.
    pub fn completes(&self) -> bool {
        self.takes_a_path() || matches!(self.kind, PromptKind::AddToList(_))
    }

    /// Whether the field takes a file path (Tab completes it).
    pub fn takes_a_path(&self) -> bool {
        matches!(
            self.kind,
            PromptKind::ImportPath | PromptKind::ExportPath | PromptKind::ExportList
        )
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
    /// A campaign's queued rows due only later (outside their send window, a retry) and the
    /// first one's time, with when they were counted: counted again every
    /// [`WAITING_EVERY`], as it reads the campaign's whole queue.
    pub waiting: Option<(i64, std::time::Instant, crate::store::outbox::Waiting)>,
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
    /// A subscriber being entered by hand.
    pub subscriber_form: Option<SubscriberForm>,
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
            waiting: None,
            detail_scroll: 0,
            detail_scroll_max: std::cell::Cell::new(u16::MAX),
            detail_width: std::cell::Cell::new(u16::MAX),
            help_scroll_max: std::cell::Cell::new(usize::MAX),
            prompt: None,
            form: None,
            campaign_form: None,
            consent_form: None,
            subscriber_form: None,
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
            Tagged::any(Request::Overview),
            Tagged::any(Request::Lists),
            Tagged::any(Request::Sendable { list: None }),
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
        let form = self.form.is_some()
            || self.campaign_form.is_some()
            || self.consent_form.is_some()
            || self.subscriber_form.is_some();
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
                let mut out = vec![Tagged::any(Request::Overview)];
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
                    vec![Tagged::any(Request::Overview)]
                } else {
                    Vec::new()
                }
            }
        }
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
