//! The help overlay, generated from the keymap: every binding of every mode with its
//! description, so it can never disagree with what the keys do.

use super::popup::{centered, frame_block};
use super::text::wrap_hanging;
use crate::tui::keymap::{Keymap, Mode};
use crate::tui::theme::{Meaning, Theme};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};
use unicode_width::UnicodeWidthStr;

/// The help text: a heading per mode, then `keys  description` lines.
pub fn lines(keymap: &Keymap, theme: &Theme) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    for mode in Mode::ALL {
        let rows: Vec<_> = keymap
            .bindings()
            .iter()
            .filter(|b| b.mode == mode)
            .collect();
        if rows.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push(Line::from(""));
        }
        let heading = match mode {
            Mode::Global => "Everywhere",
            Mode::Normal => "Panes",
            Mode::Help => "This help",
            Mode::Confirm => "Questions",
            Mode::Search => "Search field",
            Mode::Form => "Forms",
        };
        out.push(Line::from(Span::styled(
            heading,
            theme.style(Meaning::Header),
        )));
        for b in rows {
            let keys: Vec<String> = b.keys.iter().map(ToString::to_string).collect();
            let keys = keys.join(" ");
            let pad = 18usize.saturating_sub(keys.width()).max(1);
            out.push(Line::from(vec![
                Span::styled(format!("  {keys}"), theme.style(Meaning::Key)),
                Span::raw(" ".repeat(pad)),
                Span::raw(b.action.description()),
            ]));
        }
    }
    out
}

/// Draws the overlay, scrolled by `scroll` lines; descriptions too long for the overlay wrap
/// under themselves. Returns how far it can scroll.
pub fn draw(frame: &mut Frame, area: Rect, keymap: &Keymap, theme: &Theme, scroll: usize) -> usize {
    let width = 88.min(area.width);
    let text = wrap_hanging(lines(keymap, theme), width.saturating_sub(2) as usize);
    let rect = centered(area, width, (text.len() as u16 + 2).min(area.height));
    frame.render_widget(Clear, rect);
    let visible = rect.height.saturating_sub(2) as usize;
    let max_scroll = text.len().saturating_sub(visible);
    let title = if max_scroll > 0 {
        "Keys (↑↓ to scroll, Esc to close)"
    } else {
        "Keys (Esc to close)"
    };
    frame.render_widget(
        Paragraph::new(text)
            .scroll((scroll.min(max_scroll) as u16, 0))
            .block(frame_block(theme, title)),
        rect,
    );
    max_scroll
}
