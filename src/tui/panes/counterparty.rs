//! Counterparty: the history of checks of BIN/IIN/INN/OGRN/IBAN/BIC numbers, newest last,
//! with what each result said.

use super::{ListView, field, field_styled, heading, when};
use crate::tui::app::App;
use crate::tui::theme::Meaning;
use ratatui::layout::Constraint;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Row};

/// The list.
pub fn list(app: &App, height: usize, wide: bool) -> ListView<'static> {
    let t = &app.theme;
    let w = &app.lookups;
    let (rows, selected) = w.visible(height);
    let rows = rows
        .iter()
        .map(|l| {
            let valid = if l.valid {
                Span::styled("valid", t.style(Meaning::Ok))
            } else {
                Span::styled("invalid", t.style(Meaning::Error))
            };
            let mut cells = vec![
                Cell::from(l.normalized.clone()),
                Cell::from(l.kind.clone()),
                Cell::from(valid),
            ];
            if wide {
                cells.push(Cell::from(l.summary.clone()));
            }
            Row::new(cells)
        })
        .collect();
    let (headers, widths) = if wide {
        (
            vec!["Number", "Kind", "Result", "Summary"],
            vec![
                Constraint::Length(14),
                Constraint::Length(10),
                Constraint::Length(8),
                Constraint::Fill(1),
            ],
        )
    } else {
        (
            vec!["Number", "Kind", "Result"],
            vec![
                Constraint::Fill(1),
                Constraint::Length(10),
                Constraint::Length(8),
            ],
        )
    };
    ListView {
        title: format!("Checks · {}", w.total),
        headers,
        widths,
        rows,
        selected,
        empty: "No checks yet. `clever check` arrives with the counterparty release.",
        loaded: w.loaded,
    }
}

/// The detail of the selected check.
pub fn detail(app: &App) -> Vec<Line<'static>> {
    let t = &app.theme;
    let Some(l) = app.lookups.selected() else {
        return vec![Line::from("No check selected.")];
    };
    let mut out = vec![
        heading(t, &l.normalized),
        field(t, "Typed as", l.input.clone()),
        field(t, "Kind", l.kind.clone()),
        if l.valid {
            field_styled(t, "Result", "valid", Meaning::Ok)
        } else {
            field_styled(t, "Result", "invalid", Meaning::Error)
        },
        field(t, "Checked", when(&l.checked_at)),
        Line::from(""),
        Line::from(l.summary.clone()),
    ];
    if let Ok(serde_json::Value::Object(detail)) = serde_json::from_str(&l.detail) {
        if !detail.is_empty() {
            out.push(Line::from(""));
        }
        for (k, v) in detail {
            let v = v
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| v.to_string());
            out.push(field(t, &k.replace('_', " "), v));
        }
    }
    out
}
