//! Counterparty: the history of checks (newest last) with a result card for the selected
//! one: what the number is and encodes, who the registries say it is, traffic-light flags
//! each with its source and date, and what every source answered ("not checked" when it
//! could not). While a number is typed (`c`) it is validated on every key.

use super::{ListView, field, field_styled, heading, when};
use crate::counterparty::check::{self, CheckResult};
use crate::counterparty::risk::Level;
use crate::counterparty::sources::SourceStatus;
use crate::tui::app::App;
use crate::tui::theme::{Meaning, Theme};
use ratatui::layout::Constraint;
use ratatui::text::{Line, Span};

/// The worst flag in words and its meaning, or what is known without one.
fn risk(r: Option<&CheckResult>) -> (String, Meaning) {
    let Some(r) = r else {
        return (String::new(), Meaning::Muted);
    };
    if !r.valid {
        return ("—".into(), Meaning::Muted);
    }
    let red = r.flags.iter().filter(|f| f.level == Level::Red).count();
    let amber = r.flags.len() - red;
    if red > 0 {
        (format!("RED {red}"), Meaning::Error)
    } else if amber > 0 {
        (format!("AMBER {amber}"), Meaning::Warn)
    } else if r.sources.is_empty() || r.not_checked().next().is_some() {
        ("not checked".into(), Meaning::Muted)
    } else {
        ("no flags".into(), Meaning::Ok)
    }
}

/// The list.
pub fn list(app: &App, height: usize, wide: bool) -> ListView<'static> {
    let t = &app.theme;
    let w = &app.lookups;
    let (rows, selected) = w.visible(height);
    let rows = rows
        .iter()
        .map(|l| {
            let result = l.result();
            let valid = if l.valid {
                Span::styled("valid", t.style(Meaning::Ok))
            } else {
                Span::styled("invalid", t.style(Meaning::Error))
            };
            let (risk, meaning) = risk(result.as_ref());
            let mut cells = vec![
                Line::from(l.normalized.clone()),
                Line::from(valid),
                Line::from(Span::styled(risk, t.style(meaning))),
            ];
            if wide {
                cells.insert(1, Line::from(short_kind(&l.kind)));
                cells.push(Line::from(l.summary.clone()));
            }
            cells
        })
        .collect();
    let (headers, widths) = if wide {
        (
            vec!["Number", "Kind", "Result", "Risk", "Summary"],
            vec![
                Constraint::Length(20),
                Constraint::Length(6),
                Constraint::Length(7),
                Constraint::Length(11),
                Constraint::Fill(1),
            ],
        )
    } else {
        (
            vec!["Number", "Result", "Risk"],
            vec![
                Constraint::Fill(1),
                Constraint::Length(7),
                Constraint::Length(11),
            ],
        )
    };
    let mut title = format!("Checks · {}", w.total);
    if let Some(s) = &app.lookup_search {
        title.push_str(&format!(" matching “{s}” · Esc all"));
    }
    if let Some(n) = &app.checking {
        title.push_str(&format!(" · checking {n}…"));
    } else {
        title.push_str(" · c check · / search · E export");
    }
    ListView {
        title,
        headers,
        widths,
        rows,
        selected,
        empty: "No checks yet. Press c and paste a BIN, IIN, INN, OGRN, IBAN or BIC.",
        loaded: w.loaded,
    }
}

fn short_kind(kind: &str) -> &'static str {
    match kind {
        "kz_iin" => "IIN",
        "kz_bin" => "BIN",
        "ru_inn" => "INN",
        "ru_ogrn" => "OGRN",
        "ru_ogrnip" => "OGRNIP",
        "iban" => "IBAN",
        "bic" => "BIC",
        _ => "?",
    }
}

