//! The `clever` binary from the outside: help, version, completions, man page, and clear
//! errors for bad configuration, bad data folders and databases it must not touch.

use assert_cmd::Command;
use predicates::prelude::*;
use std::path::Path;

fn clever(home: &Path) -> Command {
    let mut cmd = Command::cargo_bin("clever").unwrap();
    cmd.env_clear()
        .env("HOME", home)
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("LANG", "C.UTF-8");
    cmd
}

/// Runs a command that must succeed and reads its standard output as one JSON document.
fn stdout_json(mut cmd: Command) -> serde_json::Value {
    serde_json::from_slice(&cmd.assert().success().get_output().stdout).unwrap()
}

/// Seeds the demo workspace under `home` (the console is not opened: no terminal) and
/// returns its folder, for commands pointed at it with `--data-dir`.
fn seeded_demo(home: &Path) -> std::path::PathBuf {
    let data = home.join("d");
    clever(home)
        .arg("--data-dir")
        .arg(&data)
        .arg("demo")
        .assert()
        .code(1);
    data.join("demo")
}

#[test]
fn help_lists_only_working_commands() {
    let home = tempfile::tempdir().unwrap();
    let out = clever(home.path()).arg("--help").assert().success();
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    for cmd in [
        "demo",
        "subscribers",
        "lists",
        "accounts",
        "sandbox",
        "run",
        "campaigns",
        "license",
        "check",
        "risk-lists",
        "--machine-id-file",
        "completions",
        "manpage",
        "--data-dir",
        "--config",
        "--database-url",
        "--theme",
    ] {
        assert!(text.contains(cmd), "help lacks {cmd}:\n{text}");
    }
}

#[test]
fn version_is_the_package_version() {
    let home = tempfile::tempdir().unwrap();
    clever(home.path())
        .arg("--version")
        .assert()
        .success()
        .stdout(predicate::str::contains(env!("CARGO_PKG_VERSION")));
}

#[test]
fn completions_and_man_page_come_from_the_definitions() {
    let home = tempfile::tempdir().unwrap();
    for (shell, marker) in [
        ("bash", "_clever()"),
        ("zsh", "#compdef clever"),
        ("fish", "complete -c clever"),
    ] {
        clever(home.path())
            .args(["completions", shell])
            .assert()
            .success()
            .stdout(predicate::str::contains(marker).and(predicate::str::contains("demo")));
    }
    clever(home.path())
        .arg("manpage")
        .assert()
        .success()
        .stdout(predicate::str::contains(".TH clever").and(predicate::str::contains("data\\-dir")));
    clever(home.path())
        .args(["completions", "powershell"])
        .assert()
        .code(2);
}

#[test]
fn config_mistake_names_file_line_and_key() {
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join("clever.toml");
    std::fs::write(
        &config,
        "[ui]\ntheme = \"mono\"\n\n[log]\nkeep_files = \"lots\"\n",
    )
    .unwrap();
    clever(home.path())
        .arg("--config")
        .arg(&config)
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains(format!("{}:5:", config.display()))
                .and(predicate::str::contains("log.keep_files")),
        );
    let keys = home.path().join("keys.toml");
    std::fs::write(&keys, "[keys.normal]\nquit = [\"Hyper-q\"]\n").unwrap();
    clever(home.path())
        .arg("--config")
        .arg(&keys)
        .arg("--data-dir")
        .arg(home.path().join("data"))
        .assert()
        .code(1)
        .stderr(predicate::str::contains(":2:").and(predicate::str::contains("keys.normal.quit")));
}

#[test]
fn first_run_writes_a_commented_default_config() {
    let home = tempfile::tempdir().unwrap();
    // No terminal here, so the console stops after setting up, with a clear message.
    clever(home.path())
        .assert()
        .code(1)
        .stderr(predicate::str::contains("needs a terminal"));
    let config = home.path().join(".config/cleverplatform/config.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(text.starts_with("# CleverPlatform console configuration"));
    assert!(
        home.path()
            .join(".local/share/cleverplatform/clever.db")
            .exists()
    );
    assert!(
        home.path()
            .join(".local/share/cleverplatform/logs")
            .is_dir()
    );
}

#[test]
fn environment_and_flags_override_in_order() {
    let home = tempfile::tempdir().unwrap();
    let from_env = home.path().join("env-data");
    let from_flag = home.path().join("flag-data");
    clever(home.path())
        .env("CLEVER_DATA_DIR", &from_env)
        .assert()
        .code(1);
    assert!(from_env.join("clever.db").exists());
    clever(home.path())
        .env("CLEVER_DATA_DIR", &from_env)
        .arg("--data-dir")
        .arg(&from_flag)
        .assert()
        .code(1);
    assert!(from_flag.join("clever.db").exists());
}

#[test]
fn unwritable_data_dir_says_what_to_do() {
    let home = tempfile::tempdir().unwrap();
    let file = home.path().join("not-a-folder");
    std::fs::write(&file, "x").unwrap();
    clever(home.path())
        .arg("--data-dir")
        .arg(file.join("data"))
        .assert()
        .code(1)
        .stderr(predicate::str::contains("--data-dir"));
}

#[test]
fn read_only_config_folder_is_not_fatal() {
    let home = tempfile::tempdir().unwrap();
    // A config path whose folder cannot be created: the default cannot be written.
    let blocker = home.path().join("blocker");
    std::fs::write(&blocker, "x").unwrap();
    clever(home.path())
        .arg("--config")
        .arg(blocker.join("config.toml"))
        .arg("--data-dir")
        .arg(home.path().join("data"))
        .assert()
        .code(1)
        .stderr(predicate::str::contains("needs a terminal"));
}

#[test]
fn damaged_database_is_left_alone() {
    let home = tempfile::tempdir().unwrap();
    let data = home.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(data.join("clever.db"), "not a database").unwrap();
    clever(home.path())
        .arg("--data-dir")
        .arg(&data)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("not a CleverPlatform database"));
    assert_eq!(
        std::fs::read_to_string(data.join("clever.db")).unwrap(),
        "not a database"
    );
}

#[test]
fn database_url_must_be_sqlite() {
    let home = tempfile::tempdir().unwrap();
    clever(home.path())
        .args(["--database-url", "mysql://db/clever"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("sqlite:///"));
}

#[tokio::test]
async fn demo_is_seeded_once_and_reset_on_request() {
    use sqlx::Connection;
    let home = tempfile::tempdir().unwrap();
    let data = home.path().join("data");
    let db = data.join("demo/clever.db");
    let count = |db: std::path::PathBuf| async move {
        let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}", db.display()))
            .await
            .unwrap();
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM subscribers")
            .fetch_one(&mut c)
            .await
            .unwrap();
        c.close().await.unwrap();
        n
    };
    let run = |reset: bool| {
        let mut cmd = clever(home.path());
        cmd.arg("--data-dir").arg(&data).arg("demo");
        if reset {
            cmd.arg("--reset");
        }
        // No terminal here: the workspace is prepared, then the console declines to open.
        cmd.assert()
            .code(1)
            .stderr(predicate::str::contains("needs a terminal"));
    };
    run(false);
    assert_eq!(count(db.clone()).await, 5000);
    let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}", db.display()))
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO subscribers (name, created_at, updated_at) VALUES ('Extra', 't', 't')",
    )
    .execute(&mut c)
    .await
    .unwrap();
    c.close().await.unwrap();
    run(false);
    assert_eq!(count(db.clone()).await, 5001, "an existing demo is reused");
    run(true);
    assert_eq!(count(db.clone()).await, 5000, "--reset seeds afresh");
    assert!(
        !data.join("clever.db").exists(),
        "the demo never touches the real workspace"
    );
}

