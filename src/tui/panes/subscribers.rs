//! Subscribers: a window over any number of people, with their channels and marketing
//! consent at a glance; the detail shows identities, the full consent history with proof,
//! suppressions, lists and attributes.

use super::{ListView, field, field_styled, heading, when};
use crate::domain::{Channel, ConsentStatus, one_line};
use crate::store::subscribers::SubscriberRow;
use crate::tui::action::PaneId;
use crate::tui::app::{App, group};
use crate::tui::theme::{Meaning, Theme};
use crate::tui::widgets::text::{bar, percent};
use crate::tui::worker::Detail;
use ratatui::layout::Constraint;
use ratatui::text::{Line, Span};

/// The list.
pub fn list(app: &App, height: usize, wide: bool) -> ListView<'static> {
    let t = &app.theme;
    let w = &app.subscribers;
    let (rows, selected) = w.visible(height);
    let rows = rows.iter().map(|s| row(t, s, wide)).collect();
    let list = app
        .selected_list()
        .map(|l| format!(" in {}", l.name))
        .unwrap_or_default();
    let title = match &app.search {
        Some(q) => format!(
            "Subscribers{list} · {} matching “{q}”",
            group(w.total as i64)
        ),
        None => format!("Subscribers{list} · {}", group(w.total as i64)),
    };
    let (headers, widths) = if wide {
        (
            vec!["Name", "Channels", "Marketing", "Lang", "Time zone"],
            vec![
                Constraint::Fill(3),
                Constraint::Length(8),
                Constraint::Length(9),
                Constraint::Length(4),
                Constraint::Fill(2),
            ],
        )
    } else {
        (
            vec!["Name", "Channels", "Marketing"],
            vec![
                Constraint::Fill(1),
                Constraint::Length(8),
                Constraint::Length(9),
            ],
        )
    };
    ListView {
        title,
        headers,
        widths,
        rows,
        selected,
        empty: if app.search.is_some() {
            "Nobody matches the search. Esc clears it."
        } else {
            "No subscribers yet. CSV import arrives with the subscribers release."
        },
        loaded: w.loaded,
    }
}

/// Who can be messaged now per channel, in a few cells (`sendable now W 3 697 · T 1 625 ·
/// I 895`), for the list's title where the lists panel is not shown.
pub fn sendable_brief(app: &App) -> Option<String> {
    let (_, counts) = app.sendable.as_ref()?;
    let parts: Vec<String> = counts
        .iter()
        .map(|(channel, n)| format!("{} {}", channel.badge(), group(*n)))
        .collect();
    Some(format!("sendable now {}", parts.join(" · ")))
}

/// The lists panel: everyone, then each list with its size, then who can be messaged.
pub fn lists_panel(app: &App) -> Vec<Line<'static>> {
    let t = &app.theme;
    let everyone = app.overview.as_ref().map_or(0, |o| o.subscribers);
    let mut out = Vec::new();
    let entries = std::iter::once(("Everyone".to_string(), everyone))
        .chain(app.lists.iter().map(|l| (l.name.clone(), l.members)));
    for (i, (name, n)) in entries.enumerate() {
        let style = if i == app.list_index {
            t.style(Meaning::Selected)
        } else {
            t.style(Meaning::Base)
        };
        let count = group(n);
        let room = 25usize.saturating_sub(count.chars().count() + 1);
        let name = crate::tui::widgets::text::truncate(&name, room);
        let pad = room.saturating_sub(unicode_width::UnicodeWidthStr::width(name.as_str()));
        out.push(Line::from(vec![
            Span::styled(format!("{name}{} ", " ".repeat(pad)), style),
            Span::styled(count, style),
        ]));
    }
    out.push(Line::from(""));
    out.push(heading(t, "Can be messaged now"));
    match &app.sendable {
        Some((_, counts)) => {
            for (channel, n) in counts {
                out.push(field(t, &format!("  {}", channel.label()), group(*n)));
            }
            out.push(Line::from(Span::styled(
                "consent, not suppressed",
                t.style(Meaning::Muted),
            )));
        }
        None => out.push(Line::from(Span::styled(
            "  counting…",
            t.style(Meaning::Muted),
        ))),
    }
    out
}

