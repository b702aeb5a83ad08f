//! The console rendered through ratatui's TestBackend: every pane, empty and populated, at
//! 80×24 and 120×36, the overlays, and the styles of the selected row and focused pane.

mod common;
#[path = "common/vendor.rs"]
mod vendor;

use cleverplatform::tui::action::PaneId;
use cleverplatform::tui::app::{App, Msg, group};
use cleverplatform::tui::worker::Services;
use common::*;
use ratatui::crossterm::event::KeyCode;
use ratatui::style::{Color, Modifier};
use std::path::Path;

const SIZES: [(u16, u16); 2] = [(80, 24), (120, 36)];

fn pane_key(p: PaneId) -> KeyCode {
    KeyCode::Char(char::from(b'1' + p.index() as u8))
}

macro_rules! snap {
    ($name:expr, $terminal:expr) => {
        insta::with_settings!({
            filters => vec![
                (r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", "[time]"),
                (r"UTC[+-]\d{2}:\d{2}", "UTC[zone]"),
                // A fetch time wrapped over two lines.
                (r"as of \d{4}-\d{2}-\d{2}", "as of [date]"),
                // The same when the date starts a wrapped row.
                (r"\d{4}-\d{2}-\d{2}\)", "[date])"),
                (r"\d{2}:\d{2} UTC", "[hh:mm] UTC"),
                (r"/tmp/\.tmp\w+", "[tmp]"),
                (r"127\.0\.0\.1:\d+", "127.0.0.1:[port]"),
            ],
            omit_expression => true,
        }, {
            insta::assert_snapshot!($name, $terminal.backend());
        })
    };
}

#[tokio::test]
async fn every_pane_populated() {
    let services = services(demo_db(), true).await;
    for size in SIZES {
        let mut app = loaded_app(&services, "default", size).await;
        for pane in PaneId::ALL {
            press(&mut app, &services, &[pane_key(pane)]).await;
            snap!(
                format!(
                    "populated_{}_{}x{}",
                    pane.title().to_lowercase(),
                    size.0,
                    size.1
                ),
                render(&app)
            );
        }
    }
}

#[tokio::test]
async fn every_pane_empty() {
    let dir = tempfile::tempdir().unwrap();
    let services = services(dir.path().join("clever.db"), false).await;
    for size in SIZES {
        let mut app = loaded_app(&services, "default", size).await;
        for pane in PaneId::ALL {
            press(&mut app, &services, &[pane_key(pane)]).await;
            snap!(
                format!(
                    "empty_{}_{}x{}",
                    pane.title().to_lowercase(),
                    size.0,
                    size.1
                ),
                render(&app)
            );
        }
    }
}

#[tokio::test]
async fn overlays_and_narrow_detail() {
    let services = services(demo_db(), true).await;
    let mut app = loaded_app(&services, "default", (80, 24)).await;
    press(&mut app, &services, &[KeyCode::Char('?')]).await;
    snap!("help_80x24", render(&app));
    // Descriptions too long for the overlay wrap under themselves, and the help scrolls to
    // its last line and no further: one key up from the end moves it at once.
    let last = app.keymap.bindings().last().unwrap().action.description();
    let mut screens = Vec::new();
    for _ in 0..80 {
        press(&mut app, &services, &[KeyCode::Down]).await;
        screens.push(format!("{}", render(&app).backend()));
    }
    let all = screens.join("");
    assert!(all.contains("Delete the shown list (asks first;"), "{all}");
    assert!(all.contains("subscribers stay)"), "{all}");
    let end = screens.last().unwrap();
    assert!(end.contains(last), "the last binding is reachable: {end}");
    press(&mut app, &services, &[KeyCode::Up]).await;
    assert_ne!(&format!("{}", render(&app).backend()), end);
    press(
        &mut app,
        &services,
        &[
            KeyCode::Esc,
            KeyCode::Char('2'),
            KeyCode::Down,
            KeyCode::Enter,
        ],
    )
    .await;
    snap!("subscriber_detail_80x24", render(&app));
    press(&mut app, &services, &[KeyCode::Esc, KeyCode::Char('q')]).await;
    snap!("quit_confirm_80x24", render(&app));
    assert!(!app.quit, "a running campaign makes quit ask first");
    press(&mut app, &services, &[KeyCode::Char('n')]).await;
    assert!(!app.quit);
    press(
        &mut app,
        &services,
        &[KeyCode::Char('q'), KeyCode::Char('y')],
    )
    .await;
    assert!(app.quit);
}

#[tokio::test]
async fn search_filters_subscribers() {
    let services = services(demo_db(), true).await;
    let mut app = loaded_app(&services, "default", (120, 36)).await;
    let total = app.subscribers.total;
    let mut keys = vec![KeyCode::Char('2'), KeyCode::Char('/')];
    keys.extend("Айгерим".chars().map(KeyCode::Char));
    press(&mut app, &services, &keys).await;
    snap!("search_typing_120x36", render(&app));
    press(&mut app, &services, &[KeyCode::Enter]).await;
    assert!(app.subscribers.total > 0 && app.subscribers.total < total);
    assert!(
        app.subscribers
            .rows
            .iter()
            .all(|r| r.name.contains("Айгерим"))
    );
    // Typed text is text: `q` and `й` in the field quit nothing.
    press(
        &mut app,
        &services,
        &[KeyCode::Char('/'), KeyCode::Char('q'), KeyCode::Char('й')],
    )
    .await;
    assert!(!app.quit);
    press(&mut app, &services, &[KeyCode::Esc, KeyCode::Esc]).await;
    assert_eq!(
        app.subscribers.total, total,
        "Esc in the list clears the search"
    );
    // The start of a phone too short to look up says so rather than "nobody".
    press(
        &mut app,
        &services,
        &[
            KeyCode::Char('/'),
            KeyCode::Char('+'),
            KeyCode::Char('7'),
            KeyCode::Enter,
        ],
    )
    .await;
    assert_eq!(app.subscribers.total, 0);
    let text = format!("{}", render(&app).backend());
    assert!(
        text.contains("Nobody matches the search: a phone is")
            && text.contains("found from its first three digits on"),
        "{text}"
    );
}

#[tokio::test]
async fn terminal_too_small_says_so() {
    let services = services(demo_db(), true).await;
    let mut app = loaded_app(&services, "default", (39, 11)).await;
    let t = render(&app);
    let text = format!("{}", t.backend());
    assert!(text.contains("Terminal too small: 39×11"), "{text}");
    app.update(Msg::Resize(1, 1));
    render(&app);
}

/// The style of the selected list row and of the focused pane's border.
#[tokio::test]
async fn selected_row_and_focus_styles() {
    let services = services(demo_db(), true).await;
    for theme in ["default", "mono"] {
        let mut app = loaded_app(&services, theme, (120, 36)).await;
        press(&mut app, &services, &[KeyCode::Char('2'), KeyCode::Down]).await;
        let t = render(&app);
        let buf = t.backend().buffer();
        // Row 0 tabs, 1 border, 2 header, 3 first row, 4 second (selected) row; the
        // subscriber list starts right of the 28-column lists panel.
        let selected = buf[(40, 4)].style();
        let other = buf[(40, 3)].style();
        let list_border = buf[(28, 1)].style();
        let detail_border = buf[(119, 1)].style();
        match theme {
            "default" => {
                assert_eq!(selected.bg, Some(Color::Cyan));
                assert_ne!(other.bg, Some(Color::Cyan));
                assert_eq!(list_border.fg, Some(Color::Cyan));
                assert_eq!(detail_border.fg, Some(Color::DarkGray));
            }
            _ => {
                assert!(selected.add_modifier.contains(Modifier::REVERSED));
                assert!(!other.add_modifier.contains(Modifier::REVERSED));
                assert!(list_border.add_modifier.contains(Modifier::BOLD));
                assert!(!detail_border.add_modifier.contains(Modifier::BOLD));
                for y in 0..36 {
                    for x in 0..120 {
                        let s = buf[(x, y)].style();
                        assert!(
                            s.fg.is_none_or(|c| c == Color::Reset)
                                && s.bg.is_none_or(|c| c == Color::Reset),
                            "mono drew a colour at {x},{y}"
                        );
                    }
                }
            }
        }
        // Focus moves to the detail view: its border takes the focused style.
        press(&mut app, &services, &[KeyCode::Enter]).await;
        let t = render(&app);
        let buf = t.backend().buffer();
        let list_sel = buf[(40, 4)].style();
        if theme == "default" {
            assert_eq!(buf[(119, 1)].style().fg, Some(Color::Cyan));
            assert_eq!(list_sel.bg, Some(Color::DarkGray), "unfocused selection");
        } else {
            assert!(buf[(119, 1)].style().add_modifier.contains(Modifier::BOLD));
            assert!(list_sel.add_modifier.contains(Modifier::UNDERLINED));
        }
    }
}

#[tokio::test]
async fn paging_reaches_the_last_subscriber() {
    let services = services(demo_db(), true).await;
    let mut app = loaded_app(&services, "default", (120, 36)).await;
    press(&mut app, &services, &[KeyCode::Char('2'), KeyCode::End]).await;
    assert_eq!(app.subscribers.cursor, app.subscribers.total - 1);
    let last = app.subscribers.selected().unwrap().id;
    press(&mut app, &services, &[KeyCode::Home]).await;
    assert_eq!(app.subscribers.cursor, 0);
    for _ in 0..200 {
        press(&mut app, &services, &[KeyCode::PageDown]).await;
    }
    assert!(app.subscribers.rows.len() <= cleverplatform::tui::window::MAX_ROWS);
    for _ in 0..200 {
        press(&mut app, &services, &[KeyCode::PageDown]).await;
    }
    assert_eq!(app.subscribers.selected().unwrap().id, last);
}

/// A subscriber's detail lists the campaign messages sent to them, with why one failed.
#[tokio::test]
async fn a_subscribers_detail_lists_their_campaign_messages() {
    let (_dir, services) = demo_copy().await;
    let mut conn = services.store.read().await.unwrap();
    let (address, campaign): (String, String) = sqlx::query_as(
        "SELECT i.address, c.name FROM outbox o JOIN identities i ON i.id = o.identity_id \
         JOIN campaigns c ON c.id = o.campaign_id \
         WHERE o.state = 'failed' AND i.channel = 'whatsapp' ORDER BY o.id LIMIT 1",
    )
    .fetch_one(&mut *conn)
    .await
    .unwrap();
    drop(conn);
    let mut app = loaded_app(&services, "default", (120, 36)).await;
    let mut keys = vec![KeyCode::Char('2'), KeyCode::Char('/')];
    keys.extend(address.chars().map(KeyCode::Char));
    keys.extend([KeyCode::Enter, KeyCode::Enter]);
    press(&mut app, &services, &keys).await;
    assert_eq!(app.subscribers.total, 1);
    let screen = format!("{}", render(&app).backend());
    assert!(
        screen.contains("Campaign messages (newest first)"),
        "{screen}"
    );
    // The line may wrap in the detail's column: its cause follows it.
    let messages = &screen[screen.find("Campaign messages").unwrap()..];
    let at = messages
        .find(&format!("failed {campaign}"))
        .unwrap_or_else(|| panic!("no failed message of “{campaign}”: {screen}"));
    assert!(messages[at..].contains("permanent"), "{screen}");
}

/// The console at 80×24 on a fresh workspace where a CRM export of two subscribers was
/// imported from the Subscribers pane (Айгерим with WhatsApp and Telegram, Ерлан with
/// WhatsApp; both consenting), their list shown and Айгерим selected.
async fn two_imported_at_80x24() -> (
    tempfile::TempDir,
    cleverplatform::tui::worker::Services,
    cleverplatform::tui::app::App,
) {
    use cleverplatform::domain::Channel;
    let dir = tempfile::tempdir().unwrap();
    let services = services(dir.path().join("clever.db"), false).await;
    let csv = dir.path().join("crm.csv");
    std::fs::write(
        &csv,
        "phone;telegram_chat_id;name;consent\n8 701 123 45 67;555001;Айгерим;да\n8 702 123 45 67;;Ерлан;да\n",
    )
    .unwrap();
    let mut app = loaded_app(&services, "default", (80, 24)).await;
    let mut keys = vec![KeyCode::Char('2'), KeyCode::Char('i')];
    keys.extend(csv.display().to_string().chars().map(KeyCode::Char));
    keys.extend([KeyCode::Enter, KeyCode::Esc, KeyCode::Char(']')]);
    press(&mut app, &services, &keys).await;
    assert_eq!(app.sendable.as_ref().unwrap().1[0], (Channel::WhatsApp, 2));
    assert_eq!(app.subscribers.selected().unwrap().name, "Айгерим");
    (dir, services, app)
}

/// A subscriber who got a message at night: `z` on them asks for their time zone, read as
/// the import reads one; a zone that is none keeps the text to be put right; empty forgets it.
#[tokio::test]
async fn a_subscribers_time_zone_is_set_from_the_console() {
    let (_dir, services, mut app) = two_imported_at_80x24().await;
    let zone = || async {
        let d = services
            .store
            .subscriber_detail(app_selected_id(&services).await)
            .await
            .unwrap()
            .unwrap();
        d.row.time_zone
    };
    let mut keys = vec![KeyCode::Enter, KeyCode::Char('z')];
    keys.extend("Актобе".chars().map(KeyCode::Char));
    press(&mut app, &services, &keys).await;
    snap!("time_zone_prompt_80x24", render(&app));
    press(&mut app, &services, &[KeyCode::Enter]).await;
    assert_eq!(zone().await.as_deref(), Some("Asia/Aqtobe"));
    let n = app.notices.last().unwrap();
    assert!(
        !n.error && n.text.contains("time zone Asia/Aqtobe (was none)"),
        "{n:?}"
    );
    // The prompt comes filled with the zone; a wrong one is refused and stays to be fixed.
    let mut keys = vec![KeyCode::Char('z')];
    keys.extend("/Mars".chars().map(KeyCode::Char));
    keys.push(KeyCode::Enter);
    press(&mut app, &services, &keys).await;
    let n = app.notices.last().unwrap();
    assert!(
        n.error && n.text.contains("unknown time zone `Asia/Aqtobe/Mars`"),
        "{n:?}"
    );
    assert_eq!(app.prompt.as_ref().unwrap().text(), "Asia/Aqtobe/Mars");
    assert_eq!(zone().await.as_deref(), Some("Asia/Aqtobe"));
    // Emptied, it is forgotten: their list's zone applies.
    let mut keys = vec![KeyCode::Backspace; "Asia/Aqtobe/Mars".chars().count()];
    keys.push(KeyCode::Enter);
    press(&mut app, &services, &keys).await;
    assert_eq!(zone().await, None);
}

/// The selected subscriber's id, by their (first) name in the two imported.
async fn app_selected_id(services: &Services) -> cleverplatform::domain::SubscriberId {
    let mut conn = services.store.read().await.unwrap();
    let id: i64 = sqlx::query_scalar("SELECT id FROM subscribers WHERE name = 'Айгерим'")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    cleverplatform::domain::SubscriberId(id)
}

/// An operator told by phone to stop: `o` on the subscriber suppresses every address with
/// the reason typed, audited; `o` again lifts it, also with a reason.
#[tokio::test]
async fn a_subscriber_is_opted_out_and_back_from_the_console() {
    use cleverplatform::domain::Channel;
    let (_dir, services, mut app) = two_imported_at_80x24().await;
    let sendable = |app: &cleverplatform::tui::app::App| app.sendable.as_ref().unwrap().1.clone();
    // From the full-screen detail too: the field comes up under the list.
    press(&mut app, &services, &[KeyCode::Enter, KeyCode::Char('o')]).await;
    snap!("opt_out_prompt_80x24", render(&app));
    // No reason, no change.
    press(&mut app, &services, &[KeyCode::Enter]).await;
    assert!(
        app.notices[0].text.contains("needs a reason"),
        "{:?}",
        app.notices
    );
    let suppressions = || async {
        let mut conn = services.store.read().await.unwrap();
        let rows: Vec<(String, String, String, String)> = sqlx::query_as(
            "SELECT channel, address, reason, created_by FROM suppressions ORDER BY channel",
        )
        .fetch_all(&mut *conn)
        .await
        .unwrap();
        rows
    };
    assert!(suppressions().await.is_empty());
    let mut keys = vec![KeyCode::Char('o')];
    keys.extend("asked by phone".chars().map(KeyCode::Char));
    keys.push(KeyCode::Enter);
    press(&mut app, &services, &keys).await;
    let rows = suppressions().await;
    assert_eq!(
        rows.iter()
            .map(|r| (r.0.as_str(), r.1.as_str(), r.2.as_str()))
            .collect::<Vec<_>>(),
        [
            ("telegram", "555001", "asked by phone"),
            ("whatsapp", "+77011234567", "asked by phone")
        ]
    );
    assert!(rows.iter().all(|r| r.3 == services.actor));
    let notice = &app.notices[0].text;
    assert!(notice.starts_with("not messaged again: 555001"), "{notice}");
    // The row, the counts and the detail show it at once.
    let row = app.subscribers.selected().unwrap();
    assert_eq!(row.suppressed_list(), row.channel_list());
    assert_eq!(sendable(&app)[0], (Channel::WhatsApp, 1));
    press(&mut app, &services, &[KeyCode::Enter]).await;
    let screen = format!("{}", render(&app).backend());
    assert!(screen.contains("SUPPRESSED: asked by phone"), "{screen}");
    assert!(screen.contains("o lifts the suppression"), "{screen}");
    // `o` on a suppressed subscriber lifts it, with its own reason.
    let mut keys = vec![KeyCode::Char('o')];
    keys.extend("entered by mistake".chars().map(KeyCode::Char));
    keys.push(KeyCode::Enter);
    press(&mut app, &services, &keys).await;
    assert!(suppressions().await.is_empty());
    assert_eq!(sendable(&app)[0], (Channel::WhatsApp, 2));
    let mut conn = services.store.read().await.unwrap();
    let audit: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT actor, action, subject_id, detail ->> 'reason' FROM audit_log \
         WHERE action LIKE 'suppression.%' ORDER BY id",
    )
    .fetch_all(&mut *conn)
    .await
    .unwrap();
    assert_eq!(audit.len(), 4, "{audit:?}");
    assert_eq!(
        (
            audit[0].1.as_str(),
            audit[0].2.as_str(),
            audit[0].3.as_str()
        ),
        ("suppression.add", "telegram:555001", "asked by phone")
    );
    assert_eq!(
        (
            audit[3].1.as_str(),
            audit[3].2.as_str(),
            audit[3].3.as_str()
        ),
        (
            "suppression.remove",
            "whatsapp:+77011234567",
            "entered by mistake"
        )
    );
    assert!(audit.iter().all(|a| a.0 == services.actor));
}

