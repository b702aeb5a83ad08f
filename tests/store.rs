//! The store on a real SQLite file: migrations on a fresh file, refusal of a newer or
//! damaged database (left untouched), file mode, pragmas, and schema rules.

use cleverplatform::store::{Location, Store, StoreError, latest_known_version};
use sqlx::Connection;
use std::os::unix::fs::PermissionsExt;

/// A raw connection, for looking under the store.
async fn raw(path: &std::path::Path) -> sqlx::SqliteConnection {
    sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap()
}

async fn open(path: &std::path::Path) -> Result<Store, StoreError> {
    Store::open(&Location::File(path.to_path_buf())).await
}

#[tokio::test]
async fn fresh_file_gets_the_whole_schema_with_safe_settings() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/deeper/clever.db");
    let store = open(&path).await.unwrap();
    assert_eq!(
        store.schema_version().await.unwrap(),
        Some(latest_known_version())
    );
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "database file mode");
    let dir_mode = std::fs::metadata(path.parent().unwrap())
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(dir_mode, 0o700, "database folder mode");
    assert_eq!(store.count_accounts().await.unwrap(), 0);
    store.close().await;
    // Opening again applies nothing and keeps the data.
    let store = open(&path).await.unwrap();
    assert_eq!(
        store.schema_version().await.unwrap(),
        Some(latest_known_version())
    );
}

#[tokio::test]
async fn pragmas_are_set_on_every_connection() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir.path().join("c.db")).await.unwrap();
    let (journal, fk, busy) = store.pragmas().await.unwrap();
    assert_eq!(journal.to_lowercase(), "wal");
    assert!(fk);
    assert_eq!(busy, 5000);
}

#[tokio::test]
async fn world_readable_file_is_tightened() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.db");
    open(&path).await.unwrap().close().await;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    open(&path).await.unwrap().close().await;
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
}

#[tokio::test]
async fn newer_database_is_refused_and_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.db");
    open(&path).await.unwrap().close().await;
    let mut conn = raw(&path).await;
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES (99990101, 'from the future', 1, x'00', 0)",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    conn.close().await.unwrap();
    let before = std::fs::read(&path).unwrap();
    match open(&path).await {
        Err(StoreError::NewerSchema { found, known, .. }) => {
            assert_eq!(found, 99_990_101);
            assert_eq!(known, latest_known_version());
        }
        other => panic!("expected NewerSchema, got {other:?}"),
    }
    assert_eq!(std::fs::read(&path).unwrap(), before);
    let msg = open(&path).await.unwrap_err().to_string();
    assert!(
        msg.contains("newer version of clever") && msg.contains("left untouched"),
        "{msg}"
    );
}

#[tokio::test]
async fn not_a_database_is_refused_and_untouched() {
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes) in [
        ("text.db", b"name,phone\nAigerim,+77011234567\n".to_vec()),
        ("short.db", b"SQLite".to_vec()),
        ("damaged.db", {
            let mut b = b"SQLite format 3\0".to_vec();
            b.extend(std::iter::repeat_n(0xAB, 4096));
            b
        }),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, &bytes).unwrap();
        let err = open(&path).await.unwrap_err();
        assert!(
            matches!(err, StoreError::NotADatabase { .. }),
            "{name}: {err:?}"
        );
        assert!(err.to_string().contains("left untouched"));
        assert_eq!(std::fs::read(&path).unwrap(), bytes, "{name} was changed");
    }
}

#[tokio::test]
async fn unwritable_place_gives_advice() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, "x").unwrap();
    let err = open(&file.join("sub/c.db")).await.unwrap_err();
    assert!(matches!(err, StoreError::CreateDir { .. }), "{err:?}");
    assert!(err.to_string().contains("--data-dir"), "{err}");
}