/// What `subscribers export` writes, `subscribers import` reads back as it was: consent per
/// channel with when, from where and with what proof it was given, addresses and attributes,
/// into another workspace or the same one.
#[test]
fn an_export_imports_into_another_workspace_as_it_was() {
    let home = tempfile::tempdir().unwrap();
    let csv = home.path().join("crm.csv");
    std::fs::write(
        &csv,
        "phone;telegram_chat_id;consent_whatsapp;consent_telegram;consent_at;city\n\
         8 701 123 45 67;111;да;;15.01.2026;Алматы\n\
         8 702 123 45 67;222;;yes;2026-02-01 09:30;Астана\n\
         8 705 123 45 67;;;;;\n",
    )
    .unwrap();
    let run = |data: &str, args: &[&str]| {
        let mut c = clever(home.path());
        c.arg("--data-dir").arg(home.path().join(data)).args(args);
        c
    };
    let import = |data: &str, file: &Path| {
        run(
            data,
            &[
                "subscribers",
                "import",
                file.to_str().unwrap(),
                "--list",
                "L",
                "--json",
            ],
        )
        .assert()
        .success()
        .get_output()
        .stdout
        .clone()
    };
    let export = |data: &str| {
        let out = run(data, &["subscribers", "export", "--list", "L"])
            .assert()
            .success()
            .get_output()
            .stdout
            .clone();
        String::from_utf8(out).unwrap()
    };
    let consents = |data: &str, who: &str| {
        stdout_json(run(data, &["subscribers", "show", who, "--json"]))["consents"].clone()
    };
    import("a", &csv);
    // A withdrawal on the telegram of the first, by phone, with its date and proof.
    run(
        "a",
        &[
            "subscribers",
            "consent",
            "111",
            "--channel",
            "telegram",
            "--withdraw",
            "--source",
            "phone call",
            "--proof",
            "call 2026-03-02 #88",
            "--at",
            "2026-03-02 14:05",
        ],
    )
    .assert()
    .success();
    let a = export("a");
    assert_eq!(
        a.lines().collect::<Vec<_>>(),
        [
            "subscriber_id,name,phone,telegram_chat_id,instagram_id,locale,timezone,\
             consent_whatsapp,consent_whatsapp_at,consent_whatsapp_source,consent_whatsapp_proof,\
             consent_telegram,consent_telegram_at,consent_telegram_source,consent_telegram_proof,\
             consent_instagram,consent_instagram_at,consent_instagram_source,consent_instagram_proof,\
             city",
            "1,,+77011234567,111,,,,granted,2026-01-15T00:00:00Z,import crm.csv,\
             \"crm.csv, line 2: consent on WhatsApp `да`\",withdrawn,2026-03-02T14:05:00Z,\
             phone call,call 2026-03-02 #88,,,,,Алматы",
            "2,,+77021234567,222,,,,,,,,granted,2026-02-01T09:30:00Z,import crm.csv,\
             \"crm.csv, line 3: consent on Telegram `yes`\",,,,,Астана",
            "3,,+77051234567,,,,,,,,,,,,,,,,,",
        ],
    );
    let exported = home.path().join("a.csv");
    std::fs::write(&exported, &a).unwrap();
    // Into another workspace: the same subscribers, attributes and consents, each with the
    // date, source and proof it was given with; when it was entered there is kept beside it.
    import("b", &exported);
    assert_eq!(export("b"), a);
    let moved = consents("b", "111");
    assert_eq!(moved.as_array().unwrap().len(), 2, "{moved}");
    let telegram = &moved[0];
    assert_eq!(telegram["status"], "withdrawn", "{moved}");
    assert_eq!(telegram["source"], "phone call", "{moved}");
    assert_eq!(telegram["proof"], "call 2026-03-02 #88", "{moved}");
    assert_eq!(telegram["at"], "2026-03-02T14:05:00Z", "{moved}");
    assert!(
        telegram["recorded_at"].as_str().unwrap() > "2026-11",
        "{moved}"
    );
    // For Excel: a BOM, semicolons and CRLF, read back the same.
    let excel = home.path().join("a-excel.csv");
    run(
        "a",
        &[
            "subscribers",
            "export",
            "--list",
            "L",
            "--format",
            "excel",
            "-o",
        ],
    )
    .arg(&excel)
    .assert()
    .success();
    let bytes = std::fs::read(&excel).unwrap();
    assert!(bytes.starts_with("\u{feff}subscriber_id;name;phone;".as_bytes()));
    assert!(String::from_utf8_lossy(&bytes).contains(";Алматы\r\n"));
    import("c", &excel);
    assert_eq!(export("c"), a);
    // Into the same one: nothing changes.
    let again: serde_json::Value = serde_json::from_slice(&import("a", &exported)).unwrap();
    assert_eq!(again["unchanged"], 3, "{again}");
    assert_eq!(export("a"), a);
    assert_eq!(consents("a", "111").as_array().unwrap().len(), 2);
    // The same in JSON lines.
    let jsonl = run(
        "a",
        &["subscribers", "export", "--list", "L", "--format", "jsonl"],
    )
    .assert()
    .success()
    .get_output()
    .stdout
    .clone();
    let first: serde_json::Value =
        serde_json::from_str(String::from_utf8(jsonl).unwrap().lines().next().unwrap()).unwrap();
    assert_eq!(
        first["marketing_consent_given"]["telegram"],
        serde_json::json!({
            "at": "2026-03-02T14:05:00Z", "source": "phone call", "proof": "call 2026-03-02 #88",
        }),
        "{first}"
    );
    assert_eq!(
        first["marketing_consent_given"]["instagram"],
        serde_json::Value::Null
    );
}

