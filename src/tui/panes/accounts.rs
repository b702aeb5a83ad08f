//! Accounts: every messenger account, its channel, state and sending rate. The token is
//! never shown, only whether one is set.

use super::{ListView, field, field_styled, form_hint, heading, when};
use crate::domain::Channel;
use crate::domain::states::is_halt_reason;
use crate::domain::{AccountStatus, mask};
use crate::store::accounts::AccountRow;
use crate::tui::app::App;
use crate::tui::form::AccountForm;
use crate::tui::theme::{Meaning, Theme};
use crate::tui::widgets::popup;
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Wrap};

/// The list.
pub fn list(app: &App, height: usize, wide: bool) -> ListView<'static> {
    let t = &app.theme;
    let w = &app.accounts;
    let (rows, selected) = w.visible(height);
    let rows = rows.iter().map(|a| row(t, a, wide)).collect();
    let (headers, widths) = if wide {
        (
            vec![
                "Name", "Channel", "State", "Health", "Today", "Rate/s", "Mode",
            ],
            vec![
                Constraint::Fill(3),
                Constraint::Length(9),
                Constraint::Length(7),
                Constraint::Length(7),
                Constraint::Length(7),
                Constraint::Length(6),
                Constraint::Length(7),
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
        empty: "No accounts yet. Press a to connect a WhatsApp number, Telegram bot or Instagram account (or use `clever accounts add`).",
        loaded: w.loaded,
    }
}

fn row(t: &Theme, a: &AccountRow, wide: bool) -> Vec<Line<'static>> {
    let state = match a.status {
        AccountStatus::Active => Line::from(Span::styled("active", t.style(Meaning::Ok))),
        AccountStatus::Paused if is_halt_reason(a.status_reason.as_deref()) => {
            Line::from(Span::styled("halted", t.style(Meaning::Error)))
        }
        AccountStatus::Paused => Line::from(Span::styled("paused", t.style(Meaning::Warn))),
    };
    let mode = if a.sandbox {
        Line::from(Span::styled("SANDBOX", t.style(Meaning::Badge)))
    } else {
        Line::from("live")
    };
    let mut cells = vec![Line::from(a.name.clone()), Line::from(a.channel.label())];
    cells.push(state);
    if wide {
        cells.push(match a.health_ok() {
            Some(true) => Line::from(Span::styled("ok", t.style(Meaning::Ok))),
            Some(false) => Line::from(Span::styled("failed", t.style(Meaning::Error))),
            None => Line::from(Span::styled("—", t.style(Meaning::Muted))),
        });
        cells.push(Line::from(format!(
            "{:>7}",
            crate::tui::app::group(a.sent_today)
        )));
        cells.push(Line::from(format!("{:>6}", a.effective_rate())));
    }
    cells.push(mode);
    cells
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
            AccountStatus::Paused if is_halt_reason(a.status_reason.as_deref()) => field_styled(
                t,
                "State",
                format!(
                    "{} — fix the cause (e to change the token), then resume with p",
                    a.status_reason.as_deref().unwrap_or_default()
                ),
                Meaning::Error,
            ),
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
    if let Some(line) = daily_tier(a) {
        // Below the setting, the platform's word is news for the operator.
        let lower = matches!((a.wa_daily_tier, a.wa_platform_tier), (Some(s), Some(p)) if p < s);
        let meaning = if lower { Meaning::Warn } else { Meaning::Base };
        out.push(field_styled(t, "Daily tier", line, meaning));
    }
    if let Ok(serde_json::Value::Object(settings)) = serde_json::from_str(&a.settings) {
        for (k, v) in settings.into_iter().filter(|(_, v)| !v.is_null()) {
            let v = v
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| v.to_string());
            // `phone_number_id` → `Phone number id`, like the other labels.
            let mut label = k.replace('_', " ").replace("waba", "WABA");
            if let Some(first) = label.chars().next() {
                label.replace_range(..first.len_utf8(), &first.to_uppercase().to_string());
            }
            out.push(field(t, &label, v));
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
    out.push(field(t, "Sent today", crate::tui::app::group(a.sent_today)));
    out.push(field(t, "Opt-out replies", replies(&a.replies_today)));
    out.push(field(t, "Campaigns", format!("{} open", a.open_campaigns)));
    out.push(field(t, "Added", when(&a.created_at)));
    out
}

/// Draws the account form over the pane: a row per field, problems under their fields, the
/// keys at the bottom.
pub fn draw_form(frame: &mut Frame, area: Rect, app: &App, form: &AccountForm) {
    let t = &app.theme;
    const LABEL: u16 = 19;
    let width = 76.min(area.width.saturating_sub(2)).max(30);
    // Problems wrap under their fields: count the lines each takes.
    let text_width = width.saturating_sub(2).max(1) as usize;
    let lines_of = |e: &str| (e.chars().count() + 4).div_ceil(text_width) as u16;
    let error_lines: u16 = form
        .fields
        .iter()
        .filter_map(|f| f.error.as_deref())
        .chain(form.error.as_deref())
        .map(lines_of)
        .sum();
    let height = form.rows() as u16 + error_lines + 4;
    let rect = popup::centered(area, width, height);
    let title = match form.editing {
        None => "Connect an account".to_string(),
        Some(_) => format!("Change {} account", form.channel.label()),
    };
    let block = popup::frame_block(t, &title);
    let inner = block.inner(rect);
    frame.render_widget(Clear, rect);
    frame.render_widget(block, rect);
    let mut y = inner.y;
    let bottom = inner.y + inner.height;
    let line_at = |y: u16| Rect::new(inner.x, y, inner.width, 1);
    let label_style = |focused: bool| {
        if focused {
            t.style(Meaning::Title)
        } else {
            t.style(Meaning::Muted)
        }
    };
    if form.editing.is_none() && y < bottom {
        let focused = form.on_channel();
        let mut spans = vec![Span::styled(
            format!("{:<w$}", "Channel", w = LABEL as usize),
            label_style(focused),
        )];
        // A mark as well as a colour, so the choice shows without colours too.
        for c in Channel::ALL {
            spans.push(if c == form.channel {
                Span::styled(format!("● {}", c.label()), t.style(Meaning::Selected))
            } else {
                Span::raw(format!("○ {}", c.label()))
            });
            spans.push(Span::raw("  "));
        }
        if focused {
            spans.push(Span::styled(" ← →", t.style(Meaning::Key)));
        }
        frame.render_widget(Paragraph::new(Line::from(spans)), line_at(y));
        y += 1;
    }
    for (i, f) in form.fields.iter().enumerate() {
        if y >= bottom {
            break;
        }
        let focused = form.focus == i + form.offset();
        let marker = if focused { "› " } else { "  " };
        frame.render_widget(
            Paragraph::new(Span::styled(
                format!("{marker}{}", f.field.label()),
                label_style(focused),
            )),
            Rect::new(inner.x, y, LABEL.min(inner.width), 1),
        );
        let input = Rect::new(
            inner.x + LABEL.min(inner.width),
            y,
            inner.width.saturating_sub(LABEL),
            1,
        );
        frame.render_widget(&f.input, input);
        y += 1;
        if let Some(e) = &f.error
            && y < bottom
        {
            let n = lines_of(e).min(bottom - y);
            frame.render_widget(
                Paragraph::new(Span::styled(format!("  ⚠ {e}"), t.style(Meaning::Error)))
                    .wrap(Wrap { trim: false }),
                Rect::new(inner.x, y, inner.width, n),
            );
            y += n;
        }
    }
    y += 1;
    if let Some(e) = &form.error
        && y < bottom
    {
        let n = lines_of(e).min(bottom - y);
        frame.render_widget(
            Paragraph::new(Span::styled(format!("⚠ {e}"), t.style(Meaning::Error)))
                .wrap(Wrap { trim: false }),
            Rect::new(inner.x, y, inner.width, n),
        );
        y += n;
    }
    if y < bottom {
        let hint = form_hint(app, form.saving.then_some("saving and checking the token…"));
        frame.render_widget(Paragraph::new(hint), line_at(y));
    }
}

/// WhatsApp's unique recipients a day: the account's setting, what the platform reported,
/// and which one the sender keeps to.
fn daily_tier(a: &AccountRow) -> Option<String> {
    let g = crate::tui::app::group;
    let budget = a.wa_budget()?;
    Some(match (a.wa_daily_tier, a.wa_platform_tier) {
        (Some(set), Some(platform)) if platform < set => format!(
            "{} unique recipients / 24 h: the platform reports {}, not the {} set here",
            g(budget),
            g(platform),
            g(set)
        ),
        (None, Some(platform)) => format!(
            "{} unique recipients / 24 h, as the platform reports",
            g(platform)
        ),
        _ => format!("{} unique recipients / 24 h", g(budget)),
    })
}

/// The day's replies to opt-outs, e.g. `2 sent today · 1 waiting (last: …)`.
fn replies(r: &crate::store::inbound::RepliesSince) -> String {
    let g = crate::tui::app::group;
    if r.sent + r.waiting + r.not_sent == 0 {
        return "none today".into();
    }
    let mut out = format!("{} sent today", g(r.sent));
    if r.waiting > 0 {
        out += &format!(" · {} waiting", g(r.waiting));
    }
    if r.not_sent > 0 {
        out += &format!(" · {} not sent", g(r.not_sent));
    }
    if let Some(e) = &r.last_error {
        out += &format!(" (last: {})", crate::domain::one_line(e));
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::store::inbound::RepliesSince;

    #[test]
    fn the_daily_tier_says_whose_word_the_sender_keeps_to() {
        use crate::domain::{AccountId, AccountStatus, Channel};
        let at = chrono::Utc::now();
        let account = |set, platform| crate::store::accounts::AccountRow {
            id: AccountId(1),
            channel: Channel::WhatsApp,
            name: "WA".into(),
            settings: "{}".into(),
            has_secret: true,
            base_url: None,
            api_version: None,
            sandbox: false,
            rate_per_sec: None,
            wa_daily_tier: set,
            wa_platform_tier: platform,
            status: AccountStatus::Active,
            status_reason: None,
            health: None,
            health_checked_at: None,
            created_at: at,
            open_campaigns: 0,
            sent_today: 0,
            replies_today: Default::default(),
        };
        let tier = |set, platform| super::daily_tier(&account(set, platform));
        assert_eq!(tier(None, None), None);
        assert_eq!(
            tier(Some(10_000), None).unwrap(),
            "10 000 unique recipients / 24 h"
        );
        assert_eq!(
            tier(Some(2000), Some(10_000)).unwrap(),
            "2 000 unique recipients / 24 h"
        );
        assert_eq!(
            tier(None, Some(250)).unwrap(),
            "250 unique recipients / 24 h, as the platform reports"
        );
        assert_eq!(
            tier(Some(10_000), Some(250)).unwrap(),
            "250 unique recipients / 24 h: the platform reports 250, not the 10 000 set here"
        );
    }

    #[test]
    fn the_days_opt_out_replies_read_as_one_line() {
        assert_eq!(super::replies(&RepliesSince::default()), "none today");
        let r = RepliesSince {
            sent: 1200,
            waiting: 1,
            not_sent: 2,
            last_error: Some("refused, code 131047:\nRe-engagement message".into()),
        };
        assert_eq!(
            super::replies(&r),
            "1 200 sent today · 1 waiting · 2 not sent (last: refused, code 131047: \
             Re-engagement message)"
        );
    }
}
