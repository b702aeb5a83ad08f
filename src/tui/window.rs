//! A list read as a window: the total is counted once, rows are fetched a page at a time
//! around the cursor (keyset pagination), and only the visible rows are drawn.

use crate::store::{Anchor, PageRequest};
use std::cell::Cell;

/// Rows per fetched page.
pub const PAGE: u32 = 200;
/// Most rows kept in memory per list.
pub const MAX_ROWS: usize = 3 * PAGE as usize;
/// Fetch the next page when the cursor comes this close to the loaded edge.
const MARGIN: usize = 50;

/// A row with the id the list is ordered by.
pub trait RowId {
    fn row_id(&self) -> i64;
}

/// How a fetched page goes into the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fill {
    /// Replace everything; the rows start at absolute index `first` (for `Anchor::Last`, the
    /// index is worked out from the total) and the cursor goes to `cursor` (clamped).
    Reset { first: usize, cursor: usize },
    /// Rows that follow the loaded ones.
    Append,
    /// Rows that precede the loaded ones.
    Prepend,
}

/// A request the window wants sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fetch {
    pub page: PageRequest,
    pub fill: Fill,
    /// Count the total too.
    pub count: bool,
}

/// The loaded part of a list and the cursor in it.
#[derive(Debug, Clone)]
pub struct ListWindow<T> {
    pub total: usize,
    pub rows: Vec<T>,
    /// Absolute index of `rows[0]`.
    pub first: usize,
    /// Absolute index of the selected row.
    pub cursor: usize,
    /// Whether any page has arrived.
    pub loaded: bool,
    /// Whether a fetch is out (no second one is sent meanwhile).
    pub pending: bool,
    /// Bumped on every reset; results of older generations are dropped.
    pub generation: u64,
    /// Absolute index of the first visible row, kept by the renderer.
    pub scroll: Cell<usize>,
}

impl<T> Default for ListWindow<T> {
    fn default() -> Self {
        ListWindow {
            total: 0,
            rows: Vec::new(),
            first: 0,
            cursor: 0,
            loaded: false,
            pending: false,
            generation: 0,
            scroll: Cell::new(0),
        }
    }
}

impl<T: RowId> ListWindow<T> {
    /// The selected row, when loaded.
    pub fn selected(&self) -> Option<&T> {
        self.cursor
            .checked_sub(self.first)
            .and_then(|i| self.rows.get(i))
    }

    /// The fetch that (re)loads the window from the start.
    pub fn reset(&mut self) -> Fetch {
        self.reset_at(Anchor::First, 0, 0)
    }

    /// The fetch that reloads the window where it is, keeping the cursor.
    pub fn reload(&mut self) -> Fetch {
        match self.rows.first().map(RowId::row_id) {
            Some(id) => self.reset_at(Anchor::After(id - 1), self.first, self.cursor),
            None => self.reset(),
        }
    }

    fn reset_at(&mut self, anchor: Anchor, first: usize, cursor: usize) -> Fetch {
        self.generation += 1;
        self.pending = true;
        Fetch {
            page: PageRequest {
                anchor,
                limit: PAGE,
            },
            fill: Fill::Reset { first, cursor },
            count: true,
        }
    }

    /// Moves the cursor by `delta` rows within what is loaded; returns a fetch when the
    /// cursor nears an edge with more rows beyond it.
    pub fn move_by(&mut self, delta: isize) -> Option<Fetch> {
        if self.rows.is_empty() {
            return None;
        }
        let last_loaded = self.first + self.rows.len() - 1;
        let target =
            (self.cursor as isize + delta).clamp(self.first as isize, last_loaded as isize);
        self.cursor = target as usize;
        self.prefetch()
    }

    /// Jumps to the first row.
    pub fn top(&mut self) -> Option<Fetch> {
        if self.first == 0 {
            self.cursor = 0;
            None
        } else {
            Some(self.reset())
        }
    }

    /// Jumps to the last row.
    pub fn bottom(&mut self) -> Option<Fetch> {
        if self.first + self.rows.len() >= self.total {
            self.cursor = self.total.saturating_sub(1);
            None
        } else {
            Some(self.reset_at(Anchor::Last, 0, usize::MAX))
        }
    }

    /// Fetches the last page afresh, counting again, and puts the cursor on the last row
    /// (where a row just added lands).
    pub fn reload_at_end(&mut self) -> Fetch {
        self.reset_at(Anchor::Last, 0, usize::MAX)
    }

    fn prefetch(&mut self) -> Option<Fetch> {
        if self.pending || self.rows.is_empty() {
            return None;
        }
        let end = self.first + self.rows.len();
        if end < self.total && self.cursor + MARGIN >= end {
            self.pending = true;
            let last = self.rows.last().map(RowId::row_id)?;
            return Some(Fetch {
                page: PageRequest {
                    anchor: Anchor::After(last),
                    limit: PAGE,
                },
                fill: Fill::Append,
                count: false,
            });
        }
        if self.first > 0 && self.cursor < self.first + MARGIN {
            self.pending = true;
            let first = self.rows.first().map(RowId::row_id)?;
            return Some(Fetch {
                page: PageRequest {
                    anchor: Anchor::Before(first),
                    limit: PAGE,
                },
                fill: Fill::Prepend,
                count: false,
            });
        }
        None
    }

