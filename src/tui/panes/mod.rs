//! The five panes. Each says what its list shows (columns and cells) and what its detail
//! view shows; `view` draws them all the same way.

pub mod accounts;
pub mod campaigns;
pub mod counterparty;
pub mod license;
pub mod subscribers;

use crate::tui::theme::{Meaning, Theme};
use chrono::{DateTime, Local, Utc};
use ratatui::layout::Constraint;
use ratatui::text::{Line, Span};
use ratatui::widgets::Row;

/// What a list pane draws: a title, column headers and widths, and the visible rows.
pub struct ListView<'a> {
    pub title: String,
    pub headers: Vec<&'static str>,
    pub widths: Vec<Constraint>,
    pub rows: Vec<Row<'a>>,
    /// Index of the selected row among `rows`.
    pub selected: Option<usize>,
    /// Shown when there are no rows.
    pub empty: &'static str,
    pub loaded: bool,
}

/// A `label: value` line of a detail view.
pub fn field(theme: &Theme, label: &str, value: impl Into<String>) -> Line<'static> {
    Line::from(vec![
        Span::styled(format!("{label:<15} "), theme.style(Meaning::Muted)),
        Span::raw(value.into()),
    ])
}

/// A `label: value` line whose value carries a meaning (ok, warn, error…).
pub fn field_styled(
    theme: &Theme,
    label: &str,
    value: impl Into<String>,
    meaning: Meaning,
) -> Line<'static> {
    Line::from(vec![
        Span::styled(format!("{label:<15} "), theme.style(Meaning::Muted)),
        Span::styled(value.into(), theme.style(meaning)),
    ])
}

/// A heading line inside a detail view.
pub fn heading(theme: &Theme, text: &str) -> Line<'static> {
    Line::from(Span::styled(text.to_string(), theme.style(Meaning::Header)))
}

/// A time in the operator's zone, to the minute.
pub fn when(t: &DateTime<Utc>) -> String {
    t.with_timezone(&Local).format("%Y-%m-%d %H:%M").to_string()
}

/// A date in the operator's zone.
pub fn day(t: &DateTime<Utc>) -> String {
    t.with_timezone(&Local).format("%Y-%m-%d").to_string()
}