#[test]
fn subscribers_import_export_and_suppress_from_the_command_line() {
    let home = tempfile::tempdir().unwrap();
    let data = home.path().join("data");
    let csv = home.path().join("crm.csv");
    std::fs::write(
        &csv,
        "phone;name;consent;city\n8 701 123 45 67;Айгерим;да;Алматы\nbad;X;да;Y\n",
    )
    .unwrap();
    let run = |args: &[&str]| {
        let mut c = clever(home.path());
        c.arg("--data-dir").arg(&data).args(args);
        c
    };
    let out = run(&[
        "subscribers",
        "import",
        csv.to_str().unwrap(),
        "--list",
        "CRM",
        "--json",
    ])
    .assert()
    .success()
    .get_output()
    .stdout
    .clone();
    let summary: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(summary["imported"], 1);
    assert_eq!(summary["rejected"], 1);
    assert_eq!(summary["rejected_by_reason"]["invalid phone"], 1);
    assert_eq!(summary["first_rejected"][0]["line"], 3);
    assert_eq!(
        summary["first_rejected"][0]["reason"],
        "invalid phone (`bad` is not a phone number)"
    );
    assert_eq!(summary["list"], "CRM");
    // A list the import had to make is named as new, so a mistyped name shows at once.
    assert_eq!(summary["list_created"], true);
    run(&[
        "subscribers",
        "import",
        csv.to_str().unwrap(),
        "--list",
        "CRM",
    ])
    .assert()
    .success()
    .stdout(
        predicate::str::contains("unchanged            1")
            .and(predicate::str::contains("is a new list").not())
            // Without a rejects file the summary still says which rows and why.
            .and(predicate::str::contains(
                "  first rejected rows:\n    line 3: invalid phone (`bad` is not a phone number)\n    \
                 (--rejects FILE writes every rejected row",
            )),
    );
    run(&[
        "subscribers",
        "import",
        csv.to_str().unwrap(),
        "--list",
        "CRN",
        "--dry-run",
    ])
    .assert()
    .success()
    .stdout(predicate::str::contains(
        "`CRN` is a new list: the import would create it",
    ));
    run(&["subscribers", "export", "--list", "CRM"])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("+77011234567")
                .and(predicate::str::contains("granted"))
                .and(predicate::str::contains("Алматы")),
        );
    run(&[
        "subscribers",
        "export",
        "--list",
        "CRM",
        "--format",
        "jsonl",
    ])
    .assert()
    .success()
    .stdout(predicate::str::contains("\"whatsapp\":\"granted\""));
    run(&["subscribers", "list", "--search", "айгерим", "--json"])
        .assert()
        .success()
        .stdout(predicate::str::contains("\"total\": 1"));
    // The start of a phone too short to look up says so.
    run(&["subscribers", "list", "--search", "+7"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "0 of 0 shown\na phone is found from its first three digits on",
        ));
    run(&[
        "subscribers",
        "suppress",
        "+7 701 123 45 67",
        "--channel",
        "whatsapp",
        "--reason",
        "asked by phone",
    ])
    .assert()
    .success();
    // Twice says so, and keeps the first reason: nobody believes the second was recorded.
    run(&[
        "subscribers",
        "suppress",
        "87011234567",
        "--channel",
        "wa",
        "--reason",
        "second time",
    ])
    .assert()
    .success()
    .stdout(
        predicate::str::contains("+77011234567 on WhatsApp was suppressed already, since ").and(
            predicate::str::contains("(asked by phone); nothing changed"),
        ),
    );
    // An address is read as the import reads it, so a typed one matches an imported one.
    for (channel, address, why) in [
        (
            "telegram",
            "@aigerim",
            "invalid telegram chat id (`@aigerim` is not a number)",
        ),
        (
            "instagram",
            "aigerim.shop",
            "invalid instagram id (`aigerim.shop` is not",
        ),
    ] {
        run(&[
            "subscribers",
            "suppress",
            address,
            "--channel",
            channel,
            "--reason",
            "x",
        ])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(why));
    }
    // One subscriber, whole, by any form of their phone: the proof of consent and the
    // suppression, for a complaint or an auditor.
    run(&["subscribers", "show", "8 (701) 123-45-67"])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("Айгерим (#")
                .and(predicate::str::contains("SUPPRESSED: asked by phone"))
                .and(predicate::str::contains("granted WhatsApp marketing"))
                .and(predicate::str::contains("city             Алматы"))
                .and(predicate::str::contains("campaign messages (newest first")),
        );
    let shown = stdout_json(run(&["subscribers", "show", "+77011234567", "--json"]));
    assert_eq!(shown["identities"][0]["suppressed"], "asked by phone");
    assert_eq!(shown["consents"][0]["status"], "granted");
    assert_eq!(shown["messages"], serde_json::json!([]), "no campaign yet");
    assert!(
        shown["consents"][0]["proof"]
            .as_str()
            .unwrap()
            .contains("crm.csv"),
        "{shown}"
    );
    let id = shown["id"].as_i64().unwrap();
    run(&["subscribers", "show", &format!("#{id}")])
        .assert()
        .success()
        .stdout(predicate::str::contains("Айгерим"));
    // A consent given or taken back by phone is recorded by hand, with its source and, for a
    // grant, its proof; the same status twice records nothing.
    let consent = |channel: &str, given: &str, source: &str, proof: Option<&str>| {
        let mut args = vec![
            "subscribers",
            "consent",
            "+77011234567",
            "--channel",
            channel,
            given,
            "--source",
            source,
        ];
        if let Some(p) = proof {
            args.extend(["--proof", p]);
        }
        run(&args).assert()
    };
    consent("whatsapp", "--withdraw", "call to the shop", None)
        .success()
        .stdout(predicate::str::contains(
            "WhatsApp marketing consent withdrawn",
        ));
    consent("whatsapp", "--withdraw", "again", None)
        .success()
        .stdout(predicate::str::contains(
            "already withdrawn; nothing was recorded",
        ));
    consent("whatsapp", "--grant", "call to the shop", None)
        .code(1)
        .stderr(predicate::str::contains("only with proof"));
    consent("telegram", "--grant", "call", Some("ticket 7"))
        .code(1)
        .stderr(predicate::str::contains("has no Telegram address"));
    // Consent does not lift a suppression.
    consent(
        "whatsapp",
        "--grant",
        "paper form at the till",
        Some("form No. 123"),
    )
    .success()
    .stdout(predicate::str::contains(
        "is suppressed, so it is still not messaged",
    ));
    let shown = stdout_json(run(&["subscribers", "show", "+77011234567", "--json"]));
    let history: Vec<(&str, &str)> = shown["consents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["status"].as_str().unwrap(), c["proof"].as_str().unwrap()))
        .collect();
    assert_eq!(history.len(), 3, "{history:?}");
    assert_eq!(history[0], ("granted", "form No. 123"));
    assert_eq!(history[1].0, "withdrawn");
    let audit: Vec<(String, String)> = tokio::runtime::Runtime::new().unwrap().block_on(async {
        use sqlx::Connection;
        let db = data.join("clever.db");
        let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}", db.display()))
            .await
            .unwrap();
        sqlx::query_as(
            "SELECT action, coalesce(detail ->> 'proof', detail ->> 'reason') FROM audit_log \
             WHERE action LIKE 'consent.%' OR action LIKE 'suppression.%' ORDER BY id",
        )
        .fetch_all(&mut c)
        .await
        .unwrap()
    });
    assert_eq!(
        audit,
        [
            // Once: the second suppression changed nothing.
            ("suppression.add".to_string(), "asked by phone".to_string()),
            ("consent.withdraw".to_string(), String::new()),
            ("consent.grant".to_string(), "form No. 123".to_string())
        ]
    );
    run(&["subscribers", "show", "+77019999999"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("nobody has the address"));
    run(&["subscribers", "export", "--list", "Nope"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("no list named `Nope`"));
    run(&[
        "subscribers",
        "unsuppress",
        "+77011234567",
        "--channel",
        "whatsapp",
        "--reason",
        "re-subscribed in store",
    ])
    .assert()
    .success();
    run(&[
        "subscribers",
        "unsuppress",
        "+77011234567",
        "--channel",
        "whatsapp",
        "--reason",
        "again",
    ])
    .assert()
    .code(1)
    .stderr(predicate::str::contains("is not suppressed"));
    // A stale export's withdrawal, dated before the grant on paper, is not applied.
    let stale = home.path().join("stale.csv");
    std::fs::write(
        &stale,
        "phone;consent;consent_at\n+77011234567;no;01.02.2025\n",
    )
    .unwrap();
    let stale_import = |json: bool| {
        let mut args = vec![
            "subscribers",
            "import",
            stale.to_str().unwrap(),
            "--list",
            "CRM",
        ];
        if json {
            args.push("--json");
        }
        run(&args)
    };
    let summary = stdout_json(stale_import(true));
    assert_eq!(
        (&summary["unchanged"], &summary["consent_outdated"]),
        (&serde_json::json!(1), &serde_json::json!(1)),
        "{summary}"
    );
    stale_import(false)
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "1 consent value(s) not applied: dated (consent_at) before the consent on record",
        ));
    let shown = stdout_json(run(&["subscribers", "show", "+77011234567", "--json"]));
    assert_eq!(shown["consents"][0]["status"], "granted", "{shown}");
    // A consent can be dated when it was given (`--at`), but not before the latest one on
    // record, nor in the future; a date later today somewhere is taken as now.
    let dated_as = |at: &str, given: &[&str]| {
        let mut args = vec![
            "subscribers",
            "consent",
            "+77011234567",
            "--channel",
            "whatsapp",
        ];
        args.extend(given);
        args.extend(["--at", at]);
        run(&args).assert()
    };
    let dated = |at: &str| dated_as(at, &["--withdraw", "--source", "letter"]);
    dated("15.01.2020").code(1).stderr(
        predicate::str::contains("consent was granted on")
            .and(predicate::str::contains("after 2020-01-15 00:00 UTC"))
            .and(predicate::str::contains("nothing was recorded")),
    );
    let later = chrono::Utc::now() + chrono::Duration::days(3);
    dated(&later.format("%Y-%m-%d").to_string())
        .code(1)
        .stderr(predicate::str::contains("is in the future"));
    dated("last week")
        .code(1)
        .stderr(predicate::str::contains("is not a date"));
    let tomorrow = chrono::Utc::now() + chrono::Duration::hours(20);
    dated(&tomorrow.format("%Y-%m-%d %H:%M").to_string())
        .success()
        .stdout(predicate::str::contains("consent withdrawn (letter)"));
    let shown = stdout_json(run(&["subscribers", "show", "+77011234567", "--json"]));
    assert_eq!(shown["consents"].as_array().unwrap().len(), 4, "{shown}");
    assert_eq!(
        shown["consents"][0]["recorded_at"],
        serde_json::Value::Null,
        "taken as now: {shown}"
    );
    // A paper form signed a week ago for the service scope (nothing on record there): dated
    // then, and when it was entered is kept beside it.
    let week_ago = chrono::Utc::now() - chrono::Duration::days(7);
    dated_as(
        &week_ago.format("%Y-%m-%d %H:%M").to_string(),
        &[
            "--scope",
            "service",
            "--grant",
            "--source",
            "paper form",
            "--proof",
            "form 7",
        ],
    )
    .success()
    .stdout(predicate::str::contains(
        "WhatsApp service consent granted (paper form), given ",
    ));
    let shown = stdout_json(run(&["subscribers", "show", "+77011234567", "--json"]));
    let dated = &shown["consents"][0];
    assert_eq!(dated["scope"], "service", "{shown}");
    assert!(
        dated["at"].as_str().unwrap() < dated["recorded_at"].as_str().unwrap(),
        "{shown}"
    );
    run(&["subscribers", "show", "+77011234567"])
        .assert()
        .success()
        .stdout(predicate::str::is_match(r"recorded by \S+ on \d{4}-\d{2}-\d{2}").unwrap());
    let at = shown["consents"][0]["at"].as_str().unwrap();
    assert!(
        chrono::DateTime::parse_from_rfc3339(at).unwrap() <= chrono::Utc::now(),
        "dated no later than when it was recorded: {at}"
    );
    run(&["lists", "delete", "CRM"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("--yes"));
    run(&["lists", "delete", "CRM", "--yes"]).assert().success();
    run(&["lists", "list", "--json"])
        .assert()
        .success()
        .stdout(predicate::str::contains("[]"));
    run(&["subscribers", "import", "/nonexistent.csv", "--list", "X"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "cannot read /nonexistent.csv: there is no such file; check the path",
        ));
    // A folder given for the file: said so, with what to give instead.
    let folder = home.path().display().to_string();
    run(&["subscribers", "import", &folder, "--list", "X"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(format!(
            "cannot read {folder}: it is a folder; give the path of a CSV file in it"
        )));
}

#[test]
fn accounts_keep_tokens_secret_and_refuse_removal_in_use() {
    let home = tempfile::tempdir().unwrap();
    let data = home.path().join("data");
    let token = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw";
    let token_file = home.path().join("bot.token");
    std::fs::write(&token_file, format!("{token}\n")).unwrap();
    let run = |args: &[&str]| {
        let mut c = clever(home.path());
        c.arg("--data-dir").arg(&data).args(args);
        c
    };
    run(&[
        "accounts",
        "add",
        "--channel",
        "telegram",
        "--name",
        "Bot",
        "--token-file",
        token_file.to_str().unwrap(),
        // A real (https) account on a loopback port nothing listens on: the token check
        // fails at once, without the internet, and its words must not carry the token,
        // which a Telegram URL holds.
        "--base-url",
        "https://127.0.0.1:1",
    ])
    .assert()
    .success()
    .stdout(predicate::str::contains(token).not())
    .stderr(predicate::str::contains("the token check failed"))
    .stderr(predicate::str::contains("bot••••••••/getMe"))
    .stderr(predicate::str::contains("AAHdqTcv").not());
    run(&[
        "accounts",
        "add",
        "--channel",
        "whatsapp",
        "--name",
        "WA",
        "--phone-number-id",
        "106540352242922",
        "--token-file",
        "-",
        "--base-url",
        "https://127.0.0.1:1",
    ])
    .write_stdin("EAAGsecretsecret\n")
    .assert()
    .success();
    let out = run(&["accounts", "list", "--json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    assert!(
        !text.contains(token) && !text.contains("EAAGsecret"),
        "{text}"
    );
    assert!(text.contains("\"token\": \"set\""));
    let add_bot = |name: &str| {
        run(&[
            "accounts",
            "add",
            "--channel",
            "telegram",
            "--name",
            name,
            "--token-file",
            token_file.to_str().unwrap(),
        ])
        .assert()
        .code(1)
    };
    add_bot("Bot").stderr(predicate::str::contains(
        "an account named “Bot” exists already; give this one another name",
    ));
    // One bot, one number: a second account on what one reaches would double its limits.
    add_bot("Bot again").stderr(predicate::str::contains(
        "Telegram bot 123456789 is connected already as “Bot”: one Telegram bot is one account",
    ));
    run(&[
        "accounts",
        "add",
        "--channel",
        "whatsapp",
        "--name",
        "WA 2",
        "--phone-number-id",
        "106540352242922",
        "--token-file",
        "-",
        "--base-url",
        "https://127.0.0.1:1",
    ])
    .write_stdin("EAAGother\n")
    .assert()
    .code(1)
    .stderr(predicate::str::contains(
        "WhatsApp number 106540352242922 is connected already as “WA”",
    ));
    run(&["accounts", "pause", "WA", "--reason", "token rotation"])
        .assert()
        .success();
    run(&["accounts", "list"])
        .assert()
        .success()
        .stdout(predicate::str::contains("paused (token rotation)"));
    run(&["accounts", "resume", "WA"]).assert().success();
    run(&["accounts", "remove", "WA", "--yes"])
        .assert()
        .success();
    let logs = std::fs::read_dir(data.join("logs")).unwrap();
    for f in logs {
        let text = std::fs::read_to_string(f.unwrap().path()).unwrap_or_default();
        assert!(
            !text.contains(token) && !text.contains("EAAGsecret"),
            "a token reached the log"
        );
    }
    // An account a campaign uses stays (the demo's accounts have campaigns).
    let demo = seeded_demo(home.path());
    clever(home.path())
        .arg("--data-dir")
        .arg(demo)
        .args(["accounts", "remove", "Clever Shop · WhatsApp", "--yes"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "used by 3 campaigns; it cannot be removed while they exist",
        ));
}

#[test]
fn sandbox_serve_and_account_checks_over_loopback() {
    use std::io::BufRead;
    let home = tempfile::tempdir().unwrap();
    let mut server = std::process::Command::new(env!("CARGO_BIN_EXE_clever"))
        .args(["sandbox", "serve", "--listen", "127.0.0.1:0"])
        .env("HOME", home.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut first = String::new();
    std::io::BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let base = first.trim().to_string();
    assert!(base.starts_with("http://127.0.0.1:"), "{base}");
    let data = home.path().join("data");
    let good = home.path().join("good.token");
    let bad = home.path().join("bad.token");
    std::fs::write(&good, "EAAGsandbox").unwrap();
    std::fs::write(&bad, "revoked-EAAG").unwrap();
    let run = |args: &[&str]| {
        let mut c = clever(home.path());
        c.arg("--data-dir").arg(&data).args(args);
        c
    };
    let accounts_json = || -> serde_json::Value {
        let out = run(&["accounts", "list", "--json"]).assert().success();
        serde_json::from_slice(&out.get_output().stdout).unwrap()
    };
    // Adding checks the token at once; a failed check is a warning, the account is added.
    for (name, number, token, says) in [
        ("Good", "1065", &good, "token works: +7 701 000 0001"),
        ("Bad", "1066", &bad, "the token check failed: HTTP 401"),
    ] {
        let out = run(&[
            "accounts",
            "add",
            "--channel",
            "whatsapp",
            "--name",
            name,
            "--phone-number-id",
            number,
            "--base-url",
            &base,
            "--token-file",
            token.to_str().unwrap(),
        ])
        .assert()
        .success()
        .get_output()
        .clone();
        let both = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(both.contains(says), "{both}");
    }
    run(&["accounts", "check", "Good"])
        .assert()
        .success()
        .stdout(predicate::str::contains("ok: +7 701 000 0001"));
    let out = run(&["accounts", "check", "--json"])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(
        (v[0]["name"].as_str(), v[0]["ok"].as_bool()),
        (Some("Good"), Some(true))
    );
    assert_eq!(
        (v[1]["name"].as_str(), v[1]["ok"].as_bool()),
        (Some("Bad"), Some(false))
    );
    assert!(v[1]["detail"].as_str().unwrap().contains("HTTP 401"));
    // A renewed token replaces the expired one, is checked at once, and is never printed; a
    // malformed one is refused and the stored one kept.
    run(&["accounts", "pause", "Bad", "--reason", "token rotation"])
        .assert()
        .success();
    run(&["accounts", "set-token", "Bad", "--token-file", "-"])
        .write_stdin("EAAGrenewed\n")
        .assert()
        .success()
        .stdout(predicate::str::contains("token works: +7 701 000 0001"))
        .stdout(predicate::str::contains(
            "still paused (token rotation); `clever accounts resume Bad`",
        ))
        .stdout(predicate::str::contains("EAAGrenewed").not());
    run(&["accounts", "set-token", "Bad", "--token-file", "-"])
        .write_stdin("two words\n")
        .assert()
        .code(1)
        .stderr(predicate::str::contains("spaces or several lines"));
    run(&["accounts", "check", "Bad"]).assert().success();
    let v = accounts_json();
    assert!(v[1]["health"].as_str().unwrap().starts_with("ok: "), "{v}");
    assert!(v[1]["health_checked_at"].is_string(), "{v}");
    // A loopback base URL marks the account as a sandbox one.
    run(&["accounts", "list", "--json"])
        .assert()
        .success()
        .stdout(predicate::str::contains("\"sandbox\": true"));
    // A number new to WhatsApp (the emulator's ids ending 0250 are on 250 a day) set to
    // 10 000: the check says the platform's lower tier is the one kept to.
    run(&[
        "accounts",
        "add",
        "--channel",
        "whatsapp",
        "--name",
        "New",
        "--phone-number-id",
        "1000250",
        "--wa-tier",
        "10000",
        "--base-url",
        &base,
        "--token-file",
        good.to_str().unwrap(),
    ])
    .assert()
    .success();
    run(&["accounts", "check", "New"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "the platform's tier is 250 unique recipients a day, below the 10000 set here: \
             campaigns keep to 250",
        ));
    let v = accounts_json();
    let new = v
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "New")
        .unwrap();
    assert_eq!(
        (
            &new["wa_daily_tier"],
            &new["wa_platform_tier"],
            &new["wa_budget"]
        ),
        (
            &serde_json::json!(10000),
            &serde_json::json!(250),
            &serde_json::json!(250)
        ),
        "{new}"
    );
    let _ = server.kill();
    let _ = server.wait();
}

#[test]
fn webhook_settings_are_checked_at_start() {
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join("c.toml");
    std::fs::write(&config, "[webhooks]\nlisten = \"127.0.0.1:0\"\n").unwrap();
    clever(home.path())
        .arg("--config")
        .arg(&config)
        .arg("--data-dir")
        .arg(home.path().join("d"))
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "[webhooks] needs verify_token_file",
        ));
    for name in ["verify", "secret", "tg"] {
        std::fs::write(home.path().join(name), "s3cret\n").unwrap();
    }
    std::fs::write(
        &config,
        format!(
            "[webhooks]\nlisten = \"127.0.0.1:0\"\nverify_token_file = \"{0}/verify\"\napp_secret_file = \"{0}/secret\"\ntelegram_secret_file = \"{0}/tg\"\n",
            home.path().display()
        ),
    )
    .unwrap();
    // Everything is in order; without a terminal the console then declines to open.
    clever(home.path())
        .arg("--config")
        .arg(&config)
        .arg("--data-dir")
        .arg(home.path().join("d"))
        .assert()
        .code(1)
        .stderr(predicate::str::contains("needs a terminal"));
    std::fs::write(&config, "[webhooks]\nlisten = \"not an address\"\n").unwrap();
    clever(home.path())
        .arg("--config")
        .arg(&config)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("webhooks.listen"));
}

