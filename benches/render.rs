//! A full redraw of every pane at 200×60 into a TestBackend, on the seeded demo workspace.
//! Run: `cargo bench --bench render`.

use chrono::{TimeZone, Utc};
use cleverplatform::store::{Location, Store};
use cleverplatform::tui::action::PaneId;
use cleverplatform::tui::app::{App, Msg};
use cleverplatform::tui::keymap::Keymap;
use cleverplatform::tui::theme::Theme;
use cleverplatform::tui::worker::{Services, Workspace};
use cleverplatform::{demo, tui};
use criterion::{Criterion, criterion_group, criterion_main};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::hint::black_box;

fn setup(rt: &tokio::runtime::Runtime, dir: &std::path::Path) -> (App, Services) {
    rt.block_on(async {
        let store = Store::open(&Location::File(dir.join("clever.db")))
            .await
            .unwrap();
        demo::seed(
            &store,
            Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 0).unwrap(),
        )
        .await
        .unwrap();
        let services = Services {
            store,
            actor: "bench".into(),
            client: cleverplatform::channels::client::Client::new(std::time::Duration::from_secs(
                5,
            ))
            .unwrap(),
            licence: None,
            checker: None,
            workspace: Workspace {
                label: "demo workspace".into(),
                demo: true,
                database: "clever.db".into(),
                log_dir: "logs".into(),
                rejects_dir: "rejects".into(),
                sample_import: None,
                engine: None,
                license: cleverplatform::license::state::LicenseState::Unlicensed,
                license_server: "https://license.cleverplatform.kz".into(),
                country: cleverplatform::counterparty::Country::Kz,
                default_region: cleverplatform::domain::phone::Region::default(),
            },
        };
        let mut app = App::new(
            Keymap::default_map(),
            Theme::load("default", None).unwrap(),
            services.workspace.clone(),
            (200, 60),
        );
        let start = app.start();
        tui::settle(&mut app, &services, start).await;
        (app, services)
    })
}

fn redraw(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (mut app, services) = setup(&rt, dir.path());
    let mut terminal = Terminal::new(TestBackend::new(200, 60)).unwrap();
    let mut group = c.benchmark_group("full_redraw_200x60");
    for pane in PaneId::ALL {
        let key = KeyCode::Char(char::from(b'1' + pane.index() as u8));
        rt.block_on(async {
            let reqs = app.update(Msg::Key(KeyEvent::new(key, KeyModifiers::NONE)));
            tui::settle(&mut app, &services, reqs).await;
        });
        group.bench_function(pane.title(), |b| {
            b.iter(|| {
                // A full redraw: clear the previous buffer so every cell is drawn again.
                terminal.clear().unwrap();
                terminal
                    .draw(|f| tui::view::draw(f, black_box(&app)))
                    .unwrap();
            })
        });
    }
    group.finish();
}

criterion_group!(benches, redraw);
criterion_main!(benches);
