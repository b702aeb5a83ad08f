//! The License pane's facts, from the licence's state.

use super::{App, FactRow, group};

impl App {
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