/// Opens the consent form (`C`) and moves to its Source row.
fn consent_form_to_source() -> Vec<KeyCode> {
    let mut keys = vec![KeyCode::Char('C')];
    keys.extend([KeyCode::Tab; 4]);
    keys
}

/// A subscriber calls to stop, then signs a paper form: `C` records each, with its source
/// and proof, audited; the sendable counts follow at once.
#[tokio::test]
async fn a_consent_is_recorded_from_the_console() {
    use cleverplatform::domain::Channel;
    let (_dir, services, mut app) = two_imported_at_80x24().await;
    let sendable = |app: &cleverplatform::tui::app::App| app.sendable.as_ref().unwrap().1.clone();
    press(&mut app, &services, &[KeyCode::Enter]).await;
    let screen = format!("{}", render(&app).backend());
    assert!(
        screen.contains("C records one"),
        "the detail names the key: {screen}"
    );
    // From the detail, the form opens on their first address, marketing, and offers to
    // withdraw the grant on record.
    press(&mut app, &services, &[KeyCode::Char('C')]).await;
    snap!("consent_form_80x24", render(&app));
    // Enter down to the last row and once more: no source, so nothing is recorded.
    press(&mut app, &services, &[KeyCode::Enter; 6]).await;
    let form = app.consent_form.as_ref().expect("still open");
    assert_eq!(
        form.errors.first().map(|(r, _)| *r),
        Some(cleverplatform::tui::consent_form::Row::Source)
    );
    let consents = || async {
        let mut conn = services.store.read().await.unwrap();
        let rows: Vec<(String, String, String, String, String, String)> = sqlx::query_as(
            "SELECT channel, scope, status, source, proof, recorded_by FROM consents \
             WHERE source NOT LIKE 'import%' ORDER BY id",
        )
        .fetch_all(&mut *conn)
        .await
        .unwrap();
        rows
    };
    assert!(consents().await.is_empty());
    let mut keys: Vec<KeyCode> = "asked in the shop".chars().map(KeyCode::Char).collect();
    keys.push(KeyCode::F(2));
    press(&mut app, &services, &keys).await;
    assert!(app.consent_form.is_none(), "closed once recorded");
    // The withdrawal has no proof; the history still says who recorded it.
    press(&mut app, &services, &[]).await;
    let screen = format!("{}", render(&app).backend());
    let lines: Vec<&str> = screen.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.contains("asked in the shop"))
        .expect("the withdrawal is in the history");
    assert!(
        lines[at + 1].contains(&format!("recorded by {}", services.actor)),
        "{screen}"
    );
    let notice = &app.notices[0].text;
    assert!(
        notice.starts_with("WhatsApp marketing consent withdrawn for +77011234567"),
        "{notice}"
    );
    assert_eq!(sendable(&app)[0], (Channel::WhatsApp, 1));
    // A grant needs proof; with it, they can be messaged again.
    let mut keys = consent_form_to_source();
    keys.extend("paper form".chars().map(KeyCode::Char));
    keys.push(KeyCode::F(2));
    press(&mut app, &services, &keys).await;
    let form = app.consent_form.as_ref().expect("no proof, still open");
    assert_eq!(
        form.errors.first().map(|(r, _)| *r),
        Some(cleverplatform::tui::consent_form::Row::Proof)
    );
    let screen = format!("{}", render(&app).backend());
    assert!(screen.contains("granted only with proof"), "{screen}");
    let mut keys: Vec<KeyCode> = "No. 123".chars().map(KeyCode::Char).collect();
    keys.push(KeyCode::Enter);
    press(&mut app, &services, &keys).await;
    assert!(app.consent_form.is_none(), "{:?}", app.notices);
    assert_eq!(sendable(&app)[0], (Channel::WhatsApp, 2));
    let actor = services.actor.clone();
    assert_eq!(
        consents().await,
        [
            (
                "whatsapp".into(),
                "marketing".into(),
                "withdrawn".into(),
                "asked in the shop".into(),
                String::new(),
                actor.clone()
            ),
            (
                "whatsapp".into(),
                "marketing".into(),
                "granted".into(),
                "paper form".into(),
                "No. 123".into(),
                actor.clone()
            ),
        ]
    );
    let mut conn = services.store.read().await.unwrap();
    let audit: Vec<(String, String)> = sqlx::query_as(
        "SELECT actor, action FROM audit_log WHERE action LIKE 'consent.%' ORDER BY id",
    )
    .fetch_all(&mut *conn)
    .await
    .unwrap();
    assert_eq!(
        audit,
        [
            (actor.clone(), "consent.withdraw".into()),
            (actor, "consent.grant".into())
        ]
    );
    // Esc closes the form, recording nothing.
    press(
        &mut app,
        &services,
        &[KeyCode::Char('C'), KeyCode::Right, KeyCode::Esc],
    )
    .await;
    assert!(app.consent_form.is_none());
    assert_eq!(consents().await.len(), 2);
    // A paper form for the service scope, signed days ago: dated then, and the notice says so.
    let mut keys = vec![
        KeyCode::Char('C'),
        KeyCode::Tab,
        KeyCode::Right,
        KeyCode::Tab,
        KeyCode::Tab,
    ];
    keys.extend("2026-01-15 10:30".chars().map(KeyCode::Char));
    keys.push(KeyCode::Tab);
    keys.extend("paper form".chars().map(KeyCode::Char));
    keys.push(KeyCode::Tab);
    keys.extend("No. 124".chars().map(KeyCode::Char));
    keys.push(KeyCode::F(2));
    press(&mut app, &services, &keys).await;
    assert!(app.consent_form.is_none(), "{:?}", app.notices);
    let notice = &app.notices[0].text;
    assert!(
        notice.starts_with(
            "WhatsApp service consent granted for +77011234567, given 2026-01-15 10:30 UTC"
        ),
        "{notice}"
    );
    assert_eq!(consents().await.len(), 3);
}