#[tokio::test]
async fn consents_are_append_only_and_identities_unique() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.db");
    open(&path).await.unwrap().close().await;
    let mut conn = raw(&path).await;
    for sql in [
        "INSERT INTO subscribers (id, name, created_at, updated_at) VALUES (1, 'A', 't', 't')",
        "INSERT INTO consents (subscriber_id, channel, scope, status, source, at, recorded_by) \
         VALUES (1, 'whatsapp', 'marketing', 'granted', 'form', 't', 'op')",
        "INSERT INTO identities (subscriber_id, channel, address, created_at) \
         VALUES (1, 'whatsapp', '+77011234567', 't')",
    ] {
        sqlx::query(sql).execute(&mut conn).await.unwrap();
    }
    let update_err = sqlx::query("UPDATE consents SET status = 'withdrawn'")
        .execute(&mut conn)
        .await
        .unwrap_err()
        .to_string();
    let duplicate_err = sqlx::query(
        "INSERT INTO identities (subscriber_id, channel, address, created_at) \
         VALUES (1, 'whatsapp', '+77011234567', 't')",
    )
    .execute(&mut conn)
    .await
    .unwrap_err()
    .to_string();
    assert!(update_err.contains("append-only"), "{update_err}");
    assert!(
        duplicate_err.to_lowercase().contains("unique"),
        "{duplicate_err}"
    );
}

/// One engine at a time: the lease is renewed by its holder, refused to others while it
/// runs, taken over once it has run out, and given up on a clean stop.
#[tokio::test]
async fn the_engine_lease_admits_one_holder() {
    use cleverplatform::store::outbox::{engine_holder, release_engine_lease, take_engine_lease};
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir.path().join("c.db")).await.unwrap();
    let mut c = store.begin().await.unwrap();
    let now = chrono::Utc::now();
    let soon = now + chrono::Duration::seconds(20);
    assert!(take_engine_lease(&mut c, "a:1", soon).await.unwrap());
    assert!(
        take_engine_lease(&mut c, "a:1", soon).await.unwrap(),
        "renewed"
    );
    assert!(
        !take_engine_lease(&mut c, "b:2", soon).await.unwrap(),
        "refused"
    );
    assert_eq!(engine_holder(&mut c).await.unwrap().as_deref(), Some("a:1"));
    // a:1 goes silent: its lease runs out and b:2 takes over.
    let past = now - chrono::Duration::seconds(1);
    assert!(take_engine_lease(&mut c, "a:1", past).await.unwrap());
    assert_eq!(engine_holder(&mut c).await.unwrap(), None);
    assert!(take_engine_lease(&mut c, "b:2", soon).await.unwrap());
    release_engine_lease(&mut c, "b:2").await.unwrap();
    assert!(
        take_engine_lease(&mut c, "c:3", soon).await.unwrap(),
        "free after a clean stop"
    );
    c.commit().await.unwrap();
}

/// The demo's campaigns under way were started by the real rules: every row went to someone
/// with marketing consent on the channel, no suppression and, where the channel needs one, an
/// open 24-hour window at the start; and each says whom it left out.
#[tokio::test]
async fn the_demos_campaigns_reached_only_whom_their_start_let_through() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("clever.db");
    let store = open(&path).await.unwrap();
    cleverplatform::demo::seed(&store, chrono::Utc::now())
        .await
        .unwrap();
    store.close().await;
    let mut c = raw(&path).await;
    let (rows, outside): (i64, i64) = sqlx::query_as(
        "SELECT count(*), coalesce(sum( \
           (SELECT s.status FROM consents s WHERE s.subscriber_id = o.subscriber_id \
              AND s.channel = i.channel AND s.scope = 'marketing' ORDER BY s.id DESC LIMIT 1) \
             IS NOT 'granted' \
           OR EXISTS (SELECT 1 FROM suppressions p WHERE p.channel = i.channel AND p.address = i.address) \
           OR (i.channel = 'instagram' AND NOT EXISTS (SELECT 1 FROM inbound w \
              WHERE w.identity_id = i.id AND w.account_id = o.account_id AND w.last_at <= c.started_at)) \
         ), 0) \
         FROM outbox o JOIN identities i ON i.id = o.identity_id JOIN campaigns c ON c.id = o.campaign_id",
    )
    .fetch_one(&mut c)
    .await
    .unwrap();
    assert!(rows > 1000, "{rows}");
    assert_eq!(outside, 0, "rows to people the start would have left out");
    let silent: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM campaigns WHERE status NOT IN ('draft') AND left_out IN ('', '{}')",
    )
    .fetch_one(&mut c)
    .await
    .unwrap();
    assert_eq!(silent, 0, "every started campaign says whom it left out");
}

