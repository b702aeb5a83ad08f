//! Campaigns: state and progress of every campaign; the detail shows the message, the
//! schedule and quiet hours, and the outbox by state, failures by cause and skips by reason.

use super::{ListView, field, field_styled, heading, when};
use crate::domain::CampaignStatus;
use crate::store::campaigns::CampaignRow;
use crate::tui::action::PaneId;
use crate::tui::app::{App, group};
use crate::tui::theme::{Meaning, Theme};
use crate::tui::worker::Detail;
use ratatui::layout::Constraint;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Row};

/// The meaning a campaign state is shown with.
pub fn status_meaning(s: CampaignStatus) -> Meaning {
    match s {
        CampaignStatus::Running => Meaning::Ok,
        CampaignStatus::Paused => Meaning::Warn,
        CampaignStatus::Cancelled => Meaning::Error,
        CampaignStatus::Completed | CampaignStatus::Draft => Meaning::Muted,
        CampaignStatus::Scheduled => Meaning::Base,
    }
}

/// The list.
pub fn list(app: &App, height: usize, wide: bool) -> ListView<'static> {
    let t = &app.theme;
    let w = &app.campaigns;
    let (rows, selected) = w.visible(height);
    let rows = rows.iter().map(|c| row(t, c, wide)).collect();
    let (headers, widths) = if wide {
        (
            vec!["Name", "State", "Channel", "List", "Progress"],
            vec![
                Constraint::Fill(3),
                Constraint::Length(10),
                Constraint::Length(10),
                Constraint::Fill(2),
                Constraint::Length(16),
            ],
        )
    } else {
        (
            vec!["Name", "State", "Progress"],
            vec![
                Constraint::Fill(1),
                Constraint::Length(10),
                Constraint::Length(16),
            ],
        )
    };
    ListView {
        title: format!("Campaigns · {}", w.total),
        headers,
        widths,
        rows,
        selected,
        empty: "No campaigns yet. Composing and running campaigns arrives with the engine release.",
        loaded: w.loaded,
    }
}

/// `62% 1 234/2 000` style progress.
fn progress(c: &CampaignRow) -> String {
    if c.counts.total == 0 {
        return "—".into();
    }
    format!(
        "{:>3}% {}/{}",
        (c.counts.progress() * 100.0).floor() as i64,
        group(c.counts.done()),
        group(c.counts.total)
    )
}

fn row(t: &Theme, c: &CampaignRow, wide: bool) -> Row<'static> {
    let mut cells = vec![
        Cell::from(c.name.clone()),
        Cell::from(Span::styled(
            c.status.to_string(),
            t.style(status_meaning(c.status)),
        )),
    ];
    if wide {
        cells.push(Cell::from(c.channel.label()));
        cells.push(Cell::from(c.list_name.clone()));
    }
    cells.push(Cell::from(progress(c)));
    Row::new(cells)
}

/// A text bar of `width` cells filled to `share`.
pub fn bar(share: f64, width: usize, ascii: bool) -> String {
    let filled = ((share.clamp(0.0, 1.0)) * width as f64).round() as usize;
    let (full, empty) = if ascii { ('#', '.') } else { ('█', '░') };
    let mut s: String = std::iter::repeat_n(full, filled).collect();
    s.extend(std::iter::repeat_n(empty, width - filled));
    s
}