#[tokio::test]
async fn lists_switch_and_import_from_the_console() {
    let dir = tempfile::tempdir().unwrap();
    let services = services(dir.path().join("clever.db"), false).await;
    let csv = dir.path().join("crm.csv");
    std::fs::write(
        &csv,
        "телефон;имя;согласие;заметка\n8 701 123 45 67;Айгерим;да;\"звонить\nпосле 18\"\n8 702 123 45 67;Ерлан;нет;\nbad;X;да;\n",
    )
    .unwrap();
    let mut app = loaded_app(&services, "default", (120, 36)).await;
    // Tab completes the path as a shell does: as far as the folder's entries agree, then
    // naming them; one more letter and Tab finishes it.
    let mut keys = vec![KeyCode::Char('2'), KeyCode::Char('i')];
    keys.extend(
        format!("{}/c", dir.path().display())
            .chars()
            .map(KeyCode::Char),
    );
    keys.push(KeyCode::Tab);
    press(&mut app, &services, &keys).await;
    let prompt = app.prompt.as_ref().unwrap();
    assert_eq!(prompt.text(), format!("{}/c", dir.path().display()));
    assert!(
        prompt.choices.contains(&"crm.csv".to_string())
            && prompt.choices.contains(&"clever.db".to_string()),
        "{:?}",
        prompt.choices
    );
    let screen = format!("{:?}", render(&app).backend());
    assert!(screen.contains(" match: clever.db"), "{screen}");
    press(&mut app, &services, &[KeyCode::Char('r'), KeyCode::Tab]).await;
    let prompt = app.prompt.as_ref().unwrap();
    assert_eq!(prompt.text(), csv.display().to_string());
    assert!(prompt.choices.is_empty());
    snap!("import_prompt_120x36", render(&app));
    press(&mut app, &services, &[KeyCode::Enter]).await;
    let import = app.import.as_ref().expect("an import view");
    let summary = import.result.as_ref().unwrap().as_ref().unwrap();
    assert_eq!((summary.imported, summary.rejected), (2, 1));
    assert_eq!(summary.list, "Imported");
    assert!(dir.path().join("crm.rejects.csv").exists());
    assert_eq!(app.subscribers.total, 2);
    assert_eq!(app.lists.len(), 1);
    // A value with a line break in its cell shows on one line in the detail.
    let screen = format!("{}", render(&app).backend());
    assert!(screen.contains("звонить после 18"), "{screen}");
    snap!("import_done_120x36", render(&app));
    // The new list is shown with `]`; who can be messaged is counted per channel.
    press(&mut app, &services, &[KeyCode::Esc, KeyCode::Char(']')]).await;
    assert_eq!(
        app.selected_list().map(|l| l.name.as_str()),
        Some("Imported")
    );
    let counts = &app.sendable.as_ref().unwrap().1;
    assert_eq!(counts[0], (cleverplatform::domain::Channel::WhatsApp, 1));
    snap!("list_selected_120x36", render(&app));
    // `E` writes the shown list to a new CSV file (as `subscribers export` does), which is
    // never written over.
    press(&mut app, &services, &[KeyCode::Char('E')]).await;
    let prompt = app.prompt.as_ref().expect("a file prompt");
    assert!(
        prompt.text().starts_with("~/clever-Imported-") && prompt.text().ends_with(".csv"),
        "{}",
        prompt.text()
    );
    let screen = format!("{:?}", render(&app).backend());
    assert!(
        screen.contains("CSV file to write “Imported” to"),
        "{screen}"
    );
    press(&mut app, &services, &[KeyCode::Esc]).await;
    let out = dir.path().join("out.csv");
    for expect_error in [false, true] {
        let n = export_to(&mut app, &services, &out).await;
        assert_eq!(n.error, expect_error, "{n:?}");
        let said = if expect_error {
            "exists; give another file name"
        } else {
            ": 2 subscriber(s) of “Imported”, with their consent and its proof"
        };
        assert!(n.text.contains(said), "{n:?}");
    }
    let exported = std::fs::read_to_string(&out).unwrap();
    assert_eq!(
        exported.lines().count(),
        4,
        "a header and two subscribers (one over two lines): {exported}"
    );
    assert!(
        exported.starts_with("subscriber_id,name,phone,"),
        "{exported}"
    );
    assert!(
        exported.contains("Айгерим") && exported.contains("\"crm.csv, line 2: consent `да`\""),
        "{exported}"
    );
    // A file that is not CSV changes nothing and says so.
    let bin = dir.path().join("x.xlsx");
    std::fs::write(&bin, b"PK\x03\x04\x00\x00").unwrap();
    let mut keys = vec![KeyCode::Char('i')];
    keys.extend(bin.display().to_string().chars().map(KeyCode::Char));
    keys.push(KeyCode::Enter);
    press(&mut app, &services, &keys).await;
    let err = app
        .import
        .as_ref()
        .unwrap()
        .result
        .as_ref()
        .unwrap()
        .as_ref()
        .unwrap_err();
    assert!(err.contains("binary"), "{err}");
    assert_eq!(app.subscribers.total, 2);
    // Deleting the list asks first; the subscribers stay.
    press(&mut app, &services, &[KeyCode::Esc, KeyCode::Char('D')]).await;
    snap!("delete_list_confirm_120x36", render(&app));
    press(&mut app, &services, &[KeyCode::Char('y')]).await;
    assert!(app.lists.is_empty());
    assert_eq!(app.list_index, 0);
    assert_eq!(app.subscribers.total, 2);
}