/// The verdict on what is typed so far, under the field.
pub fn as_typed(app: &App, text: &str) -> Vec<Line<'static>> {
    let t = &app.theme;
    if text.trim().is_empty() {
        return vec![Line::from(Span::styled(
            "spaces, dashes and dots are fine; Enter asks the registries and the risk lists",
            t.style(Meaning::Muted),
        ))];
    }
    let r = check::offline(text, app.workspace.country, chrono::Utc::now());
    let mut first = Vec::new();
    if r.kind != "unknown" {
        first.push(Span::raw(format!("{} ", check::kind_label(&r.kind))));
    }
    if r.valid {
        first.push(Span::styled("valid", t.style(Meaning::Ok)));
        for (label, value) in r.facts().into_iter().skip(1) {
            first.push(Span::raw(format!(" · {} {value}", label.to_lowercase())));
        }
    } else {
        first.push(Span::styled(
            format!("invalid: {}", r.errors.join("; ")),
            t.style(Meaning::Error),
        ));
    }
    let mut out = vec![Line::from(first)];
    if let Some(w) = r.warnings.first() {
        out.push(Line::from(Span::styled(w.clone(), t.style(Meaning::Warn))));
    }
    out
}

/// The detail of the selected check: its result card.
pub fn detail(app: &App) -> Vec<Line<'static>> {
    let t = &app.theme;
    let Some(l) = app.lookups.selected() else {
        return vec![Line::from("No check selected.")];
    };
    let mut out = vec![
        heading(t, &l.normalized),
        if l.valid {
            field_styled(t, "Result", "valid", Meaning::Ok)
        } else {
            field_styled(t, "Result", "invalid", Meaning::Error)
        },
        field(
            t,
            "Checked",
            if l.checked_by.is_empty() {
                when(&l.checked_at)
            } else {
                format!("{} by {}", when(&l.checked_at), l.checked_by)
            },
        ),
    ];
    if l.input != l.normalized {
        out.push(field(t, "Typed as", l.input.clone()));
    }
    let Some(r) = l.result() else {
        out.push(Line::from(""));
        out.push(Line::from(l.summary.clone()));
        return out;
    };
    card(t, &r, &mut out);
    out
}

/// Errors, facts, flags and sources of a result.
fn card(t: &Theme, r: &CheckResult, out: &mut Vec<Line<'static>>) {
    for e in &r.errors {
        out.push(Line::from(Span::styled(e.clone(), t.style(Meaning::Error))));
    }
    for w in &r.warnings {
        out.push(Line::from(Span::styled(
            format!("⚠ {w}"),
            t.style(Meaning::Warn),
        )));
    }
    out.push(Line::from(""));
    for (label, value) in r.facts() {
        out.push(field(t, label, value));
    }
    if r.valid && !r.sources.is_empty() {
        out.push(Line::from(""));
        out.push(heading(t, "Flags"));
        if r.flags.is_empty() {
            let (text, meaning) = if r.not_checked().next().is_some() {
                (
                    "none found, but not every source was checked (below)",
                    Meaning::Muted,
                )
            } else {
                ("none in the sources checked", Meaning::Ok)
            };
            out.push(Line::from(Span::styled(text, t.style(meaning))));
        }
        for f in &r.flags {
            let (label, meaning) = match f.level {
                Level::Red => ("● RED   ", Meaning::Error),
                Level::Amber => ("▲ AMBER ", Meaning::Warn),
            };
            out.push(Line::from(vec![
                Span::styled(label, t.style(meaning)),
                Span::raw(check::flag_line(f)),
            ]));
        }
        out.push(Line::from(""));
        out.push(heading(t, "Sources"));
        for s in &r.sources {
            let meaning = match s.status {
                SourceStatus::Ok | SourceStatus::NotFound => Meaning::Ok,
                SourceStatus::Skipped | SourceStatus::NoKey => Meaning::Muted,
                _ => Meaning::Warn,
            };
            out.push(Line::from(vec![
                Span::raw(format!("{:<22} ", s.source)),
                Span::styled(check::status_label(s), t.style(meaning)),
            ]));
            if let Some(m) = &s.message {
                out.push(Line::from(Span::styled(
                    format!("  {m}"),
                    t.style(Meaning::Muted),
                )));
            }
        }
    }
}
