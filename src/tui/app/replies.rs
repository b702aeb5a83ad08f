//! The worker's replies: each one changes the state it answers, stale ones are dropped.

use super::App;
use crate::tui::action::PaneId;
use crate::tui::worker::{Detail, Reply, Request, Rows, Tagged};

impl App {
    /// After a change to subscribers: the rows' badges, the detail, the lists' sizes (and a
    /// list's time zone, in the lists panel) and the counts of who can be messaged are read
    /// again.
    fn subscribers_changed(&mut self) -> Vec<Tagged<Request>> {
        self.detail_stale = true;
        let mut out = vec![
            Tagged::any(Request::Sendable {
                list: self.selected_list().map(|l| l.id),
            }),
            Tagged::any(Request::Lists),
        ];
        out.extend(self.reload_pane(PaneId::Subscribers, false));
        out
    }

    pub(super) fn on_reply(&mut self, reply: Tagged<Reply>) -> Vec<Tagged<Request>> {
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
            Reply::SubscriberAdded(Err(e)) => {
                match &mut self.subscriber_form {
                    Some(form) => form.refused(e),
                    None => self.notify(e, true),
                }
                self.dirty = true;
                Vec::new()
            }
            Reply::SubscriberAdded(Ok(said)) => {
                self.subscriber_form = None;
                self.notify(said, false);
                self.subscribers_changed()
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
            Reply::Suppressed(result)
            | Reply::ConsentRecorded(result)
            | Reply::TimeZoneSet(result)
            | Reply::MembersChanged(result) => {
                self.consent_form = None;
                match result {
                    Ok(m) => self.notify(m, false),
                    Err(e) => self.notify(e, true),
                }
                self.subscribers_changed()
            }
            Reply::AccountStatusSet(message) => {
                self.notify(message, false);
                let mut out = self.reload_pane(PaneId::Accounts, false);
                out.push(Tagged::any(Request::Overview));
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
                    Tagged::any(Request::Overview),
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
                vec![Tagged::any(Request::Overview)]
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
                out.push(Tagged::any(Request::Overview));
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
            Reply::CampaignCreated(Err((field, why))) => {
                if let Some(f) = &mut self.campaign_form {
                    f.saving = false;
                    f.refused(field, why.replace('\n', " "));
                    self.dirty = true;
                }
                Vec::new()
            }
            Reply::AccountSaved(Ok((message, ok))) => {
                self.form = None;
                self.notices.clear();
                self.notify(message, !ok);
                let mut out = self.reload_pane(PaneId::Accounts, false);
                out.push(Tagged::any(Request::Overview));
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
                    Tagged::any(Request::Lists),
                    Tagged::any(Request::Sendable { list: None }),
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
                    Tagged::any(Request::Lists),
                    Tagged::any(Request::Overview),
                    Tagged::any(Request::Sendable {
                        list: self.selected_list().map(|l| l.id),
                    }),
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
                if let Some(form) = self.subscriber_form.as_mut().filter(|f| f.saving) {
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
                if let Detail::Campaign {
                    waiting: Some(w), ..
                } = &detail
                {
                    self.waiting = Some((id, std::time::Instant::now(), *w));
                }
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
}