#[test]
fn sandbox_webhook_options_are_checked() {
    let home = tempfile::tempdir().unwrap();
    clever(home.path())
        .args([
            "sandbox",
            "serve",
            "--webhook-url",
            "http://127.0.0.1:9/webhooks",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--app-secret-file"));
    let empty = home.path().join("empty.secret");
    std::fs::write(&empty, "\n").unwrap();
    clever(home.path())
        .args([
            "sandbox",
            "serve",
            "--webhook-url",
            "http://127.0.0.1:9/webhooks",
        ])
        .arg("--app-secret-file")
        .arg(&empty)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("is empty"));
    let secret = home.path().join("app.secret");
    std::fs::write(&secret, "s3cret\n").unwrap();
    clever(home.path())
        .args(["sandbox", "serve", "--webhook-url", "127.0.0.1:9/webhooks"])
        .arg("--app-secret-file")
        .arg(&secret)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("must start with http://"));
}

/// `clever run --json` serves the webhook endpoints headless, stops cleanly on SIGTERM, and
/// writes its log as JSON lines.
#[test]
fn run_serves_webhooks_until_sigterm() {
    use std::io::{BufRead, Read, Write};
    let home = tempfile::tempdir().unwrap();
    for (file, text) in [
        ("verify", "vt-123"),
        ("app", "app-secret"),
        ("tg", "tg-secret"),
    ] {
        std::fs::write(home.path().join(file), text).unwrap();
    }
    let config = home.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[webhooks]\nlisten = \"127.0.0.1:0\"\nverify_token_file = \"{0}/verify\"\n\
             app_secret_file = \"{0}/app\"\ntelegram_secret_file = \"{0}/tg\"\n",
            home.path().display()
        ),
    )
    .unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_clever"))
        .arg("--config")
        .arg(&config)
        .arg("--data-dir")
        .arg(home.path().join("data"))
        .args(["run", "--json"])
        .env("HOME", home.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut first = String::new();
    stderr.read_line(&mut first).unwrap();
    let addr = first
        .trim()
        .strip_prefix("clever run: receiving webhooks on ")
        .unwrap_or_else(|| panic!("{first}"))
        .to_string();
    // The Meta handshake over plain HTTP/1.1.
    let mut conn = std::net::TcpStream::connect(&addr).unwrap();
    write!(
        conn,
        "GET /webhooks/meta?hub.mode=subscribe&hub.verify_token=vt-123&hub.challenge=4711 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    conn.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.ends_with("4711"), "{answer}");
    std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let status = child.wait().unwrap();
    let mut rest = String::new();
    stderr.read_to_string(&mut rest).unwrap();
    assert!(status.success(), "{status:?} {rest}");
    assert!(rest.contains("SIGTERM, stopping"), "{rest}");
    let logs = home.path().join("data").join("logs");
    let mut lines = Vec::new();
    for entry in std::fs::read_dir(&logs).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        lines.extend(text.lines().map(str::to_string));
    }
    assert!(!lines.is_empty(), "no log lines in {}", logs.display());
    let events: Vec<serde_json::Value> = lines
        .iter()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert!(
        events
            .iter()
            .all(|e| e["level"].is_string() && e["timestamp"].is_string()),
        "{lines:?}"
    );
    assert!(
        events
            .iter()
            .any(|e| e["message"].as_str().is_some_and(|m| m.contains("stopp"))),
        "{lines:?}"
    );
}

