//! Campaigns: state and progress of every campaign; the detail shows the message, the
//! schedule and quiet hours, and the outbox by state, failures by cause and skips by reason.

use super::{ListView, field, field_styled, form_hint, heading, when};
use crate::domain::states::{is_halt_reason, pause_words};
use crate::domain::{AccountStatus, CampaignStatus, one_line};
use crate::store::campaigns::CampaignRow;
use crate::tui::action::PaneId;
use crate::tui::app::{App, group};
use crate::tui::campaign_form::{CampaignForm, Row};
use crate::tui::theme::{Meaning, Theme};
use crate::tui::widgets::popup;
use crate::tui::widgets::text::{bar, percent};
use crate::tui::worker::{Detail, HISTORY_BUCKET, HISTORY_BUCKETS};
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

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
        empty: "No campaigns yet. Press n to compose one.",
        loaded: w.loaded,
    }
}

/// The account it sends from; when that account is paused or halted and the campaign not
/// over, why, and that nothing goes out until the account is resumed.
fn account_field(t: &Theme, c: &CampaignRow) -> Line<'static> {
    let name = c.channel.account_label(&c.account_name);
    if c.account_status != AccountStatus::Paused || c.status.is_final() {
        return field(t, "Account", name);
    }
    let why = c.account_reason.as_deref();
    let (meaning, fix) = if is_halt_reason(why) {
        (Meaning::Error, "fix it and resume it")
    } else {
        (Meaning::Warn, "resume it")
    };
    field_styled(
        t,
        "Account",
        format!(
            "{name} — {}. Nothing is sent until you {fix} in Accounts",
            pause_words(why)
        ),
        meaning,
    )
}

/// `62% 1 234/2 000` style progress.
fn progress(c: &CampaignRow) -> String {
    if c.counts.total == 0 {
        return "—".into();
    }
    format!(
        "{:>3}% {}/{}",
        percent(c.counts.progress()),
        group(c.counts.done()),
        group(c.counts.total)
    )
}

fn row(t: &Theme, c: &CampaignRow, wide: bool) -> Vec<Line<'static>> {
    let mut cells = vec![
        Line::from(c.name.clone()),
        Line::from(Span::styled(
            c.status.to_string(),
            t.style(status_meaning(c.status)),
        )),
    ];
    if wide {
        cells.push(Line::from(c.channel.label()));
        cells.push(Line::from(c.list_name.clone()));
    }
    cells.push(Line::from(progress(c)));
    cells
}

