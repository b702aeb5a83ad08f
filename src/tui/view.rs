//! Draws the whole screen from the state: tab bar, the current pane (list and detail),
//! status bar, and any overlay. A pure function of [`App`], so it can be rendered into a
//! `TestBackend` and benchmarked.

use super::action::PaneId;
use super::app::{App, Focus, MIN_SIZE, Overlay, PromptKind};
use super::panes::{self, ListView};
use super::theme::Meaning;
use super::widgets::{help, popup, status, tabs, text};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table, TableState, Wrap};

/// Draws one frame.
pub fn draw(frame: &mut Frame, app: &App) {
    let area = frame.area();
    let t = &app.theme;
    frame.render_widget(Block::default().style(t.style(Meaning::Base)), area);
    if area.width < MIN_SIZE.0 || area.height < MIN_SIZE.1 {
        let msg = format!(
            "Terminal too small: {}×{}. Make it at least {}×{}.",
            area.width, area.height, MIN_SIZE.0, MIN_SIZE.1
        );
        frame.render_widget(
            Paragraph::new(msg)
                .wrap(Wrap { trim: true })
                .style(t.style(Meaning::Warn)),
            area,
        );
        return;
    }
    let [top, body, bottom] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Fill(1),
        Constraint::Length(1),
    ])
    .areas(area);
    tabs::draw(frame, top, app);
    draw_pane(frame, body, app);
    status::draw(frame, bottom, app);
    if let Some(form) = &app.form {
        panes::accounts::draw_form(frame, body, app, form);
    }
    if let Some(form) = &app.campaign_form {
        panes::campaigns::draw_form(frame, body, app, form);
    }
    if let Some(form) = &app.consent_form {
        panes::subscribers::draw_consent_form(frame, body, app, form);
    }
    if let Some(form) = &app.subscriber_form {
        panes::subscribers::draw_subscriber_form(frame, body, app, form);
    }
    match &app.overlay {
        Overlay::Help { scroll } => {
            let max = help::draw(frame, body, &app.keymap, t, *scroll);
            app.help_scroll_max.set(max);
        }
        Overlay::Confirm(c) => popup::draw_confirm(frame, body, t, &app.keymap, c),
        Overlay::None => {}
    }
}

