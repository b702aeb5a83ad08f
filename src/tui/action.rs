//! What the operator can ask for: typed actions, each with a stable name (used in
//! `config.toml`) and a description (shown in the help overlay and the hint bar).

/// The panes of the console, in tab order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PaneId {
    Accounts,
    Subscribers,
    Campaigns,
    License,
    Counterparty,
}

impl PaneId {
    /// Every pane, in tab order.
    pub const ALL: [PaneId; 5] = [
        PaneId::Accounts,
        PaneId::Subscribers,
        PaneId::Campaigns,
        PaneId::License,
        PaneId::Counterparty,
    ];

    /// The pane's title.
    pub fn title(self) -> &'static str {
        match self {
            PaneId::Accounts => "Accounts",
            PaneId::Subscribers => "Subscribers",
            PaneId::Campaigns => "Campaigns",
            PaneId::License => "License",
            PaneId::Counterparty => "Counterparty",
        }
    }

    /// Position in tab order.
    pub fn index(self) -> usize {
        PaneId::ALL.iter().position(|p| *p == self).unwrap_or(0)
    }

    /// The pane `step` tabs away, wrapping around.
    pub fn cycle(self, step: isize) -> PaneId {
        let n = PaneId::ALL.len() as isize;
        PaneId::ALL[((self.index() as isize + step).rem_euclid(n)) as usize]
    }
}

/// Something the operator asks the console to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    /// Leave at once, from anywhere.
    ForceQuit,
    /// Leave, asking first when campaigns are running.
    Quit,
    NextPane,
    PrevPane,
    ShowPane(PaneId),
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    /// Look closer: focus the detail view (full screen on narrow terminals).
    OpenDetail,
    /// Step back: leave the detail view, or clear the search.
    Back,
    Search,
    Refresh,
    Help,
    CloseHelp,
    Confirm,
    Cancel,
    SearchApply,
    SearchCancel,
    /// Show the previous / next subscriber list (the first entry is everyone).
    PrevList,
    NextList,
    /// Import a CSV file into the selected list.
    Import,
    /// Delete the shown list (asks first).
    DeleteList,
    /// Suppress every address of the selected subscriber, or lift its suppression (asks why).
    OptOut,
    /// Record a consent the selected subscriber gave or withdrew (a form).
    Consent,
    /// Set or forget the selected subscriber's time zone (a prompt).
    TimeZone,
    /// Set or forget the shown list's time zone (a prompt).
    ListTimeZone,
    /// Add the selected subscriber to a list (a prompt for its name).
    AddToList,
    /// Enter a new subscriber by hand into the shown list (a form).
    NewSubscriber,
    /// Take the selected subscriber off the shown list (asks first).
    RemoveFromList,
    /// Check the selected account's token now.
    CheckAccount,
    /// Pause the selected account (asks why) or resume it (asks first).
    PauseResume,
    /// Start the selected draft campaign (asks first).
    StartCampaign,
    /// Cancel the selected campaign (asks first).
    CancelCampaign,
    /// Queue the selected campaign's unknown rows again (asks first).
    RequeueUnknown,
    /// Connect a new account (a form).
    AddAccount,
    /// Change the selected account (a form).
    EditAccount,
    /// Compose a new campaign (a form).
    NewCampaign,
    /// Export the shown list's subscribers (Subscribers) or the shown history of counterparty
    /// checks (Counterparty) to a new CSV file.
    Export,
    /// Activate this machine with a licence key (a masked field).
    ActivateLicence,
    /// Refresh the licence's lease now (asks first).
    SyncLicence,
    /// Free this machine's seat on the licence (asks first).
    DeactivateLicence,
    /// In a form: the next field (on the last one: save).
    FormNext,
    /// In a form: the previous field.
    FormPrev,
    /// In a form: check and save.
    FormSave,
    /// In a form: close it, saving nothing.
    FormCancel,
}