/// A Telegram bot's token that reached stored words through a failed request's URL (before
/// those words left it out) is masked when the database is opened by this version.
#[tokio::test]
async fn tokens_kept_in_failure_words_are_masked_on_upgrade() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("clever.db");
    open(&path).await.unwrap().close().await;
    let token = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw";
    let url = format!("https://api.telegram.org/bot{token}/sendMessage");
    let mut c = raw(&path).await;
    // As a database of the version before: the masking migration not yet applied.
    sqlx::query("DELETE FROM _sqlx_migrations WHERE version = 10")
        .execute(&mut c)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO accounts (id, channel, name, settings, secret, status, status_reason, health, \
         created_at, updated_at) VALUES (1, 'telegram', 'Bot', '{}', ?1, 'paused', \
         'halted: tls TLS failed (error sending request for url (' || ?2 || '))', \
         'failed: error sending request for url (' || ?2 || ')', '2026-11-01T00:00:00Z', \
         '2026-11-01T00:00:00Z')",
    )
    .bind(token)
    .bind(&url)
    .execute(&mut c)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO lists (id, name, created_at) VALUES (1, 'L', '2026-11-01T00:00:00Z'); \
         INSERT INTO subscribers (id, name, created_at, updated_at) \
           VALUES (1, 'S', '2026-11-01T00:00:00Z', '2026-11-01T00:00:00Z'); \
         INSERT INTO identities (id, subscriber_id, channel, address, created_at) \
           VALUES (1, 1, 'telegram', '100', '2026-11-01T00:00:00Z'); \
         INSERT INTO campaigns (id, name, list_id, account_id, status, message_text, created_at, updated_at) \
           VALUES (1, 'C', 1, 1, 'running', 'hi', '2026-11-01T00:00:00Z', '2026-11-01T00:00:00Z')",
    )
    .execute(&mut c)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO outbox (campaign_id, subscriber_id, identity_id, account_id, state, \
         fail_class, fail_code, created_at, updated_at) VALUES (1, 1, 1, 1, 'unknown', \
         'ambiguous', 'error sending request for url (' || ?1 || ')', \
         '2026-11-01T00:00:00Z', '2026-11-01T00:00:00Z')",
    )
    .bind(&url)
    .execute(&mut c)
    .await
    .unwrap();
    drop(c);
    open(&path).await.unwrap().close().await;
    let mut c = raw(&path).await;
    let (health, reason, secret): (String, String, String) =
        sqlx::query_as("SELECT health, status_reason, secret FROM accounts WHERE id = 1")
            .fetch_one(&mut c)
            .await
            .unwrap();
    let code: String = sqlx::query_scalar("SELECT fail_code FROM outbox")
        .fetch_one(&mut c)
        .await
        .unwrap();
    let masked = "https://api.telegram.org/bot••••••••/sendMessage";
    for words in [&health, &reason, &code] {
        assert!(
            words.contains(masked) && !words.contains("AAHdqTcv"),
            "{words}"
        );
    }
    assert_eq!(secret, token, "the token itself stays");
}