/// The import box: progress while it runs, the outcome when it is done.
pub fn import_lines(app: &App) -> Vec<Line<'static>> {
    let t = &app.theme;
    let Some(i) = &app.import else {
        return Vec::new();
    };
    match &i.result {
        None => {
            let share = if i.progress.total_bytes > 0 {
                i.progress.bytes_read as f64 / i.progress.total_bytes as f64
            } else {
                0.0
            };
            vec![
                Line::from(format!("{} → {}", i.path, i.list)),
                Line::from(vec![
                    Span::styled(bar(share, 20, t.ascii), t.style(Meaning::Gauge)),
                    Span::raw(format!(
                        " {}% · {} rows",
                        percent(share),
                        group(i.progress.rows as i64)
                    )),
                ]),
            ]
        }
        Some(Ok(s)) => {
            let mut lines = vec![Line::from(Span::styled(
                format!(
                    "into “{}”: {} new · {} updated · {} unchanged · {} rejected",
                    i.list,
                    group(s.imported as i64),
                    group(s.updated as i64),
                    group(s.unchanged as i64),
                    group(s.rejected as i64)
                ),
                t.style(Meaning::Ok),
            ))];
            if s.rejected > 0 {
                // Most frequent reason first.
                let mut reasons: Vec<(&String, &u64)> = s.rejected_by_reason.iter().collect();
                reasons.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
                let reasons: Vec<String> = reasons
                    .into_iter()
                    .map(|(r, n)| format!("{r} {}", group(*n as i64)))
                    .collect();
                lines.push(Line::from(Span::styled(
                    format!("rejected: {}", reasons.join(" · ")),
                    t.style(Meaning::Warn),
                )));
            }
            lines.push(Line::from(match &s.rejects_file {
                Some(r) if s.rejected > 0 => format!("rows and reasons in {r} · Esc closes"),
                _ => "Esc closes".to_string(),
            }));
            lines
        }
        Some(Err(e)) => vec![
            Line::from(Span::styled(
                format!("import failed: {e}"),
                t.style(Meaning::Error),
            )),
            Line::from("Esc closes · i tries another file"),
        ],
    }
}

/// Channel badges, e.g. `W T ·`: one place per channel so columns line up.
fn badges(t: &Theme, have: &[Channel], meaning: Meaning, suppressed: &[Channel]) -> Line<'static> {
    let mut spans = Vec::new();
    for c in Channel::ALL {
        let (text, m) = if suppressed.contains(&c) && have.contains(&c) {
            ("x".to_string(), Meaning::Error)
        } else if have.contains(&c) {
            (c.badge().to_string(), meaning)
        } else {
            ("·".to_string(), Meaning::Muted)
        };
        spans.push(Span::styled(text, t.style(m)));
        spans.push(Span::raw(" "));
    }
    Line::from(spans)
}

fn row(t: &Theme, s: &SubscriberRow, wide: bool) -> Vec<Line<'static>> {
    let suppressed = s.suppressed_list();
    let mut cells = vec![
        Line::from(one_line(&s.name).into_owned()),
        badges(t, &s.channel_list(), Meaning::Base, &[]),
        badges(t, &s.marketing_list(), Meaning::Ok, &suppressed),
    ];
    if wide {
        cells.push(Line::from(s.locale.clone().unwrap_or_default()));
        cells.push(Line::from(s.time_zone.clone().unwrap_or_default()));
    }
    cells
}

