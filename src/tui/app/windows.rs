//! The panes' list windows: switching panes, moving through a window, and asking the
//! worker for the pages and the detail the window needs.

use super::{App, Focus, LICENSE_ROWS, WindowNav};
use crate::store::lists::ListRow;
use crate::tui::action::{Action, PaneId};
use crate::tui::window::{Fetch, RowId};
use crate::tui::worker::{Request, Tagged};

impl App {
    pub(super) fn show(&mut self, pane: PaneId) -> Vec<Tagged<Request>> {
        if self.pane != pane {
            self.pane = pane;
            self.focus = Focus::List;
            self.prompt = None;
        }
        self.request_detail()
    }

    pub(super) fn page_height(&self) -> isize {
        (self.size.1 as isize - 6).max(1)
    }

    pub(super) fn navigate(&mut self, action: Action) -> Vec<Tagged<Request>> {
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
    pub(super) fn with_window(
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
    pub(super) fn reset_pane(&mut self, pane: PaneId) -> Option<Fetch> {
        if pane == PaneId::Counterparty {
            return Some(self.lookups.reload_at_end());
        }
        self.with_window(pane, |w| Some(w.reset()))
    }

    pub(super) fn reload_pane(&mut self, pane: PaneId, from_start: bool) -> Vec<Tagged<Request>> {
        if pane == PaneId::License {
            return vec![Tagged::any(Request::Overview)];
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

    pub(super) fn page_request(&self, pane: PaneId, f: Fetch) -> Tagged<Request> {
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

    /// The shown list as a notice or a title names it: “Name”, or everyone.
    pub fn shown_list_name(&self) -> String {
        self.selected_list()
            .map_or("everyone".to_string(), |l| format!("“{}”", l.name))
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
    pub(super) fn request_detail(&mut self) -> Vec<Tagged<Request>> {
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
                waiting: pane == PaneId::Campaigns
                    && !matches!(&self.waiting, Some((w, at, _))
                        if *w == id && at.elapsed() < super::WAITING_EVERY),
            },
        }]
    }
}
