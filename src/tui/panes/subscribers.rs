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
        empty: if crate::store::subscribers::short_phone(app.search.as_deref().unwrap_or_default())
        {
            "Nobody matches the search: a phone is found from its first three digits on (+770…, \
             8 70…). Esc clears it."
        } else if app.search.is_some() {
            "Nobody matches the search. Esc clears it."
        } else if app.selected_list().is_some() {
            "Nobody in this list yet. Press i to import a CSV file into it, N to enter someone by \
             hand, or + on a subscriber shown in another list."
        } else {
            "No subscribers yet. Press i to import a CSV file (or use `clever subscribers import`)."
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
    // The zone quiet hours use for its members with none of their own.
    if let Some(list) = app.list_index.checked_sub(1).and_then(|i| app.lists.get(i)) {
        out.push(Line::from(""));
        out.push(heading(t, "Time zone"));
        out.push(match &list.default_time_zone {
            Some(zone) => Line::from(format!("  {zone}")),
            None => Line::from(Span::styled("  from config.toml", t.style(Meaning::Muted))),
        });
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
                Line::from(Span::styled(
                    "the list changes when it ends; quitting before keeps nothing of it",
                    t.style(Meaning::Muted),
                )),
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
                // The first few by line; the rejects file has every one.
                for r in s.first_rejected.iter().take(3) {
                    lines.push(Line::from(Span::styled(
                        format!("  line {}: {}", r.line, one_line(&r.reason)),
                        t.style(Meaning::Muted),
                    )));
                }
            }
            for (n, what) in [
                (
                    s.queued_skipped,
                    "queued campaign message(s) skipped: the file withdrew their consent",
                ),
                (
                    s.consent_outdated,
                    "consent value(s) older than the consent on record: not applied",
                ),
                (
                    s.withdrawn_kept,
                    "subscriber(s) kept withdrawn: a consent declared for the file does not override a withdrawal",
                ),
            ] {
                if n > 0 {
                    lines.push(Line::from(Span::styled(
                        format!("{} {what}", group(n as i64)),
                        t.style(Meaning::Warn),
                    )));
                }
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
        {
            let mut zone = field(
                t,
                "Time zone",
                d.row
                    .time_zone
                    .clone()
                    .unwrap_or_else(|| "— (the list's)".into()),
            );
            if let Some(key) = app.keymap.first_key(
                crate::tui::keymap::Mode::Normal,
                crate::tui::action::Action::TimeZone,
            ) {
                zone.push_span(Span::styled(
                    format!(" · {key} sets it"),
                    t.style(Meaning::Muted),
                ));
            }
            zone
        },
        {
            let mut lists = field(
                t,
                "Lists",
                if d.lists.is_empty() {
                    "—".into()
                } else {
                    d.lists.join(", ")
                },
            );
            let key = |a| app.keymap.first_key(crate::tui::keymap::Mode::Normal, a);
            use crate::tui::action::Action;
            if let (Some(add), Some(off)) = (key(Action::AddToList), key(Action::RemoveFromList)) {
                lists.push_span(Span::styled(
                    format!(" · {add} {off} change them"),
                    t.style(Meaning::Muted),
                ));
            }
            lists
        },
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
    // The keys that act on this person are named where they matter, once they have an
    // address to act on.
    let key_for = |action| {
        app.keymap
            .first_key(crate::tui::keymap::Mode::Normal, action)
            .filter(|_| !d.identities.is_empty())
    };
    if let Some(key) = key_for(crate::tui::action::Action::OptOut) {
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
    let mut consent = heading(t, "Consent history (newest first)");
    // The key that records one is named on the heading's line (the detail is short of rows).
    if let Some(key) = key_for(crate::tui::action::Action::Consent) {
        consent.push_span(Span::styled(
            format!(" · {key} records one"),
            t.style(Meaning::Muted),
        ));
    }
    out.push(consent);
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
        let recorded = match &c.recorded_at {
            Some(at) => format!("recorded by {} on {}", c.recorded_by, when(at)),
            None => format!("recorded by {}", c.recorded_by),
        };
        if !c.proof.is_empty() {
            out.push(Line::from(Span::styled(
                format!("      proof: {} ({recorded})", one_line(&c.proof)),
                t.style(Meaning::Muted),
            )));
        } else {
            out.push(Line::from(Span::styled(
                format!("      {recorded}"),
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

/// A popup form being drawn over a pane: rows from the top, a label column, problems
/// wrapped under their rows, the keys at the bottom.
struct FormCanvas<'a> {
    t: &'a Theme,
    inner: ratatui::layout::Rect,
    y: u16,
    text_width: usize,
}

impl<'a> FormCanvas<'a> {
    const LABEL: u16 = 12;

    /// Clears a box sized for `rows` rows and the `notes` wrapped under them, titled.
    fn open(
        frame: &mut ratatui::Frame,
        area: ratatui::layout::Rect,
        t: &'a Theme,
        title: &str,
        rows: usize,
        notes: &[&str],
    ) -> FormCanvas<'a> {
        use crate::tui::widgets::popup;
        let width = 72.min(area.width.saturating_sub(2)).max(30);
        let text_width = width.saturating_sub(2).max(1) as usize;
        let extra: u16 = notes.iter().map(|n| lines_of(n, text_width)).sum();
        let rect = popup::centered(area, width, rows as u16 + extra + 4);
        let block = popup::frame_block(t, title);
        let inner = block.inner(rect);
        frame.render_widget(ratatui::widgets::Clear, rect);
        frame.render_widget(block, rect);
        FormCanvas {
            t,
            y: inner.y,
            inner,
            text_width,
        }
    }

    fn bottom(&self) -> u16 {
        self.inner.y + self.inner.height
    }

    /// `text` wrapped over as many lines as it needs, from the next free one, its later
    /// lines under its first word.
    fn wrapped(&mut self, frame: &mut ratatui::Frame, text: String, m: Meaning) {
        if self.y < self.bottom() {
            let lines = hanging(Span::styled(text, self.t.style(m)), self.text_width);
            let n = (lines.len() as u16).min(self.bottom() - self.y);
            frame.render_widget(
                ratatui::widgets::Paragraph::new(lines),
                ratatui::layout::Rect::new(self.inner.x, self.y, self.inner.width, n),
            );
            self.y += n;
        }
    }

    /// One row: its label (marked when focused), `spans` after it, and `input` in the
    /// field's place; then its problems under it. False when the box is full.
    fn row(
        &mut self,
        frame: &mut ratatui::Frame,
        label: &str,
        focused: bool,
        mut spans: Vec<Span<'static>>,
        input: Option<&ratatui_textarea::TextArea<'static>>,
        problems: &[String],
    ) -> bool {
        use ratatui::layout::Rect;
        if self.y >= self.bottom() {
            return false;
        }
        let (t, inner, y) = (self.t, self.inner, self.y);
        let label = Span::styled(
            format!(
                "{}{label:<w$}",
                if focused { "› " } else { "  " },
                w = (Self::LABEL - 2) as usize
            ),
            t.style(if focused {
                Meaning::Title
            } else {
                Meaning::Muted
            }),
        );
        spans.insert(0, label);
        frame.render_widget(
            ratatui::widgets::Paragraph::new(Line::from(spans)),
            Rect::new(inner.x, y, inner.width, 1),
        );
        if let Some(input) = input {
            let at = Rect::new(
                inner.x + Self::LABEL.min(inner.width),
                y,
                inner.width.saturating_sub(Self::LABEL),
                1,
            );
            frame.render_widget(input, at);
        }
        self.y += 1;
        for e in problems {
            self.wrapped(frame, format!("  ⚠ {e}"), Meaning::Error);
        }
        true
    }

    /// A choice among values: marked as well as coloured, so it shows without colours too.
    fn choice(&self, on: bool, label: String) -> Span<'static> {
        if on {
            Span::styled(format!("● {label}"), self.t.style(Meaning::Selected))
        } else {
            Span::raw(format!("○ {label}"))
        }
    }

    /// The problem of the whole form, if any, then the keys (or what is being done).
    fn finish(
        &mut self,
        frame: &mut ratatui::Frame,
        app: &App,
        error: Option<&str>,
        busy: Option<&str>,
    ) {
        self.y += 1;
        if let Some(e) = error {
            self.wrapped(frame, format!("⚠ {e}"), Meaning::Error);
        }
        if self.y < self.bottom() {
            let hint = super::form_hint(app, busy);
            frame.render_widget(
                ratatui::widgets::Paragraph::new(hint),
                ratatui::layout::Rect::new(self.inner.x, self.y, self.inner.width, 1),
            );
        }
    }
}

/// A line wrapped to `width`, the rows after the first indented under its text.
fn hanging(span: Span<'static>, width: usize) -> Vec<Line<'static>> {
    crate::tui::widgets::text::wrap_hanging(vec![Line::from(span)], width)
}

/// How many lines `text` takes wrapped to `width` as a problem under a row.
fn lines_of(text: &str, width: usize) -> u16 {
    hanging(Span::raw(format!("  ⚠ {text}")), width).len() as u16
}

/// Draws the consent form over the pane.
pub fn draw_consent_form(
    frame: &mut ratatui::Frame,
    area: ratatui::layout::Rect,
    app: &App,
    form: &crate::tui::consent_form::ConsentForm,
) {
    use crate::domain::ConsentScope;
    use crate::tui::consent_form::Row;
    let t = &app.theme;
    let chosen = form.chosen();
    let note = chosen.suppressed.as_ref().map(|why| {
        format!("suppressed ({why}): a grant does not make it messaged until that is lifted")
    });
    let notes: Vec<&str> = form
        .errors
        .iter()
        .map(|(_, e)| e.as_str())
        .chain(form.error.as_deref())
        .chain(note.as_deref())
        .collect();
    let title = format!(
        "Record a consent · {} (#{})",
        one_line(&form.name),
        form.subscriber
    );
    let mut c = FormCanvas::open(frame, area, t, &title, Row::ALL.len(), &notes);
    for row in Row::ALL {
        let focused = form.focus == row;
        let mut spans = Vec::new();
        let mut input = None;
        match row {
            Row::Channel => {
                spans.push(Span::raw(format!(
                    "{} {}",
                    chosen.channel.label(),
                    chosen.address
                )));
                if form.addresses.len() > 1 {
                    spans.push(Span::styled(
                        format!("  {} of {}", form.address + 1, form.addresses.len()),
                        t.style(Meaning::Muted),
                    ));
                }
            }
            Row::Scope => {
                for s in [ConsentScope::Marketing, ConsentScope::Service] {
                    spans.push(c.choice(form.scope == s, s.to_string()));
                    spans.push(Span::raw("  "));
                }
            }
            Row::Change => {
                use crate::domain::ConsentStatus::{Granted, Withdrawn};
                spans.push(c.choice(form.status == Granted, "grant".into()));
                spans.push(Span::raw("  "));
                spans.push(c.choice(form.status == Withdrawn, "withdraw".into()));
                spans.push(Span::styled(
                    match form.current() {
                        Some(now) => format!("   now: {now}"),
                        None => "   now: none recorded".into(),
                    },
                    t.style(Meaning::Muted),
                ));
            }
            Row::When => input = Some(&form.when),
            Row::Source => input = Some(&form.source),
            Row::Proof => input = Some(&form.proof),
        }
        if focused && row.is_picker() {
            spans.push(Span::styled("  ← →", t.style(Meaning::Key)));
        }
        // The suppression's note goes under the address, before any problem.
        let problems: Vec<String> = form
            .errors
            .iter()
            .filter(|(r, _)| *r == row)
            .map(|(_, e)| e.clone())
            .collect();
        if row == Row::Channel {
            if !c.row(frame, row.label(), focused, spans, input, &[]) {
                break;
            }
            if let Some(n) = &note {
                c.wrapped(frame, format!("  {n}"), Meaning::Warn);
            }
            for e in problems {
                c.wrapped(frame, format!("  ⚠ {e}"), Meaning::Error);
            }
        } else if !c.row(frame, row.label(), focused, spans, input, &problems) {
            break;
        }
    }
    c.finish(
        frame,
        app,
        form.error.as_deref(),
        form.saving.then_some("recording…"),
    );
}

/// Draws the form for a subscriber entered by hand over the pane.
pub fn draw_subscriber_form(
    frame: &mut ratatui::Frame,
    area: ratatui::layout::Rect,
    app: &App,
    form: &crate::tui::subscriber_form::SubscriberForm,
) {
    use crate::tui::subscriber_form::Row;
    let t = &app.theme;
    let notes: Vec<&str> = form
        .errors
        .iter()
        .map(|(_, e)| e.as_str())
        .chain(form.error.as_deref())
        .collect();
    let title = format!("New subscriber in “{}”", one_line(&form.list_name));
    let mut c = FormCanvas::open(frame, area, t, &title, Row::ALL.len(), &notes);
    for row in Row::ALL {
        let focused = form.focus == row;
        let mut spans = Vec::new();
        if row == Row::Consent {
            spans.push(c.choice(form.consent.is_none(), "none".into()));
            spans.push(Span::raw("  "));
            spans.push(c.choice(form.consent == Some(ConsentStatus::Granted), "grant".into()));
            spans.push(Span::raw("  "));
            spans.push(c.choice(
                form.consent == Some(ConsentStatus::Withdrawn),
                "withdraw".into(),
            ));
            spans.push(Span::styled("  every address", t.style(Meaning::Muted)));
            if focused {
                spans.push(Span::styled("  ← →", t.style(Meaning::Key)));
            }
        }
        if row == Row::Scope {
            use crate::domain::ConsentScope;
            spans.push(c.choice(form.scope == ConsentScope::Marketing, "marketing".into()));
            spans.push(Span::raw("  "));
            spans.push(c.choice(form.scope == ConsentScope::Service, "service".into()));
            spans.push(Span::styled(
                "  service: their own orders",
                t.style(Meaning::Muted),
            ));
            if focused {
                spans.push(Span::styled("  ← →", t.style(Meaning::Key)));
            }
        }
        let problems: Vec<String> = form
            .errors
            .iter()
            .filter(|(r, _)| *r == row)
            .map(|(_, e)| e.clone())
            .collect();
        if !c.row(
            frame,
            row.label(),
            focused,
            spans,
            form.input(row),
            &problems,
        ) {
            break;
        }
    }
    c.finish(
        frame,
        app,
        form.error.as_deref(),
        form.saving.then_some("adding…"),
    );
}