fn draw_pane(frame: &mut Frame, area: Rect, app: &App) {
    let wide = app.wide();
    // Subscribers has a third column (its lists), so its detail view gives up some room.
    let detail_share = if app.pane == PaneId::Subscribers {
        40
    } else {
        44
    };
    let (list_area, detail_area) = if wide {
        let [l, d] = Layout::horizontal([
            Constraint::Percentage(100 - detail_share),
            Constraint::Percentage(detail_share),
        ])
        .areas(area);
        (Some(l), Some(d))
    } else if app.focus == Focus::Detail {
        (None, Some(area))
    } else {
        (Some(area), None)
    };
    if let Some(list_area) = list_area {
        let lists_shown = app.pane == PaneId::Subscribers && list_area.width >= 64 && wide;
        let list_area = if lists_shown {
            let [lists, rest] =
                Layout::horizontal([Constraint::Length(28), Constraint::Fill(1)]).areas(list_area);
            frame.render_widget(
                Paragraph::new(panes::subscribers::lists_panel(app)).block(panel(
                    app,
                    "Lists · [ ]",
                    false,
                )),
                lists,
            );
            rest
        } else {
            list_area
        };
        let boxed =
            app.prompt.is_some() || (app.pane == PaneId::Subscribers && app.import.is_some());
        // An import's progress or result, wrapped to the box, which grows to hold it.
        let import_lines = (app.pane == PaneId::Subscribers && app.prompt.is_none())
            .then(|| {
                crate::tui::widgets::text::wrap_hanging(
                    panes::subscribers::import_lines(app),
                    usize::from(list_area.width.saturating_sub(2).max(1)),
                )
            })
            .filter(|l| !l.is_empty());
        let (list_area, search_area) = if boxed {
            let box_height = import_lines.as_ref().map_or(5, |l| {
                (l.len() as u16 + 2).clamp(5, (list_area.height / 2).max(8))
            });
            let [l, s] = Layout::vertical([Constraint::Fill(1), Constraint::Length(box_height)])
                .areas(list_area);
            (l, Some(s))
        } else {
            (list_area, None)
        };
        // Borders (2) and the header row (1) take three lines.
        let height = list_area.height.saturating_sub(3) as usize;
        // Optional columns only where the list itself has room for them.
        let wide = list_area.width >= 64;
        let mut view = match app.pane {
            PaneId::Accounts => panes::accounts::list(app, height, wide),
            PaneId::Subscribers => panes::subscribers::list(app, height, wide),
            PaneId::Campaigns => panes::campaigns::list(app, height, wide),
            PaneId::License => panes::license::list(app, height, wide),
            PaneId::Counterparty => panes::counterparty::list(app, height, wide),
        };
        // Without the lists panel, who in the list can be messaged goes in the title (not
        // while searching: the counts are the list's, not the matches').
        if app.pane == PaneId::Subscribers
            && !lists_shown
            && app.search.is_none()
            && let Some(brief) = panes::subscribers::sendable_brief(app)
        {
            view.title = format!("{} · {brief}", view.title);
        }
        draw_list(frame, list_area, app, view);
        if let (Some(area), Some(prompt)) = (search_area, &app.prompt) {
            // What the field is for in the title; the keys inside, under the field, so
            // that a narrow box cuts neither.
            let person = |none| app.subscribers.selected().map_or(none, |s| s.name.as_str());
            let (title, keys) = match prompt.kind {
                PromptKind::Search => ("Search name, phone or id".to_string(), "Enter search"),
                PromptKind::ImportPath => {
                    let list = app.import_target();
                    let title = if app.selected_list().is_some() {
                        format!("Import a CSV file into “{list}”")
                    } else {
                        format!("Import a CSV file into list “{list}”")
                    };
                    (title, "Enter import")
                }
                PromptKind::PauseReason(_) => ("Why pause this account?".into(), "Enter pause"),
                PromptKind::SuppressReason { lift: false, .. } => (
                    format!("Why stop messaging {}? (every address)", person("them")),
                    "Enter suppress",
                ),
                PromptKind::SuppressReason { lift: true, .. } => (
                    format!("Why lift {}'s suppression?", person("the")),
                    "Enter lift",
                ),
                PromptKind::TimeZone(_) => (
                    format!(
                        "Time zone of {} (Asia/Aqtobe, Актобе, UTC+5; empty: the list's)",
                        person("them")
                    ),
                    "Enter set",
                ),
                PromptKind::ListTimeZone(_) => (
                    format!(
                        "Time zone of list {} (Asia/Almaty, UTC+5; empty: the configuration's)",
                        app.shown_list_name()
                    ),
                    "Enter set",
                ),
                PromptKind::AddToList(_) => (
                    format!("Add {} to the list named", person("them")),
                    "Enter add",
                ),
                PromptKind::LicenceKey => ("Licence key".into(), "Enter activate"),
                PromptKind::CheckNumber => ("Number to check".into(), "Enter check"),
                PromptKind::CheckSearch => (
                    "Search checks: number, name, flag or who".into(),
                    "Enter search",
                ),
                PromptKind::ExportPath => (
                    "CSV file to write the shown checks to".into(),
                    "Enter export",
                ),
                PromptKind::ExportList => (
                    format!("CSV file to write {} to", app.shown_list_name()),
                    "Enter export",
                ),
            };
            let title = text::truncate(&title, usize::from(area.width.saturating_sub(4)));
            let block = panel(app, &title, true);
            let inner = block.inner(area);
            frame.render_widget(block, area);
            let inner = if inner.height >= 3 && prompt.kind != PromptKind::CheckNumber {
                let [field, _, hint] = Layout::vertical([
                    Constraint::Length(1),
                    Constraint::Fill(1),
                    Constraint::Length(1),
                ])
                .areas(inner);
                let hint_text = match prompt.choices.as_slice() {
                    [] if prompt.completes() => {
                        format!("{keys} · Esc cancel · Tab completes · Ctrl-U clears")
                    }
                    [] => format!("{keys} · Esc cancel · Ctrl-U clears"),
                    choices => format!("{} match: {}", choices.len(), choices.join("  ")),
                };
                frame.render_widget(
                    Paragraph::new(Line::from(Span::styled(
                        text::truncate(&hint_text, usize::from(hint.width)),
                        app.theme.style(Meaning::Muted),
                    ))),
                    hint,
                );
                field
            } else {
                inner
            };
            if prompt.kind == PromptKind::CheckNumber {
                let [field, verdict] =
                    Layout::vertical([Constraint::Length(1), Constraint::Fill(1)]).areas(inner);
                frame.render_widget(&prompt.field, field);
                frame.render_widget(
                    Paragraph::new(panes::counterparty::as_typed(app, &prompt.text()))
                        .wrap(Wrap { trim: true }),
                    verdict,
                );
            } else {
                frame.render_widget(&prompt.field, inner);
            }
        } else if let (Some(area), Some(lines)) = (search_area, import_lines) {
            frame.render_widget(
                Paragraph::new(lines)
                    .wrap(Wrap { trim: false })
                    .block(panel(app, "Import", true)),
                area,
            );
        }
    }
    if let Some(detail_area) = detail_area {
        let focused = app.focus == Focus::Detail;
        let title = if wide { "Detail" } else { "Detail · Esc back" };
        let block = panel(app, title, focused);
        let inner = block.inner(detail_area);
        app.detail_width.set(inner.width);
        let lines = match app.pane {
            PaneId::Accounts => panes::accounts::detail(app),
            PaneId::Subscribers => panes::subscribers::detail(app),
            PaneId::Campaigns => panes::campaigns::detail(app),
            PaneId::License => panes::license::detail(app),
            PaneId::Counterparty => panes::counterparty::detail(app),
        };
        // Wrapped here, rows after the first indented, so that scrolling counts real rows.
        let lines = crate::tui::widgets::text::wrap_hanging(lines, usize::from(inner.width.max(1)));
        let max = u16::try_from(lines.len())
            .unwrap_or(u16::MAX)
            .saturating_sub(inner.height);
        app.detail_scroll_max.set(max);
        frame.render_widget(
            Paragraph::new(lines)
                .wrap(Wrap { trim: false })
                .scroll((app.detail_scroll.min(max), 0))
                .block(block),
            detail_area,
        );
    }
}