/// Counts as a row of bars, one cell each, scaled to the largest.
pub fn sparkline(values: &[i64], ascii: bool) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    const ASCII: [char; 8] = ['_', '.', ':', '-', '=', '+', '*', '#'];
    let bars = if ascii { ASCII } else { BARS };
    let peak = values.iter().copied().max().unwrap_or(0).max(1);
    values
        .iter()
        .map(|&v| {
            if v <= 0 {
                ' '
            } else {
                bars[((v * 8 - 1) / peak).clamp(0, 7) as usize]
            }
        })
        .collect()
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
        account_field(t, c),
        field(t, "List", c.list_name.clone()),
        field(
            t,
            "Schedule",
            c.schedule_at
                .as_ref()
                .map(super::when_zoned)
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
        let params = c.template_params();
        if params.is_empty() {
            out.push(field(t, "Parameters", "none".to_string()));
        }
        for (k, p) in params.iter().enumerate() {
            out.push(field(t, &format!("{{{{{}}}}}", k + 1), p.clone()));
        }
    }
    for l in c.message_text.as_deref().unwrap_or_default().lines() {
        out.push(Line::from(format!("  {l}")));
    }
    out.push(Line::from(""));
    out.push(heading(t, "Outbox"));
    if n.total == 0 {
        out.push(Line::from(
            "  made at start: s counts whom it reaches now, then asks before starting",
        ));
    } else {
        out.push(Line::from(vec![
            Span::raw("  "),
            Span::styled(bar(n.progress(), 24, t.ascii), t.style(Meaning::Gauge)),
            Span::raw(format!(" {}%", percent(n.progress()))),
        ]));
        let waiting = app
            .waiting
            .filter(|(w, _, (later, _))| *w == c.id.0 && *later > 0 && !c.status.is_final())
            .map(|(_, _, w)| w);
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
            // Unknown rows are never sent again by themselves: the key that does it is named.
            let value = if label == "Unknown" && value > 0 {
                format!(
                    "{} · may have reached the platform; U sends again",
                    group(value)
                )
            } else if label == "Queued"
                && let Some((later, first)) = waiting
            {
                // Why a running campaign sends nothing: its rows wait for their window.
                format!(
                    "{} · {} wait till {}",
                    group(value),
                    group(later),
                    first.as_ref().map_or_else(|| "later".into(), when)
                )
            } else {
                group(value)
            };
            out.push(field_styled(t, &format!("  {label}"), value, meaning));
        }
    }
    if let Some((
        PaneId::Campaigns,
        id,
        Detail::Campaign {
            failures,
            failure_rows,
            history,
            skips,
            rate,
            preview,
            ..
        },
    )) = &app.detail
        && *id == c.id.0
    {
        // This process's engine gives the rate live; otherwise the database's figures.
        let now = std::time::Instant::now();
        let rate = app
            .live
            .rate(Some(c.id), now, std::time::Duration::from_secs(60))
            .or(*rate)
            .unwrap_or(0.0);
        let bucket = std::time::Duration::from_secs(HISTORY_BUCKET as u64);
        let history = app
            .live
            .history(Some(c.id), now, bucket, HISTORY_BUCKETS)
            .or_else(|| history.clone())
            .unwrap_or_default();
        // The busiest span among those seen whole: live figures start when this console's
        // engine did, so older spans are only partly counted.
        let whole = app
            .live
            .whole_buckets(now, bucket)
            .unwrap_or(HISTORY_BUCKETS)
            .min(history.len());
        let peak = history[history.len() - whole..].iter().copied().max();
        let left = n.queued + n.sending;
        let eta = (rate > 0.0 && left > 0).then(|| (left as f64 / rate).ceil() as i64);
        if rate > 0.0 || c.status == crate::domain::CampaignStatus::Running {
            out.push(field(
                t,
                "  Rate",
                match eta {
                    Some(e) => format!(
                        "{rate:.1}/s, about {} left",
                        crate::engine::campaigns::duration_words(e)
                    ),
                    None => format!("{rate:.1}/s over the last minute"),
                },
            ));
        }
        if history.iter().any(|n| *n > 0) {
            // As many whole minutes as fit beside the label, newest on the right: a line that
            // wrapped would put the latest bars under the label.
            let per_minute = (60 / HISTORY_BUCKET) as usize;
            let room = usize::from(app.detail_width.get()).saturating_sub(16);
            let shown = (room / per_minute * per_minute)
                .max(per_minute)
                .min(history.len());
            out.push(Line::from(vec![
                Span::styled(
                    format!(
                        "{:<15} ",
                        format!("  Last {} min", shown.div_ceil(per_minute))
                    ),
                    t.style(Meaning::Muted),
                ),
                Span::styled(
                    sparkline(&history[history.len() - shown..], t.ascii),
                    t.style(Meaning::Gauge),
                ),
            ]));
            if let Some(peak) = peak {
                out.push(field(
                    t,
                    "  Busiest",
                    format!(
                        "{:.1}/s over {HISTORY_BUCKET} s",
                        peak as f64 / HISTORY_BUCKET as f64
                    ),
                ));
            }
        }
        if let Ok(serde_json::Value::Object(left)) = serde_json::from_str(&c.left_out)
            && !left.is_empty()
        {
            out.push(Line::from(""));
            out.push(heading(t, "Left out at start"));
            let left: Vec<(String, i64)> = left
                .iter()
                .map(|(reason, n)| (reason.clone(), n.as_i64().unwrap_or(0)))
                .collect();
            out.extend(by_reason(t, &left));
        }
        if !failures.is_empty() {
            out.push(Line::from(""));
            out.push(heading(t, "Failures by cause"));
            for f in failures {
                out.push(field(
                    t,
                    &format!("  {}", f.class),
                    format!("{}: {}", f.describe(), group(f.count)),
                ));
                let rows: Vec<_> = failure_rows.iter().filter(|r| f.covers(r)).collect();
                for r in &rows {
                    let name = if r.name.is_empty() {
                        "(no name)".into()
                    } else {
                        one_line(&r.name)
                    };
                    out.push(Line::from(Span::styled(
                        format!("    #{} {name} · {}", r.subscriber_id, r.address),
                        t.style(Meaning::Muted),
                    )));
                }
                let more = f.count - rows.len() as i64;
                if more > 0 && !rows.is_empty() {
                    out.push(Line::from(Span::styled(
                        format!(
                            "    … {} more: clever campaigns report {} lists every row",
                            group(more),
                            c.id
                        ),
                        t.style(Meaning::Muted),
                    )));
                }
            }
        }
        if !skips.is_empty() {
            out.push(Line::from(""));
            out.push(heading(t, "Skipped by reason"));
            out.extend(by_reason(t, skips));
        }
        if !preview.is_empty() {
            out.push(Line::from(""));
            out.push(heading(t, "As subscribers get it"));
            // As the form shows it: a name is often wider than a field's label.
            for (name, text) in preview {
                let (text, meaning) = match text {
                    Ok(text) => (text.replace('\n', " ⏎ "), Meaning::Base),
                    Err(e) => (e.clone(), Meaning::Error),
                };
                out.push(Line::from(vec![
                    Span::styled(format!("  {}: ", one_line(name)), t.style(Meaning::Muted)),
                    Span::styled(text, t.style(meaning)),
                ]));
            }
        }
    }
    out
}

