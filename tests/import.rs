//! Importing subscribers from CSV into a real SQLite file: encodings, delimiters, quoting,
//! bad rows, duplicates, suppressions, consent, idempotence, and files that must change
//! nothing at all.

use cleverplatform::domain::consent::{ConsentFact, sendable};
use cleverplatform::domain::{Channel, ConsentScope, ConsentStatus};
use cleverplatform::import::{ImportError, ImportOptions, ImportSummary, import_file};
use cleverplatform::store::subscribers::SubscriberFilter;
use cleverplatform::store::{Location, Store};
use std::path::{Path, PathBuf};

struct Ws {
    dir: tempfile::TempDir,
    store: Store,
}

async fn workspace() -> Ws {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&Location::File(dir.path().join("clever.db")))
        .await
        .unwrap();
    Ws { dir, store }
}

fn opts(list: &str) -> ImportOptions {
    ImportOptions::new(list, "tester")
}

impl Ws {
    fn file(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }

    async fn import(&self, path: &Path, o: &ImportOptions) -> Result<ImportSummary, ImportError> {
        import_file(&self.store, path, o, |_| {}).await
    }

    async fn names(&self) -> Vec<String> {
        let rows = self
            .store
            .subscriber_page(&SubscriberFilter::default(), page())
            .await
            .unwrap();
        rows.into_iter().map(|r| r.name).collect()
    }

    async fn detail(&self, id: i64) -> cleverplatform::store::subscribers::SubscriberDetail {
        self.store
            .subscriber_detail(cleverplatform::domain::SubscriberId(id))
            .await
            .unwrap()
            .unwrap()
    }

    async fn count(&self) -> i64 {
        self.store
            .count_subscribers(&SubscriberFilter::default())
            .await
            .unwrap()
    }