#[tokio::test]
async fn a_messages_samples_are_real_subscribers_led_by_the_lists_first() {
    use cleverplatform::import::{ImportOptions, import_file};
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir.path().join("clever.db")).await.unwrap();
    let csv = dir.path().join("s.csv");
    std::fs::write(
        &csv,
        "phone,name,language,city\n\
         +77010000001,Zed,en,London\n\
         +77010000002,Amy,kk,Алматы\n\
         +77010000003,Bob,ru,Алматы\n\
         +77010000004,Cat,ru,Астана\n\
         +77010000005,Dan,en,London\n\
         +77010000006,,ru,Астана\n",
    )
    .unwrap();
    import_file(&store, &csv, &ImportOptions::new("L", "t"), |_| {})
        .await
        .unwrap();
    let mut conn = store.read().await.unwrap();
    let list = cleverplatform::store::lists::id_by_name(&mut conn, "L")
        .await
        .unwrap()
        .unwrap();
    let samples = cleverplatform::engine::campaigns::samples_of(&mut conn, list, 500)
        .await
        .unwrap();
    let seen: Vec<(&str, Option<&str>, Option<&str>)> = samples
        .iter()
        .map(|s| {
            (
                s.name.as_str(),
                s.locale.as_deref(),
                s.attributes.get("city").and_then(|c| c.as_str()),
            )
        })
        .collect();
    // The list's first three in order (the form previews them), then the first of each
    // other attribute set and the first without a name; every one as it is stored.
    assert_eq!(
        seen,
        [
            ("Zed", Some("en"), Some("London")),
            ("Amy", Some("kk"), Some("Алматы")),
            ("Bob", Some("ru"), Some("Алматы")),
            ("Cat", Some("ru"), Some("Астана")),
            ("", Some("ru"), Some("Астана")),
        ]
    );
    let capped = cleverplatform::engine::campaigns::samples_of(&mut conn, list, 4)
        .await
        .unwrap();
    assert_eq!(capped.len(), 4);
}