/// The detail of the selected subscriber.
pub fn detail(app: &App) -> Vec<Line<'static>> {
    let t = &app.theme;
    let Some(selected) = app.subscribers.selected() else {
        return vec![Line::from("No subscriber selected.")];
    };
    let d = match &app.detail {
        Some((PaneId::Subscribers, id, Detail::Subscriber(d))) if *id == selected.id.0 => d,
        _ => {
            return vec![
                heading(t, &one_line(&selected.name)),
                Line::from(Span::styled("loading…", t.style(Meaning::Muted))),
            ];
        }
    };
    let mut out = vec![
        heading(t, &one_line(&d.row.name)),
        field(
            t,
            "Language",
            d.row.locale.clone().unwrap_or_else(|| "—".into()),
        ),
        field(
            t,
            "Time zone",
            d.row.time_zone.clone().unwrap_or_else(|| "—".into()),
        ),
        field(
            t,
            "Lists",
            if d.lists.is_empty() {
                "—".into()
            } else {
                d.lists.join(", ")
            },
        ),
        field(t, "Added", when(&d.created_at)),
        Line::from(""),
        heading(t, "Identities"),
    ];
    if d.identities.is_empty() {
        out.push(Line::from("  none: cannot be messaged"));
    }
    for i in &d.identities {
        let label = i.channel.label().to_string();
        match &i.suppressed {
            Some(reason) => out.push(field_styled(
                t,
                &label,
                format!("{}  SUPPRESSED: {reason}", i.address),
                Meaning::Error,
            )),
            None => out.push(field(t, &label, i.address.clone())),
        }
    }
    // The key that stops (or lifts) messaging this person is named where it matters.
    if let Some(key) = app
        .keymap
        .first_key(
            crate::tui::keymap::Mode::Normal,
            crate::tui::action::Action::OptOut,
        )
        .filter(|_| !d.identities.is_empty())
    {
        let all = d.identities.iter().all(|i| i.suppressed.is_some());
        out.push(Line::from(Span::styled(
            if all {
                format!("  {key} lifts the suppression (asks why)")
            } else {
                format!("  {key} stops messaging them (asks why)")
            },
            t.style(Meaning::Muted),
        )));
    }
    out.push(Line::from(""));
    out.push(heading(t, "Consent history (newest first)"));
    if d.consents.is_empty() {
        out.push(Line::from(Span::styled(
            "  no consent recorded: never messaged",
            t.style(Meaning::Warn),
        )));
    }
    for c in &d.consents {
        let meaning = match c.status {
            ConsentStatus::Granted => Meaning::Ok,
            ConsentStatus::Withdrawn => Meaning::Warn,
        };
        out.push(Line::from(vec![
            Span::styled(format!("  {} ", when(&c.at)), t.style(Meaning::Muted)),
            Span::styled(format!("{} ", c.status), t.style(meaning)),
            Span::raw(format!("{} {} · {}", c.channel.label(), c.scope, c.source)),
        ]));
        if !c.proof.is_empty() {
            out.push(Line::from(Span::styled(
                format!(
                    "      proof: {} (recorded by {})",
                    one_line(&c.proof),
                    c.recorded_by
                ),
                t.style(Meaning::Muted),
            )));
        }
    }
    out.push(Line::from(""));
    out.push(heading(t, "Campaign messages (newest first)"));
    if d.messages.is_empty() {
        out.push(Line::from("  none"));
    }
    for m in &d.messages {
        use crate::domain::OutboxState as O;
        let meaning = match m.state {
            O::Sent | O::Delivered | O::Read => Meaning::Ok,
            O::Failed => Meaning::Error,
            O::Skipped | O::Unknown => Meaning::Warn,
            O::Queued | O::Sending => Meaning::Muted,
        };
        let mut spans = vec![
            Span::styled(format!("  {} ", when(&m.at)), t.style(Meaning::Muted)),
            Span::styled(format!("{} ", m.state), t.style(meaning)),
            Span::raw(format!("{} · {}", one_line(&m.campaign), m.channel.label())),
        ];
        if let Some(why) = m.why.as_deref().filter(|w| !w.is_empty()) {
            spans.push(Span::styled(
                format!(" · {}", one_line(why)),
                t.style(Meaning::Muted),
            ));
        }
        out.push(Line::from(spans));
    }
    if !d.attributes.is_empty() {
        out.push(Line::from(""));
        out.push(heading(t, "Attributes"));
        for (k, v) in &d.attributes {
            let v = v
                .as_str()
                .map(|v| one_line(v).into_owned())
                .unwrap_or_else(|| v.to_string());
            out.push(field(t, &one_line(k), v));
        }
    }
    out
}
