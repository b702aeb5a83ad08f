//! The full-screen console (ratatui over crossterm).
//!
//! Shape (ARCHITECTURE.md §6): typed [`action::Action`]s from the [`keymap`] and worker
//! replies go into [`app::App::update`], the only place state changes; it returns requests
//! that the [`worker`] carries out against the [`worker::Services`] handles. [`view::draw`]
//! is a pure function of the state. [`event_loop`] is the one task that owns the terminal;
//! [`terminal`] guarantees it is given back. The TUI never runs SQL or HTTP itself.

pub mod action;
pub mod app;
pub mod campaign_form;
pub mod complete;
pub mod consent_form;
pub mod event_loop;
pub mod form;
pub mod keymap;
pub mod live;
pub mod panes;
pub mod subscriber_form;
pub mod terminal;
pub mod theme;
pub mod view;
pub mod widgets;
pub mod window;
pub mod worker;

use crate::config::{Config, ConfigError};
use app::App;
use keymap::Keymap;
use theme::Theme;
use worker::Services;

/// Whether `NO_COLOR` asks for no colour (set and not empty, per no-color.org).
pub fn no_color() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}

/// Picks the theme the configuration asks for. `NO_COLOR` selects `mono` unless a theme was
/// asked for by flag or environment. A broken theme falls back to the default with a notice.
pub fn choose_theme(config: &Config, notices: &mut Vec<String>) -> Theme {
    let no_color = no_color();
    let name = if no_color && !config.theme_explicit {
        "mono"
    } else {
        config.theme.as_str()
    };
    let ascii = !terminal::locale_is_utf8();
    match Theme::load(name, Some(&config.config_dir)) {
        Ok(t) => t.with_ascii(ascii),
        Err(e) => {
            tracing::warn!(error = %e, "theme not loaded");
            notices.push(format!(
                "{e}; using the {} theme",
                if no_color { "mono" } else { "default" }
            ));
            Theme::fallback(no_color).with_ascii(ascii)
        }
    }
}

/// Builds the console's state from the configuration: keymap (an error in a binding stops
/// start-up, with file and line), theme, and the start-up notices.
pub fn build_app(config: &Config, services: &Services) -> Result<App, ConfigError> {
    let (keymap, warnings) = Keymap::build(&config.keys, Some(config))?;
    let mut notices: Vec<String> = config.notices.clone();
    for w in &warnings {
        tracing::warn!(warning = %w, "keymap");
    }
    notices.extend(warnings);
    let theme = choose_theme(config, &mut notices);
    if !terminal::locale_is_utf8() {
        notices.push(
            "the locale is not UTF-8 (see LANG/LC_ALL): drawing with ASCII; set LANG=C.UTF-8 for full text"
                .into(),
        );
    }
    let mut app = App::new(keymap, theme, services.workspace.clone(), (80, 24));
    for n in notices {
        app.notify(n, false);
    }
    Ok(app)
}

/// Opens the console and runs it until the operator leaves; `engine` is the state channel
/// of the engine started in this process, for live progress, and `licence` the licence
/// sync's.
pub async fn run(
    mut app: App,
    services: Services,
    engine: Option<tokio::sync::watch::Receiver<crate::engine::sender::EngineState>>,
    licence: Option<tokio::sync::watch::Receiver<crate::license::sync::Licence>>,
) -> std::io::Result<()> {
    event_loop::run(&mut app, services, engine, licence).await
}

/// Carries out requests and feeds the replies back until the state settles: the event loop
/// without a terminal, for tests, benchmarks and tools.
pub async fn settle(
    app: &mut App,
    services: &Services,
    mut pending: Vec<worker::Tagged<worker::Request>>,
) {
    while let Some(request) = pending.pop() {
        let generation = request.generation;
        let body = worker::serve(services, request.body).await;
        pending.extend(app.update(app::Msg::Reply(worker::Tagged { generation, body })));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn broken_theme_falls_back_to_default_with_file_and_line() {
        let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        let mut config = Config::in_folder(&fixtures);
        config.theme = "broken".into();
        config.theme_explicit = true;
        let mut notices = Vec::new();
        let theme = choose_theme(&config, &mut notices);
        // `mono` when the test runs under NO_COLOR.
        assert_eq!(theme.name, if no_color() { "mono" } else { "default" });
        assert_eq!(notices.len(), 1);
        let n = &notices[0];
        assert!(n.contains("themes/broken.toml, line 4"), "{n}");
        assert!(n.contains("unknown colour `cyann`"), "{n}");
        assert!(n.contains("; using the "), "{n}");
    }
}