/// The stop mark a batch claimed ahead is compared against moves with every change that can
/// stop a claimed row (so the batch is checked again), and with nothing else.
#[tokio::test]
async fn the_stop_mark_moves_with_whatever_can_stop_a_claimed_row() {
    use cleverplatform::store::outbox::stop_mark;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.db");
    open(&path).await.unwrap().close().await;
    let mut conn = raw(&path).await;
    sqlx::query("PRAGMA foreign_keys = ON")
        .execute(&mut conn)
        .await
        .unwrap();
    for sql in [
        "INSERT INTO subscribers (id, name, created_at, updated_at) VALUES (1, 'A', 't', 't'), (2, 'B', 't', 't')",
        "INSERT INTO identities (subscriber_id, channel, address, created_at) \
         VALUES (1, 'whatsapp', '+77011234567', 't'), (2, 'whatsapp', '+77011234568', 't')",
        "INSERT INTO lists (id, name, created_at) VALUES (1, 'L', 't')",
        "INSERT INTO list_members (list_id, subscriber_id, added_at) VALUES (1, 1, 't'), (1, 2, 't')",
    ] {
        sqlx::query(sql).execute(&mut conn).await.unwrap();
    }
    let mut mark = stop_mark(&mut conn).await.unwrap();
    // Each change, and whether it must move the mark.
    let changes: [(&str, bool); 9] = [
        // Nothing that stops anyone.
        ("UPDATE subscribers SET name = 'Aa' WHERE id = 1", false),
        (
            "INSERT INTO list_members (list_id, subscriber_id, added_at) SELECT 1, 1, 't' WHERE 0",
            false,
        ),
        // A consent event, granted or withdrawn.
        (
            "INSERT INTO consents (subscriber_id, channel, scope, status, source, at, recorded_by) \
          VALUES (1, 'whatsapp', 'marketing', 'granted', 'form', 't', 'op')",
            true,
        ),
        (
            "INSERT INTO consents (subscriber_id, channel, scope, status, source, at, recorded_by) \
          VALUES (2, 'whatsapp', 'marketing', 'withdrawn', 'reply', 't', 'op')",
            true,
        ),
        // A suppression.
        (
            "INSERT INTO suppressions (channel, address, reason, created_at, created_by) \
          VALUES ('whatsapp', '+77011234567', 'opt_out', 't', 'op')",
            true,
        ),
        // The same again changes nothing.
        (
            "INSERT INTO suppressions (channel, address, reason, created_at, created_by) \
          VALUES ('whatsapp', '+77011234567', 'opt_out', 't', 'op') ON CONFLICT DO NOTHING",
            false,
        ),
        // Taken off the list.
        (
            "DELETE FROM list_members WHERE list_id = 1 AND subscriber_id = 1",
            true,
        ),
        // An address changed.
        (
            "UPDATE identities SET address = '+77011234569' WHERE subscriber_id = 2",
            true,
        ),
        // A subscriber deleted, their consent events with them: the highest id may come back.
        ("DELETE FROM subscribers WHERE id = 2", true),
    ];
    let mut before_last = mark;
    for (sql, should) in changes {
        sqlx::query(sql).execute(&mut conn).await.unwrap();
        let now = stop_mark(&mut conn).await.unwrap();
        assert_eq!(now != mark, should, "{sql}");
        before_last = mark;
        mark = now;
    }
    // A new withdrawal takes the deleted event's id, so the consents' highest id is what it
    // was before the deletion: the mark still differs from the one read before it.
    sqlx::query(
        "INSERT INTO consents (subscriber_id, channel, scope, status, source, at, recorded_by) \
         VALUES (1, 'whatsapp', 'marketing', 'withdrawn', 'reply', 't', 'op')",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    let (seq, max): (i64, i64) =
        sqlx::query_as("SELECT (SELECT seq FROM stop_marks), (SELECT max(id) FROM consents)")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    assert_eq!(max, 2, "the deleted event's id came back");
    assert!(seq > 0);
    assert_ne!(stop_mark(&mut conn).await.unwrap(), before_last);
}

/// An account, a list, a running campaign and two subscribers with a WhatsApp address each.
const TWO_SUBSCRIBERS: [&str; 5] = [
    "INSERT INTO accounts (id, channel, name, settings, secret, status, created_at, updated_at) VALUES (1, 'whatsapp', 'WA', '{}', 's', 'active', 't', 't')",
    "INSERT INTO lists (id, name, created_at) VALUES (1, 'L', 't')",
    "INSERT INTO subscribers (id, name, created_at, updated_at) VALUES (1, 'S', 't', 't'), (2, 'T', 't', 't')",
    "INSERT INTO identities (id, subscriber_id, channel, address, created_at) VALUES (1, 1, 'whatsapp', '+77011234567', 't'), (2, 2, 'whatsapp', '+77011234568', 't')",
    "INSERT INTO campaigns (id, name, list_id, account_id, status, message_text, created_at, updated_at) VALUES (1, 'C', 1, 1, 'running', 'hi', 't', 't')",
];

/// Migration 0018 rebuilds the outbox and consent tables: every row and id is kept, and the
/// rules, the indexes and the triggers are the same as before.
#[tokio::test]
async fn the_outbox_and_consents_keep_their_rows_and_rules_when_rebuilt() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("clever.db");
    open(&path).await.unwrap().close().await;
    let mut c = raw(&path).await;
    for sql in TWO_SUBSCRIBERS.into_iter().chain([
        "INSERT INTO outbox (id, campaign_id, subscriber_id, identity_id, account_id, state, provider_id, created_at, updated_at, sent_at, ahead_claim) VALUES (7, 1, 1, 1, 1, 'sent', 'wamid.1', 't', 't', 't', 0), (9, 1, 2, 2, 1, 'sending', NULL, 't', 't', NULL, 42)",
        "INSERT INTO consents (id, subscriber_id, channel, scope, status, source, at, recorded_by) VALUES (3, 1, 'whatsapp', 'marketing', 'granted', 'form', 't', 'op'), (5, 2, 'whatsapp', 'marketing', 'withdrawn', 'reply', 't', 'op')",
        // As a database of the version before: the rebuild not yet applied (nor what came
        // after it).
        "DELETE FROM _sqlx_migrations WHERE version >= 18",
        "ALTER TABLE delivery_statuses DROP COLUMN recipient",
    ]) {
        sqlx::query(sql).execute(&mut c).await.unwrap();
    }
    let rows = "SELECT group_concat(id || ':' || state || ':' || coalesce(provider_id, '-') || ':' || ahead_claim, ' ') FROM outbox";
    let events =
        "SELECT group_concat(id || ':' || subscriber_id || ':' || status, ' ') FROM consents";
    let before: (String, String) = (
        sqlx::query_scalar(rows).fetch_one(&mut c).await.unwrap(),
        sqlx::query_scalar(events).fetch_one(&mut c).await.unwrap(),
    );
    drop(c);
    open(&path).await.unwrap().close().await;
    let mut c = raw(&path).await;
    let after: (String, String) = (
        sqlx::query_scalar(rows).fetch_one(&mut c).await.unwrap(),
        sqlx::query_scalar(events).fetch_one(&mut c).await.unwrap(),
    );
    assert_eq!(after, before);
    assert_eq!(before.0, "7:sent:wamid.1:0 9:sending:-:42");
    let indexes: String = sqlx::query_scalar(
        "SELECT group_concat(name, ' ') FROM (SELECT name FROM sqlite_master \
         WHERE tbl_name IN ('outbox', 'consents') AND type IN ('index', 'trigger') ORDER BY name)",
    )
    .fetch_one(&mut c)
    .await
    .unwrap();
    assert_eq!(
        indexes,
        "consents_append_only consents_latest consents_stop_mark outbox_campaign_state \
         outbox_identity outbox_sent_at sqlite_autoindex_outbox_1"
    );
    // The same rules: a state, a channel, a scope or a status outside them is refused.
    for bad in [
        "UPDATE outbox SET state = 'lost' WHERE id = 7",
        "INSERT INTO consents (subscriber_id, channel, scope, status, source, at, recorded_by) VALUES (1, 'email', 'marketing', 'granted', 'f', 't', 'op')",
        "INSERT INTO consents (subscriber_id, channel, scope, status, source, at, recorded_by) VALUES (1, 'whatsapp', 'ads', 'granted', 'f', 't', 'op')",
        "INSERT INTO consents (subscriber_id, channel, scope, status, source, at, recorded_by) VALUES (1, 'whatsapp', 'marketing', 'maybe', 'f', 't', 'op')",
    ] {
        let e = sqlx::query(bad)
            .execute(&mut c)
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains("CHECK"), "{bad}: {e}");
    }
    let e = sqlx::query("UPDATE consents SET status = 'granted'")
        .execute(&mut c)
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("append-only"), "{e}");
    // Each state the engine writes is still accepted.
    for state in [
        "queued",
        "sending",
        "sent",
        "delivered",
        "read",
        "failed",
        "skipped",
        "unknown",
    ] {
        sqlx::query("UPDATE outbox SET state = ? WHERE id = 9")
            .bind(state)
            .execute(&mut c)
            .await
            .unwrap();
    }
}