/// The campaign lifecycle from the command line on the demo workspace: a message a
/// subscriber cannot be written for and one that breaks the policy are refused at creation;
/// a good one starts, reports who was left out, pauses, resumes, cancels, and reports.
#[test]
fn campaigns_from_the_command_line() {
    let home = tempfile::tempdir().unwrap();
    let data = seeded_demo(home.path());
    let demo = |args: &[&str]| {
        let mut c = clever(home.path());
        c.arg("--data-dir").arg(&data).args(args);
        c
    };
    // The console that found no terminal started no engine: nothing holds the lease, so a
    // `clever run` started now sends at once.
    demo(&["campaigns", "status", "1"])
        .assert()
        .success()
        .stdout(predicate::str::contains("engine: none is running"));
    demo(&[
        "campaigns",
        "create",
        "--name",
        "Bad",
        "--list",
        "Telegram bot",
        "--account",
        "@clever_shop_bot",
        "--text",
        "Привет, {{ attributes.nickname }}!",
    ])
    .assert()
    .code(1)
    .stderr(predicate::str::contains("cannot be written for"))
    .stderr(predicate::str::contains("default"));
    demo(&[
        "campaigns",
        "create",
        "--name",
        "Spam",
        "--list",
        "Telegram bot",
        "--account",
        "@clever_shop_bot",
        "--text",
        "Гарантированный доход 300% в месяц! bit.ly/x",
    ])
    .assert()
    .code(1)
    .stderr(predicate::str::contains("content policy"))
    .stderr(predicate::str::contains("bit.ly/x"));
    // A schedule is typed as the console shows times, in the operator's zone (`TZ`, here a
    // POSIX rule for UTC+5 that needs no zone files); one that has passed is refused.
    let scheduled = |name: &str, at: &str| {
        let mut c = demo(&[
            "campaigns",
            "create",
            "--name",
            name,
            "--list",
            "Telegram bot",
            "--account",
            "@clever_shop_bot",
            "--text",
            "Скидка 20%",
            "--schedule",
            at,
        ]);
        c.env("TZ", "XYZ-5");
        c
    };
    scheduled("Past", "2020-06-01 10:00")
        .assert()
        .code(1)
        .stderr(predicate::str::contains("has passed"));
    scheduled("Later", "2099-06-01 10:00")
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "once started, it sends from 2099-06-01 10:00 +05:00",
        ));
    let status = demo(&["campaigns", "status", "Later", "--json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let status: serde_json::Value = serde_json::from_slice(&status).unwrap();
    assert_eq!(status["schedule_at"], "2099-06-01T05:00:00Z");
    // One name, one campaign: commands act on a campaign by its name.
    scheduled("Later", "2099-06-02 10:00")
        .assert()
        .code(1)
        .stderr(predicate::str::contains(format!(
            "a campaign named `Later` exists already (campaign {}, draft); give this one \
             another name",
            status["id"]
        )));
    // A number names a campaign by its id, so it cannot be a name.
    scheduled(" 2027 ", "2099-06-02 10:00")
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "`2027` cannot be a campaign's name: a number names a campaign by its id",
        ));
    // A workspace from before names were unique may hold a repeat: a command refuses to
    // guess which one is meant, and takes either by its id.
    let repeat: i64 = tokio::runtime::Runtime::new().unwrap().block_on(async {
        use sqlx::Connection;
        let db = data.join("clever.db");
        let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}", db.display()))
            .await
            .unwrap();
        sqlx::query_scalar(
            "INSERT INTO campaigns (name, list_id, account_id, message_text, status, created_at, \
             updated_at) SELECT name, list_id, account_id, message_text, 'draft', created_at, \
             updated_at \
             FROM campaigns WHERE name = 'Later' RETURNING id",
        )
        .fetch_one(&mut c)
        .await
        .unwrap()
    });
    demo(&["campaigns", "cancel", "Later", "--yes"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(format!(
            "`Later` names 2 campaigns: {repeat} (draft), {} (draft); give the one you mean by its id",
            status["id"]
        )));
    demo(&["campaigns", "cancel", &repeat.to_string(), "--yes"])
        .assert()
        .success();
    demo(&[
        "campaigns",
        "create",
        "--name",
        "Friday",
        "--list",
        "Telegram bot",
        "--account",
        "@clever_shop_bot",
        "--text",
        "Привет, {{ name | default(\"друг\") }}! Скидка 20% 🎉",
        "--quiet-hours",
        "09:00-21:00",
        "--json",
    ])
    .assert()
    .success()
    .stdout(predicate::str::contains("\"status\": \"draft\""));
    // Before the start: whom it would reach and who is left out, changing nothing.
    let json = |c: &mut Command| -> serde_json::Value {
        serde_json::from_slice(&c.assert().success().get_output().stdout).unwrap()
    };
    let estimate = json(&mut demo(&[
        "campaigns",
        "start",
        "Friday",
        "--dry-run",
        "--json",
    ]));
    assert!(estimate["reaches"].as_i64().unwrap() > 0, "{estimate}");
    demo(&["campaigns", "start", "Friday", "--dry-run"])
        .assert()
        .success()
        .stdout(predicate::str::contains("it would reach"))
        .stdout(predicate::str::contains("left out, no consent:"));
    let v = json(&mut demo(&["campaigns", "start", "Friday", "--json"]));
    assert_eq!(v["status"], "running");
    assert!(v["queued"].as_i64().unwrap() > 0);
    assert!(v["left_out"]["no consent"].as_i64().unwrap() > 0, "{v}");
    // The estimate was exact.
    assert_eq!(v["queued"], estimate["reaches"]);
    assert_eq!(v["left_out"], estimate["left_out"]);
    demo(&["campaigns", "start", "Friday", "--dry-run"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("its outbox is made"));
    // Free text on Instagram reaches only those who wrote within 24 hours: in the VIP list,
    // nobody. Started anyway, it says it sends nothing rather than that it runs.
    demo(&[
        "campaigns",
        "create",
        "--name",
        "Nobody",
        "--list",
        "VIP",
        "--account",
        "clever.shop · Instagram",
        "--text",
        "Привет",
    ])
    .assert()
    .success()
    .stdout(predicate::str::contains("nobody can be reached now"));
    demo(&["campaigns", "start", "Nobody"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "started with nobody queued: it completes with nothing sent",
        ))
        .stdout(predicate::str::contains(
            "left out, no open 24-hour window:",
        ))
        .stdout(predicate::str::contains("is running").not());
    demo(&["campaigns", "start", "Friday"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("only a draft can be started"));
    // The demo's licence lives inside `clever demo`: a change it refuses here says so.
    let csv = home.path().join("one.csv");
    std::fs::write(&csv, "phone,name\n+77011234567,Айгерим\n").unwrap();
    demo(&[
        "subscribers",
        "import",
        csv.to_str().unwrap(),
        "--list",
        "X",
    ])
    .assert()
    .code(1)
    .stderr(predicate::str::contains(
        "is the demo workspace: its licence is valid only inside `clever demo`",
    ));
    // Running with nobody sending: the status says what is missing.
    demo(&["campaigns", "status", "Friday"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "engine: none is running, so nothing is sent: start `clever run`",
        ));
    demo(&["campaigns", "pause", "Friday"])
        .assert()
        .success()
        .stdout(predicate::str::contains("is paused"));
    demo(&["campaigns", "resume", "Friday"])
        .assert()
        .success()
        .stdout(predicate::str::contains("is running"));
    demo(&["campaigns", "cancel", "Friday"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("--yes"));
    demo(&["campaigns", "cancel", "Friday", "--yes"])
        .assert()
        .success();
    let out = demo(&["campaigns", "status", "Friday", "--json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let s: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(s["status"], "cancelled");
    assert!(s["engine"].is_null(), "{s}");
    assert_eq!(s["counts"]["skipped"], v["queued"]);
    assert_eq!(s["skipped_by_reason"][0]["reason"], "cancelled");
    let report = demo(&["campaigns", "report", "Friday"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let report = String::from_utf8(report).unwrap();
    assert!(
        report.starts_with("subscriber_id,name,address,state,"),
        "{report}"
    );
    assert_eq!(
        report.lines().count() as i64,
        v["queued"].as_i64().unwrap() + 1
    );
    let excel = demo(&["campaigns", "report", "Friday", "--format", "excel"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let excel = String::from_utf8(excel).unwrap();
    assert!(
        excel.starts_with("\u{feff}subscriber_id;name;address;state;"),
        "{excel}"
    );
    assert_eq!(excel.matches("\r\n").count(), report.lines().count());
    demo(&["campaigns", "list"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Friday"));
}

/// Offline activation from the command line: a request for a key, the vendor's lease for
/// it installed, the state and tariff reported; forged, foreign and mismatched leases and
/// unusable machine ids refused with what to do.
#[test]
fn a_licence_is_activated_offline_and_reported() {
    use cleverplatform::license::{key, lease};
    let home = tempfile::tempdir().unwrap();
    let vendor = ed25519_dalek::SigningKey::from_bytes(&[42; 32]);
    let trusted = hex::encode(vendor.verifying_key().to_bytes());
    let machine = home.path().join("machine-id");
    std::fs::write(&machine, "4c4c4544003910808033b4c04f4e4d32\n").unwrap();
    let run = |args: &[&str]| {
        let mut c = clever(home.path());
        c.env("CLEVER_LICENSE_TRUSTED_KEYS", &trusted)
            .arg("--data-dir")
            .arg(home.path().join("d"))
            .arg("--machine-id-file")
            .arg(&machine)
            .args(args);
        c
    };
    let json = |out: &assert_cmd::assert::Assert| -> serde_json::Value {
        serde_json::from_slice(&out.get_output().stdout).unwrap()
    };
    let s = json(&run(&["license", "status", "--json"]).assert().success());
    assert_eq!(s["state"], "not activated");
    assert_eq!(s["allows"]["send"], false);
    assert_eq!(s["allows"]["send_sandbox"], true);
    let fingerprint = s["fingerprint"].as_str().unwrap().to_string();
    assert_eq!(fingerprint.len(), 64);

    let k = key::issue(
        &key::KeyPayload {
            license_id: "lic_7".into(),
            tariff: "business".into(),
            issued_at: chrono::Utc::now(),
            email: "ops@example.kz".into(),
        },
        &vendor,
    );
    // Pasted with a line break in the middle.
    let pasted = format!("{}\n{}", &k[..20], &k[20..]);
    let req = json(&run(&["license", "request", &pasted]).assert().success());
    assert_eq!(req["key"], k.as_str());
    assert_eq!(req["fingerprint"], fingerprint.as_str());
    let nonce = req["nonce"].as_str().unwrap().to_string();

    let now = chrono::Utc::now();
    let mut l = lease::Lease {
        license_id: "lic_7".into(),
        fingerprint: cleverplatform::license::fingerprint::Fingerprint(fingerprint.clone()),
        status: lease::LeaseStatus::Active,
        tariff: lease::Tariff {
            name: "Business".into(),
            accounts: Some(5),
            messages_per_day: Some(50_000),
            lookups_per_day: None,
            machines: 1,
        },
        paid_until: now + chrono::Duration::days(30),
        auto_renew: true,
        issued_at: now,
        valid_until: now + chrono::Duration::hours(72),
        nonce: "someone else's".into(),
    };
    let write = |name: &str, l: &lease::Lease, by: &ed25519_dalek::SigningKey| {
        let path = home.path().join(name);
        std::fs::write(&path, serde_json::to_string(&lease::sign(l, by)).unwrap()).unwrap();
        path.display().to_string()
    };
    // Another request's lease; a lease from an untrusted server.
    let other = write("other.json", &l, &vendor);
    run(&["license", "install", &other])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("nonce"));
    l.nonce = nonce;
    let foreign = write(
        "foreign.json",
        &l,
        &ed25519_dalek::SigningKey::from_bytes(&[1; 32]),
    );
    run(&["license", "install", &foreign])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("signature"));
    let good = write("lease.json", &l, &vendor);
    run(&["license", "install", &good])
        .assert()
        .success()
        .stdout(predicate::str::contains("lic_7: active"));
    let stored = home.path().join("d/license/lease.json");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&stored).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let s = json(&run(&["license", "status", "--json"]).assert().success());
    assert_eq!(s["state"], "active");
    assert_eq!(s["allows"]["send"], true);
    assert_eq!(s["tariff"]["name"], "Business");
    assert_eq!(s["tariff"]["lookups_per_day"], serde_json::Value::Null);
    assert_eq!(s["auto_renew"], true);
    run(&["license", "status"])
        .assert()
        .success()
        .stdout(predicate::str::contains("messages a day 50000"))
        .stdout(predicate::str::contains("auto-renew on"));

    // The same workspace on a machine with an unusable id: refused with advice.
    std::fs::write(&machine, "00000000000000000000000000000000\n").unwrap();
    let s = json(&run(&["license", "status", "--json"]).assert().success());
    assert_eq!(s["state"], "invalid");
    assert!(
        s["fingerprint_error"]
            .as_str()
            .unwrap()
            .contains("all zeros")
    );
    run(&["license", "request", &k])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("--machine-id-file"));
    // A configured trusted key that is not one.
    run(&["license", "status"])
        .env("CLEVER_LICENSE_TRUSTED_KEYS", "not-a-key")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("64 hexadecimal digits"));
}

/// `clever subscribers export | head -1`: the export ends quietly when its reader goes away,
/// with no error and no panic on stderr.
#[test]
fn a_listing_piped_into_head_ends_quietly() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    let home = tempfile::tempdir().unwrap();
    let data = seeded_demo(home.path());
    for args in [
        &[
            "subscribers",
            "export",
            "--list",
            "Customers",
            "--format",
            "jsonl",
        ][..],
        &["subscribers", "export", "--list", "Customers"][..],
        &["subscribers", "list", "--list", "Customers"][..],
        &["campaigns", "report", "1"][..],
    ] {
        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin!("clever"))
            .env_clear()
            .env("HOME", home.path())
            .arg("--data-dir")
            .arg(&data)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        // The reader is gone now; thousands of rows are still to be written.
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!first.is_empty(), "{args:?}: {stderr}");
        assert!(stderr.is_empty(), "{args:?}: {stderr}");
        use std::os::unix::process::ExitStatusExt;
        assert!(
            out.status.success() || out.status.signal() == Some(libc::SIGPIPE),
            "{args:?}: {:?}",
            out.status
        );
    }
}

/// Phones without a country code are read in the configured region (`[subscribers]
/// default_region`), by the import and by the commands that take an address;
/// `--default-region` wins for one command, and a bad region stops with the setting named.
#[test]
fn the_default_region_comes_from_the_configuration() {
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join("clever.toml");
    std::fs::write(&config, "[subscribers]\ndefault_region = \"UZ\"\n").unwrap();
    let csv = home.path().join("tashkent.csv");
    std::fs::write(&csv, "phone,name\n90 123 45 67,Dilnoza\n").unwrap();
    let run = |args: &[&str]| {
        let mut c = clever(home.path());
        c.arg("--data-dir")
            .arg(home.path().join("d"))
            .arg("--config")
            .arg(&config)
            .args(args);
        c
    };
    let file = csv.to_str().unwrap();
    // Read as a Kazakh number, it is no valid number at all.
    let kz = stdout_json(run(&[
        "subscribers",
        "import",
        file,
        "--list",
        "T",
        "--default-region",
        "KZ",
        "--json",
    ]));
    assert_eq!(
        (kz["imported"].clone(), kz["rejected"].clone()),
        (0.into(), 1.into())
    );
    let uz = stdout_json(run(&[
        "subscribers",
        "import",
        file,
        "--list",
        "T",
        "--json",
    ]));
    assert_eq!(uz["imported"], 1, "{uz}");
    run(&["subscribers", "show", "+998901234567"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Dilnoza"));
    run(&[
        "subscribers",
        "suppress",
        "90 123 45 67",
        "--channel",
        "wa",
        "--reason",
        "asked",
    ])
    .assert()
    .success()
    .stdout(predicate::str::contains(
        "+998901234567 on WhatsApp will not be messaged again",
    ));
    std::fs::write(&config, "[subscribers]\ndefault_region = \"Uzbekistan\"\n").unwrap();
    run(&["lists", "list"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "[subscribers] default_region: unknown region `Uzbekistan`",
        ));
}

#[test]
fn a_lists_time_zone_is_set_changed_and_shown() {
    let home = tempfile::tempdir().unwrap();
    let data = home.path().join("d");
    let run = |args: &[&str]| {
        let mut c = clever(home.path());
        c.arg("--data-dir").arg(&data).args(args);
        c
    };
    let lists = || {
        let shown = stdout_json(run(&["lists", "list", "--json"]));
        shown
            .as_array()
            .unwrap()
            .iter()
            .map(|l| {
                (
                    l["name"].as_str().unwrap().to_string(),
                    l["description"].as_str().unwrap().to_string(),
                    l["time_zone"].as_str().map(str::to_string),
                )
            })
            .collect::<Vec<_>>()
    };
    let row =
        |n: &str, d: &str, z: Option<&str>| (n.to_string(), d.to_string(), z.map(str::to_string));
    run(&["lists", "create", "Bishkek", "--time-zone", "+05:30"])
        .assert()
        .code(1)
        .stderr(
            predicate::str::contains("--time-zone").and(predicate::str::contains("Asia/Kolkata")),
        );
    assert_eq!(lists(), [], "a refused list is not made");
    run(&["lists", "create", "Almaty", "--time-zone", "almaty"])
        .assert()
        .success()
        .stdout(predicate::str::contains("(time zone Asia/Almaty)"));
    run(&["lists", "create", "Bishkek"]).assert().success();
    run(&["lists", "edit", "Bishkek"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("nothing to change"));
    run(&["lists", "edit", "Bishkek", "--time-zone", "Mars/Base"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("unknown time zone `Mars/Base`"));
    run(&[
        "lists",
        "edit",
        "Bishkek",
        "--time-zone",
        "UTC+6",
        "--description",
        "shop",
    ])
    .assert()
    .success()
    .stdout(predicate::str::contains("time zone Etc/GMT-6 (was none)"));
    run(&["lists", "edit", "Bishkek", "--time-zone", "utc+6"])
        .assert()
        .success()
        .stdout(predicate::str::contains("nothing changed"));
    run(&["lists", "edit", "Bishkek", "--rename", "Almaty"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "a list named `Almaty` exists already",
        ));
    assert_eq!(
        lists(),
        [
            row("Almaty", "", Some("Asia/Almaty")),
            row("Bishkek", "shop", Some("Etc/GMT-6"))
        ]
    );
    run(&["lists", "list"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Etc/GMT-6").and(predicate::str::contains("shop")));
    run(&[
        "lists",
        "edit",
        "Bishkek",
        "--rename",
        "KG",
        "--no-time-zone",
    ])
    .assert()
    .success()
    .stdout(
        predicate::str::contains("renamed list `Bishkek` to `KG`")
            .and(predicate::str::contains("no time zone (was Etc/GMT-6)")),
    );
    assert_eq!(
        lists(),
        [
            row("Almaty", "", Some("Asia/Almaty")),
            row("KG", "shop", None)
        ]
    );
    // Each change is in the audit log with what it was before.
    let audit: Vec<(String, Option<String>, Option<String>)> =
        tokio::runtime::Runtime::new().unwrap().block_on(async {
            use sqlx::Connection;
            let db = data.join("clever.db");
            let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}", db.display()))
                .await
                .unwrap();
            sqlx::query_as(
                "SELECT action, detail ->> 'time_zone', detail ->> '$.before.time_zone' \
                 FROM audit_log WHERE action LIKE 'list.%' ORDER BY id",
            )
            .fetch_all(&mut c)
            .await
            .unwrap()
        });
    let s = |z: &str| Some(z.to_string());
    assert_eq!(
        audit,
        [
            ("list.create".to_string(), s("Asia/Almaty"), None),
            ("list.create".to_string(), None, None),
            ("list.edit".to_string(), s("Etc/GMT-6"), None),
            ("list.edit".to_string(), None, s("Etc/GMT-6")),
        ]
    );
}

#[test]
fn a_subscribers_name_language_and_time_zone_are_edited() {
    let home = tempfile::tempdir().unwrap();
    let data = home.path().join("d");
    let run = |args: &[&str]| {
        let mut c = clever(home.path());
        c.arg("--data-dir").arg(&data).args(args);
        c
    };
    let csv = home.path().join("s.csv");
    std::fs::write(&csv, "phone,name,timezone\n+77011234567,Айгерим,UTC+5\n").unwrap();
    run(&[
        "subscribers",
        "import",
        csv.to_str().unwrap(),
        "--list",
        "L",
    ])
    .assert()
    .success();
    let shown = || stdout_json(run(&["subscribers", "show", "#1", "--json"]));
    run(&["subscribers", "edit", "#1"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("nothing to change"));
    run(&["subscribers", "edit", "#1", "--time-zone", "Mars"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("unknown time zone `Mars`"));
    run(&["subscribers", "edit", "#1", "--name", " "])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("a name cannot be empty"));
    assert_eq!(shown()["time_zone"], "Etc/GMT-5", "refusals change nothing");
    // Found by a local form of the number, as everywhere.
    run(&[
        "subscribers",
        "edit",
        "8 701 123 45 67",
        "--time-zone",
        "Ақтөбе",
        "--locale",
        "KK",
    ])
    .assert()
    .success()
    .stdout(
        predicate::str::contains("time zone Asia/Aqtobe (was Etc/GMT-5)")
            .and(predicate::str::contains("language kk (was none)")),
    );
    run(&["subscribers", "edit", "#1", "--time-zone", "asia/aqtobe"])
        .assert()
        .success()
        .stdout(predicate::str::contains("nothing changed"));
    run(&[
        "subscribers",
        "edit",
        "#1",
        "--name",
        "Aigerim",
        "--no-time-zone",
    ])
    .assert()
    .success()
    .stdout(predicate::str::contains("name `Aigerim` (was `Айгерим`)"));
    let s = shown();
    assert_eq!(
        (&s["name"], &s["locale"], &s["time_zone"]),
        (&"Aigerim".into(), &"kk".into(), &serde_json::Value::Null)
    );
    // The search finds the new name, not the old one.
    for (text, n) in [("Aigerim", 1), ("Айгерим", 0)] {
        let found = stdout_json(run(&["subscribers", "list", "--search", text, "--json"]));
        assert_eq!(found["total"], n, "{text}");
    }
    let audit: Vec<(Option<String>, Option<String>)> =
        tokio::runtime::Runtime::new().unwrap().block_on(async {
            use sqlx::Connection;
            let db = data.join("clever.db");
            let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}", db.display()))
                .await
                .unwrap();
            sqlx::query_as(
                "SELECT detail ->> 'time_zone', detail ->> '$.before.time_zone' \
                 FROM audit_log WHERE action = 'subscriber.edit' ORDER BY id",
            )
            .fetch_all(&mut c)
            .await
            .unwrap()
        });
    let s = |z: &str| Some(z.to_string());
    assert_eq!(
        audit,
        [(s("Asia/Aqtobe"), s("Etc/GMT-5")), (None, s("Asia/Aqtobe"))]
    );
}

#[test]
fn subscribers_are_added_to_a_list_and_taken_off() {
    let home = tempfile::tempdir().unwrap();
    let data = home.path().join("d");
    let run = |args: &[&str]| {
        let mut c = clever(home.path());
        c.arg("--data-dir").arg(&data).args(args);
        c
    };
    let csv = home.path().join("s.csv");
    std::fs::write(
        &csv,
        "phone,name,consent\n+77010000001,Айгерим,yes\n+77010000002,Болат,yes\n+77010000003,Данияр,no\n",
    )
    .unwrap();
    run(&[
        "subscribers",
        "import",
        csv.to_str().unwrap(),
        "--list",
        "All",
    ])
    .assert()
    .success();
    run(&["lists", "create", "VIP"]).assert().success();
    let members = |list: &str| {
        let shown = stdout_json(run(&["subscribers", "list", "--list", list, "--json"]));
        let mut names: Vec<String> = shown["subscribers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["name"].as_str().unwrap().to_string())
            .collect();
        names.sort();
        names
    };
    // One who cannot be found changes nothing, and each is named.
    run(&[
        "lists",
        "add",
        "VIP",
        "8 701 000 0001",
        "#99",
        "+77019999999",
    ])
    .assert()
    .code(1)
    .stderr(
        predicate::str::contains("nothing changed: 2 of 3 could not be found")
            .and(predicate::str::contains("there is no subscriber #99"))
            .and(predicate::str::contains(
                "nobody has the address `+77019999999`",
            )),
    );
    assert!(members("VIP").is_empty());
    run(&["lists", "add", "Gold", "#1"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("no list named `Gold`"));
    // A local phone, a number; then one more from standard input, one a line.
    run(&["lists", "add", "VIP", "8 701 000 0001", "#2"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "added 2 subscribers to list `VIP`",
        ));
    run(&["lists", "add", "VIP", "-"])
        .write_stdin("+77010000002\n\n87010000003\n")
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "added 1 subscriber to list `VIP`; 1 was in it already",
        ));
    run(&["lists", "add", "VIP", "#3"])
        .assert()
        .success()
        .stdout(predicate::str::contains("nothing changed"));
    assert_eq!(members("VIP"), ["Айгерим", "Болат", "Данияр"]);
    run(&["lists", "remove", "VIP", "-"])
        .write_stdin("#1\nnot a phone\n")
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "line 2: nobody has the address `not a phone`",
        ));
    run(&["lists", "remove", "VIP", "+7 (701) 000-00-01", "#3"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "took 2 subscribers off list `VIP`",
        ));
    run(&["lists", "remove", "VIP", "#3"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "nothing changed: nobody named is in list `VIP`",
        ));
    // Taken off one list, they stay in the workspace and in their other lists.
    assert_eq!(members("VIP"), ["Болат"]);
    assert_eq!(members("All"), ["Айгерим", "Болат", "Данияр"]);
    let lists = stdout_json(run(&["lists", "list", "--json"]));
    let sizes: Vec<(String, i64)> = lists
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["name"].as_str().unwrap().into(),
                l["members"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(sizes, [("All".into(), 3), ("VIP".into(), 1)]);
    // Who did it, and to whom, is in the audit log.
    let audit: Vec<(String, String)> = tokio::runtime::Runtime::new().unwrap().block_on(async {
        use sqlx::Connection;
        let db = data.join("clever.db");
        let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}", db.display()))
            .await
            .unwrap();
        sqlx::query_as(
            "SELECT action, detail ->> 'subscribers' FROM audit_log \
             WHERE action IN ('list.add', 'list.remove') ORDER BY id",
        )
        .fetch_all(&mut c)
        .await
        .unwrap()
    });
    assert_eq!(
        audit,
        [
            ("list.add".to_string(), "[1,2]".to_string()),
            ("list.add".to_string(), "[2,3]".to_string()),
            ("list.remove".to_string(), "[1,3]".to_string()),
        ]
    );
}

#[test]
fn a_subscriber_is_added_by_hand() {
    let home = tempfile::tempdir().unwrap();
    let data = home.path().join("d");
    let run = |args: &[&str]| {
        let mut c = clever(home.path());
        c.arg("--data-dir").arg(&data).args(args);
        c
    };
    // `subscribers add --list Shop` with these.
    let add = |args: &[&str]| run(&[&["subscribers", "add", "--list", "Shop"], args].concat());
    run(&["lists", "create", "Shop"]).assert().success();
    // Refusals change nothing: no address, no list, a consent without its proof, a bad
    // phone or time zone, a suppressed number.
    add(&["--name", "Гүлнар"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--phone"));
    run(&[
        "subscribers",
        "add",
        "--list",
        "Shpo",
        "--phone",
        "87011112233",
    ])
    .assert()
    .code(1)
    .stderr(predicate::str::contains("no list named `Shpo`"));
    add(&["--phone", "87011112233", "--grant", "--source", "till"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--proof"));
    add(&["--phone", "87011112233", "--source", "till"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("add --grant"));
    add(&["--phone", "123"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("123 was not added: invalid phone"));
    add(&["--phone", "87011112233", "--time-zone", "Mars"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("bad time zone"));
    run(&[
        "subscribers",
        "suppress",
        "87019998877",
        "--channel",
        "wa",
        "--reason",
        "asked",
    ])
    .assert()
    .success();
    add(&[
        "--phone",
        "87019998877",
        "--grant",
        "--source",
        "till",
        "--proof",
        "form 1",
    ])
    .assert()
    .code(1)
    .stderr(predicate::str::contains("was not added: suppressed"));
    let everyone = stdout_json(run(&["subscribers", "list", "--json"]));
    assert_eq!(everyone["total"], 0, "{everyone}");
    // A customer at the till, with a paper form: sendable at once, the proof kept.
    add(&[
        "--phone",
        "8 701 111 22 33",
        "--telegram",
        "5550001",
        "--name",
        "Гүлнар",
        "--locale",
        "kk",
        "--time-zone",
        "Актобе",
        "--grant",
        "--source",
        "paper form at the till",
        "--proof",
        "form #1207",
        "--at",
        "2026-11-20",
    ])
    .assert()
    .success()
    .stdout(predicate::str::contains("added Гүлнар (#1) to list `Shop`"));
    let shown = stdout_json(run(&["subscribers", "show", "#1", "--json"]));
    assert_eq!(shown["time_zone"], "Asia/Aqtobe");
    assert_eq!(shown["locale"], "kk");
    assert_eq!(shown["lists"], serde_json::json!(["Shop"]));
    let consents = shown["consents"].as_array().unwrap();
    assert_eq!(consents.len(), 2, "one per channel: {shown}");
    for c in consents {
        assert_eq!(c["status"], "granted");
        assert_eq!(c["source"], "paper form at the till");
        assert_eq!(c["proof"], "form #1207");
        assert!(c["at"].as_str().unwrap().starts_with("2026-11-20"), "{c}");
    }
    // Entered again by another address of theirs: known, updated, nothing doubled.
    add(&["--telegram", "5550001", "--name", "Гүлнар"])
        .assert()
        .success()
        .stdout(predicate::str::contains("nothing changed"));
    add(&["--phone", "+77011112233", "--name", "Гүлнар Б."])
        .assert()
        .success()
        .stdout(predicate::str::contains("Гүлнар Б. (#1) was known already"));
    // Without a consent they are kept, and told apart as not messaged.
    add(&["--phone", "87012223344"]).assert().success().stdout(
        predicate::str::contains("added #2 to list `Shop`")
            .and(predicate::str::contains("they are not messaged")),
    );
    // Consent to service messages (their own orders), on every address given.
    add(&[
        "--phone",
        "87013334455",
        "--telegram",
        "5550002",
        "--grant",
        "--scope",
        "service",
        "--source",
        "order at the till",
        "--proof",
        "order 77",
    ])
    .assert()
    .success()
    .stdout(predicate::str::contains("added #3 to list `Shop`"));
    let shown = stdout_json(run(&["subscribers", "show", "#3", "--json"]));
    let consents = shown["consents"].as_array().unwrap();
    assert_eq!(consents.len(), 2, "one per channel: {shown}");
    for c in consents {
        assert_eq!(
            (&c["scope"], &c["status"], &c["proof"]),
            (
                &serde_json::json!("service"),
                &serde_json::json!("granted"),
                &serde_json::json!("order 77")
            ),
            "{c}"
        );
    }
    add(&["--phone", "87013334455", "--scope", "service"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("add --grant"));
    // For scripts: the outcome and the subscriber's number, or the reason it was refused.
    let again = stdout_json(add(&["--phone", "87012223344", "--json"]));
    assert_eq!(again["outcome"], "unchanged", "{again}");
    assert_eq!(again["subscriber"], 2, "{again}");
    assert_eq!(again["import"]["unchanged"], 1, "{again}");
    let refused = add(&["--phone", "123", "--json"]).assert().code(1);
    let refused: serde_json::Value = serde_json::from_slice(&refused.get_output().stdout).unwrap();
    assert_eq!(refused["outcome"], "refused", "{refused}");
    assert!(
        refused["reason"]
            .as_str()
            .unwrap()
            .contains("invalid phone"),
        "{refused}"
    );
    let everyone = stdout_json(run(&["subscribers", "list", "--json"]));
    assert_eq!(everyone["total"], 3, "{everyone}");
}