/// The detail of the selected campaign.
pub fn detail(app: &App) -> Vec<Line<'static>> {
    let t = &app.theme;
    let Some(c) = app.campaigns.selected() else {
        return vec![Line::from("No campaign selected.")];
    };
    let n = &c.counts;
    let mut out = vec![
        heading(t, &c.name),
        field_styled(
            t,
            "State",
            match &c.status_reason {
                Some(r) => format!("{} ({r})", c.status),
                None => c.status.to_string(),
            },
            status_meaning(c.status),
        ),
        field(
            t,
            "Account",
            format!("{} ({})", c.account_name, c.channel.label()),
        ),
        field(t, "List", c.list_name.clone()),
        field(
            t,
            "Schedule",
            c.schedule_at
                .as_ref()
                .map(when)
                .unwrap_or_else(|| "on start".into()),
        ),
        field(
            t,
            "Quiet hours",
            match (&c.quiet_start, &c.quiet_end) {
                (Some(s), Some(e)) => format!("sends {s}–{e} in each recipient's time zone"),
                _ => "none".into(),
            },
        ),
        field(t, "Created", when(&c.created_at)),
    ];
    if let Some(s) = &c.started_at {
        out.push(field(t, "Started", when(s)));
    }
    if let Some(f) = &c.finished_at {
        out.push(field(t, "Finished", when(f)));
    }
    out.push(Line::from(""));
    out.push(heading(t, "Message"));
    if let Some(name) = &c.wa_template_name {
        out.push(field(
            t,
            "Template",
            format!("{name} ({})", c.wa_template_lang.as_deref().unwrap_or("?")),
        ));
    }
    for l in c.message_text.as_deref().unwrap_or_default().lines() {
        out.push(Line::from(format!("  {l}")));
    }
    out.push(Line::from(""));
    out.push(heading(t, "Outbox"));
    if n.total == 0 {
        out.push(Line::from("  not materialised yet (happens at start)"));
    } else {
        out.push(Line::from(vec![
            Span::raw("  "),
            Span::styled(bar(n.progress(), 24, t.ascii), t.style(Meaning::Gauge)),
            Span::raw(format!(" {:.0}%", n.progress() * 100.0)),
        ]));
        for (label, value, meaning) in [
            ("Recipients", n.total, Meaning::Base),
            ("Queued", n.queued, Meaning::Base),
            ("Sending", n.sending, Meaning::Base),
            ("Sent", n.sent, Meaning::Ok),
            ("Delivered", n.delivered, Meaning::Ok),
            ("Read", n.read, Meaning::Ok),
            (
                "Failed",
                n.failed,
                if n.failed > 0 {
                    Meaning::Error
                } else {
                    Meaning::Base
                },
            ),
            ("Skipped", n.skipped, Meaning::Base),
            (
                "Unknown",
                n.unknown,
                if n.unknown > 0 {
                    Meaning::Warn
                } else {
                    Meaning::Base
                },
            ),
        ] {
            out.push(field_styled(
                t,
                &format!("  {label}"),
                group(value),
                meaning,
            ));
        }
    }
    if let Some((
        PaneId::Campaigns,
        id,
        Detail::Campaign {
            failures,
            skips,
            rate,
            eta,
            preview,
        },
    )) = &app.detail
        && *id == c.id.0
    {
        if *rate > 0.0 || c.status == crate::domain::CampaignStatus::Running {
            out.push(field(
                t,
                "  Rate",
                match eta {
                    Some(e) => format!(
                        "{rate:.1}/s, about {} left",
                        crate::engine::campaigns::duration_words(*e)
                    ),
                    None => format!("{rate:.1}/s over the last minute"),
                },
            ));
        }
        if let Ok(serde_json::Value::Object(left)) = serde_json::from_str(&c.left_out)
            && !left.is_empty()
        {
            out.push(Line::from(""));
            out.push(heading(t, "Left out at start"));
            for (reason, n) in left {
                out.push(field(t, &format!("  {reason}"), n.to_string()));
            }
        }
        if !failures.is_empty() {
            out.push(Line::from(""));
            out.push(heading(t, "Failures by cause"));
            for (class, code, count) in failures {
                out.push(field(
                    t,
                    &format!("  {class}"),
                    format!("code {code}: {}", group(*count)),
                ));
            }
        }
        if !skips.is_empty() {
            out.push(Line::from(""));
            out.push(heading(t, "Skipped by reason"));
            for (reason, count) in skips {
                out.push(field(t, &format!("  {reason}"), group(*count)));
            }
        }
        if !preview.is_empty() {
            out.push(Line::from(""));
            out.push(heading(t, "As subscribers get it"));
            for (name, text) in preview {
                match text {
                    Ok(text) => out.push(field(t, &format!("  {name}"), text.clone())),
                    Err(e) => out.push(field_styled(
                        t,
                        &format!("  {name}"),
                        e.clone(),
                        Meaning::Error,
                    )),
                }
            }
        }
        if n.unknown > 0 {
            out.push(Line::from(Span::styled(
                "  Unknown rows may have reached the platform; they are never re-sent by themselves.",
                t.style(Meaning::Warn),
            )));
        }
    }
    out
}