impl Action {
    /// The stable name used in `config.toml`.
    pub fn name(self) -> &'static str {
        match self {
            Action::ForceQuit => "force_quit",
            Action::Quit => "quit",
            Action::NextPane => "next_pane",
            Action::PrevPane => "prev_pane",
            Action::ShowPane(PaneId::Accounts) => "pane_accounts",
            Action::ShowPane(PaneId::Subscribers) => "pane_subscribers",
            Action::ShowPane(PaneId::Campaigns) => "pane_campaigns",
            Action::ShowPane(PaneId::License) => "pane_license",
            Action::ShowPane(PaneId::Counterparty) => "pane_counterparty",
            Action::Up => "up",
            Action::Down => "down",
            Action::PageUp => "page_up",
            Action::PageDown => "page_down",
            Action::Top => "top",
            Action::Bottom => "bottom",
            Action::OpenDetail => "open_detail",
            Action::Back => "back",
            Action::Search => "search",
            Action::Refresh => "refresh",
            Action::Help => "help",
            Action::CloseHelp => "close_help",
            Action::Confirm => "confirm",
            Action::Cancel => "cancel",
            Action::SearchApply => "search_apply",
            Action::SearchCancel => "search_cancel",
            Action::PrevList => "prev_list",
            Action::NextList => "next_list",
            Action::Import => "import",
            Action::DeleteList => "delete_list",
            Action::OptOut => "opt_out",
            Action::Consent => "consent",
            Action::TimeZone => "time_zone",
            Action::ListTimeZone => "list_time_zone",
            Action::AddToList => "add_to_list",
            Action::NewSubscriber => "new_subscriber",
            Action::RemoveFromList => "remove_from_list",
            Action::CheckAccount => "check_account",
            Action::PauseResume => "pause_resume",
            Action::StartCampaign => "start_campaign",
            Action::CancelCampaign => "cancel_campaign",
            Action::RequeueUnknown => "requeue_unknown",
            Action::AddAccount => "add_account",
            Action::EditAccount => "edit_account",
            Action::NewCampaign => "new_campaign",
            Action::Export => "export",
            Action::ActivateLicence => "activate_licence",
            Action::SyncLicence => "sync_licence",
            Action::DeactivateLicence => "deactivate_licence",
            Action::FormNext => "form_next",
            Action::FormPrev => "form_prev",
            Action::FormSave => "form_save",
            Action::FormCancel => "form_cancel",
        }
    }

    /// What it does, in the operator's words.
    pub fn description(self) -> &'static str {
        match self {
            Action::ForceQuit => "Quit at once",
            Action::Quit => "Quit (asks first while campaigns or an import run)",
            Action::NextPane => "Next pane",
            Action::PrevPane => "Previous pane",
            Action::ShowPane(PaneId::Accounts) => "Accounts pane",
            Action::ShowPane(PaneId::Subscribers) => "Subscribers pane",
            Action::ShowPane(PaneId::Campaigns) => "Campaigns pane",
            Action::ShowPane(PaneId::License) => "License pane",
            Action::ShowPane(PaneId::Counterparty) => "Counterparty pane",
            Action::Up => "Move up",
            Action::Down => "Move down",
            Action::PageUp => "Page up",
            Action::PageDown => "Page down",
            Action::Top => "First row",
            Action::Bottom => "Last row",
            Action::OpenDetail => "Open the detail view",
            Action::Back => "Back to the list / clear the search",
            Action::Search => "Search subscribers by name or address",
            Action::Refresh => "Reload from the database",
            Action::Help => "Show all keys",
            Action::CloseHelp => "Close the help",
            Action::Confirm => "Yes, do it",
            Action::Cancel => "No, go back",
            Action::SearchApply => "Use the text typed (search, or the file to import)",
            Action::SearchCancel => "Stop editing the text",
            Action::PrevList => "Previous subscriber list",
            Action::NextList => "Next subscriber list",
            Action::Import => "Import a CSV file into the selected list",
            Action::DeleteList => "Delete the shown list (asks first; subscribers stay)",
            Action::OptOut => {
                "Subscribers: stop messaging the selected subscriber (suppress every address, with a reason), or lift it"
            }
            Action::Consent => {
                "Subscribers: record a consent the selected subscriber gave or withdrew (by phone, on paper), with its proof"
            }
            Action::TimeZone => {
                "Subscribers: set the selected subscriber's time zone, which quiet hours use (empty: their list's)"
            }
            Action::ListTimeZone => {
                "Subscribers: set the shown list's time zone, for its members with none of their own (empty: the configuration's)"
            }
            Action::NewSubscriber => {
                "Subscribers: enter a new subscriber by hand into the shown list (addresses, name, consent with its proof)"
            }
            Action::AddToList => {
                "Subscribers: add the selected subscriber to a list (Tab completes its name)"
            }
            Action::RemoveFromList => {
                "Subscribers: take the selected subscriber off the shown list (asks first; their queued messages in its campaigns are skipped)"
            }
            Action::CheckAccount => {
                "Accounts: check the selected account's token now; Counterparty: check a number"
            }
            Action::Export => {
                "Subscribers: write the shown list to a CSV file (with each consent's date, source and proof); Counterparty: the shown checks"
            }
            Action::PauseResume => {
                "Pause the selected account (with a reason) or campaign, or resume it (asks first)"
            }
            Action::StartCampaign => {
                "Campaigns: start the selected draft (counts whom it reaches now, then asks with the figures)"
            }
            Action::CancelCampaign => "Campaigns: cancel the selected campaign (asks first)",
            Action::RequeueUnknown => {
                "Campaigns: send the rows of unknown fate again (some may arrive twice; asks first)"
            }
            Action::AddAccount => "Accounts: connect a new account",
            Action::EditAccount => "Accounts: change the selected account (name, token, limits)",
            Action::NewCampaign => {
                "Campaigns: compose a new campaign (message previewed and checked as you type)"
            }
            Action::ActivateLicence => "License: activate this machine with a licence key",
            Action::SyncLicence => "License: ask the licence server for a fresh lease (asks first)",
            Action::DeactivateLicence => {
                "License: free this machine's seat on the licence (asks first)"
            }
            Action::FormNext => "Next field (on the last one: save)",
            Action::FormPrev => "Previous field",
            Action::FormSave => "Check and save the form",
            Action::FormCancel => "Close the form, saving nothing",
        }
    }

    /// A short label for the hint bar, where there is one.
    pub fn hint(self) -> Option<&'static str> {
        Some(match self {
            Action::Quit => "quit",
            Action::Help => "help",
            Action::NextPane => "pane",
            Action::OpenDetail => "detail",
            Action::Back => "back",
            Action::Search => "search",
            Action::Refresh => "reload",
            Action::CloseHelp => "close",
            Action::Confirm => "yes",
            Action::Cancel => "no",
            Action::SearchApply => "ok",
            Action::SearchCancel => "cancel",
            Action::Import => "import",
            Action::FormNext => "next",
            Action::FormSave => "save",
            Action::FormCancel => "cancel",
            _ => return None,
        })
    }
}
