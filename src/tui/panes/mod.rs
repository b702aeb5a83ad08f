//! The five panes. Each says what its list shows (columns and cells) and what its detail
//! view shows; `view` draws them all the same way.

pub mod accounts;
pub mod campaigns;
pub mod counterparty;
pub mod license;
pub mod subscribers;

use crate::tui::action::Action;
use crate::tui::app::App;
use crate::tui::keymap::Mode;
use crate::tui::theme::{Meaning, Theme};
use chrono::{DateTime, Local, Utc};
use ratatui::layout::Constraint;
use ratatui::text::{Line, Span};

/// What a list pane draws: a title, column headers and widths, and the visible rows, each
/// a line per cell (`view` cuts a cell that does not fit its column with an ellipsis).
pub struct ListView<'a> {
    pub title: String,
    pub headers: Vec<&'static str>,
    pub widths: Vec<Constraint>,
    pub rows: Vec<Vec<Line<'a>>>,
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

/// A time in the operator's zone with the zone's offset, where an hour's mistake costs: a
/// schedule (on a UTC server `TZ` is easily forgotten).
pub fn when_zoned(t: &DateTime<Utc>) -> String {
    t.with_timezone(&Local)
        .format("%Y-%m-%d %H:%M UTC%:z")
        .to_string()
}

/// A date in the operator's zone.
pub fn day(t: &DateTime<Utc>) -> String {
    t.with_timezone(&Local).format("%Y-%m-%d").to_string()
}

/// The keys line at the bottom of a form, or what it is waiting for while it saves.
pub fn form_hint(app: &App, saving: Option<&str>) -> Line<'static> {
    let t = &app.theme;
    if let Some(what) = saving {
        return Line::from(Span::styled(what.to_string(), t.style(Meaning::Muted)));
    }
    let key = |a: Action| {
        app.keymap
            .first_key(Mode::Form, a)
            .map(|k| k.to_string())
            .unwrap_or_default()
    };
    Line::from(vec![
        Span::styled(key(Action::FormNext), t.style(Meaning::Key)),
        Span::raw(" next  "),
        Span::styled(key(Action::FormPrev), t.style(Meaning::Key)),
        Span::raw(" back  "),
        Span::styled(key(Action::FormSave), t.style(Meaning::Key)),
        Span::raw(" save  "),
        Span::styled(key(Action::FormCancel), t.style(Meaning::Key)),
        Span::raw(" cancel"),
    ])
}