/// Draws the campaign form over the pane: the rows, each problem under its row, then the
/// message as the list's first subscribers get it and the content policy's verdict, then
/// the keys.
pub fn draw_form(frame: &mut Frame, area: Rect, app: &App, form: &CampaignForm) {
    let t = &app.theme;
    const LABEL: u16 = 14;
    let width = 96.min(area.width.saturating_sub(2)).max(30);
    let rect = popup::centered(area, width, area.height.saturating_sub(2).max(8));
    let block = popup::frame_block(t, "New campaign");
    let inner = block.inner(rect);
    frame.render_widget(Clear, rect);
    frame.render_widget(block, rect);
    let bottom = inner.y + inner.height;
    // The keys keep the last line; everything else fits above it.
    let last = bottom.saturating_sub(1);
    let mut y = inner.y;
    let label_style = |focused: bool| {
        if focused {
            t.style(Meaning::Title)
        } else {
            t.style(Meaning::Muted)
        }
    };
    // A block of wrapped text: as many lines as it needs, within what is left.
    let text_width = inner.width.max(1) as usize;
    let wrapped = |frame: &mut Frame, y: &mut u16, line: Line<'static>| {
        for row in crate::tui::widgets::text::wrap_hanging(vec![line], text_width) {
            if *y >= last {
                break;
            }
            frame.render_widget(Paragraph::new(row), Rect::new(inner.x, *y, inner.width, 1));
            *y += 1;
        }
    };
    // The message gets what is left after the other rows, the preview and policy lines.
    let message_height = (last.saturating_sub(inner.y) / 4).clamp(1, 6);
    for row in Row::ALL {
        if y >= last {
            break;
        }
        let focused = form.focus == row;
        let marker = if focused { "› " } else { "  " };
        frame.render_widget(
            Paragraph::new(Span::styled(
                format!("{marker}{}", form.label(row)),
                label_style(focused),
            )),
            Rect::new(inner.x, y, LABEL.min(inner.width), 1),
        );
        let height = if row == Row::Message {
            message_height.min(last - y)
        } else {
            1
        };
        let value = Rect::new(
            inner.x + LABEL.min(inner.width),
            y,
            inner.width.saturating_sub(LABEL),
            height,
        );
        let pick = |text: String| {
            let mut spans = vec![Span::styled(text, t.style(Meaning::Selected))];
            if focused {
                spans.push(Span::styled("  ← →", t.style(Meaning::Key)));
            }
            Paragraph::new(Line::from(spans))
        };
        match row {
            Row::Name => frame.render_widget(&form.name, value),
            Row::Template => frame.render_widget(&form.template, value),
            Row::Message => frame.render_widget(&form.message, value),
            Row::Schedule => frame.render_widget(&form.schedule, value),
            Row::Quiet => frame.render_widget(&form.quiet, value),
            Row::List => frame.render_widget(
                match form.chosen_list() {
                    Some(l) => pick(format!(
                        "{} ({} subscribers)",
                        l.name,
                        crate::tui::app::group(l.members)
                    )),
                    None => Paragraph::new("no lists yet"),
                },
                value,
            ),
            Row::Account => frame.render_widget(
                match (&form.accounts, form.chosen_account()) {
                    (_, Some(a)) => pick(a.channel.account_label(&a.name)),
                    (None, None) => Paragraph::new("loading…"),
                    (Some(_), None) => Paragraph::new("no accounts yet"),
                },
                value,
            ),
        }
        y += height;
        if let Some(e) = form.error_of(row) {
            wrapped(
                frame,
                &mut y,
                Line::from(Span::styled(format!("  ⚠ {e}"), t.style(Meaning::Error))),
            );
        }
    }
    if y + 1 < last {
        y += 1;
        wrapped(frame, &mut y, heading(t, "As subscribers get it"));
    }
    // What stops the save comes first, so a small terminal shows it before the preview.
    if let Some(e) = &form.error {
        wrapped(
            frame,
            &mut y,
            Line::from(Span::styled(format!("  ⚠ {e}"), t.style(Meaning::Error))),
        );
    }
    let typed = !form.message_text().is_empty() || form.template_mode();
    if typed {
        for p in &form.problems {
            wrapped(
                frame,
                &mut y,
                Line::from(Span::styled(format!("  ⚠ {p}"), t.style(Meaning::Error))),
            );
        }
    }
    match &form.samples {
        _ if !typed => wrapped(
            frame,
            &mut y,
            Line::from(Span::styled(
                "  type the message to see it here",
                t.style(Meaning::Muted),
            )),
        ),
        None => wrapped(
            frame,
            &mut y,
            Line::from(Span::styled(
                "  loading subscribers…",
                t.style(Meaning::Muted),
            )),
        ),
        Some((_, samples)) if samples.is_empty() => wrapped(
            frame,
            &mut y,
            Line::from(Span::styled(
                "  the list has no subscribers yet",
                t.style(Meaning::Muted),
            )),
        ),
        Some(_) => {
            for (name, text) in &form.preview {
                let (text, meaning) = match text {
                    Ok(text) => (text.replace('\n', " ⏎ "), Meaning::Base),
                    Err(e) => (e.clone(), Meaning::Error),
                };
                wrapped(
                    frame,
                    &mut y,
                    Line::from(vec![
                        Span::styled(format!("  {}: ", one_line(name)), t.style(Meaning::Muted)),
                        Span::styled(text, t.style(meaning)),
                    ]),
                );
            }
        }
    }
    if typed {
        if form.text_on_whatsapp() {
            wrapped(
                frame,
                &mut y,
                Line::from(Span::styled(
                    "  WhatsApp delivers a text only to those who wrote in the last 24 hours; \
                     a template (above) reaches everyone who consented",
                    t.style(Meaning::Warn),
                )),
            );
        }
        if form.problems.is_empty() {
            wrapped(
                frame,
                &mut y,
                Line::from(Span::styled(
                    "  ✓ writable for the sampled subscribers; no content policy hits",
                    t.style(Meaning::Ok),
                )),
            );
        }
    }
    if last >= inner.y && last < bottom {
        let hint = form_hint(
            app,
            form.saving.then_some("checking and saving the campaign…"),
        );
        frame.render_widget(
            Paragraph::new(hint),
            Rect::new(inner.x, last, inner.width, 1),
        );
    }
}

/// Counts by reason, the reasons padded to the longest so the counts line up whatever
/// the reasons' lengths.
fn by_reason(t: &Theme, counts: &[(String, i64)]) -> Vec<Line<'static>> {
    use unicode_width::UnicodeWidthStr;
    let width = counts.iter().map(|(r, _)| r.width()).max().unwrap_or(0);
    let digits = counts
        .iter()
        .map(|(_, n)| group(*n).len())
        .max()
        .unwrap_or(0);
    counts
        .iter()
        .map(|(reason, n)| {
            let pad = " ".repeat(width - reason.width());
            Line::from(vec![
                Span::styled(format!("  {reason}{pad}  "), t.style(Meaning::Muted)),
                Span::raw(format!("{:>digits$}", group(*n))),
            ])
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::sparkline;

    #[test]
    fn sparkline_scales_to_the_peak_and_leaves_idle_spans_blank() {
        assert_eq!(sparkline(&[0, 1, 4, 8], false), " ▁▄█");
        assert_eq!(sparkline(&[0, 1, 4, 8], true), " _-#");
        assert_eq!(sparkline(&[3, 3], false), "██");
        assert_eq!(sparkline(&[], false), "");
        assert_eq!(sparkline(&[0, 0], false), "  ");
    }
}
