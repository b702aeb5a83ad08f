//! Accounts: every messenger account, its channel, state and sending rate. The token is
//! never shown, only whether one is set.

use super::{ListView, field, field_styled, heading, when};
use crate::domain::{AccountStatus, mask};
use crate::store::accounts::AccountRow;
use crate::tui::app::App;
use crate::tui::theme::{Meaning, Theme};
use ratatui::layout::Constraint;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Row};

/// The list.
pub fn list(app: &App, height: usize, wide: bool) -> ListView<'static> {
    let t = &app.theme;
    let w = &app.accounts;
    let (rows, selected) = w.visible(height);
    let rows = rows.iter().map(|a| row(t, a, wide)).collect();
    let (headers, widths) = if wide {
        (
            vec!["Name", "Channel", "State", "Rate/s", "Mode"],
            vec![
                Constraint::Fill(3),
                Constraint::Length(10),
                Constraint::Length(8),
                Constraint::Length(7),
                Constraint::Length(8),
            ],
        )
    } else {
        (
            vec!["Name", "Chan", "State", "Mode"],
            vec![
                Constraint::Fill(1),
                Constraint::Length(9),
                Constraint::Length(7),
                Constraint::Length(8),
            ],
        )
    };
    ListView {
        title: format!("Accounts · {}", w.total),
        headers,
        widths,
        rows,
        selected,
        empty: "No accounts yet. Connecting WhatsApp, Telegram and Instagram accounts arrives with the channels release.",
        loaded: w.loaded,
    }
}

fn row(t: &Theme, a: &AccountRow, wide: bool) -> Row<'static> {
    let state = match a.status {
        AccountStatus::Active => Cell::from(Span::styled("active", t.style(Meaning::Ok))),
        AccountStatus::Paused => Cell::from(Span::styled("paused", t.style(Meaning::Warn))),
    };
    let mode = if a.sandbox {
        Cell::from(Span::styled("SANDBOX", t.style(Meaning::Badge)))
    } else {
        Cell::from("live")
    };
    let mut cells = vec![Cell::from(a.name.clone()), Cell::from(a.channel.label())];
    cells.push(state);
    if wide {
        cells.push(Cell::from(format!("{:>6}", a.effective_rate())));
    }
    cells.push(mode);
    Row::new(cells)
}

/// The detail of the selected account.
pub fn detail(app: &App) -> Vec<Line<'static>> {
    let t = &app.theme;
    let Some(a) = app.accounts.selected() else {
        return vec![Line::from("No account selected.")];
    };
    let mut out = vec![
        heading(t, &a.name),
        field(t, "Channel", a.channel.label()),
        match a.status {
            AccountStatus::Active => field_styled(t, "State", "active", Meaning::Ok),
            AccountStatus::Paused => field_styled(
                t,
                "State",
                format!(
                    "paused: {}",
                    a.status_reason.as_deref().unwrap_or("by the operator")
                ),
                Meaning::Warn,
            ),
        },
        if a.sandbox {
            field_styled(
                t,
                "Mode",
                "SANDBOX (loopback emulator, no real messages)",
                Meaning::Badge,
            )
        } else {
            field(t, "Mode", "live")
        },
        field(
            t,
            "API",
            format!(
                "{} {}",
                a.base_url.as_deref().unwrap_or("official host"),
                a.api_version.as_deref().unwrap_or("")
            ),
        ),
        field(
            t,
            "Token",
            if a.has_secret {
                mask::secret("x")
            } else {
                mask::secret("")
            },
        ),
        field(
            t,
            "Rate",
            format!(
                "{} msg/s{}",
                a.effective_rate(),
                if a.rate_per_sec.is_none() {
                    " (channel default)"
                } else {
                    ""
                }
            ),
        ),
    ];
    if let Some(tier) = a.wa_daily_tier {
        out.push(field(
            t,
            "Daily tier",
            format!("{} unique recipients / 24 h", crate::tui::app::group(tier)),
        ));
    }
    if let Ok(serde_json::Value::Object(settings)) = serde_json::from_str(&a.settings) {
        for (k, v) in settings {
            let v = v
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| v.to_string());
            out.push(field(t, &k.replace('_', " "), v));
        }
    }
    out.push(field(
        t,
        "Health",
        match (&a.health, &a.health_checked_at) {
            (Some(h), Some(at)) => format!("{h} (checked {})", when(at)),
            _ => "not checked yet".into(),
        },
    ));
    out.push(field(t, "Campaigns", format!("{} open", a.open_campaigns)));
    out.push(field(t, "Added", when(&a.created_at)));
    out
}
