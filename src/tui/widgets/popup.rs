//! Centred popups: the confirm question and the frame the help overlay is drawn in.

use crate::tui::action::Action;
use crate::tui::app::Confirm;
use crate::tui::keymap::{Keymap, Mode};
use crate::tui::theme::{Meaning, Theme};
use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

/// A rectangle of `width` × `height` centred in `area`, clipped to it.
pub fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let [row] = Layout::vertical([Constraint::Length(height.min(area.height))])
        .flex(Flex::Center)
        .areas(area);
    let [cell] = Layout::horizontal([Constraint::Length(width.min(area.width))])
        .flex(Flex::Center)
        .areas(row);
    cell
}

/// A bordered, cleared box with a title.
pub fn frame_block<'a>(theme: &Theme, title: &'a str) -> Block<'a> {
    Block::default()
        .borders(Borders::ALL)
        .border_set(theme.border_set())
        .border_style(theme.style(Meaning::PopupBorder))
        .title(Span::styled(
            format!(" {title} "),
            theme.style(Meaning::Title),
        ))
        .style(theme.style(Meaning::Popup))
}

/// Draws a yes/no question.
pub fn draw_confirm(frame: &mut Frame, area: Rect, theme: &Theme, keymap: &Keymap, c: &Confirm) {
    let key = |a: Action| {
        keymap
            .first_key(Mode::Confirm, a)
            .map(|k| k.to_string())
            .unwrap_or_default()
    };
    let width = 60.min(area.width.saturating_sub(2)).max(20);
    let body = Paragraph::new(vec![
        Line::from(c.message.as_str()),
        Line::from(""),
        Line::from(vec![
            Span::styled(
                format!("[{}]", key(Action::Confirm)),
                theme.style(Meaning::Key),
            ),
            Span::raw(" yes   "),
            Span::styled(
                format!("[{}]", key(Action::Cancel)),
                theme.style(Meaning::Key),
            ),
            Span::raw(" no"),
        ]),
    ])
    .wrap(Wrap { trim: true });
    let inner_width = width.saturating_sub(2).max(1) as usize;
    // Word wrapping leaves ragged ends: allow a fifth more than the bare character count.
    let lines = (c.message.chars().count() * 6 / 5).div_ceil(inner_width) as u16 + 2;
    let rect = centered(area, width, lines + 2);
    frame.render_widget(Clear, rect);
    frame.render_widget(body.block(frame_block(theme, &c.title)), rect);
}