    /// Takes a fetched page. Returns a follow-up fetch if the cursor is still near an edge.
    pub fn apply(&mut self, fill: Fill, total: Option<usize>, rows: Vec<T>) -> Option<Fetch> {
        self.pending = false;
        self.loaded = true;
        let short = rows.len() < PAGE as usize;
        if let Some(t) = total {
            self.total = t;
        }
        match fill {
            Fill::Reset { first, cursor } => {
                let is_last = cursor == usize::MAX;
                self.first = if is_last {
                    self.total.saturating_sub(rows.len())
                } else {
                    first.min(self.total.saturating_sub(rows.len()))
                };
                self.rows = rows;
                self.cursor = cursor;
            }
            Fill::Append => {
                self.rows.extend(rows);
                if self.rows.len() > MAX_ROWS {
                    let drop = self.rows.len() - MAX_ROWS;
                    self.rows.drain(..drop);
                    self.first += drop;
                }
            }
            Fill::Prepend => {
                let added = rows.len();
                let mut rows = rows;
                rows.append(&mut self.rows);
                self.rows = rows;
                // A short page means the start of the list was reached.
                self.first = if short {
                    0
                } else {
                    self.first.saturating_sub(added)
                };
                self.rows.truncate(MAX_ROWS);
            }
        }
        // Rows may have vanished since the count: keep the total consistent with what is known.
        if short && matches!(fill, Fill::Reset { .. } | Fill::Append) {
            self.total = self.first + self.rows.len();
        }
        self.total = self.total.max(self.first + self.rows.len());
        let last = (self.first + self.rows.len()).saturating_sub(1);
        self.cursor = self.cursor.clamp(self.first, last.max(self.first));
        self.prefetch()
    }

    /// The rows to draw in a viewport of `height` rows, with the index of the selected one
    /// among them. Keeps the scroll position stable while the cursor stays in view.
    pub fn visible(&self, height: usize) -> (&[T], Option<usize>) {
        if self.rows.is_empty() || height == 0 {
            return (&[], None);
        }
        let mut top = self.scroll.get();
        if self.cursor < top {
            top = self.cursor;
        } else if self.cursor >= top + height {
            top = self.cursor + 1 - height;
        }
        let end = self.first + self.rows.len();
        top = top.clamp(self.first, end.saturating_sub(1));
        if end - top < height {
            top = end.saturating_sub(height).max(self.first);
        }
        self.scroll.set(top);
        let from = top - self.first;
        let to = (from + height).min(self.rows.len());
        (&self.rows[from..to], self.cursor.checked_sub(top))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    impl RowId for i64 {
        fn row_id(&self) -> i64 {
            *self
        }
    }

    /// Serves pages from ids 1..=n like the store does.
    fn serve(n: i64, f: &Fetch) -> (Option<usize>, Vec<i64>) {
        let all: Vec<i64> = (1..=n).collect();
        let limit = f.page.limit as usize;
        let rows: Vec<i64> = match f.page.anchor {
            Anchor::First => all.iter().take(limit).copied().collect(),
            Anchor::After(id) => all
                .iter()
                .filter(|&&x| x > id)
                .take(limit)
                .copied()
                .collect(),
            Anchor::Last => {
                let mut v: Vec<i64> = all.iter().rev().take(limit).copied().collect();
                v.reverse();
                v
            }
            Anchor::Before(id) => {
                let mut v: Vec<i64> = all
                    .iter()
                    .rev()
                    .filter(|&&x| x < id)
                    .take(limit)
                    .copied()
                    .collect();
                v.reverse();
                v
            }
        };
        (f.count.then_some(n as usize), rows)
    }

    fn run(w: &mut ListWindow<i64>, n: i64, mut f: Option<Fetch>) {
        while let Some(fetch) = f {
            let (total, rows) = serve(n, &fetch);
            f = w.apply(fetch.fill, total, rows);
        }
    }

    proptest! {
        /// Whatever the moves, the selected row is the one at the cursor's absolute index,
        /// and the window never holds more than MAX_ROWS.
        #[test]
        fn cursor_always_names_the_right_row(n in 0i64..3000, moves in proptest::collection::vec(-700isize..700, 0..40), ends in proptest::collection::vec(0u8..3, 0..40)) {
            let mut w = ListWindow::default();
            let first = w.reset();
            run(&mut w, n, Some(first));
            for (m, e) in moves.iter().zip(ends.iter().chain(std::iter::repeat(&0))) {
                let f = match e {
                    1 => w.top(),
                    2 => w.bottom(),
                    _ => w.move_by(*m),
                };
                run(&mut w, n, f);
                prop_assert!(w.rows.len() <= MAX_ROWS);
                prop_assert_eq!(w.total, n as usize);
                if n > 0 {
                    prop_assert_eq!(w.selected().copied(), Some(w.cursor as i64 + 1));
                } else {
                    prop_assert!(w.selected().is_none());
                }
            }
        }
    }

    #[test]
    fn bottom_reaches_the_last_row_and_visible_follows() {
        let mut w = ListWindow::default();
        let f = w.reset();
        run(&mut w, 10_000, Some(f));
        let f = w.bottom();
        run(&mut w, 10_000, f);
        assert_eq!(w.selected(), Some(&10_000));
        let (rows, sel) = w.visible(20);
        assert_eq!(rows.len(), 20);
        assert_eq!(sel, Some(19));
        w.move_by(-5);
        let (_, sel) = w.visible(20);
        assert_eq!(
            sel,
            Some(14),
            "scroll stays put while the cursor is in view"
        );
    }
}