/// An import is one transaction: quitting while it runs would throw it away, so `q` asks
/// first and says so; once it has ended, `q` quits at once.
#[tokio::test]
async fn quitting_during_an_import_asks_first() {
    use cleverplatform::import::Progress;
    use cleverplatform::tui::app::ImportView;
    let dir = tempfile::tempdir().unwrap();
    let services = services(dir.path().join("clever.db"), false).await;
    let mut app = loaded_app(&services, "default", (80, 24)).await;
    press(&mut app, &services, &[KeyCode::Char('2')]).await;
    app.import = Some(ImportView {
        path: "/srv/crm.csv".into(),
        list: "CRM".into(),
        progress: Progress {
            bytes_read: 50,
            total_bytes: 100,
            rows: 505_000,
        },
        result: None,
    });
    snap!("import_running_80x24", render(&app));
    press(&mut app, &services, &[KeyCode::Char('q')]).await;
    assert!(!app.quit, "a running import makes quit ask first");
    let screen = format!("{}", render(&app).backend());
    assert!(
        screen.contains("nothing of it is kept. Quit anyway?"),
        "{screen}"
    );
    snap!("quit_during_import_80x24", render(&app));
    press(&mut app, &services, &[KeyCode::Char('n')]).await;
    assert!(!app.quit);
    app.import.as_mut().unwrap().result = Some(Err("cut off".into()));
    press(&mut app, &services, &[KeyCode::Esc, KeyCode::Char('q')]).await;
    assert!(app.quit, "an import that has ended holds nothing back");
}

/// A file in a folder the console cannot write to is imported all the same: its rejected
/// rows go to the workspace's `rejects/` folder, which the import box names.
#[tokio::test]
async fn rejects_of_a_file_in_an_unwritable_folder_go_to_the_workspace() {
    let dir = tempfile::tempdir().unwrap();
    let mut services = services(dir.path().join("clever.db"), false).await;
    services.workspace.rejects_dir = dir.path().join("data/rejects");
    let uploads = dir.path().join("uploads");
    std::fs::create_dir(&uploads).unwrap();
    let csv = uploads.join("crm.csv");
    std::fs::write(&csv, "phone;name\n8 701 123 45 67;Айгерим\nbad;X\n").unwrap();
    // What the import writes first cannot be made there (a folder is in its way, as a
    // permission would be for anyone but root).
    std::fs::create_dir(uploads.join("crm.rejects.csv.partial")).unwrap();
    let mut app = loaded_app(&services, "default", (120, 36)).await;
    press(
        &mut app,
        &services,
        &[KeyCode::Char('2'), KeyCode::Char('i')],
    )
    .await;
    answer(&mut app, &services, &csv.display().to_string()).await;
    let summary = app
        .import
        .as_ref()
        .unwrap()
        .result
        .clone()
        .unwrap()
        .unwrap();
    assert_eq!((summary.imported, summary.rejected), (1, 1));
    let moved = dir.path().join("data/rejects/crm.rejects.csv");
    assert_eq!(summary.rejects_file, Some(moved.display().to_string()));
    let rejects = std::fs::read_to_string(&moved).unwrap();
    assert!(rejects.contains("3,invalid phone"), "{rejects}");
    assert!(!uploads.join("crm.rejects.csv").exists());
    // The box wraps the path; read it with the lines joined.
    let screen = format!("{}", render(&app).backend()).replace(['│', '"', '\n', ' '], "");
    assert!(
        screen.contains(&moved.display().to_string().replace(' ', "")),
        "{screen}"
    );
}

/// Presses `E`, gives `path` and Enter; the notice the export left.
async fn export_to(
    app: &mut App,
    services: &Services,
    path: &Path,
) -> cleverplatform::tui::app::Notice {
    press(app, services, &[KeyCode::Char('E')]).await;
    answer(app, services, &path.display().to_string()).await;
    app.notices.last().unwrap().clone()
}

/// Types `text` into the open prompt, in place of what it offered, and presses Enter.
async fn answer(app: &mut App, services: &Services, text: &str) {
    app.prompt.as_mut().expect("a prompt").field =
        ratatui_textarea::TextArea::new(vec![text.to_string()]);
    press(app, services, &[KeyCode::Enter]).await;
}

#[tokio::test]
async fn a_list_in_use_is_not_deleted() {
    let services = services(demo_db(), true).await;
    let mut app = loaded_app(&services, "default", (120, 36)).await;
    press(
        &mut app,
        &services,
        &[KeyCode::Char('2'), KeyCode::Char('D')],
    )
    .await;
    assert!(
        app.notices
            .iter()
            .any(|n| n.text.contains("Everyone cannot be deleted"))
    );
    press(
        &mut app,
        &services,
        &[KeyCode::Char(']'), KeyCode::Char('D'), KeyCode::Char('y')],
    )
    .await;
    let n = app.notices.last().unwrap();
    assert!(n.error && n.text.contains("used by"), "{n:?}");
    assert_eq!(app.lists.len(), 4);
}