    /// Puts a phone on the do-not-contact list.
    async fn suppress(&self, phone: &str) {
        let mut tx = self.store.begin().await.unwrap();
        cleverplatform::store::subscribers::suppress(
            &mut tx,
            Channel::WhatsApp,
            phone,
            "STOP",
            "test",
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
    }

    async fn sendable(&self, channel: Channel) -> i64 {
        let counts = self
            .store
            .sendable_counts(None, ConsentScope::Marketing)
            .await
            .unwrap();
        counts
            .into_iter()
            .find(|(c, _)| *c == channel)
            .map(|(_, n)| n)
            .unwrap_or(0)
    }
}

fn page() -> cleverplatform::store::PageRequest {
    cleverplatform::store::PageRequest {
        anchor: cleverplatform::store::Anchor::First,
        limit: 1000,
    }
}

fn cp1251(text: &str) -> Vec<u8> {
    encoding_rs::WINDOWS_1251.encode(text).0.into_owned()
}

#[tokio::test]
async fn windows_1251_semicolons_and_cyrillic_names() {
    let ws = workspace().await;
    let f = ws.file("crm.csv", &cp1251("Телефон;ФИО;Согласие;Город\r\n8 701 123 45 67;Айгерим Сапарова;да;Алматы\r\n+7 (702) 555-12-34;Ерлан Ахметов;нет;Астана\r\n"));
    let s = ws.import(&f, &opts("Клиенты")).await.unwrap();
    assert_eq!(
        (s.encoding.as_str(), s.delimiter.as_str()),
        ("windows-1251", ";")
    );
    assert_eq!((s.rows, s.imported, s.rejected), (2, 2, 0));
    assert_eq!(ws.names().await, vec!["Айгерим Сапарова", "Ерлан Ахметов"]);
    assert_eq!(
        ws.sendable(Channel::WhatsApp).await,
        1,
        "only the `да` row has consent"
    );
    let found = ws
        .store
        .subscriber_page(
            &SubscriberFilter {
                search: Some("айгерим".into()),
                list: None,
            },
            page(),
        )
        .await
        .unwrap();
    assert_eq!(found.len(), 1, "search folds Cyrillic case");
}

#[tokio::test]
async fn utf8_bom_quotes_and_embedded_newlines() {
    let ws = workspace().await;
    let text = "\u{feff}phone,name,note\n+77011234567,\"Smith, \"\"Jo\"\"\",\"line one\nline two\"\n+77021234567,\"Anna\r\nMaria\",plain\n123,Bad,\n";
    let f = ws.file("bom.csv", text.as_bytes());
    let mut o = opts("L");
    let rejects = ws.dir.path().join("rejects.csv");
    o.rejects = Some(rejects.clone());
    let s = ws.import(&f, &o).await.unwrap();
    // Lines are counted as an editor counts them, a CRLF inside a cell of a file with LF
    // endings included; new subscribers are numbered by them.
    let rejected = std::fs::read_to_string(&rejects).unwrap();
    assert!(rejected.contains("\n6,invalid phone"), "{rejected}");
    assert_eq!(ws.detail(3).await.row.name, "Anna Maria");
    assert_eq!(
        (s.encoding.as_str(), s.delimiter.as_str(), s.imported),
        ("utf-8", ",", 2)
    );
    // A name broken over lines in its cell is one line; other cells keep their line breaks.
    assert_eq!(ws.names().await, vec!["Smith, \"Jo\"", "Anna Maria"]);
    let d = ws.detail(1).await;
    assert_eq!(d.attributes["note"], "line one\nline two");
}

#[tokio::test]
async fn bad_rows_are_rejected_with_line_and_reason() {
    let ws = workspace().await;
    let text = "phone;name;consent;telegram_chat_id\n\
        +77011234567;Ok;yes;\n\
        12345;Bad phone;yes;\n\
        +77021234567;Too few\n\
        +77051112233;Too;many;;fields\n\
        8 701 123 45 67;Dup of line 2;yes;\n\
        ;No identity;yes;\n\
        +77071234567;Bad consent;maybe;\n\
        ;Bad chat;;abc\n\
        ;Telegram only;yes;123456789\n";
    let f = ws.file("bad.csv", text.as_bytes());
    let rejects = ws.dir.path().join("rejects.csv");
    let mut o = opts("L");
    o.rejects = Some(rejects.clone());
    let s = ws.import(&f, &o).await.unwrap();
    assert_eq!((s.rows, s.imported, s.rejected), (9, 2, 7));
    for reason in [
        "invalid phone",
        "too few fields",
        "too many fields",
        "duplicate within file",
        "no identity",
        "bad consent value",
        "invalid telegram chat id",
    ] {
        assert_eq!(
            s.rejected_by_reason.get(reason),
            Some(&1),
            "{reason}: {:?}",
            s.rejected_by_reason
        );
    }
    // The summary names the first few by line, in file order, whichever check caught them.
    let first: Vec<(i64, &str)> = s
        .first_rejected
        .iter()
        .map(|r| (r.line, cleverplatform::import::reason_kind(&r.reason)))
        .collect();
    assert_eq!(
        first,
        [
            (3, "invalid phone"),
            (4, "too few fields"),
            (5, "too many fields"),
            (6, "duplicate within file"),
            (7, "no identity"),
        ]
    );
    assert_eq!(
        s.first_rejected[3].reason,
        "duplicate within file (first at line 2)"
    );
    let rej = std::fs::read_to_string(&rejects).unwrap();
    assert!(
        rej.starts_with("line,reason,phone,name,consent,telegram_chat_id\n"),
        "{rej}"
    );
    assert!(rej.contains("3,invalid phone"), "{rej}");
    assert!(
        rej.contains("6,duplicate within file (first at line 2)"),
        "{rej}"
    );
    assert_eq!(rej.lines().count(), 8);
    assert!(!ws.dir.path().join("rejects.csv.partial").exists());
}

#[tokio::test]
async fn local_phone_formats_are_one_number() {
    let ws = workspace().await;
    let text =
        "phone,name\n8 701 123 45 67,A\n+7 (701) 123-45-67,B\n77011234567,C\n8(701)1234567,D\n";
    let s = ws
        .import(&ws.file("p.csv", text.as_bytes()), &opts("L"))
        .await
        .unwrap();
    assert_eq!((s.imported, s.rejected), (1, 3));
    assert_eq!(s.rejected_by_reason.get("duplicate within file"), Some(&3));
    // And the search finds it however the operator types it.
    for typed in [
        "8 701 123 45 67",
        "+7 (701) 123-45-67",
        "77011234567",
        "701 123 45 67",
        "8701",
    ] {
        let found = ws
            .store
            .count_subscribers(&SubscriberFilter {
                search: Some(typed.into()),
                list: None,
            })
            .await
            .unwrap();
        assert_eq!(found, 1, "{typed}");
    }
}

#[tokio::test]
async fn time_zones_are_kept_by_name_or_the_row_is_rejected() {
    let ws = workspace().await;
    let text = "phone;name;часовой пояс\n\
        +77011234501;Named;Asia/Almaty\n\
        +77011234502;Lower case;asia/aqtobe\n\
        +77011234503;Place;Moscow\n\
        +77011234504;Offset;UTC+6\n\
        +77011234505;None;\n\
        +77011234506;Half hour;+05:30\n\
        +77011234507;Nowhere;Mars/Base\n";
    let s = ws
        .import(&ws.file("tz.csv", text.as_bytes()), &opts("L"))
        .await
        .unwrap();
    assert_eq!((s.imported, s.rejected), (5, 2), "{:?}", s.first_rejected);
    assert_eq!(s.rejected_by_reason.get("bad time zone"), Some(&2));
    let reasons: Vec<(i64, &str)> = s
        .first_rejected
        .iter()
        .map(|r| (r.line, r.reason.as_str()))
        .collect();
    assert!(
        reasons[0].0 == 7 && reasons[0].1.contains("Asia/Kolkata"),
        "{reasons:?}"
    );
    assert!(
        reasons[1].0 == 8 && reasons[1].1.contains("unknown time zone `Mars/Base`"),
        "{reasons:?}"
    );
    // Each is kept as its zone's name, which is what quiet hours read.
    let mut zones = Vec::new();
    for id in 1..=5 {
        let d = ws.detail(id).await;
        zones.push((d.row.name, d.row.time_zone));
    }
    let zone = |s: &str| Some(s.to_string());
    assert_eq!(
        zones,
        [
            ("Named".to_string(), zone("Asia/Almaty")),
            ("Lower case".to_string(), zone("Asia/Aqtobe")),
            ("Place".to_string(), zone("Europe/Moscow")),
            ("Offset".to_string(), zone("Etc/GMT-6")),
            ("None".to_string(), None),
        ]
    );
    // Read the same way, the file is the same the second time.
    let again = ws
        .import(&ws.file("tz.csv", text.as_bytes()), &opts("L"))
        .await
        .unwrap();
    assert_eq!((again.unchanged, again.updated), (5, 0));
}

#[tokio::test]
async fn reimport_changes_nothing_and_other_files_update() {
    let ws = workspace().await;
    let first = ws.file(
        "a.csv",
        b"phone,name,consent,city\n+77011234567,A,yes,Almaty\n+77021234567,B,,Astana\n",
    );
    let s = ws.import(&first, &opts("L")).await.unwrap();
    assert_eq!((s.imported, s.updated, s.unchanged), (2, 0, 0));
    let s = ws.import(&first, &opts("L")).await.unwrap();
    assert_eq!(
        (s.imported, s.updated, s.unchanged),
        (0, 0, 2),
        "same file, same list: nothing changes"
    );
    let consents_before = ws
        .store
        .subscriber_detail(cleverplatform::domain::SubscriberId(1))
        .await
        .unwrap()
        .unwrap()
        .consents
        .len();
    // Another file with the same phone: an update, never a second subscriber.
    let second = ws.file("b.csv", b"phone,name,city\n+77011234567,A,Shymkent\n");
    let s = ws.import(&second, &opts("L")).await.unwrap();
    assert_eq!((s.imported, s.updated), (0, 1));
    assert_eq!(ws.count().await, 2);
    let d = ws.detail(1).await;
    assert_eq!(d.attributes["city"], "Shymkent");
    assert_eq!(
        d.consents.len(),
        consents_before,
        "no consent value: consent untouched"
    );
    // Joining another list is an update.
    let s = ws.import(&second, &opts("Other")).await.unwrap();
    assert_eq!(s.updated, 1);
    // `no` after `yes` records a withdrawal; importing it twice records it once.
    let third = ws.file("c.csv", b"phone,consent\n+77011234567,no\n");
    ws.import(&third, &opts("L")).await.unwrap();
    let s = ws.import(&third, &opts("L")).await.unwrap();
    assert_eq!(s.unchanged, 1);
    let d = ws.detail(1).await;
    assert_eq!(d.consents.len(), consents_before + 1);
    assert_eq!(d.consents[0].status, ConsentStatus::Withdrawn);
    assert_eq!(ws.sendable(Channel::WhatsApp).await, 0);
}

#[tokio::test]
async fn suppressed_addresses_are_never_resurrected() {
    let ws = workspace().await;
    ws.suppress("+77011234567").await;
    let f = ws.file(
        "s.csv",
        b"phone,name,consent\n8 701 123 45 67,Stopped,yes\n+77021234567,Fine,yes\n",
    );
    let s = ws.import(&f, &opts("L")).await.unwrap();
    assert_eq!((s.imported, s.rejected), (1, 1));
    assert_eq!(s.rejected_by_reason.get("suppressed"), Some(&1));
    assert_eq!(ws.names().await, vec!["Fine"]);
    assert_eq!(ws.sendable(Channel::WhatsApp).await, 1);
}

#[tokio::test]
async fn declared_consent_source_is_recorded_as_proof() {
    let ws = workspace().await;
    let f = ws.file("d.csv", b"phone,name\n+77011234567,A\n");
    let mut o = opts("L");
    o.consent_source = Some("paper forms, Almaty store, 2026".into());
    ws.import(&f, &o).await.unwrap();
    let d = ws.detail(1).await;
    assert_eq!(d.consents.len(), 1);
    assert_eq!(d.consents[0].status, ConsentStatus::Granted);
    assert_eq!(d.consents[0].source, "paper forms, Almaty store, 2026");
    assert!(
        d.consents[0].proof.contains("d.csv, line 2") && d.consents[0].proof.contains("tester")
    );
    assert_eq!(ws.sendable(Channel::WhatsApp).await, 1);
}

/// A consent column per channel (as `subscribers export` writes) wins over the column for
/// every channel on its channel, and a row with any consent value is not covered by a
/// declared source.
#[tokio::test]
async fn consent_per_channel_wins_over_consent_for_every_channel() {
    let ws = workspace().await;
    let mut o = opts("L");
    o.consent_source = Some("declared".into());
    let f = ws.file(
        "a.csv",
        "phone;telegram_chat_id;consent;Согласие Telegram\n\
         +77011234567;111;;да\n\
         +77021234567;222;yes;\n"
            .as_bytes(),
    );
    ws.import(&f, &o).await.unwrap();
    assert_eq!(
        ws.sendable(Channel::WhatsApp).await,
        1,
        "only the second row"
    );
    assert_eq!(ws.sendable(Channel::Telegram).await, 2);
    let d = ws.detail(1).await;
    assert_eq!(d.consents.len(), 1, "{:?}", d.consents);
    assert_eq!(d.consents[0].channel, Channel::Telegram);
    assert_eq!(
        d.consents[0].proof,
        "a.csv, line 2: consent on Telegram `да`"
    );
    // Later: consent everywhere but withdrawn on Telegram, for both. A Telegram consent with
    // no chat id on its row is refused, not lost.
    let f = ws.file(
        "b.csv",
        b"phone;tg;consent;consent_telegram\n+77011234567;111;yes;no\n+77021234567;222;yes;no\n\
          +77051234567;;;no\n",
    );
    let s = ws.import(&f, &opts("L")).await.unwrap();
    assert_eq!((s.updated, s.unchanged, s.rejected), (2, 0, 1), "{s:?}");
    assert_eq!(s.rejected_by_reason["consent without an address"], 1);
    assert_eq!(ws.sendable(Channel::WhatsApp).await, 2);
    assert_eq!(ws.sendable(Channel::Telegram).await, 0);
    let d = ws.detail(2).await;
    assert_eq!(
        d.consents[0].proof,
        "b.csv, line 3: consent `yes`, consent on Telegram `no`"
    );
    assert_eq!(ws.import(&f, &opts("L")).await.unwrap().unchanged, 2);
}

/// A file can say when, from where and with what proof a consent was given: for the row
/// (`consent_at`, `consent_source`, `consent_proof`) and for one channel
/// (`consent_telegram_at`, …, as `subscribers export` writes), which wins on its channel:
/// its date decides whether the value is older than the consent on record. What the file
/// says of a channel without a consent value there records nothing, and a bad date is a
/// rejected row.
#[tokio::test]
async fn a_consent_is_dated_sourced_and_proved_per_channel() {
    let ws = workspace().await;
    let day = |d: &str| {
        chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap()
            .and_utc()
    };
    let f = ws.file(
        "a.csv",
        "phone;telegram;consent;consent_at;consent_proof;consent_telegram_at;\
         consent_telegram_source;consent_telegram_proof\n\
         +77011234567;111;yes;2026-01-10;web form 12;2026-02-01;bot /start;chat 111 /start\n\
         +77021234567;222;;;;2026-02-01;bot /start;\n\
         +77051234567;555;yes;;;not yet;;\n"
            .as_bytes(),
    );
    let s = ws.import(&f, &opts("L")).await.unwrap();
    assert_eq!((s.imported, s.rejected), (2, 1), "{s:?}");
    assert_eq!(s.rejected_by_reason["bad consent date"], 1, "{s:?}");
    let d = ws.detail(1).await;
    let on = |c: Channel| d.consents.iter().find(|e| e.channel == c).unwrap();
    let whatsapp = on(Channel::WhatsApp);
    assert_eq!(
        (
            whatsapp.at,
            whatsapp.source.as_str(),
            whatsapp.proof.as_str()
        ),
        (day("2026-01-10"), "import a.csv", "web form 12")
    );
    let telegram = on(Channel::Telegram);
    assert_eq!(
        (
            telegram.at,
            telegram.source.as_str(),
            telegram.proof.as_str()
        ),
        (day("2026-02-01"), "bot /start", "chat 111 /start")
    );
    assert!(telegram.recorded_at.is_some_and(|r| r > telegram.at));
    assert!(
        ws.detail(2).await.consents.is_empty(),
        "a date and a source without a value record nothing"
    );
    // A withdrawal on Telegram dated before the grant there is older, though the row's own
    // date is later; on WhatsApp the row's date applies and it is newer.
    let f = ws.file(
        "b.csv",
        b"phone;telegram;consent;consent_at;consent_telegram_at\n\
          +77011234567;111;no;2026-03-01;2026-01-20\n",
    );
    let s = ws.import(&f, &opts("L")).await.unwrap();
    assert_eq!((s.updated, s.consent_outdated), (1, 1), "{s:?}");
    let d = ws.detail(1).await;
    assert_eq!(d.consents.len(), 3, "{:?}", d.consents);
    assert_eq!(
        (
            d.consents[0].channel,
            d.consents[0].status,
            d.consents[0].at
        ),
        (
            Channel::WhatsApp,
            ConsentStatus::Withdrawn,
            day("2026-03-01")
        )
    );
    // A consent declared for the file keeps its own proof, with the row's beside it; a
    // channel's date without a value there does not date it.
    let mut o = opts("L");
    o.consent_source = Some("signed list".into());
    let f = ws.file(
        "c.csv",
        b"phone;consent_proof;consent_whatsapp_at\n+77071234567;sheet 4;2020-01-01\n",
    );
    assert_eq!(ws.import(&f, &o).await.unwrap().imported, 1);
    let declared = &ws.detail(3).await.consents[0];
    assert_eq!(
        declared.proof,
        "c.csv, line 2: consent declared for the whole file by tester: signed list; proof: sheet 4"
    );
    assert!(declared.at > day("2026-11-01"), "{declared:?}");
}

/// A consent value older than the consent on record does not override it: a stale export
/// imported after a subscriber withdrew by phone leaves them withdrawn (the rest of the row
/// is imported), and is counted. A newer value, or one without a date (given at the import),
/// is applied; a date in the future is refused. A consent declared for the whole file never
/// overrides a withdrawal.
#[tokio::test]
async fn an_older_consent_in_a_file_does_not_override_a_newer_one() {
    use cleverplatform::domain::SubscriberId;
    use cleverplatform::store::subscribers::{ConsentChange, NewConsent, change_consent};
    let ws = workspace().await;
    let f = ws.file(
        "crm.csv",
        b"phone;name;consent;consent_at
+77011234567;Aida;yes;2026-01-10
+77021234567;Bolat;yes;2026-01-10
",
    );
    assert_eq!(ws.import(&f, &opts("L")).await.unwrap().imported, 2);
    let dated = &ws.detail(1).await.consents[0];
    assert!(
        dated.recorded_at.is_some_and(|r| r > dated.at),
        "dated by the file: when it was entered is kept: {dated:?}"
    );
    // Aida withdraws by phone.
    let mut tx = ws.store.begin().await.unwrap();
    let change = change_consent(
        &mut tx,
        &NewConsent {
            subscriber: SubscriberId(1),
            channel: Channel::WhatsApp,
            scope: ConsentScope::Marketing,
            status: ConsentStatus::Withdrawn,
            source: "phone call",
            proof: "",
            at: chrono::Utc::now(),
            recorded_by: "op",
            recorded_at: None,
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    assert!(
        matches!(change, ConsentChange::Recorded { .. }),
        "{change:?}"
    );
    assert_eq!(ws.sendable(Channel::WhatsApp).await, 1);
    // An older export: Aida `yes` and Bolat `no`, both dated before what is on record, and
    // Aida renamed. Neither consent changes; the name does.
    let old = ws.file(
        "old.csv",
        b"phone;name;consent;consent_at
+77011234567;Aida K.;yes;2025-12-01
+77021234567;Bolat;no;01.12.2025
",
    );
    let dry = ws
        .import(
            &old,
            &ImportOptions {
                dry_run: true,
                ..opts("L")
            },
        )
        .await
        .unwrap();
    assert_eq!((dry.updated, dry.consent_outdated), (1, 2), "{dry:?}");
    let s = ws.import(&old, &opts("L")).await.unwrap();
    assert_eq!(
        (s.updated, s.unchanged, s.rejected, s.consent_outdated),
        (1, 1, 0, 2),
        "{s:?}"
    );
    assert_eq!(ws.sendable(Channel::WhatsApp).await, 1);
    let aida = ws.detail(1).await;
    assert_eq!(aida.row.name, "Aida K.");
    assert_eq!(aida.consents.len(), 2, "{:?}", aida.consents);
    assert_eq!(aida.consents[0].status, ConsentStatus::Withdrawn);
    assert_eq!(ws.detail(2).await.consents.len(), 1);
    // Again: nothing changes, the outdated values are counted again.
    let again = ws.import(&old, &opts("L")).await.unwrap();
    assert_eq!(
        (again.unchanged, again.consent_outdated),
        (2, 2),
        "{again:?}"
    );
    // A date in the future is refused; a newer consent, or one without a date, applies.
    let tomorrow = (chrono::Utc::now() + chrono::Duration::days(3)).format("%Y-%m-%d");
    let new = ws.file(
        "new.csv",
        format!("phone;consent;consent_at\n+77011234567;yes;{tomorrow}\n+77021234567;no;\n")
            .as_bytes(),
    );
    let s = ws.import(&new, &opts("L")).await.unwrap();
    assert_eq!(
        (s.updated, s.rejected, s.consent_outdated),
        (1, 1, 0),
        "{s:?}"
    );
    assert_eq!(s.rejected_by_reason["bad consent date"], 1, "{s:?}");
    assert_eq!(ws.sendable(Channel::WhatsApp).await, 0, "Bolat withdrew");
    // A consent declared for a whole file does not undo Bolat's withdrawal; it grants
    // someone new. His own `yes` on a row does.
    let mut declared = opts("L");
    declared.consent_source = Some("signup forms 2026".into());
    let f = ws.file(
        "declared.csv",
        b"phone;name\n+77021234567;Bolat B.\n+77051234567;Dana\n",
    );
    let s = ws.import(&f, &declared).await.unwrap();
    assert_eq!(
        (s.imported, s.updated, s.withdrawn_kept, s.consent_outdated),
        (1, 1, 1, 0),
        "{s:?}"
    );
    assert_eq!(
        ws.detail(2).await.consents[0].status,
        ConsentStatus::Withdrawn
    );
    assert_eq!(ws.detail(2).await.row.name, "Bolat B.");
    assert_eq!(ws.sendable(Channel::WhatsApp).await, 1, "Dana");
    let f = ws.file(
        "yes.csv",
        b"phone;consent\n+77011234567;yes\n+77021234567;yes\n",
    );
    let s = ws.import(&f, &declared).await.unwrap();
    assert_eq!(
        (s.updated, s.consent_outdated, s.withdrawn_kept),
        (2, 0, 0),
        "{s:?}"
    );
    assert_eq!(
        ws.sendable(Channel::WhatsApp).await,
        3,
        "Aida and Bolat agreed again"
    );
}

/// Service consent comes per channel, in the columns `subscribers export` writes
/// (`service_consent_whatsapp`, with `_at`, `_source`, `_proof`), by the rules of marketing
/// consent: kept with the address it is for, recorded only when it changes what is on record
/// and is no older than it, and exported again as it was.
#[tokio::test]
async fn service_consent_is_read_and_exported_per_channel() {
    use cleverplatform::import::export::{Format, subscribers};
    let ws = workspace().await;
    let f = ws.file(
        "svc.csv",
        "phone;telegram_chat_id;consent;service_consent_whatsapp;service_consent_whatsapp_at;\
service_consent_telegram;service_consent_telegram_source
+77011234567;111;yes;yes;2026-01-10;no;bot
+77021234567;;;да;;;
+77051234567;;;;;yes;
+77071234567;;;maybe;;;
"
        .as_bytes(),
    );
    let s = ws.import(&f, &opts("L")).await.unwrap();
    assert_eq!((s.imported, s.rejected), (2, 2), "{s:?}");
    assert_eq!(
        s.first_rejected
            .iter()
            .map(|r| (r.line, r.reason.as_str()))
            .collect::<Vec<_>>(),
        [
            (
                4,
                "consent without an address (service consent on Telegram `yes`, but the row \
                 has no telegram chat id)"
            ),
            (
                5,
                "bad consent value (consent value `maybe` is not yes/no/true/false/1/0/да/нет)"
            ),
        ],
        "{s:?}"
    );
    let service = |d: &cleverplatform::store::subscribers::SubscriberDetail| {
        let mut v: Vec<_> = d
            .consents
            .iter()
            .filter(|c| c.scope == ConsentScope::Service)
            .map(|c| {
                (
                    c.channel,
                    c.status,
                    c.source.clone(),
                    c.proof.clone(),
                    c.at.format("%F").to_string(),
                )
            })
            .collect();
        v.sort_by_key(|c| c.0.as_str());
        v
    };
    let today = chrono::Utc::now().format("%F").to_string();
    let aida = ws.detail(1).await;
    assert_eq!(
        service(&aida),
        [
            (
                Channel::Telegram,
                ConsentStatus::Withdrawn,
                "bot".to_string(),
                "svc.csv, line 2: service consent on Telegram `no`".to_string(),
                today.clone()
            ),
            (
                Channel::WhatsApp,
                ConsentStatus::Granted,
                "import svc.csv".to_string(),
                "svc.csv, line 2: service consent on WhatsApp `yes`".to_string(),
                "2026-01-10".to_string()
            ),
        ]
    );
    assert_eq!(aida.consents.len(), 4, "and marketing on both: {aida:?}");
    assert_eq!(service(&ws.detail(2).await).len(), 1);
    assert_eq!(ws.sendable(Channel::WhatsApp).await, 1, "marketing: Aida");
    // Again: nothing changes.
    let again = ws.import(&f, &opts("L")).await.unwrap();
    assert_eq!((again.unchanged, again.updated), (2, 0), "{again:?}");
    assert_eq!(ws.detail(1).await.consents.len(), 4);
    // An older withdrawal is outdated; an undated one (given at the import) applies.
    let older = ws.file(
        "older.csv",
        b"phone,service_consent_whatsapp,service_consent_whatsapp_at\n+77011234567,no,2025-12-01\n",
    );
    let s = ws.import(&older, &opts("L")).await.unwrap();
    assert_eq!(
        (s.unchanged, s.updated, s.consent_outdated),
        (1, 0, 1),
        "{s:?}"
    );
    let newer = ws.file(
        "newer.csv",
        b"phone,service_consent_whatsapp\n+77011234567,no\n",
    );
    let dry = ws
        .import(
            &newer,
            &ImportOptions {
                dry_run: true,
                ..opts("L")
            },
        )
        .await
        .unwrap();
    assert_eq!(dry.updated, 1, "{dry:?}");
    assert_eq!(
        ws.detail(1).await.consents.len(),
        4,
        "a dry run writes nothing"
    );
    let s = ws.import(&newer, &opts("L")).await.unwrap();
    assert_eq!((s.updated, s.consent_outdated), (1, 0), "{s:?}");
    let latest = &ws.detail(1).await.consents[0];
    assert_eq!(
        (latest.scope, latest.channel, latest.status),
        (
            ConsentScope::Service,
            Channel::WhatsApp,
            ConsentStatus::Withdrawn
        )
    );
    // The export writes service consent beside marketing, and another workspace reads it
    // back as it was.
    let export = |store: Store| async move {
        let mut out = Vec::new();
        subscribers(&store, None, Format::Csv, &mut out)
            .await
            .unwrap();
        String::from_utf8(out).unwrap()
    };
    let a = export(ws.store.clone()).await;
    let head = a.lines().next().unwrap();
    assert!(
        head.ends_with(
            ",consent_instagram_proof,service_consent_whatsapp,service_consent_whatsapp_at,\
             service_consent_whatsapp_source,service_consent_whatsapp_proof,\
             service_consent_telegram,service_consent_telegram_at,\
             service_consent_telegram_source,service_consent_telegram_proof,\
             service_consent_instagram,service_consent_instagram_at,\
             service_consent_instagram_source,service_consent_instagram_proof"
        ),
        "{head}"
    );
    let other = workspace().await;
    let moved = other.file("a.csv", a.as_bytes());
    let s = other.import(&moved, &opts("L")).await.unwrap();
    assert_eq!((s.imported, s.rejected), (2, 0), "{s:?}");
    assert_eq!(export(other.store.clone()).await, a);
    // JSON lines: the same under `service_consent` and `service_consent_given`.
    let mut out = Vec::new();
    subscribers(&ws.store, None, Format::Jsonl, &mut out)
        .await
        .unwrap();
    let first: serde_json::Value =
        serde_json::from_str(String::from_utf8(out).unwrap().lines().next().unwrap()).unwrap();
    assert_eq!(
        first["service_consent"],
        serde_json::json!({"whatsapp": "withdrawn", "telegram": "withdrawn", "instagram": null}),
        "{first}"
    );
    assert_eq!(
        first["service_consent_given"]["telegram"]["source"], "bot",
        "{first}"
    );
    assert_eq!(first["marketing_consent"]["whatsapp"], "granted", "{first}");
    // The latest on each channel, with its date, source and proof.
    let moved = service(&other.detail(1).await);
    let kept = service(&ws.detail(1).await);
    assert_eq!(moved.len(), 2, "{moved:?}");
    assert!(moved.iter().all(|e| kept.contains(e)), "{moved:?} {kept:?}");
}

/// A channel can have several address columns (a CRM's mobile and work phones; the export's
/// `phone_2`): each adds an address to the row's subscriber, who is found by any of them, and
/// the export writes them all, so that they move to another workspace.
#[tokio::test]
async fn several_addresses_on_a_channel_are_read_and_exported() {
    use cleverplatform::import::export::{Format, subscribers};
    let ws = workspace().await;
    let addresses = |d: cleverplatform::store::subscribers::SubscriberDetail| {
        d.identities
            .into_iter()
            .map(|i| format!("{} {}", i.channel.as_str(), i.address))
            .collect::<Vec<_>>()
    };
    let crm = ws.file(
        "crm.csv",
        "ФИО;Мобильный телефон;Рабочий телефон;telegram_chat_id;Согласие
Айгерим;+77011234567;8 702 123 45 67;111;да
Бек;+77051234567;+7 705 123 45 67;;
Дана;+77071234567;+77011234567;;
Ерлан;;+77081234567;;
Жанар;+77019876543;12345;;
"
        .as_bytes(),
    );
    let s = ws.import(&crm, &opts("L")).await.unwrap();
    assert_eq!((s.imported, s.rejected), (3, 2), "{s:?}");
    assert_eq!(
        s.first_rejected
            .iter()
            .map(|r| (r.line, r.reason.as_str()))
            .collect::<Vec<_>>(),
        [
            (4, "duplicate within file (first at line 2)"),
            (
                6,
                "invalid phone (`12345` is not a valid number for its country)"
            ),
        ],
        "{s:?}"
    );
    assert_eq!(
        addresses(ws.detail(1).await),
        [
            "telegram 111",
            "whatsapp +77011234567",
            "whatsapp +77021234567"
        ]
    );
    assert_eq!(addresses(ws.detail(2).await), ["whatsapp +77051234567"]);
    assert_eq!(addresses(ws.detail(4).await), ["whatsapp +77081234567"]);
    assert_eq!(ws.sendable(Channel::WhatsApp).await, 1, "Айгерим's consent");

    ws.suppress("+77009999999").await;
    let more = ws.file(
        "more.csv",
        b"phone,phone_2,name
+77021234567,+77761234567,Aigerim K
+77771234567,+77051234567,
+77081234567,+77751234567,
+77001234567,+77471234567,New
+77011111111,+77009999999,Stopped
",
    );
    let s = ws.import(&more, &opts("L")).await.unwrap();
    assert_eq!(
        (s.imported, s.updated, s.unchanged, s.rejected),
        (1, 3, 0, 1),
        "{s:?}"
    );
    assert_eq!(s.first_rejected[0].line, 6, "{s:?}");
    assert_eq!(s.first_rejected[0].reason, "suppressed");
    let aigerim = ws.detail(1).await;
    assert_eq!(aigerim.row.name, "Aigerim K");
    assert_eq!(
        addresses(aigerim),
        [
            "telegram 111",
            "whatsapp +77011234567",
            "whatsapp +77021234567",
            "whatsapp +77761234567"
        ]
    );
    assert_eq!(
        addresses(ws.detail(2).await),
        ["whatsapp +77051234567", "whatsapp +77771234567"],
        "found by the second phone"
    );
    assert_eq!(
        addresses(ws.detail(8).await),
        ["whatsapp +77001234567", "whatsapp +77471234567"]
    );
    assert_eq!(
        addresses(ws.detail(4).await),
        ["whatsapp +77081234567", "whatsapp +77751234567"],
        "a new second phone alone updates"
    );
    assert_eq!(ws.count().await, 4);
    let again = ws.import(&more, &opts("L")).await.unwrap();
    assert_eq!(
        (
            again.imported,
            again.updated,
            again.unchanged,
            again.rejected
        ),
        (0, 0, 4, 1),
        "{again:?}"
    );
    // Addresses of two subscribers on one row, first and further or both further.
    let conflict = ws.file(
        "conflict.csv",
        b"phone,phone_2,phone_3\n+77011234567,+77081234567,\n+77009998877,+77051234567,+77021234567\n",
    );
    let s = ws.import(&conflict, &opts("L")).await.unwrap();
    assert_eq!(
        s.rejected_by_reason
            .get("identities belong to different subscribers"),
        Some(&2),
        "{s:?}"
    );
    assert_eq!(ws.count().await, 4);

    // The export writes a column for each further phone anyone has, and another workspace
    // reads them back as they were.
    let export = |store: Store, format: Format| async move {
        let mut out = Vec::new();
        subscribers(&store, None, format, &mut out).await.unwrap();
        String::from_utf8(out).unwrap()
    };
    let a = export(ws.store.clone(), Format::Csv).await;
    let mut lines = a.lines();
    assert!(
        lines.next().unwrap().starts_with(
            "subscriber_id,name,phone,phone_2,phone_3,telegram_chat_id,instagram_id,locale,"
        ),
        "{a}"
    );
    assert!(
        lines
            .next()
            .unwrap()
            .starts_with("1,Aigerim K,+77011234567,+77021234567,+77761234567,111,,,"),
        "{a}"
    );
    assert!(
        lines
            .next()
            .unwrap()
            .starts_with("2,Бек,+77051234567,+77771234567,,,,,,"),
        "{a}"
    );
    let other = workspace().await;
    let moved = other.file("a.csv", a.as_bytes());
    let s = other.import(&moved, &opts("L")).await.unwrap();
    assert_eq!((s.imported, s.rejected), (4, 0), "{s:?}");
    // Numbered by the file's lines there: all but the ids is the same.
    let without_ids = |csv: &str| {
        csv.lines()
            .map(|l| l.split_once(',').unwrap().1.to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        without_ids(&export(other.store.clone(), Format::Csv).await),
        without_ids(&a)
    );
    let jsonl = export(ws.store.clone(), Format::Jsonl).await;
    let first: serde_json::Value = serde_json::from_str(jsonl.lines().next().unwrap()).unwrap();
    assert_eq!(
        first["more_identities"],
        serde_json::json!({"whatsapp": ["+77021234567", "+77761234567"], "telegram": [], "instagram": []}),
        "{first}"
    );
    assert_eq!(first["identities"]["whatsapp"], "+77011234567", "{first}");
    // With service consent exported too.
    let svc = ws.file(
        "svc.csv",
        b"phone,service_consent_whatsapp\n+77011234567,yes\n",
    );
    ws.import(&svc, &opts("L")).await.unwrap();
    let b = export(ws.store.clone(), Format::Csv).await;
    let head = b.lines().next().unwrap();
    assert!(
        head.contains(",phone,phone_2,phone_3,telegram_chat_id,")
            && head.contains(",service_consent_whatsapp,"),
        "{head}"
    );
    assert!(
        b.lines()
            .nth(1)
            .unwrap()
            .starts_with("1,Aigerim K,+77011234567,+77021234567,+77761234567,111,"),
        "{b}"
    );
    // Several phones in one cell, as a CRM writes them: each is read; a bad one rejects the
    // row, as in a column of its own; mobiles first.
    let cells = workspace().await;
    let f = cells.file(
        "cells.csv",
        "Телефон;Имя\n\"+7 727 250 00 01, 8 702 123 45 67\n+77051112233\";Cell\n+77061112233,x;Bad\n"
            .as_bytes(),
    );
    let s = cells.import(&f, &opts("L")).await.unwrap();
    assert_eq!((s.imported, s.rejected), (1, 1), "{s:?}");
    assert!(s.first_rejected[0].reason.contains("`x`"), "{s:?}");
    // The landline (Almaty's 727) after the mobiles: a campaign sends to the first.
    assert_eq!(
        addresses(cells.detail(1).await),
        [
            "whatsapp +77021234567",
            "whatsapp +77051112233",
            "whatsapp +77272500001"
        ]
    );
    // With one address a channel, the export is as it was: no numbered columns.
    let single = workspace().await;
    let one = single.file("one.csv", b"phone,telegram_chat_id\n+77011234567,5\n");
    single.import(&one, &opts("L")).await.unwrap();
    let head = export(single.store.clone(), Format::Csv).await;
    assert!(
        head.starts_with("subscriber_id,name,phone,telegram_chat_id,instagram_id,locale,"),
        "{head}"
    );
}

/// A `no` in a file is a refusal even for someone with nothing on record: it is recorded
/// (once), so a consent later declared for a whole file does not override it.
#[tokio::test]
async fn a_refusal_in_a_file_is_recorded_and_kept() {
    let ws = workspace().await;
    let first = ws.file(
        "a.csv",
        b"phone,name,consent\n+77011234567,Aida,no\n+77021234567,Bolat,\n",
    );
    let s = ws.import(&first, &opts("L")).await.unwrap();
    assert_eq!(s.imported, 2, "{s:?}");
    let aida = ws.detail(1).await;
    assert_eq!(aida.consents.len(), 1, "{:?}", aida.consents);
    assert_eq!(aida.consents[0].status, ConsentStatus::Withdrawn);
    assert_eq!(
        aida.consents[0].recorded_at, None,
        "undated: recorded when given"
    );
    assert!(ws.detail(2).await.consents.is_empty(), "no value: no event");
    // Bolat, known with nothing on record, says no in another file: recorded once.
    let second = ws.file("b.csv", b"phone,consent\n+77021234567,no\n");
    let s = ws.import(&second, &opts("L")).await.unwrap();
    assert_eq!((s.updated, s.unchanged), (1, 0), "{s:?}");
    let s = ws.import(&second, &opts("L")).await.unwrap();
    assert_eq!((s.updated, s.unchanged), (0, 1), "{s:?}");
    assert_eq!(ws.detail(2).await.consents.len(), 1);
    assert_eq!(ws.import(&first, &opts("L")).await.unwrap().unchanged, 2);
    // A file declared as consented lists both: neither refusal is overridden.
    let mut declared = opts("L");
    declared.consent_source = Some("signup forms 2026".into());
    let f = ws.file("declared.csv", b"phone\n+77011234567\n+77021234567\n");
    let s = ws.import(&f, &declared).await.unwrap();
    assert_eq!(s.withdrawn_kept, 2, "{s:?}");
    assert_eq!(ws.sendable(Channel::WhatsApp).await, 0);
}

#[tokio::test]
async fn files_that_must_change_nothing() {
    let ws = workspace().await;
    ws.import(
        &ws.file("ok.csv", b"phone,name\n+77011234567,A\n"),
        &opts("L"),
    )
    .await
    .unwrap();
    let db = ws.dir.path().join("clever.db");
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty.csv", Vec::new(), "empty"),
        (
            "binary.xlsx",
            b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00".to_vec(),
            "binary",
        ),
        (
            "noid.csv",
            b"name,city\nA,B\n".to_vec(),
            "no column identifies",
        ),
        (
            "cut.csv",
            b"phone,name\n+77021234567,B\n+77051112233,\"Cut off".to_vec(),
            "cut off",
        ),
        ("header.csv", b"phone,name\r\n".to_vec(), "no rows"),
        (
            "cut2.csv",
            b"phone,name,city\n+77021234567,B,X\n+77051112233,C".to_vec(),
            "cut off",
        ),
    ];
    for (name, bytes, expect) in cases {
        let before = ws.count().await;
        let err = ws
            .import(&ws.file(name, &bytes), &opts("L"))
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains(expect), "{name}: {err}");
        assert!(err.contains("nothing was imported"), "{name}: {err}");
        assert_eq!(ws.count().await, before, "{name} changed the database");
    }
    // A header with no rows creates no list either.
    let err = ws
        .import(&ws.file("header.csv", b"phone,name\n"), &opts("New"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("no rows"), "{err}");
    let mut conn = ws.store.read().await.unwrap();
    assert_eq!(
        cleverplatform::store::lists::id_by_name(&mut conn, "New")
            .await
            .unwrap(),
        None
    );
    drop(conn);
    // A Windows-1251 file read as UTF-8 because the operator said so: the header says which
    // option to change, rather than listing mangled column names.
    let mut o = opts("L");
    o.encoding = cleverplatform::import::detect::Encoding::Utf8;
    let err = ws
        .import(
            &ws.file("1251.csv", &cp1251("Телефон;Имя\n87011234567;А\n")),
            &o,
        )
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("the header line is not valid utf-8: try --encoding auto"),
        "{err}"
    );
    assert!(db.exists());
}

#[tokio::test]
async fn an_endless_line_fails_with_bounded_memory() {
    let ws = workspace().await;
    let path = ws.dir.path().join("huge.csv");
    {
        use std::io::Write;
        let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
        f.write_all(b"phone,name\n+77011234567,").unwrap();
        let block = vec![b'x'; 1 << 20];
        for _ in 0..200 {
            f.write_all(&block).unwrap();
        }
    }
    let err = ws.import(&path, &opts("L")).await.unwrap_err().to_string();
    assert!(err.contains("line 2 is longer than 1024 KiB"), "{err}");
    assert_eq!(ws.count().await, 0);
}

/// Wide rows (a CRM export with long notes) are written in chunks of at most
/// `CHUNK_BYTES` of the file, not `CHUNK` rows, so that the chunks held in memory at once
/// stay small whatever a row's width (BENCHMARKS.md has the peak memory).
#[tokio::test]
async fn wide_rows_are_written_in_smaller_chunks() {
    use cleverplatform::import::{CHUNK, CHUNK_BYTES};
    let ws = workspace().await;
    let note = "я".repeat(2000);
    let rows = 1200;
    let mut text = String::from("phone,name,note\n");
    for i in 0..rows {
        text.push_str(&format!("+7705{i:07},Name {i},{note}\n"));
    }
    assert!(rows < CHUNK && text.len() > 2 * CHUNK_BYTES);
    let f = ws.file("wide.csv", text.as_bytes());
    let mut chunks = Vec::new();
    let s = import_file(&ws.store, &f, &opts("L"), |p| chunks.push(p.rows))
        .await
        .unwrap();
    assert_eq!((s.imported, s.rejected), (rows as u64, 0), "{s:?}");
    assert!(chunks.len() >= 3, "{chunks:?}");
    assert_eq!(chunks.last(), Some(&(rows as u64)));
    assert_eq!(
        ws.detail(rows as i64).await.attributes["note"],
        note.as_str()
    );
}

/// A quote never closed would make the rest of the file one field, held whole in memory:
/// the import stops once that row is past 1 MiB, names the line it starts on, and imports
/// nothing. A quote inside a field that is not quoted is text, however long the file.
#[tokio::test]
async fn a_quote_never_closed_fails_with_bounded_memory() {
    let ws = workspace().await;
    let mut text = String::from("phone;name;note\n+77011234567;Aida;5\" screen\n");
    text.push_str("+77021234567;\"Bolat;the quote is not closed\n");
    for i in 0..40_000 {
        text.push_str(&format!("+7705{i:07};Name {i};ok\n"));
    }
    let f = ws.file("stray.csv", text.as_bytes());
    let err = ws.import(&f, &opts("L")).await.unwrap_err().to_string();
    assert!(
        err.contains("the row that starts on line 3 runs on past 1024 KiB")
            && err.contains("not closed")
            && err.ends_with("nothing was imported"),
        "{err}"
    );
    assert_eq!(ws.count().await, 0);
    let f = ws.file("mended.csv", text.replace("\"Bolat", "Bolat").as_bytes());
    let s = ws.import(&f, &opts("L")).await.unwrap();
    assert_eq!((s.imported, s.rejected), (40_002, 0), "{s:?}");
    let aida = ws.detail(1).await;
    assert_eq!(aida.attributes["note"], "5\" screen");
}

/// A rejects file named like the file being imported (however the path is spelt) would
/// replace it once the import ends: refused before anything is read, the file untouched.
/// So is one named like a SQLite database.
#[tokio::test]
async fn the_rejects_file_never_replaces_the_file_imported() {
    let ws = workspace().await;
    let text = b"phone,name\n+77011234567,A\n123,B\n";
    let f = ws.file("crm.csv", text);
    for rejects in [f.clone(), ws.dir.path().join(".").join("crm.csv")] {
        let o = ImportOptions {
            rejects: Some(rejects.clone()),
            ..opts("L")
        };
        let err = ws.import(&f, &o).await.unwrap_err().to_string();
        assert!(
            err.contains("it is the file being imported") && err.contains("crm.rejects.csv"),
            "{err}"
        );
        assert_eq!(std::fs::read(&f).unwrap(), text);
        assert_eq!(ws.count().await, 0);
    }
    // Nor the workspace's database, mistyped for it.
    let o = ImportOptions {
        rejects: Some(ws.dir.path().join("clever.db")),
        ..opts("L")
    };
    let err = ws.import(&f, &o).await.unwrap_err().to_string();
    assert!(err.contains("clever.db is a SQLite database"), "{err}");
    assert_eq!(ws.count().await, 0);
    let o = ImportOptions {
        rejects: Some(cleverplatform::import::rejects_beside(&f)),
        ..opts("L")
    };
    let s = ws.import(&f, &o).await.unwrap();
    assert_eq!((s.imported, s.rejected), (1, 1), "{s:?}");
    assert_eq!(std::fs::read(&f).unwrap(), text);
}

#[tokio::test]
async fn dry_run_changes_nothing() {
    let ws = workspace().await;
    let f = ws.file("a.csv", b"phone,name\n+77011234567,A\n");
    let mut o = opts("L");
    o.dry_run = true;
    let s = ws.import(&f, &o).await.unwrap();
    assert_eq!((s.imported, s.dry_run), (1, true));
    assert_eq!(ws.count().await, 0);
    assert!(ws.store.lists().await.unwrap().is_empty());
}

/// The set-based count agrees with the one consent helper on a varied population: for
/// everyone and for a list, with subscribers who have a second phone (sendable while either
/// phone is not suppressed).
#[tokio::test]
async fn sendable_counts_agree_with_the_consent_helper() {
    let ws = workspace().await;
    let import = async |name: &str, rows: &str, list: &str| {
        let text = format!("phone,phone_2,telegram_chat_id,consent\n{rows}");
        ws.import(&ws.file(name, text.as_bytes()), &opts(list))
            .await
            .unwrap();
    };
    let mut rows = String::new();
    for i in 0..300u32 {
        let phone = if i % 5 != 0 {
            format!("+7701{:07}", i)
        } else {
            String::new()
        };
        let second = if i % 4 == 1 {
            format!("+7702{:07}", i)
        } else {
            String::new()
        };
        let tg = if i % 3 == 0 {
            format!("{}", 1000 + i)
        } else {
            String::new()
        };
        let consent = ["yes", "no", ""][(i % 7 % 3) as usize];
        if phone.is_empty() && tg.is_empty() {
            continue;
        }
        rows.push_str(&format!("{phone},{second},{tg},{consent}\n"));
    }
    import("pop.csv", &rows, "L").await;
    // Withdraw some, suppress some.
    let again: String = rows
        .lines()
        .step_by(4)
        .map(|l| {
            let mut f: Vec<&str> = l.split(',').collect();
            f[3] = "no";
            f.join(",") + "\n"
        })
        .collect();
    import("again.csv", &again, "L").await;
    // A second list with every third row of the file.
    let some: String = rows
        .lines()
        .step_by(3)
        .map(|l| l.to_string() + "\n")
        .collect();
    import("some.csv", &some, "M").await;
    // First phones, some of them of subscribers with a second (i % 4 == 1), and second
    // phones: some subscribers keep one phone, some lose both. Telegram is counted from its
    // identities (fewer than the subscribers), WhatsApp from the subscribers: a suppression
    // is honoured both ways.
    let suppressed = (1..300)
        .step_by(11)
        .map(|i| (Channel::WhatsApp, format!("+7701{i:07}")))
        .chain(
            (1..300)
                .step_by(8)
                .map(|i| (Channel::WhatsApp, format!("+7702{i:07}"))),
        )
        .chain(
            (0..300)
                .step_by(9)
                .map(|i| (Channel::Telegram, format!("{}", 1000 + i))),
        );
    let mut tx = ws.store.begin().await.unwrap();
    for (channel, address) in suppressed {
        cleverplatform::store::subscribers::suppress(&mut tx, channel, &address, "x", "t")
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();

    let lists = ws.store.lists().await.unwrap();
    let m = lists.iter().find(|l| l.name == "M").unwrap().id;
    let total = ws.count().await;
    let mut expected = [
        std::collections::BTreeMap::new(),
        std::collections::BTreeMap::new(),
    ];
    let mut both_ways = [0, 0];
    for id in 1..=total {
        let d = ws
            .store
            .subscriber_detail(cleverplatform::domain::SubscriberId(id))
            .await
            .unwrap()
            .unwrap();
        let ids: Vec<(Channel, String)> = d
            .identities
            .iter()
            .map(|i| (i.channel, i.address.clone()))
            .collect();
        let facts: Vec<ConsentFact> = d
            .consents
            .iter()
            .map(|c| ConsentFact {
                seq: c.id,
                channel: c.channel,
                scope: c.scope,
                status: c.status,
            })
            .collect();
        let suppressed: Vec<(Channel, String)> = d
            .identities
            .iter()
            .filter(|i| i.suppressed.is_some())
            .map(|i| (i.channel, i.address.clone()))
            .collect();
        let phones = ids.iter().filter(|(c, _)| *c == Channel::WhatsApp).count();
        let lost = suppressed
            .iter()
            .filter(|(c, _)| *c == Channel::WhatsApp)
            .count();
        if phones == 2 {
            both_ways[usize::from(lost == 2)] += usize::from(lost > 0);
        }
        for ch in Channel::ALL {
            if sendable(ch, ConsentScope::Marketing, &ids, &facts, |c, a| {
                suppressed.iter().any(|(sc, sa)| *sc == c && sa == a)
            })
            .is_ok()
            {
                *expected[0].entry(ch).or_insert(0i64) += 1;
                if d.lists.iter().any(|l| l == "M") {
                    *expected[1].entry(ch).or_insert(0i64) += 1;
                }
            }
        }
    }
    assert!(
        both_ways[0] > 0 && both_ways[1] > 0,
        "some subscribers lose one of two phones, some both: {both_ways:?}"
    );
    for (expected, list) in expected.iter().zip([None, Some(m)]) {
        let counts = ws
            .store
            .sendable_counts(list, ConsentScope::Marketing)
            .await
            .unwrap();
        for (ch, n) in counts {
            assert_eq!(
                n,
                expected.get(&ch).copied().unwrap_or(0),
                "{ch} in {list:?}"
            );
        }
        assert!(expected.values().sum::<i64>() > 0);
    }
    assert!(expected[1][&Channel::WhatsApp] < expected[0][&Channel::WhatsApp]);
}

#[tokio::test]
async fn the_demo_sample_file_reports_editor_line_numbers() {
    let ws = workspace().await;
    let path = ws.file("import-sample.csv", cleverplatform::demo::IMPORT_SAMPLE);
    let mut o = opts("Sample");
    o.rejects = Some(ws.dir.path().join("rej.csv"));
    let s = ws.import(&path, &o).await.unwrap();
    assert_eq!(
        (s.encoding.as_str(), s.delimiter.as_str()),
        ("windows-1251", ";")
    );
    assert_eq!((s.rows, s.imported, s.rejected), (12, 7, 5));
    let rej = std::fs::read_to_string(ws.dir.path().join("rej.csv")).unwrap();
    // CRLF endings and a quoted field over two lines: the duplicate is on line 9 of the file.
    assert!(
        rej.contains("\n9,duplicate within file (first at line 2)"),
        "{rej}"
    );
    assert!(rej.contains("\n10,invalid phone"), "{rej}");
    let d = ws
        .store
        .subscriber_detail(cleverplatform::domain::SubscriberId(6))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(d.attributes["город"], "Алматы, мкр. Самал-2\r\nкв. 14");
}

#[tokio::test]
async fn duplicates_far_apart_are_caught_across_chunks() {
    use cleverplatform::import::CHUNK;
    let ws = workspace().await;
    let mut text = String::from("phone,telegram_chat_id,name,phone_2\n");
    for i in 0..(CHUNK as u32 + 100) {
        text.push_str(&format!("+7701{i:07},,N{i},\n"));
    }
    // Same phone as line 2, far later; a new chat id for the subscriber of line 3; a new
    // phone with line 4's as its second.
    text.push_str(
        "8 701 000 00 00,,Again,\n+77010000001,555,Again too,\n+77470000000,,And,+77010000002\n",
    );
    let big = ws.file("big.csv", text.as_bytes());
    // Made by this import (first) and known before it (again): the same two duplicates.
    for (pass, rej) in ["first.csv", "again.csv"].iter().enumerate() {
        let rej = ws.dir.path().join(rej);
        let mut o = opts("L");
        o.rejects = Some(rej.clone());
        let s = ws.import(&big, &o).await.unwrap();
        assert_eq!(s.rejected, 3, "{:?}", s.rejected_by_reason);
        assert_eq!(s.rejected_by_reason.get("duplicate within file"), Some(&3));
        let made = if pass == 0 { CHUNK as u64 + 100 } else { 0 };
        assert_eq!(s.imported, made);
        let text = std::fs::read_to_string(rej).unwrap();
        assert!(
            text.contains(&format!(
                "\n{},duplicate within file (first at line 2)",
                CHUNK + 102
            )) && text.contains(&format!(
                "\n{},duplicate within file (first at line 3)",
                CHUNK + 103
            )) && text.contains(&format!(
                "\n{},duplicate within file (first at line 4)",
                CHUNK + 104
            )),
            "{text}"
        );
    }
}

/// The ids a search finds, page by page from the first (`forward`) or from the last, in id
/// order either way.
async fn walk(
    store: &cleverplatform::store::Store,
    f: &SubscriberFilter,
    limit: u32,
    forward: bool,
) -> Vec<i64> {
    use cleverplatform::store::{Anchor, PageRequest};
    let mut ids = Vec::new();
    let mut anchor = if forward { Anchor::First } else { Anchor::Last };
    loop {
        let page = store
            .subscriber_page(f, PageRequest { anchor, limit })
            .await
            .unwrap();
        let (Some(first), Some(last)) = (page.first(), page.last()) else {
            return ids;
        };
        if forward {
            anchor = Anchor::After(last.id.0);
            ids.extend(page.iter().map(|r| r.id.0));
        } else {
            anchor = Anchor::Before(first.id.0);
            ids.splice(0..0, page.iter().map(|r| r.id.0));
        }
    }
}

/// A search over everyone is served from the indexes page by page; paging forward and
/// backward with small pages finds every match once, in id order.
#[tokio::test]
async fn search_pages_walk_every_match_once() {
    use cleverplatform::store::{Anchor, PageRequest};
    let ws = workspace().await;
    let mut text = String::from("phone,telegram_chat_id,name\n");
    for i in 0..500u32 {
        let name = if i % 3 == 0 {
            format!("Ахметов {i}")
        } else {
            format!("Other {i}")
        };
        // Chat ids starting with 7707 also match the digits of the search.
        let tg = if i % 7 == 0 {
            format!("7707{i:03}")
        } else {
            String::new()
        };
        text.push_str(&format!("+7701{i:07},{tg},{name}\n"));
    }
    ws.import(&ws.file("s.csv", text.as_bytes()), &opts("L"))
        .await
        .unwrap();
    let f = SubscriberFilter {
        search: Some("ахметов".into()),
        list: None,
    };
    let expected = 167;
    assert_eq!(ws.store.count_subscribers(&f).await.unwrap(), expected);
    let f = SubscriberFilter {
        search: Some("7707".into()),
        list: None,
    };
    let seen = walk(&ws.store, &f, 7, true).await;
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(seen, sorted, "in order, each once");
    assert_eq!(
        seen.len(),
        72,
        "every subscriber with a chat id starting 7707"
    );
    let back = ws
        .store
        .subscriber_page(
            &f,
            PageRequest {
                anchor: Anchor::Last,
                limit: 5,
            },
        )
        .await
        .unwrap();
    let ids: Vec<i64> = back.iter().map(|r| r.id.0).collect();
    assert_eq!(ids, seen[seen.len() - 5..].to_vec());
}

/// A short phone prefix shared by many is paged right whether its matches are spread
/// through everyone or bunched at one end (the two ways the search reads them).
#[tokio::test]
async fn dense_prefixes_page_right_spread_or_bunched() {
    use cleverplatform::store::{Anchor, PageRequest};
    let ws = workspace().await;
    let mut text = String::from("phone,name\n");
    for i in 0..600u32 {
        // Every third of the first 300 on +7705, and the last 200 all on +7777.
        let prefix = match i {
            400.. => "7777",
            _ if i.is_multiple_of(3) && i < 300 => "7705",
            _ => "7701",
        };
        text.push_str(&format!("+7{prefix}{i:07},N{i}\n"));
    }
    ws.import(&ws.file("s.csv", text.as_bytes()), &opts("L"))
        .await
        .unwrap();
    let everyone = ws
        .store
        .subscriber_page(
            &SubscriberFilter::default(),
            PageRequest {
                anchor: Anchor::First,
                limit: 1000,
            },
        )
        .await
        .unwrap();
    for (query, wanted) in [
        (
            "+7777",
            Box::new(|i: u32| i >= 400) as Box<dyn Fn(u32) -> bool>,
        ),
        ("+7705", Box::new(|i: u32| i < 300 && i.is_multiple_of(3))),
    ] {
        let expected: Vec<i64> = everyone
            .iter()
            .filter(|r| wanted(r.name[1..].parse().unwrap()))
            .map(|r| r.id.0)
            .collect();
        let f = SubscriberFilter {
            search: Some(query.into()),
            list: None,
        };
        let forward = walk(&ws.store, &f, 6, true).await;
        assert_eq!(forward, expected, "{query} forward");
        let backward = walk(&ws.store, &f, 6, false).await;
        assert_eq!(backward, expected, "{query} backward");
    }
}

/// Whatever connection of the pool an import gets, it works: one whose temporary database
/// earlier work opened (a temporary table, a large sort) too.
#[tokio::test]
async fn an_import_works_on_every_connection_of_the_pool() {
    let ws = workspace().await;
    let mut held = Vec::new();
    for _ in 0..4 {
        let mut c = ws.store.read().await.unwrap();
        sqlx::query("CREATE TEMP TABLE IF NOT EXISTS earlier (x)")
            .execute(&mut *c)
            .await
            .unwrap();
        held.push(c);
    }
    drop(held);
    for k in 0..4 {
        let path = ws.file(
            &format!("s{k}.csv"),
            format!("phone,name\n+7701000000{k},Клиент {k}\n").as_bytes(),
        );
        let s = ws.import(&path, &opts("L")).await.unwrap();
        assert_eq!(s.imported, 1, "{s:?}");
    }
}
