//! Shared set-up for the integration tests: a seeded demo database on a real SQLite file,
//! made once per test binary, and a console state driven without a terminal.

#![allow(dead_code)]

use chrono::{DateTime, TimeZone, Utc};
use cleverplatform::store::{Location, Store};
use cleverplatform::tui::app::{App, Msg};
use cleverplatform::tui::keymap::Keymap;
use cleverplatform::tui::theme::Theme;
use cleverplatform::tui::worker::{Services, Workspace};
use cleverplatform::{demo, tui};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::path::PathBuf;
use std::sync::OnceLock;

/// The fixed "now" the demo is seeded at, so rendered screens are stable.
pub fn seeded_at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 0).unwrap()
}

/// A demo database seeded once for the whole test binary.
pub fn demo_db() -> PathBuf {
    static DB: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    DB.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("clever.db");
        let seed_path = path.clone();
        // Seeded on a thread of its own: the calling test is already inside a runtime.
        std::thread::spawn(move || {
            let rt = tokio::runtime::Runtime::new().unwrap();
            rt.block_on(async {
                let store = Store::open(&Location::File(seed_path)).await.unwrap();
                demo::seed(&store, seeded_at()).await.unwrap();
                store.close().await;
            })
        })
        .join()
        .unwrap();
        (dir, path)
    })
    .1
    .clone()
}

/// Services on a database file, with fixed workspace text.
pub async fn services(db: PathBuf, demo: bool) -> Services {
    Services {
        store: Store::open(&Location::File(db)).await.unwrap(),
        actor: "tester".into(),
        client: cleverplatform::channels::client::Client::new(std::time::Duration::from_secs(5))
            .unwrap(),
        licence: None,
        checker: None,
        workspace: Workspace {
            label: if demo {
                "demo workspace".into()
            } else {
                "/srv/clever".into()
            },
            demo,
            database: "/srv/clever/clever.db".into(),
            log_dir: "/srv/clever/logs".into(),
            rejects_dir: "/srv/clever/rejects".into(),
            sample_import: None,
            engine: None,
            license: cleverplatform::license::state::LicenseState::Unlicensed,
            license_server: "https://license.cleverplatform.kz".into(),
            country: cleverplatform::counterparty::Country::Kz,
            default_region: cleverplatform::domain::phone::Region::default(),
        },
    }
}

/// A console with everything loaded.
pub async fn loaded_app(services: &Services, theme: &str, size: (u16, u16)) -> App {
    let theme = Theme::load(theme, None).unwrap();
    let mut app = App::new(
        Keymap::default_map(),
        theme,
        services.workspace.clone(),
        size,
    );
    let start = app.start();
    tui::settle(&mut app, services, start).await;
    app
}

/// Presses keys, letting the worker answer after each.
pub async fn press(app: &mut App, services: &Services, keys: &[KeyCode]) {
    for &k in keys {
        let reqs = app.update(Msg::Key(KeyEvent::new(k, KeyModifiers::NONE)));
        tui::settle(app, services, reqs).await;
    }
}

/// Services on a copy of the demo database a test may change; the copy lives as long as the
/// returned folder.
pub async fn demo_copy() -> (tempfile::TempDir, Services) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("clever.db");
    std::fs::copy(demo_db(), &db).unwrap();
    let services = services(db, true).await;
    (dir, services)
}

/// Draws the console into a test terminal.
pub fn render(app: &App) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(app.size.0, app.size.1)).unwrap();
    terminal.draw(|f| tui::view::draw(f, app)).unwrap();
    terminal
}