/// One line of text the database gives for `sql`.
async fn text(c: &mut sqlx::SqliteConnection, sql: &'static str) -> String {
    sqlx::query_scalar(sql).fetch_one(c).await.unwrap()
}

/// The outbox's rows as `id:state`, in id order.
const STATES: &str =
    "SELECT group_concat(id || ':' || state, ' ') FROM (SELECT * FROM outbox ORDER BY id)";

/// A database with statuses waiting for their rows, as it was before migration 0019: the
/// statuses, one per outbox row, with no recipient, and provider ids indexed.
async fn statuses_before_0019(path: &std::path::Path) {
    open(path).await.unwrap().close().await;
    let mut c = raw(path).await;
    for sql in TWO_SUBSCRIBERS.into_iter().chain([
        "INSERT INTO outbox (id, campaign_id, subscriber_id, identity_id, account_id, state, provider_id, created_at, updated_at, sent_at) VALUES (7, 1, 1, 1, 1, 'sent', 'wamid.1', 't', 't', 't'), (8, 1, 2, 2, 1, 'sent', 'wamid.2', 't', 't', 't')",
        "DELETE FROM _sqlx_migrations WHERE version >= 19",
        "ALTER TABLE delivery_statuses DROP COLUMN recipient",
        "CREATE INDEX outbox_provider ON outbox(provider_id) WHERE provider_id IS NOT NULL",
        // Waiting: one for each row, one for a message the outbox does not have; applied
        // long ago: one more.
        "INSERT INTO delivery_statuses (id, channel, provider_id, status, at, applied) VALUES \
         (1, 'whatsapp', 'wamid.1', 'delivered', '2026-11-28T10:00:00Z', 0), \
         (2, 'whatsapp', 'wamid.2', 'read', '2026-11-28T10:00:00Z', 0), \
         (3, 'whatsapp', 'wamid.elsewhere', 'read', '2026-11-28T10:00:00Z', 0), \
         (4, 'whatsapp', 'wamid.2', 'sent', '2026-11-28T09:00:00Z', 1)",
    ]) {
        sqlx::query(sql).execute(&mut c).await.unwrap();
    }
}

