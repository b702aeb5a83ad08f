//! License: what the licence allows and how much of it is used. Until the licensing
//! release this shows the state as not activated, with the real usage figures of the
//! workspace that tariffs will limit.

use super::ListView;
use crate::tui::app::App;
use crate::tui::theme::Meaning;
use ratatui::layout::Constraint;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Row};

/// The list of facts.
pub fn list(app: &App, _height: usize, _wide: bool) -> ListView<'static> {
    let t = &app.theme;
    let rows = app
        .license_facts()
        .into_iter()
        .map(|(label, value, _)| {
            let value = if label == "State" {
                Cell::from(Span::styled(value, t.style(Meaning::Warn)))
            } else {
                Cell::from(value)
            };
            Row::new(vec![Cell::from(label), value])
        })
        .collect();
    ListView {
        title: "License".into(),
        headers: vec!["", ""],
        widths: vec![Constraint::Length(14), Constraint::Fill(1)],
        rows,
        selected: Some(app.license_cursor),
        empty: "",
        loaded: true,
    }
}

/// The explanation of the selected fact.
pub fn detail(app: &App) -> Vec<Line<'static>> {
    let facts = app.license_facts();
    let Some((label, value, why)) = facts.get(app.license_cursor) else {
        return Vec::new();
    };
    let t = &app.theme;
    let mut out = vec![
        Line::from(Span::styled(label.to_string(), t.style(Meaning::Header))),
        Line::from(value.clone()),
        Line::from(""),
    ];
    out.extend(why.lines().map(|l| Line::from(l.to_string())));
    out
}
