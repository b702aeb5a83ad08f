//! License: the licence's state with what to do next, the tariff and how much of it is used
//! today, the paid period, the machine's fingerprint and the sync. `A` activates with a key
//! typed into a masked field, `S` syncs and `X` deactivates (both ask first).

use super::ListView;
use crate::tui::app::App;
use crate::tui::theme::Meaning;
use ratatui::layout::Constraint;
use ratatui::text::{Line, Span};

/// The list of facts.
pub fn list(app: &App, _height: usize, _wide: bool) -> ListView<'static> {
    let t = &app.theme;
    let rows = app
        .license_facts()
        .into_iter()
        .map(|(label, value, _)| {
            let value = if label == "State" {
                use crate::license::state::LicenseState;
                let meaning = match app.licence_state() {
                    LicenseState::Active => Meaning::Ok,
                    LicenseState::Grace { .. } | LicenseState::Unlicensed => Meaning::Warn,
                    _ => Meaning::Error,
                };
                Line::from(Span::styled(value, t.style(meaning)))
            } else {
                Line::from(value)
            };
            vec![Line::from(label), value]
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