/// The database of `statuses_before_0019` opened by the store (so upgraded), and a raw
/// connection to it.
async fn upgraded_with_statuses() -> (tempfile::TempDir, Store, sqlx::SqliteConnection) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("clever.db");
    statuses_before_0019(&path).await;
    let store = open(&path).await.unwrap();
    let c = raw(&path).await;
    (dir, store, c)
}

/// Applies the statuses waiting, in one transaction; how many rows moved.
async fn apply_statuses(store: &Store) -> u64 {
    let mut tx = store.begin().await.unwrap();
    let moved = cleverplatform::store::outbox::apply_statuses(&mut tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    moved
}

/// Migration 0019 drops the index of provider ids: statuses waiting when it runs get their
/// recipient from the row they name, so they still reach it.
#[tokio::test]
async fn statuses_waiting_across_the_upgrade_still_reach_their_rows() {
    let (_dir, store, mut c) = upgraded_with_statuses().await;
    let recipients = text(
        &mut c,
        "SELECT group_concat(id || ':' || coalesce(recipient, '-'), ' ') FROM delivery_statuses",
    )
    .await;
    assert_eq!(recipients, "1:+77011234567 2:+77011234568 3:- 4:-");
    let indexes = text(
        &mut c,
        "SELECT group_concat(name, ' ') FROM (SELECT name FROM sqlite_master \
         WHERE tbl_name = 'outbox' AND type = 'index' ORDER BY name)",
    )
    .await;
    assert_eq!(
        indexes,
        "outbox_campaign_state outbox_identity outbox_sent_at sqlite_autoindex_outbox_1"
    );
    assert_eq!(apply_statuses(&store).await, 2);
    assert_eq!(text(&mut c, STATES).await, "7:delivered 8:read");
    // The status of a message the outbox does not have waits (a week), as before.
    let waiting = text(
        &mut c,
        "SELECT group_concat(id, ' ') FROM delivery_statuses WHERE applied = 0",
    )
    .await;
    assert_eq!(waiting, "3");
}

/// A status reaches the row with its provider id among those sent to its recipient, and
/// only that row: the same provider id under another recipient, or the recipient's row of
/// another message, stays as it is. Statuses move rows forward only.
#[tokio::test]
async fn a_status_moves_only_the_row_of_its_recipient_and_message() {
    use cleverplatform::domain::Channel;
    use cleverplatform::store::inbound::{NewStatus, record_status};
    let (dir, store, mut c) = upgraded_with_statuses().await;
    sqlx::query("UPDATE delivery_statuses SET applied = 1")
        .execute(&mut c)
        .await
        .unwrap();
    let at = chrono::Utc::now();
    let status = |provider_id, recipient, status| NewStatus {
        channel: Channel::WhatsApp,
        provider_id,
        recipient,
        status,
        error_code: None,
        error_title: None,
        at,
    };
    let apply = async |statuses: &[NewStatus<'_>]| {
        let mut tx = store.begin().await.unwrap();
        for s in statuses {
            record_status(&mut tx, s).await.unwrap();
        }
        tx.commit().await.unwrap();
        apply_statuses(&store).await
    };
    let path = dir.path().join("clever.db");
    let states = async || text(&mut raw(&path).await, STATES).await;
    // Row 8's message named with row 7's recipient, and row 7's recipient with row 8's
    // message: neither is anyone's.
    let moved = apply(&[
        status("wamid.2", "+77011234567", "read"),
        status("wamid.1", "+77011234568", "failed"),
    ])
    .await;
    assert_eq!((moved, states().await.as_str()), (0, "7:sent 8:sent"));
    let moved = apply(&[
        status("wamid.1", "+77011234567", "read"),
        status("wamid.2", "+77011234568", "failed"),
    ])
    .await;
    assert_eq!((moved, states().await.as_str()), (2, "7:read 8:failed"));
    // Forward only: a late `delivered` leaves a read row read, a failed row failed.
    let moved = apply(&[
        status("wamid.1", "+77011234567", "delivered"),
        status("wamid.2", "+77011234568", "delivered"),
    ])
    .await;
    assert_eq!((moved, states().await.as_str()), (0, "7:read 8:failed"));
}