/// A bordered panel whose border shows whether it has the keys.
fn panel<'a>(app: &App, title: &str, focused: bool) -> Block<'a> {
    let t = &app.theme;
    let (border, title_meaning) = if focused {
        (Meaning::BorderFocused, Meaning::Title)
    } else {
        (Meaning::Border, Meaning::Muted)
    };
    Block::default()
        .borders(Borders::ALL)
        .border_set(t.border_set())
        .border_style(t.style(border))
        .title(Span::styled(format!(" {title} "), t.style(title_meaning)))
}

fn draw_list(frame: &mut Frame, area: Rect, app: &App, view: ListView<'static>) {
    let t = &app.theme;
    let focused = app.focus == Focus::List && app.prompt.is_none();
    let block = panel(app, &view.title, focused || !app.wide());
    if view.rows.is_empty() {
        let text = if view.loaded {
            view.empty
        } else {
            "loading…"
        };
        frame.render_widget(
            Paragraph::new(Line::from(Span::styled(text, t.style(Meaning::Muted))))
                .wrap(Wrap { trim: true })
                .block(block),
            area,
        );
        return;
    }
    // The table's own column layout, so a cell too long for its column ends in `…` instead
    // of being cut silently.
    let inner = block.inner(area);
    let marker = unicode_width::UnicodeWidthStr::width(t.marker()) as u16;
    let [_, columns] = Layout::horizontal([Constraint::Length(marker), Constraint::Fill(0)])
        .areas(Rect::new(0, 0, inner.width, 1));
    let (flex, spacing) = (ratatui::layout::Flex::Start, 1);
    let columns = Layout::horizontal(view.widths.clone())
        .flex(flex)
        .spacing(spacing)
        .split(columns);
    let rows = view.rows.into_iter().map(|cells| {
        Row::new(cells.into_iter().enumerate().map(|(i, cell)| {
            let width = columns.get(i).map_or(0, |c| c.width as usize);
            Cell::from(text::truncate_line(cell, width))
        }))
    });
    let header = Row::new(view.headers).style(t.style(Meaning::Header));
    let selected = if focused {
        t.style(Meaning::Selected)
    } else {
        t.style(Meaning::SelectedUnfocused)
    };
    let table = Table::new(rows, view.widths)
        .header(header)
        .block(block)
        .row_highlight_style(selected)
        .highlight_symbol(t.marker())
        .highlight_spacing(ratatui::widgets::HighlightSpacing::Always)
        .flex(flex)
        .column_spacing(spacing);
    let mut state = TableState::default().with_selected(view.selected);
    frame.render_stateful_widget(table, area, &mut state);
}
