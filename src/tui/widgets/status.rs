//! The status bar: workspace, licence state, engine state, and either the latest notice or
//! the key hints of the current mode (generated from the keymap).

use crate::tui::app::App;
use crate::tui::theme::Meaning;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use unicode_width::UnicodeWidthStr;

use super::text::{truncate, truncate_line};

/// Draws the status bar in one line.
pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let t = &app.theme;
    let bar = t.style(Meaning::StatusBar);
    let sep = t.separator();
    let running = app.overview.as_ref().map_or(0, |o| o.campaigns_running);
    let holder = app
        .overview
        .as_ref()
        .and_then(|o| o.engine_holder.as_deref());
    let engine = match holder {
        Some(h) if Some(h) == app.workspace.engine.as_deref() && running > 0 => {
            match app.live.rate(
                None,
                std::time::Instant::now(),
                std::time::Duration::from_secs(10),
            ) {
                Some(r) if r >= 0.05 => format!("sending {r:.1}/s ({running} running)"),
                _ => format!("sending ({running} running)"),
            }
        }
        Some(h) if Some(h) == app.workspace.engine.as_deref() => "idle".to_string(),
        Some(h) => format!("another process ({h})"),
        None if running > 0 => format!("not running ({running} waiting)"),
        None => "idle".to_string(),
    };
    let licence = app.licence_state().short(chrono::Utc::now());
    let width = area.width as usize;
    // Accounts in trouble come right after the workspace, where a narrow terminal keeps them.
    let head = format!(" {}{sep}", app.workspace.label);
    let alert = app.overview.as_ref().and_then(account_alert);
    let tail = format!("licence: {licence}{sep}engine: {engine}");
    let left = match &alert {
        Some(a) => format!("{head}{a}{sep}{tail}"),
        None => format!("{head}{tail}"),
    };
    // Notices take the whole line until the next key: they matter more than the fields.
    if let Some(last) = app.notices.last() {
        let meaning = if app.notices.iter().any(|n| n.error) || last.error {
            Meaning::Error
        } else {
            Meaning::Warn
        };
        let text: Vec<&str> = app.notices.iter().map(|n| n.text.as_str()).collect();
        let line = Line::from(Span::styled(
            truncate(&format!(" {}", text.join(" · ")), width),
            t.style(meaning),
        ));
        frame.render_widget(line.style(bar), area);
        return;
    }
    let mut spans = match &alert {
        Some(a) => {
            truncate_line(
                Line::from(vec![
                    Span::styled(head, bar),
                    Span::styled(a.clone(), bar.patch(t.style(Meaning::Error))),
                    Span::styled(format!("{sep}{tail}"), bar),
                ]),
                width,
            )
            .spans
        }
        None => vec![Span::styled(truncate(&left, width), bar)],
    };
    let room = width.saturating_sub(left.width() + 2);
    if room > 10 {
        let mut hints: Vec<Span> = Vec::new();
        let mut used = 0;
        for (key, label) in hints_for(app) {
            let w = key.width() + label.width() + 3;
            if used + w > room {
                break;
            }
            used += w;
            hints.push(Span::styled(
                format!(" {key}"),
                t.style(Meaning::Key).patch(bar),
            ));
            hints.push(Span::styled(format!(" {label} "), bar));
        }
        let pad = width.saturating_sub(left.width() + used);
        spans.push(Span::styled(" ".repeat(pad), bar));
        spans.extend(hints);
    }
    frame.render_widget(Line::from(spans).style(bar), area);
}

/// `accounts: 1 halted, 2 failing their token check` when any account needs the operator;
/// the Accounts pane says which and why.
fn account_alert(o: &crate::store::overview::Overview) -> Option<String> {
    let mut parts = Vec::new();
    if o.accounts_halted > 0 {
        parts.push(format!("{} halted", o.accounts_halted));
    }
    match o.accounts_failing {
        0 => {}
        1 => parts.push("1 failing its token check".to_string()),
        n => parts.push(format!("{n} failing their token check")),
    }
    (!parts.is_empty()).then(|| format!("accounts: {}", parts.join(", ")))
}

/// (key, label) pairs for the current mode, in keymap order.
fn hints_for(app: &App) -> Vec<(String, &'static str)> {
    let mode = app.mode();
    let mut out = Vec::new();
    for b in app.keymap.bindings() {
        if b.mode != mode {
            continue;
        }
        if let (Some(label), Some(key)) = (b.action.hint(), b.keys.first()) {
            out.push((key.to_string(), label));
        }
    }
    out
}