#[tokio::test]
async fn accounts_are_checked_against_the_emulators() {
    use cleverplatform::domain::Channel;
    use cleverplatform::store::accounts::{NewAccount, insert};
    let sb = cleverplatform::sandbox::start("127.0.0.1:0".parse().unwrap(), Default::default())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let services = services(dir.path().join("clever.db"), false).await;
    let mut tx = services.store.begin().await.unwrap();
    for (name, token) in [
        ("Good bot", "123:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
        ("Old bot", "revoked:x"),
    ] {
        insert(
            &mut tx,
            &NewAccount {
                channel: Channel::Telegram,
                name,
                settings: serde_json::json!({}),
                secret: token,
                base_url: Some(&sb.base_url()),
                api_version: None,
                sandbox: true,
                rate_per_sec: None,
                wa_daily_tier: None,
            },
        )
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
    let mut app = loaded_app(&services, "default", (120, 36)).await;
    press(&mut app, &services, &[KeyCode::Char('c')]).await;
    let n = app.notices.last().unwrap();
    assert!(
        !n.error && n.text.contains("Good bot: token works — @sandbox_bot"),
        "{n:?}"
    );
    assert_eq!(
        app.accounts.selected().unwrap().health.as_deref(),
        Some("ok: @sandbox_bot")
    );
    press(&mut app, &services, &[KeyCode::Down, KeyCode::Char('c')]).await;
    let n = app.notices.last().unwrap();
    assert!(
        n.error && n.text.contains("Old bot: check failed — HTTP 401"),
        "{n:?}"
    );
}

#[tokio::test]
async fn accounts_pause_with_a_reason_and_resume_after_asking() {
    let (_dir, services) = demo_copy().await;
    let mut app = loaded_app(&services, "default", (120, 36)).await;
    let mut keys = vec![KeyCode::Char('p')];
    keys.extend("token rotation".chars().map(KeyCode::Char));
    press(&mut app, &services, &keys).await;
    snap!("pause_reason_120x36", render(&app));
    press(&mut app, &services, &[KeyCode::Enter]).await;
    let a = app.accounts.selected().unwrap();
    assert_eq!(a.status, cleverplatform::domain::AccountStatus::Paused);
    assert_eq!(a.status_reason.as_deref(), Some("token rotation"));
    // Its running campaign says why nothing goes out, where the operator watches it.
    press(
        &mut app,
        &services,
        &[pane_key(PaneId::Campaigns), KeyCode::Char('r')],
    )
    .await;
    let screen = format!("{}", render(&app).backend());
    for words in [
        "WhatsApp — paused",
        "(token rotation). Nothing",
        "resume it in",
    ] {
        assert!(screen.contains(words), "{words}: {screen}");
    }
    snap!("campaign_on_a_paused_account_120x36", render(&app));
    press(&mut app, &services, &[pane_key(PaneId::Accounts)]).await;
    press(&mut app, &services, &[KeyCode::Char('p')]).await;
    assert!(matches!(
        app.overlay,
        cleverplatform::tui::app::Overlay::Confirm(_)
    ));
    press(&mut app, &services, &[KeyCode::Char('y')]).await;
    assert_eq!(
        app.accounts.selected().unwrap().status,
        cleverplatform::domain::AccountStatus::Active
    );
    let audit = services
        .store
        .audit_for(
            "account",
            &app.accounts.selected().unwrap().id.to_string(),
            5,
        )
        .await
        .unwrap();
    assert_eq!(
        audit.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(),
        vec!["account.active", "account.paused"]
    );
}

/// Types text into whatever field has the keys.
async fn type_text(
    app: &mut cleverplatform::tui::app::App,
    services: &cleverplatform::tui::worker::Services,
    text: &str,
) {
    let keys: Vec<KeyCode> = text.chars().map(KeyCode::Char).collect();
    press(app, services, &keys).await;
}

#[tokio::test]
async fn accounts_are_added_and_changed_through_the_form() {
    use cleverplatform::domain::Channel;
    let sb = cleverplatform::sandbox::start("127.0.0.1:0".parse().unwrap(), Default::default())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let services = services(dir.path().join("clever.db"), false).await;
    let mut app = loaded_app(&services, "default", (80, 24)).await;
    press(&mut app, &services, &[KeyCode::Char('a')]).await;
    assert!(app.form.is_some());
    // Up to the channel picker, → to Telegram, back down to the name.
    press(
        &mut app,
        &services,
        &[KeyCode::Up, KeyCode::Right, KeyCode::Down],
    )
    .await;
    assert_eq!(app.form.as_ref().unwrap().channel, Channel::Telegram);
    type_text(&mut app, &services, "Shop bot").await;
    press(&mut app, &services, &[KeyCode::Tab]).await;
    type_text(&mut app, &services, "not a token").await;
    press(&mut app, &services, &[KeyCode::F(2)]).await;
    snap!("account_form_errors_80x24", render(&app));
    app.size = (120, 36);
    snap!("account_form_errors_120x36", render(&app));
    app.size = (80, 24);
    let rendered = format!("{:?}", render(&app).backend());
    assert!(!rendered.contains("not a token"), "the token is masked");
    let form = app.form.as_ref().unwrap();
    assert!(form.fields[1].error.as_deref().unwrap().contains("spaces"));
    // Clear the token, type a good one and the sandbox's address, save with Enter on the
    // last field.
    for _ in 0.."not a token".len() {
        press(&mut app, &services, &[KeyCode::Backspace]).await;
    }
    type_text(
        &mut app,
        &services,
        "7000001:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    )
    .await;
    press(&mut app, &services, &[KeyCode::Tab]).await;
    type_text(&mut app, &services, &sb.base_url()).await;
    press(&mut app, &services, &[KeyCode::Tab, KeyCode::Enter]).await;
    assert!(app.form.is_none(), "saved and closed");
    let n = app.notices.last().unwrap();
    assert!(
        !n.error
            && n.text
                .contains("added “Shop bot” — token works: @sandbox_bot"),
        "{n:?}"
    );
    let a = app.accounts.selected().unwrap().clone();
    assert_eq!(
        (a.name.as_str(), a.channel, a.sandbox),
        ("Shop bot", Channel::Telegram, true)
    );

    // A second account may not take the same name: the problem shows under the name.
    press(
        &mut app,
        &services,
        &[
            KeyCode::Char('a'),
            KeyCode::Up,
            KeyCode::Right,
            KeyCode::Down,
        ],
    )
    .await;
    type_text(&mut app, &services, "Shop bot").await;
    press(&mut app, &services, &[KeyCode::Tab]).await;
    type_text(
        &mut app,
        &services,
        "7000002:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    )
    .await;
    press(&mut app, &services, &[KeyCode::F(2)]).await;
    let form = app.form.as_ref().expect("still open");
    assert!(
        form.fields[0]
            .error
            .as_deref()
            .unwrap()
            .contains("exists already"),
        "{:?}",
        form.fields[0].error
    );
    // Nor the same bot under another name: the problem shows under the token.
    type_text(&mut app, &services, " 2").await;
    press(&mut app, &services, &[KeyCode::Tab]).await;
    for _ in 0.."7000002:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".len() {
        press(&mut app, &services, &[KeyCode::Backspace]).await;
    }
    type_text(
        &mut app,
        &services,
        "7000001:BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB",
    )
    .await;
    press(&mut app, &services, &[KeyCode::F(2)]).await;
    let form = app.form.as_ref().expect("still open");
    assert!(form.fields[0].error.is_none(), "{:?}", form.fields[0].error);
    assert!(
        form.fields[1]
            .error
            .as_deref()
            .unwrap()
            .starts_with("Telegram bot 7000001 is connected already as “Shop bot”"),
        "{:?}",
        form.fields[1].error
    );
    press(&mut app, &services, &[KeyCode::Esc]).await;
    assert!(app.form.is_none());

    // Change it: a new name and rate; the empty token field keeps the token.
    press(&mut app, &services, &[KeyCode::Char('e')]).await;
    snap!("account_form_edit_80x24", render(&app));
    for _ in 0.."bot".len() {
        press(&mut app, &services, &[KeyCode::Backspace]).await;
    }
    type_text(&mut app, &services, "Bot").await;
    press(
        &mut app,
        &services,
        &[KeyCode::Tab, KeyCode::Tab, KeyCode::Tab],
    )
    .await;
    type_text(&mut app, &services, "2").await;
    press(&mut app, &services, &[KeyCode::F(2)]).await;
    let n = app.notices.last().unwrap();
    assert!(
        !n.error && n.text.contains("saved “Shop Bot” — token works"),
        "{n:?}"
    );
    let a = app.accounts.selected().unwrap().clone();
    assert_eq!((a.name.as_str(), a.rate_per_sec), ("Shop Bot", Some(2.0)));
    let (_, target) = cleverplatform::engine::target(&services.store, a.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(target.token, "7000001:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
}

/// The console at 80×24 with the campaign form open, `name` typed, the list and the account
/// as they come (a WhatsApp account), and the cursor past the template, in the message.
async fn composing(services: &Services, name: &str) -> App {
    let mut app = loaded_app(services, "default", (80, 24)).await;
    press(
        &mut app,
        services,
        &[pane_key(PaneId::Campaigns), KeyCode::Char('n')],
    )
    .await;
    type_text(&mut app, services, name).await;
    press(
        &mut app,
        services,
        &[KeyCode::Tab, KeyCode::Tab, KeyCode::Tab, KeyCode::Tab],
    )
    .await;
    app
}

/// A name another campaign has is refused when the form is saved, and the refusal shows
/// under the name, which gets the focus; nothing is made.
#[tokio::test]
async fn a_taken_campaign_name_shows_under_the_name() {
    use cleverplatform::tui::campaign_form::Row;
    let (_dir, services) = demo_copy().await;
    let mut app = composing(&services, "Weekly digest #48").await;
    type_text(&mut app, &services, "Hi {{ name }}").await;
    press(&mut app, &services, &[KeyCode::F(2)]).await;
    let form = app.campaign_form.as_ref().expect("still open");
    let why = form.error_of(Row::Name).expect("under the name");
    assert!(
        why.contains("a campaign named `Weekly digest #48` exists already"),
        "{why}"
    );
    assert_eq!(form.focus, Row::Name);
    assert!(form.error.is_none(), "{:?}", form.error);
    let mut conn = services.store.read().await.unwrap();
    let named = cleverplatform::store::campaigns::named(&mut conn, "Weekly digest #48")
        .await
        .unwrap();
    assert_eq!(named.len(), 1, "no second one");
}

/// A campaign composed in the form: every empty row is named, the message is previewed for
/// the list's subscribers as it is typed (over several lines), and saving makes a draft.
#[tokio::test]
async fn campaigns_are_composed_in_the_form() {
    let (_dir, services) = demo_copy().await;
    let mut app = loaded_app(&services, "default", (80, 24)).await;
    press(&mut app, &services, &[KeyCode::Char('n')]).await;
    assert!(app.campaign_form.is_none(), "only in the Campaigns pane");
    press(
        &mut app,
        &services,
        &[pane_key(PaneId::Campaigns), KeyCode::Char('n')],
    )
    .await;
    let form = app.campaign_form.as_ref().expect("open");
    assert!(form.accounts.as_ref().is_some_and(|a| a.len() == 4));
    assert!(form.samples.as_ref().is_some_and(|(_, s)| !s.is_empty()));
    press(&mut app, &services, &[KeyCode::F(2)]).await;
    snap!("campaign_form_errors_80x24", render(&app));
    let form = app.campaign_form.as_ref().unwrap();
    assert!(
        form.error_of(cleverplatform::tui::campaign_form::Row::Name)
            .is_some()
    );
    assert!(
        form.error_of(cleverplatform::tui::campaign_form::Row::Message)
            .is_some()
    );

    type_text(&mut app, &services, "Cyber Monday").await;
    // The list: the next one; the account: the Telegram bot.
    press(&mut app, &services, &[KeyCode::Tab, KeyCode::Right]).await;
    let list = app
        .campaign_form
        .as_ref()
        .unwrap()
        .chosen_list()
        .unwrap()
        .name
        .clone();
    // The account, then past the template (empty: the text is sent) to the message.
    press(
        &mut app,
        &services,
        &[KeyCode::Tab, KeyCode::Right, KeyCode::Tab, KeyCode::Tab],
    )
    .await;
    type_text(&mut app, &services, "Привет, {{ name }}!").await;
    press(&mut app, &services, &[KeyCode::Enter]).await;
    type_text(&mut app, &services, "Скидки до 30% в пятницу.").await;
    app.size = (120, 36);
    snap!("campaign_form_preview_120x36", render(&app));
    let form = app.campaign_form.as_ref().unwrap();
    assert_eq!(form.message.lines().len(), 2, "Enter starts a new line");
    assert!(form.problems.is_empty(), "{:?}", form.problems);
    let (who, text) = &form.preview[0];
    assert_eq!(
        text.as_deref().unwrap(),
        format!("Привет, {who}!\nСкидки до 30% в пятницу.")
    );
    let account = form.chosen_account().unwrap().name.clone();

    // Down from the message's last line goes on; quiet hours; Enter on the last row saves.
    press(&mut app, &services, &[KeyCode::Down, KeyCode::Tab]).await;
    type_text(&mut app, &services, "09:00-21:00").await;
    press(&mut app, &services, &[KeyCode::Enter]).await;
    assert!(app.campaign_form.is_none(), "saved and closed");
    let n = app.notices.last().unwrap();
    assert!(
        !n.error && n.text.contains("“Cyber Monday” is a draft"),
        "{n:?}"
    );
    let id = {
        let mut conn = services.store.read().await.unwrap();
        let named = cleverplatform::store::campaigns::named(&mut conn, "Cyber Monday")
            .await
            .unwrap();
        assert_eq!(named.len(), 1, "created once");
        named[0].0
    };
    let c = services.store.campaign(id).await.unwrap().unwrap();
    assert_eq!(c.status, cleverplatform::domain::CampaignStatus::Draft);
    assert_eq!(
        app.campaigns.selected().map(|c| c.id),
        Some(id),
        "the new campaign is selected, so s starts it"
    );
    assert_eq!(c.list_name, list);
    assert_eq!(c.account_name, account);
    assert_eq!(
        c.message_text.as_deref(),
        Some("Привет, {{ name }}!\nСкидки до 30% в пятницу.")
    );
    assert_eq!(c.quiet_start.as_deref(), Some("09:00"));

    // s counts whom the draft reaches, then asks with the figures; y starts it, and the
    // outbox gets exactly what was said.
    let reach = cleverplatform::engine::campaigns::reach(&services.store, id)
        .await
        .unwrap();
    assert!(reach.reaches > 0, "{reach:?}");
    app.size = (80, 24);
    // Moving to another pane while it is counted: a notice, not a question out of the blue.
    let counting = app.update(Msg::Key(ratatui::crossterm::event::KeyEvent::new(
        KeyCode::Char('s'),
        ratatui::crossterm::event::KeyModifiers::NONE,
    )));
    press(&mut app, &services, &[pane_key(PaneId::Accounts)]).await;
    cleverplatform::tui::settle(&mut app, &services, counting).await;
    assert_eq!(app.overlay, cleverplatform::tui::app::Overlay::None);
    let n = app.notices.last().unwrap();
    assert!(n.text.contains("s in Campaigns starts it"), "{n:?}");
    press(&mut app, &services, &[pane_key(PaneId::Campaigns)]).await;
    press(&mut app, &services, &[KeyCode::Char('s')]).await;
    snap!("start_campaign_confirm_80x24", render(&app));
    let text = format!("{:?}", render(&app).backend());
    assert!(
        text.contains(&format!("reaches {} subscribers now", group(reach.reaches))),
        "{text}"
    );
    press(&mut app, &services, &[KeyCode::Char('y')]).await;
    let c = services.store.campaign(id).await.unwrap().unwrap();
    assert_eq!(c.status, cleverplatform::domain::CampaignStatus::Running);
    assert_eq!(c.counts.total, reach.reaches);
}

/// At 80×24 what stops a save (here a content policy hit) shows right under the heading,
/// before the preview and the WhatsApp warning that would push it off the screen.
#[tokio::test]
async fn a_policy_hit_in_the_form_shows_at_80x24() {
    let (_dir, services) = demo_copy().await;
    let mut app = composing(&services, "Friday").await;
    type_text(
        &mut app,
        &services,
        "Hi {{ name }}, 50% off in {{ attributes.city | upper }}! bit.ly/x",
    )
    .await;
    let form = app.campaign_form.as_ref().unwrap();
    assert!(form.text_on_whatsapp());
    assert!(
        form.problems.iter().any(|p| p.contains("link shortener")),
        "{:?}",
        form.problems
    );
    snap!("campaign_form_policy_hit_80x24", render(&app));
    let text = format!("{:?}", render(&app).backend());
    assert!(text.contains("⚠ a link shortener"), "{text}");
}

/// On a WhatsApp account the form takes an approved template: its parameters are the
/// message rows, previewed per subscriber, and the draft is saved as a template campaign.
#[tokio::test]
async fn a_whatsapp_template_campaign_is_composed_in_the_form() {
    use cleverplatform::domain::Channel;
    use cleverplatform::tui::campaign_form::Row;
    let (_dir, services) = demo_copy().await;
    let mut app = loaded_app(&services, "default", (120, 36)).await;
    press(
        &mut app,
        &services,
        &[pane_key(PaneId::Campaigns), KeyCode::Char('n')],
    )
    .await;
    type_text(&mut app, &services, "Black Friday, template").await;
    press(&mut app, &services, &[KeyCode::Tab, KeyCode::Tab]).await;
    while app
        .campaign_form
        .as_ref()
        .unwrap()
        .chosen_account()
        .unwrap()
        .channel
        != Channel::WhatsApp
    {
        press(&mut app, &services, &[KeyCode::Right]).await;
    }
    press(&mut app, &services, &[KeyCode::Tab]).await;
    assert_eq!(app.campaign_form.as_ref().unwrap().focus, Row::Template);
    type_text(&mut app, &services, "black_friday_2026:ru").await;
    press(&mut app, &services, &[KeyCode::Tab]).await;
    type_text(&mut app, &services, "{{ name }}").await;
    press(&mut app, &services, &[KeyCode::Enter]).await;
    type_text(&mut app, &services, "BF20").await;
    snap!("campaign_form_template_120x36", render(&app));
    let form = app.campaign_form.as_ref().unwrap();
    assert_eq!(form.label(Row::Message), "Parameters");
    assert!(form.problems.is_empty(), "{:?}", form.problems);
    let (who, text) = &form.preview[0];
    assert_eq!(
        text.as_deref().unwrap(),
        format!("template black_friday_2026: {who} · BF20")
    );
    let save = app.update(Msg::Key(ratatui::crossterm::event::KeyEvent::new(
        KeyCode::Char('s'),
        ratatui::crossterm::event::KeyModifiers::CONTROL,
    )));
    cleverplatform::tui::settle(&mut app, &services, save).await;
    assert!(app.campaign_form.is_none(), "saved and closed");
    let id = {
        let mut conn = services.store.read().await.unwrap();
        let named = cleverplatform::store::campaigns::named(&mut conn, "Black Friday, template")
            .await
            .unwrap();
        assert_eq!(named.len(), 1, "created once");
        named[0].0
    };
    let c = services.store.campaign(id).await.unwrap().unwrap();
    assert_eq!(c.message_text, None);
    assert_eq!(c.wa_template_name.as_deref(), Some("black_friday_2026"));
    assert_eq!(c.wa_template_lang.as_deref(), Some("ru"));
    assert_eq!(c.template_params(), ["{{ name }}", "BF20"]);
}

/// The campaign detail shows the send rate over the last minutes as a sparkline, and a few
/// subscriber rows under each failure cause.
#[tokio::test]
async fn campaign_detail_shows_the_send_rate_and_the_rows_behind_failures() {
    let (_dir, services) = demo_copy().await;
    // The demo campaign with the most failures; some of its sends moved into the last minutes.
    let mut tx = services.store.begin().await.unwrap();
    let (id, failed): (i64, i64) = sqlx::query_as(
        "SELECT campaign_id, count(*) AS n FROM outbox WHERE state = 'failed' \
         GROUP BY campaign_id ORDER BY n DESC LIMIT 1",
    )
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    assert!(failed > 3, "the demo has failures to show");
    let now = chrono::Utc::now();
    for (ago, n) in [(15, 40), (75, 10), (200, 25), (400, 5)] {
        sqlx::query(
            "UPDATE outbox SET sent_at = ?1 WHERE id IN (SELECT id FROM outbox \
             WHERE campaign_id = ?2 AND state IN ('sent', 'delivered', 'read') \
             AND sent_at < ?3 ORDER BY id LIMIT ?4)",
        )
        .bind(now - chrono::Duration::seconds(ago))
        .bind(id)
        .bind(now - chrono::Duration::seconds(3600))
        .bind(n)
        .execute(&mut *tx)
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
    let id = cleverplatform::domain::CampaignId(id);
    let history = services
        .store
        .campaign_send_history(id, now, 10, 30)
        .await
        .unwrap();
    assert_eq!(history.len(), 30);
    assert_eq!(
        history[29 - 1],
        40,
        "15 s ago is the second-latest span: {history:?}"
    );
    assert_eq!(history[29 - 7], 10, "{history:?}");
    assert_eq!(history[29 - 20], 25, "{history:?}");
    assert_eq!(
        history.iter().sum::<i64>(),
        75,
        "400 s ago is outside: {history:?}"
    );
    let rows = services.store.campaign_failure_rows(id, 2).await.unwrap();
    let causes = services.store.campaign_failures(id).await.unwrap();
    for cause in &causes {
        let n = rows.iter().filter(|r| cause.covers(r)).count() as i64;
        assert_eq!(n, cause.count.min(2), "{cause:?}");
    }

    let mut app = loaded_app(&services, "default", (120, 36)).await;
    press(&mut app, &services, &[pane_key(PaneId::Campaigns)]).await;
    while app.campaigns.selected().is_some_and(|c| c.id != id) {
        press(&mut app, &services, &[KeyCode::Down]).await;
    }
    press(&mut app, &services, &[KeyCode::Enter]).await;
    render(&app);
    // The rate and the failures are at the detail's end.
    press(&mut app, &services, &[KeyCode::End]).await;
    let text = format!("{:?}", render(&app).backend());
    assert!(text.contains("4.0/s over 10 s"), "{text}");
    assert!(text.contains('█'), "{text}");
    let first = &services.store.campaign_failure_rows(id, 3).await.unwrap()[0];
    assert!(
        text.contains(&format!("#{} {}", first.subscriber_id, first.name)),
        "{text}"
    );
    // Each cause in the platform's words too.
    assert!(
        text.contains("code 131026 (Message") && text.contains("Undeliverable): "),
        "{text}"
    );
    // The end stays the end when fewer rows fit (a smaller terminal, or a detail that grew).
    let last = cleverplatform::tui::panes::campaigns::detail(&app)
        .last()
        .unwrap()
        .to_string();
    let last: String = last.trim().chars().take(20).collect();
    app.update(Msg::Resize(120, 26));
    let text = format!("{:?}", render(&app).backend());
    assert!(text.contains(&last), "{last} at the end: {text}");
    // And one key up moves up at once.
    press(&mut app, &services, &[KeyCode::Up]).await;
    assert_ne!(format!("{:?}", render(&app).backend()), text);
    // In a narrower detail the sparkline keeps its latest minutes on the label's row.
    app.update(Msg::Resize(100, 30));
    render(&app);
    let width = usize::from(app.detail_width.get());
    assert!(
        width < 16 + 30,
        "narrower than the whole sparkline: {width}"
    );
    let lines = cleverplatform::tui::panes::campaigns::detail(&app);
    let spark = lines
        .iter()
        .find(|l| l.to_string().contains("  Last "))
        .expect("the sparkline");
    assert!(spark.width() <= width, "{spark} in {width} columns");
    assert!(spark.to_string().contains('█'), "{spark}");
}

/// The License pane shows the licence the sync publishes: state, tariff with usage, paid
/// period, machine, sync; `A` asks for the key in a masked field.
#[tokio::test]
async fn the_license_pane_follows_the_licence_and_masks_the_key() {
    use cleverplatform::license::fingerprint::Fingerprint;
    use cleverplatform::license::lease::{Lease, LeaseStatus, Tariff};
    use cleverplatform::license::local::Standing;
    use cleverplatform::license::state::LicenseState;
    use cleverplatform::license::sync::Licence;
    let services = services(demo_db(), true).await;
    let mut app = loaded_app(&services, "default", (120, 36)).await;
    let now = chrono::Utc::now();
    app.update(Msg::Licence(Box::new(Licence {
        standing: Some(Standing {
            fingerprint: Ok(Fingerprint("ab".repeat(32))),
            lease: Some(Lease {
                license_id: "lic_7".into(),
                fingerprint: Fingerprint("ab".repeat(32)),
                status: LeaseStatus::Active,
                tariff: Tariff {
                    name: "Business".into(),
                    accounts: Some(5),
                    messages_per_day: Some(50_000),
                    lookups_per_day: Some(500),
                    machines: 1,
                },
                paid_until: now + chrono::Duration::days(30),
                auto_renew: true,
                issued_at: now,
                valid_until: now + chrono::Duration::hours(72),
                nonce: String::new(),
            }),
            state: LicenseState::Active,
        }),
        last_sync: Some(now),
        next_sync: Some(now + chrono::Duration::hours(4)),
        last_error: None,
    })));
    press(&mut app, &services, &[pane_key(PaneId::License)]).await;
    let text = format!("{:?}", render(&app).backend());
    for want in [
        "licence: active",
        "Business",
        "4 of 5",
        "of 50 000",
        "auto-renew on",
        "abab-abab-abab",
        "29 days left",
    ] {
        assert!(text.contains(want), "{want}: {text}");
    }
    press(&mut app, &services, &[KeyCode::Down]).await;
    let text = format!("{:?}", render(&app).backend());
    assert!(text.contains("Messages a day: 50 000"), "{text}");

    // A: the key goes into a masked field; without a sync in this console the step says so.
    press(&mut app, &services, &[KeyCode::Char('A')]).await;
    type_text(&mut app, &services, "clever1/secret-key").await;
    let text = format!("{:?}", render(&app).backend());
    assert!(!text.contains("secret-key"), "the key is masked: {text}");
    assert!(text.contains("Licence key"), "{text}");
    press(&mut app, &services, &[KeyCode::Enter]).await;
    let n = app.notices.last().unwrap();
    assert!(n.error && n.text.contains("no licence sync"), "{n:?}");
    // S asks first.
    press(&mut app, &services, &[KeyCode::Char('S')]).await;
    assert!(matches!(
        app.overlay,
        cleverplatform::tui::app::Overlay::Confirm(_)
    ));
}

#[tokio::test]
async fn counterparties_are_checked_in_the_console() {
    use cleverplatform::counterparty::check::{CheckSettings, Checker};
    use cleverplatform::store::counterparty::{RiskFile, RiskRow, replace_risk_list};
    let sb = cleverplatform::sandbox::start("127.0.0.1:0".parse().unwrap(), Default::default())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut services = services(dir.path().join("clever.db"), false).await;
    let mut tx = services.store.begin().await.unwrap();
    replace_risk_list(
        &mut tx,
        &RiskFile {
            list: "PSEUDO_COMPANY",
            file: "pseudo_company.xlsx",
            sha256: "",
            skipped: 0,
            as_of: chrono::NaiveDate::from_ymd_opt(2026, 11, 20),
            by: "tester",
        },
        &[RiskRow {
            bin: "180840276849".into(),
            name: None,
            decision: "2-1187/2026".into(),
            decided_on: chrono::NaiveDate::from_ymd_opt(2026, 3, 17),
        }],
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    services.checker = Some(
        Checker::new(
            services.store.clone(),
            CheckSettings {
                stat_url: sb.base_url(),
                egov_url: sb.base_url(),
                egov_api_key: Some("demo".into()),
                ..CheckSettings::default()
            },
            None,
        )
        .unwrap(),
    );
    let mut app = loaded_app(&services, "default", (80, 24)).await;
    press(
        &mut app,
        &services,
        &[KeyCode::Char('5'), KeyCode::Char('c')],
    )
    .await;
    // Validated as it is typed: one digit short, then whole.
    type_text(&mut app, &services, "1808 4027 684").await;
    snap!("counterparty_typing_80x24", render(&app));
    type_text(&mut app, &services, "9").await;
    let screen = format!("{:?}", render(&app).backend());
    assert!(
        screen.contains("KZ BIN (legal entity) valid · entity resident legal entity"),
        "{screen}"
    );
    press(&mut app, &services, &[KeyCode::Enter]).await;
    let n = app.notices.last().unwrap();
    assert!(!n.error && n.text.contains("Бос Кеңсе"), "{n:?}");
    assert!(app.checking.is_none());
    assert_eq!(app.lookups.total, 1);
    let row = app.lookups.selected().unwrap();
    assert_eq!(row.checked_by, "tester");
    // The result card beside the list, and full screen on a narrow terminal.
    app.update(Msg::Resize(120, 36));
    snap!("counterparty_result_120x36", render(&app));
    app.update(Msg::Resize(80, 24));
    press(&mut app, &services, &[KeyCode::Enter]).await;
    snap!("counterparty_result_80x24", render(&app));
    press(&mut app, &services, &[KeyCode::Esc]).await;

    // A number no registry knows, then a search of the history.
    press(&mut app, &services, &[KeyCode::Char('c')]).await;
    type_text(&mut app, &services, "940140000385").await;
    press(&mut app, &services, &[KeyCode::Enter]).await;
    assert_eq!(app.lookups.total, 2);
    press(&mut app, &services, &[KeyCode::Char('/')]).await;
    type_text(&mut app, &services, "Бос").await;
    press(&mut app, &services, &[KeyCode::Enter]).await;
    assert_eq!(app.lookups.total, 1);
    press(&mut app, &services, &[KeyCode::Esc]).await;
    assert_eq!(app.lookups.total, 2);

    // Export: a new file is written; an existing one is never overwritten.
    let out = dir.path().join("checks.csv");
    for expect_error in [false, true] {
        let n = export_to(&mut app, &services, &out).await;
        assert_eq!(n.error, expect_error, "{n:?}");
    }
    let csv = std::fs::read_to_string(&out).unwrap();
    assert_eq!(csv.lines().count(), 3, "{csv}");
    assert!(csv.contains("PSEUDO_COMPANY"), "{csv}");

    // A check the worker could not finish (the database failed) does not block the next.
    press(&mut app, &services, &[KeyCode::Char('c')]).await;
    type_text(&mut app, &services, "940140000385").await;
    let asked = app.update(Msg::Key(ratatui::crossterm::event::KeyEvent::from(
        KeyCode::Enter,
    )));
    assert_eq!(app.checking.as_deref(), Some("940140000385"));
    drop(asked);
    app.update(Msg::Reply(cleverplatform::tui::worker::Tagged {
        generation: 0,
        body: cleverplatform::tui::worker::Reply::Failed {
            pane: None,
            message: "disk full".into(),
        },
    }));
    assert!(app.checking.is_none());
    assert!(app.notices.last().unwrap().error);
    press(&mut app, &services, &[KeyCode::Char('c')]).await;
    assert!(app.prompt.is_some(), "the field opens again");
}

/// A suspended licence makes the console read-only too: an import is refused with the state
/// and what to do, and nothing is imported.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_suspended_licence_makes_the_console_read_only() {
    use cleverplatform::license::local::Local;
    use cleverplatform::license::sync::LicenceControl;
    let v = vendor::vendor(None, Default::default()).await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("machine-id"),
        "4c4c4544003910808033b4c04f4e4d32\n",
    )
    .unwrap();
    let local = Local {
        folder: dir.path().join("license"),
        trusted: vec![cleverplatform::license::parse_public_key(&v.public).unwrap()],
        machine_id_file: Some(dir.path().join("machine-id")),
        server_url: v.server.base_url(),
    };
    local.activate(&v.licence.key).await.unwrap();
    v.store
        .set_status(&v.licence.id, "suspended", Some("payment failed"))
        .await
        .unwrap();
    local.sync().await.unwrap();
    let mut services = services(dir.path().join("clever.db"), false).await;
    services.licence = Some(LicenceControl::detached(local));
    let csv = dir.path().join("crm.csv");
    std::fs::write(&csv, "phone;name;consent\n8 701 123 45 67;Айгерим;yes\n").unwrap();
    let mut app = loaded_app(&services, "default", (120, 36)).await;
    let mut keys = vec![KeyCode::Char('2'), KeyCode::Char('i')];
    keys.extend(csv.display().to_string().chars().map(KeyCode::Char));
    keys.push(KeyCode::Enter);
    press(&mut app, &services, &keys).await;
    let import = app.import.as_ref().expect("an import view");
    let why = import.result.as_ref().unwrap().as_ref().unwrap_err();
    assert!(
        why.contains("suspended") && why.contains("importing subscribers"),
        "{why}"
    );
    assert_eq!(
        services
            .store
            .count_subscribers(&Default::default())
            .await
            .unwrap(),
        0
    );
    // Suppressing always works; lifting a suppression is a change the licence must allow.
    use cleverplatform::domain::Channel;
    use cleverplatform::store::subscribers as subs;
    let mut tx = services.store.begin().await.unwrap();
    let id = subs::insert(
        &mut tx,
        "Айгерим",
        None,
        None,
        &serde_json::json!({}),
        chrono::Utc::now(),
    )
    .await
    .unwrap();
    subs::add_identity(&mut tx, id, Channel::WhatsApp, "+77011234567")
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut keys = vec![KeyCode::Char('r'), KeyCode::Char('o')];
    keys.extend("asked by phone".chars().map(KeyCode::Char));
    keys.push(KeyCode::Enter);
    press(&mut app, &services, &keys).await;
    let suppressed = || async {
        let mut conn = services.store.read().await.unwrap();
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM suppressions")
            .fetch_one(&mut *conn)
            .await
            .unwrap();
        n
    };
    assert_eq!(suppressed().await, 1, "{:?}", app.notices);
    let mut keys = vec![KeyCode::Char('o')];
    keys.extend("mistake".chars().map(KeyCode::Char));
    keys.push(KeyCode::Enter);
    press(&mut app, &services, &keys).await;
    assert_eq!(suppressed().await, 1, "the suppression stays");
    let notice = &app.notices[0];
    assert!(
        notice.error && notice.text.contains("lifting a suppression"),
        "{notice:?}"
    );
    // Granting a consent is refused in the form, in the licence's words; nothing is recorded.
    let mut keys = consent_form_to_source();
    keys.extend("call".chars().map(KeyCode::Char));
    keys.push(KeyCode::Tab);
    keys.extend("recording 9".chars().map(KeyCode::Char));
    keys.push(KeyCode::F(2));
    press(&mut app, &services, &keys).await;
    let form = app.consent_form.as_ref().expect("the form stays open");
    let error = form.error.as_deref().unwrap_or_default();
    assert!(error.contains("recording a consent"), "{error}");
    assert!(!form.saving);
    let mut conn = services.store.read().await.unwrap();
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM consents")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    assert_eq!(n, 0);
}

/// A running campaign that sends nothing because its rows wait for their send window says
/// so in its detail: how many wait and till when.
#[tokio::test]
async fn rows_waiting_for_a_later_time_are_counted_in_the_detail() {
    let (_dir, services) = demo_copy().await;
    {
        let mut tx = services.store.begin().await.unwrap();
        sqlx::query(
            "UPDATE outbox SET next_attempt_at = '2099-01-01T12:00:00+00:00' WHERE id IN \
             (SELECT id FROM outbox WHERE state = 'queued' AND campaign_id = \
              (SELECT id FROM campaigns WHERE status = 'running') LIMIT 5)",
        )
        .execute(&mut *tx)
        .await
        .unwrap();
        tx.commit().await.unwrap();
    }
    let mut app = loaded_app(&services, "default", (120, 36)).await;
    press(
        &mut app,
        &services,
        &[pane_key(PaneId::Campaigns), KeyCode::Enter],
    )
    .await;
    let screen = format!("{}", render(&app).backend());
    assert!(screen.contains(" · 5 wait till 2099-01-01"), "{screen}");
}

/// `Z` sets the shown list's time zone, as `lists edit --time-zone` does; the lists panel
/// shows it at once. On everyone, it says to pick a list first.
#[tokio::test]
async fn a_lists_time_zone_is_set_from_the_console() {
    let (_dir, services) = demo_copy().await;
    let mut app = loaded_app(&services, "default", (120, 36)).await;
    press(
        &mut app,
        &services,
        &[KeyCode::Char('2'), KeyCode::Char('Z')],
    )
    .await;
    assert!(app.prompt.is_none());
    assert!(
        app.notices.last().unwrap().text.contains("pick a list"),
        "{:?}",
        app.notices
    );
    let list = {
        press(
            &mut app,
            &services,
            &[KeyCode::Char(']'), KeyCode::Char('Z')],
        )
        .await;
        app.selected_list().unwrap().clone()
    };
    assert_eq!(
        app.prompt.as_ref().unwrap().text(),
        "Asia/Almaty",
        "filled in"
    );
    let mut keys = vec![KeyCode::Backspace; "Asia/Almaty".len()];
    keys.extend("UTC+6".chars().map(KeyCode::Char));
    keys.push(KeyCode::Enter);
    press(&mut app, &services, &keys).await;
    let n = app.notices.last().unwrap();
    assert!(
        !n.error && n.text.contains("time zone Etc/GMT-6 (was Asia/Almaty)"),
        "{n:?}"
    );
    let stored = {
        let mut conn = services.store.read().await.unwrap();
        cleverplatform::store::lists::by_id(&mut conn, list.id)
            .await
            .unwrap()
            .unwrap()
    };
    assert_eq!(stored.default_time_zone.as_deref(), Some("Etc/GMT-6"));
    let screen = format!("{}", render(&app).backend());
    assert!(screen.contains("Etc/GMT-6"), "{screen}");
}

/// `+` on a subscriber adds them to a list named in a field Tab completes; `-` takes them off
/// the shown list after asking; a name that is no list keeps the text to be put right.
#[tokio::test]
async fn a_subscriber_is_added_to_a_list_and_taken_off_from_the_console() {
    let (_dir, services, mut app) = two_imported_at_80x24().await;
    let who = app_selected_id(&services).await;
    let lists_of = || async {
        let d = services
            .store
            .subscriber_detail(who)
            .await
            .unwrap()
            .unwrap();
        let mut lists = d.lists.clone();
        lists.sort();
        lists
    };
    {
        let mut tx = services.store.begin().await.unwrap();
        for name in ["VIP", "Volunteers"] {
            cleverplatform::store::lists::insert(&mut tx, name, "", None)
                .await
                .unwrap();
        }
        tx.commit().await.unwrap();
    }
    // Made elsewhere, the lists come in with a reload.
    press(
        &mut app,
        &services,
        &[
            KeyCode::Char('r'),
            KeyCode::Char('+'),
            KeyCode::Char('v'),
            KeyCode::Tab,
        ],
    )
    .await;
    snap!("add_to_list_prompt_80x24", render(&app));
    assert_eq!(app.prompt.as_ref().unwrap().text(), "V");
    // An empty list says how people get into it.
    press(&mut app, &services, &[KeyCode::Esc, KeyCode::Char(']')]).await;
    assert_eq!(app.selected_list().unwrap().name, "VIP");
    let screen = format!("{}", render(&app).backend());
    assert!(screen.contains("Nobody in this list yet"), "{screen}");
    press(
        &mut app,
        &services,
        &[
            KeyCode::Char('['),
            KeyCode::Char('+'),
            KeyCode::Char('v'),
            KeyCode::Tab,
        ],
    )
    .await;
    press(
        &mut app,
        &services,
        &[KeyCode::Char('o'), KeyCode::Tab, KeyCode::Enter],
    )
    .await;
    let n = app.notices.last().unwrap();
    assert!(
        !n.error && n.text.contains("added Айгерим to list “Volunteers”"),
        "{n:?}"
    );
    assert_eq!(lists_of().await, ["Imported", "Volunteers"]);
    // A name that is no list: asked first (a mistyped name would start a list of one); no
    // goes back to the name, yes makes the list with them in it.
    let mut keys = vec![KeyCode::Char('+')];
    keys.extend("Regulars".chars().map(KeyCode::Char));
    keys.push(KeyCode::Enter);
    press(&mut app, &services, &keys).await;
    let screen = format!("{}", render(&app).backend());
    assert!(screen.contains("There is no list “Regulars”"), "{screen}");
    press(&mut app, &services, &[KeyCode::Char('n')]).await;
    assert_eq!(app.prompt.as_ref().unwrap().text(), "Regulars");
    assert_eq!(lists_of().await, ["Imported", "Volunteers"]);
    press(&mut app, &services, &[KeyCode::Enter, KeyCode::Char('y')]).await;
    let n = app.notices.last().unwrap();
    assert!(
        !n.error
            && n.text
                .contains("made list “Regulars” and added Айгерим to it"),
        "{n:?}"
    );
    assert_eq!(lists_of().await, ["Imported", "Regulars", "Volunteers"]);
    assert!(
        app.lists
            .iter()
            .any(|l| l.name == "Regulars" && l.members == 1)
    );
    // On everyone there is no list to take them off.
    press(
        &mut app,
        &services,
        &[KeyCode::Char('['), KeyCode::Char('-')],
    )
    .await;
    assert!(matches!(
        app.overlay,
        cleverplatform::tui::app::Overlay::None
    ));
    assert!(
        app.notices.last().unwrap().text.contains("pick a list"),
        "{:?}",
        app.notices
    );
    // On “Imported”: asked first; no leaves them be.
    press(&mut app, &services, &[KeyCode::Char(']')]).await;
    assert_eq!(app.selected_list().unwrap().name, "Imported");
    press(
        &mut app,
        &services,
        &[KeyCode::Char('-'), KeyCode::Char('n')],
    )
    .await;
    assert_eq!(lists_of().await, ["Imported", "Regulars", "Volunteers"]);
    press(&mut app, &services, &[KeyCode::Char('-')]).await;
    let screen = format!("{}", render(&app).backend());
    assert!(
        screen.contains("Take Айгерим off list “Imported”?"),
        "{screen}"
    );
    press(&mut app, &services, &[KeyCode::Char('y')]).await;
    let n = app.notices.last().unwrap();
    assert!(
        !n.error && n.text.contains("took Айгерим off list “Imported”"),
        "{n:?}"
    );
    assert_eq!(lists_of().await, ["Regulars", "Volunteers"]);
    assert_eq!(app.subscribers.selected().unwrap().name, "Ерлан");
}

/// `N` on a list enters a subscriber by hand: problems under their rows before anything is
/// sent, the import's own refusals (a suppressed number) in the form with the text kept,
/// and the new subscriber in the list with the consent's proof.
#[tokio::test]
async fn a_subscriber_is_entered_by_hand_from_the_console() {
    use cleverplatform::domain::ConsentScope;
    use cleverplatform::tui::subscriber_form::Row;
    let (_dir, services, mut app) = two_imported_at_80x24().await;
    {
        let mut tx = services.store.begin().await.unwrap();
        cleverplatform::store::subscribers::suppress(
            &mut tx,
            cleverplatform::domain::Channel::WhatsApp,
            "+77059998877",
            "asked by phone",
            "operator",
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
    }
    let text = |s: &str| s.chars().map(KeyCode::Char).collect::<Vec<_>>();
    let mut keys = vec![KeyCode::Char('N')];
    keys.extend(text("8 705 999 88 77"));
    keys.extend([KeyCode::Tab, KeyCode::Tab, KeyCode::Tab]);
    keys.extend(text("Гүлнар"));
    keys.extend([KeyCode::Tab, KeyCode::Tab, KeyCode::Tab, KeyCode::Right]);
    // For service messages (their own orders).
    keys.extend([KeyCode::Tab, KeyCode::Right]);
    keys.extend([KeyCode::Tab, KeyCode::Tab]);
    keys.extend(text("paper form at the till"));
    keys.extend([KeyCode::Tab, KeyCode::Enter]);
    press(&mut app, &services, &keys).await;
    let form = app.subscriber_form.as_ref().expect("still open");
    assert_eq!(form.focus, Row::Proof);
    snap!("subscriber_form_80x24", render(&app));
    // With its proof it goes to the import, which refuses a suppressed number.
    let mut keys = text("form 1207");
    keys.push(KeyCode::Enter);
    press(&mut app, &services, &keys).await;
    let form = app.subscriber_form.as_ref().expect("kept to be put right");
    assert_eq!(form.error.as_deref(), Some("suppressed"));
    assert!(!form.saving);
    // Another number: in, sendable, with the proof.
    let mut keys = vec![KeyCode::Up; 10];
    keys.extend(vec![KeyCode::Backspace; 2]);
    keys.extend(text("66"));
    press(&mut app, &services, &keys).await;
    let save = app.update(Msg::Key(ratatui::crossterm::event::KeyEvent::new(
        KeyCode::Char('s'),
        ratatui::crossterm::event::KeyModifiers::CONTROL,
    )));
    cleverplatform::tui::settle(&mut app, &services, save).await;
    assert!(app.subscriber_form.is_none(), "saved and closed");
    let n = app.notices.last().unwrap();
    assert!(
        !n.error && n.text.contains("added Гүлнар (#3) to “Imported”"),
        "{n:?}"
    );
    assert_eq!(app.subscribers.total, 3);
    let d = services
        .store
        .subscriber_detail(cleverplatform::domain::SubscriberId(3))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(d.identities[0].address, "+77059998866");
    assert_eq!(d.consents[0].proof, "form 1207");
    assert_eq!(d.consents[0].scope, ConsentScope::Service);
    assert_eq!(d.consents.len(), 1, "{:?}", d.consents);
    assert_eq!(d.lists, ["Imported"]);
}
