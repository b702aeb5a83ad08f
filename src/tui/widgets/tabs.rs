//! The tab bar: the product name and the five panes with their keys.

use crate::tui::action::{Action, PaneId};
use crate::tui::app::App;
use crate::tui::keymap::Mode;
use crate::tui::theme::Meaning;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

/// Draws the tab bar in one line.
pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let t = &app.theme;
    // Full pane names need 72 cells; the product name goes first when room is short, and
    // below 80 cells the other panes' names are shortened.
    let roomy = area.width >= 95;
    let mut spans = Vec::new();
    if roomy {
        spans.push(Span::styled(" CleverPlatform ", t.style(Meaning::Title)));
    }
    if app.workspace.demo {
        spans.push(Span::styled(" DEMO", t.style(Meaning::Badge)));
    }
    let narrow = area.width < 80;
    for pane in PaneId::ALL {
        let key = app
            .keymap
            .first_key(Mode::Normal, Action::ShowPane(pane))
            .map(|k| k.to_string())
            .unwrap_or_default();
        let title: String = if narrow && pane != app.pane {
            pane.title().chars().take(4).collect()
        } else {
            pane.title().to_string()
        };
        let meaning = if pane == app.pane {
            Meaning::TabActive
        } else {
            Meaning::Tab
        };
        spans.push(Span::raw(" "));
        spans.push(Span::styled(format!(" {key} {title} "), t.style(meaning)));
    }
    frame.render_widget(Line::from(spans).style(t.style(Meaning::Base)), area);
}
