//! Counterparty checks end to end: the registry emulator over real loopback HTTP (the
//! bureau's real response shapes, null fields, entrepreneurs, not found, 429, 500), the
//! cache in a real SQLite file, the licence's gate and lookup quota, risk lists read from
//! XLSX files with title rows and two sheets, and `clever check` / `clever risk-lists` with
//! their exit statuses.

use cleverplatform::counterparty::check::{CheckRequest, CheckResult, CheckSettings, Checker};
use cleverplatform::counterparty::sources::{SourceSettings, SourceStatus};
use cleverplatform::license::state::LicenseState;
use cleverplatform::license::sync::Licence;
use cleverplatform::store::{Location, Store};
use std::path::Path;
use std::process::Output;
use std::time::Duration;

#[path = "common/vendor.rs"]
mod vendor;

const ALTYN: &str = "090440526015"; // ТОО "Алтын Дала Агро", registered 14.04.2009
const ENTREPRENEUR: &str = "850314302684";
const BUSY: &str = "140440223300"; // answers 429
const DOWN: &str = "140540792448"; // answers 500
const FRESH: &str = "250140752912"; // registered 20 days ago
const LIQUIDATED: &str = "070940971146";
const UNKNOWN: &str = "940140000385"; // valid, in no registry

/// The registry emulator and a workspace on a real SQLite file, kept alive together.
struct Setup {
    _sandbox: cleverplatform::sandbox::Running,
    _dir: tempfile::TempDir,
    base: String,
    store: Store,
}

async fn setup() -> Setup {
    let sandbox =
        cleverplatform::sandbox::start("127.0.0.1:0".parse().unwrap(), Default::default())
            .await
            .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&Location::File(dir.path().join("clever.db")))
        .await
        .unwrap();
    Setup {
        base: sandbox.base_url(),
        _sandbox: sandbox,
        _dir: dir,
        store,
    }
}

fn settings(base: &str, egov_key: Option<&str>) -> CheckSettings {
    CheckSettings {
        stat_url: base.into(),
        egov_url: base.into(),
        egov_api_key: egov_key.map(str::to_string),
        sources: SourceSettings {
            timeout: Duration::from_secs(5),
            retries: 1,
            backoff: Duration::from_millis(1),
        },
        ..CheckSettings::default()
    }
}

fn licence(
    state: LicenseState,
    lookups_per_day: Option<u64>,
) -> tokio::sync::watch::Receiver<Licence> {
    let limits = vendor::Limits {
        lookups_per_day,
        ..Default::default()
    };
    tokio::sync::watch::channel(vendor::licence(state, limits)).1
}

async fn check(c: &Checker, input: &str) -> CheckResult {
    c.check(&CheckRequest {
        input,
        offline: false,
        country: None,
        actor: "tester",
    })
    .await
    .unwrap()
}

fn source<'a>(
    r: &'a CheckResult,
    name: &str,
) -> &'a cleverplatform::counterparty::check::SourceReport {
    r.sources
        .iter()
        .find(|s| s.source.starts_with(name))
        .unwrap_or_else(|| panic!("no source {name} in {r:#?}"))
}

async fn requests(base: &str) -> (u64, u64) {
    let v: serde_json::Value = reqwest::get(format!("{base}/_sandbox/registry"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    (v["stat"].as_u64().unwrap(), v["egov"].as_u64().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registries_answer_in_their_real_shapes_and_are_kept() {
    let w = setup().await;
    let (base, store) = (w.base.clone(), w.store.clone());
    let c = Checker::new(store.clone(), settings(&base, Some("demo-key")), None).unwrap();

    let r = check(&c, "0904 4052 6015").await;
    assert!(r.valid);
    let co = r.company.as_ref().unwrap();
    assert_eq!(co.name.as_deref(), Some("ТОО \"Алтын Дала Агро\""));
    // The bureau writes 2009-04-13T18:00Z: Almaty's midnight of the 14th.
    assert_eq!(co.registered.unwrap().to_string(), "2009-04-14");
    assert_eq!(
        co.status.as_deref(),
        Some("Зарегистрирован"),
        "the register's status"
    );
    assert_eq!(co.activity_code.as_deref(), Some("01110"));
    assert_eq!(source(&r, "stat").status, SourceStatus::Ok);
    assert_eq!(source(&r, "data.egov").status, SourceStatus::Ok);
    assert!(r.flags.is_empty(), "{:?}", r.flags);
    assert_eq!(requests(&base).await, (1, 1));

    // Asked again: from the cache, the registries not asked.
    let again = check(&c, ALTYN).await;
    assert!(source(&again, "stat").cached);
    assert_eq!(again.company, r.company);
    assert_eq!(requests(&base).await, (1, 1));

    // An entrepreneur: ip:true, no registration date; the register does not hold them.
    let ip = check(&c, ENTREPRENEUR).await;
    let co = ip.company.as_ref().unwrap();
    assert!(co.entrepreneur && co.registered.is_none());
    assert_eq!(source(&ip, "data.egov").status, SourceStatus::NotFound);

    // A valid number nobody registered.
    let none = check(&c, UNKNOWN).await;
    assert!(none.company.is_none());
    assert_eq!(source(&none, "stat").status, SourceStatus::NotFound);
    assert!(
        none.summary.contains("not in the registries"),
        "{}",
        none.summary
    );

    // 429: rate limited, not retried and not kept. 500: retried, then unavailable.
    let before = requests(&base).await;
    let busy = check(&c, BUSY).await;
    assert_eq!(source(&busy, "stat").status, SourceStatus::RateLimited);
    let down = check(&c, DOWN).await;
    assert_eq!(source(&down, "stat").status, SourceStatus::Unavailable);
    assert!(
        down.summary.contains("not checked: stat.gov.kz"),
        "{}",
        down.summary
    );
    let after = requests(&base).await;
    assert_eq!(
        after.0 - before.0,
        1 + 2,
        "one try for the 429, two for the 500"
    );
    check(&c, BUSY).await;
    assert_eq!(requests(&base).await.0, after.0 + 1, "a 429 is not kept");

    // Registered 20 days ago: amber. Liquidated in the register: red.
    let fresh = check(&c, FRESH).await;
    assert!(
        fresh.flags.iter().any(|f| f.code == "RECENTLY_REGISTERED"),
        "{:?}",
        fresh.flags
    );
    let gone = check(&c, LIQUIDATED).await;
    assert_eq!(gone.flags[0].code, "LIQUIDATED");

    // Offline: nothing asked, every registry "not checked".
    let before = requests(&base).await;
    let off = c
        .check(&CheckRequest {
            input: UNKNOWN,
            offline: true,
            country: None,
            actor: "tester",
        })
        .await
        .unwrap();
    assert_eq!(source(&off, "stat").status, SourceStatus::Skipped);
    assert_eq!(requests(&base).await, before);

    // The history holds every check; the audit log masks the IIN.
    assert_eq!(store.count_lookups(None).await.unwrap(), 10);
    assert_eq!(store.count_lookups(Some("Алтын")).await.unwrap(), 2);
    let mut audit = Vec::new();
    for id in 1..=10 {
        for e in store.audit_for("lookup", &id.to_string(), 5).await.unwrap() {
            assert_eq!(
                (e.action.as_str(), e.actor.as_str()),
                ("counterparty.check", "tester")
            );
            audit.push(e.detail);
        }
    }
    assert_eq!(audit.len(), 10);
    assert!(audit.iter().any(|d| d.contains("********2684")));
    assert!(!audit.iter().any(|d| d.contains(ENTREPRENEUR)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_or_refused_key_is_said_and_the_bureau_still_answers() {
    let w = setup().await;
    let (base, s) = (w.base.clone(), w.store.clone());
    let c = Checker::new(s.clone(), settings(&base, None), None).unwrap();
    let r = check(&c, ALTYN).await;
    assert_eq!(source(&r, "data.egov").status, SourceStatus::NoKey);
    assert!(
        source(&r, "data.egov")
            .message
            .as_deref()
            .unwrap()
            .contains("egov_api_key")
    );
    assert_eq!(source(&r, "stat").status, SourceStatus::Ok);
    assert_eq!(
        r.company.as_ref().unwrap().status,
        None,
        "no status without the register"
    );

    let c = Checker::new(s, settings(&base, Some("revoked-2025")), None).unwrap();
    let r = check(&c, LIQUIDATED).await;
    let egov = source(&r, "data.egov");
    assert_eq!(egov.status, SourceStatus::Error);
    assert!(
        egov.message
            .as_deref()
            .unwrap()
            .contains("refused the API key")
    );
    assert!(r.flags.iter().all(|f| f.code != "LIQUIDATED"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_licence_gates_lookups_and_counts_them_per_day() {
    let w = setup().await;
    let (base, s) = (w.base.clone(), w.store.clone());

    // Not activated: validation only, no registry asked.
    let c = Checker::new(
        s.clone(),
        settings(&base, Some("k")),
        Some(licence(LicenseState::Unlicensed, None)),
    )
    .unwrap();
    let r = check(&c, ALTYN).await;
    assert!(r.valid);
    assert_eq!(source(&r, "stat").status, SourceStatus::Skipped);
    assert!(
        source(&r, "stat")
            .message
            .as_deref()
            .unwrap()
            .contains("does not allow")
    );
    assert_eq!(requests(&base).await, (0, 0));

    // Two lookups a day: the third number is not asked; kept answers still show.
    let c = Checker::new(
        s.clone(),
        settings(&base, Some("k")),
        Some(licence(LicenseState::Active, Some(2))),
    )
    .unwrap();
    check(&c, ALTYN).await;
    check(&c, ENTREPRENEUR).await;
    let third = check(&c, FRESH).await;
    assert_eq!(source(&third, "stat").status, SourceStatus::RateLimited);
    assert!(
        source(&third, "stat")
            .message
            .as_deref()
            .unwrap()
            .contains("2 lookups a day")
    );
    let kept = check(&c, ALTYN).await;
    assert_eq!(source(&kept, "stat").status, SourceStatus::Ok);
    assert!(source(&kept, "stat").cached);
    assert_eq!(requests(&base).await.0, 2);
    // Without a register key the register says so, whatever the quota.
    let c = Checker::new(
        s.clone(),
        settings(&base, None),
        Some(licence(LicenseState::Active, Some(2))),
    )
    .unwrap();
    let r = check(&c, LIQUIDATED).await;
    assert_eq!(source(&r, "stat").status, SourceStatus::RateLimited);
    assert_eq!(source(&r, "data.egov").status, SourceStatus::NoKey);
}

// ----- risk lists and the command line -----

fn clever(home: &Path, args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_clever"))
        .env_clear()
        .env("HOME", home)
        .env("LANG", "C.UTF-8")
        .arg("--data-dir")
        .arg(home.join("d"))
        .arg("--config")
        .arg(home.join("config.toml"))
        .args(args)
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A bankrupt list as published: a title, an "as of" line, a header on the fourth row,
/// numbered rows, a totals line; BINs as text on one sheet and as numbers (leading zero
/// lost) on the other; dates as Excel dates and as text.
fn bankrupt_xlsx(path: &Path, bins: &[&str]) {
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
    let mut book = Workbook::new();
    let date = Format::new().set_num_format("dd.mm.yyyy");
    for (n, sheet) in ["2025", "2026"].iter().enumerate() {
        let ws = book.add_worksheet();
        ws.set_name(*sheet).unwrap();
        ws.write_string(0, 0, "Список налогоплательщиков, признанных банкротами")
            .unwrap();
        ws.write_string(1, 0, "по состоянию на 01.11.2026").unwrap();
        for (c, h) in [
            "№ п/п",
            "БИН",
            "Наименование",
            "ИИН руководителя",
            "Номер решения суда",
            "Дата решения суда",
        ]
        .iter()
        .enumerate()
        {
            ws.write_string(3, c as u16, *h).unwrap();
        }
        for (i, bin) in bins.iter().enumerate().filter(|(i, _)| i % 2 == n) {
            let r = 4 + i as u32;
            ws.write_number(r, 0, (i + 1) as f64).unwrap();
            if n == 0 {
                ws.write_string(r, 1, *bin).unwrap();
                ws.write_datetime_with_format(
                    r,
                    5,
                    ExcelDateTime::from_ymd(2025, 3, 5).unwrap(),
                    &date,
                )
                .unwrap();
            } else {
                ws.write_number(r, 1, bin.parse::<f64>().unwrap()).unwrap();
                ws.write_string(r, 5, "06.02.2026").unwrap();
            }
            ws.write_string(r, 2, format!("ТОО {i}")).unwrap();
            ws.write_string(r, 3, "911105302575").unwrap();
            ws.write_string(r, 4, format!("2-{i}/2025")).unwrap();
        }
        ws.write_string(20, 1, "Итого").unwrap();
        ws.write_string(21, 1, "12345").unwrap();
    }
    book.save(path).unwrap();
}

#[test]
fn risk_lists_are_imported_from_xlsx_and_flag_checks() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let file = h.join("bankrupts-2026.xlsx");
    bankrupt_xlsx(&file, &[ALTYN, "050440366718", "180840276849"]);

    let out = clever(
        h,
        &["risk-lists", "import", file.to_str().unwrap(), "--json"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let imported = &v["imported"][0];
    assert_eq!(imported["list"], "BANKRUPT", "guessed from the title");
    assert_eq!(imported["rows"], 3);
    assert_eq!(imported["sheets"], serde_json::json!(["2025", "2026"]));
    assert_eq!(
        imported["skipped"].as_array().unwrap().len(),
        2,
        "the short number on each sheet"
    );

    // 050440366718 was stored as a number on the second sheet: its leading zero is back.
    let out = clever(h, &["check", "050440366718", "--offline", "--json"]);
    assert_eq!(out.status.code(), Some(0));
    let r: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let flag = &r["flags"][0];
    assert_eq!(
        (flag["code"].as_str(), flag["level"].as_str()),
        (Some("BANKRUPT"), Some("red"))
    );
    assert_eq!(flag["decision"], "2-1/2025");
    assert_eq!(flag["date"], "2026-02-06");
    assert_eq!(flag["as_of"], "2026-11-01", "the file's own as-of date");
    let risk = r["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["source"] == "kgd.gov.kz risk lists")
        .unwrap();
    assert_eq!(risk["status"], "ok");
    assert!(
        risk["message"].as_str().unwrap().contains("PSEUDO_COMPANY"),
        "lists not imported are named"
    );

    // The first sheet's Excel date.
    let r: serde_json::Value = serde_json::from_str(&stdout(&clever(
        h,
        &["check", ALTYN, "--offline", "--json"],
    )))
    .unwrap();
    assert_eq!(r["flags"][0]["date"], "2025-03-05");

    // A new file replaces the list whole.
    bankrupt_xlsx(&file, &["180840276849"]);
    assert!(
        clever(
            h,
            &[
                "risk-lists",
                "import",
                file.to_str().unwrap(),
                "--list",
                "bankrupt"
            ]
        )
        .status
        .success()
    );
    let r: serde_json::Value = serde_json::from_str(&stdout(&clever(
        h,
        &["check", ALTYN, "--offline", "--json"],
    )))
    .unwrap();
    assert!(r["flags"].as_array().unwrap().is_empty(), "{r}");
    let status: serde_json::Value =
        serde_json::from_str(&stdout(&clever(h, &["risk-lists", "status", "--json"]))).unwrap();
    assert_eq!(status["lists"][0]["entries"], 1);
    assert_eq!(status["missing"].as_array().unwrap().len(), 6);

    // Mistakes: a list that does not exist (usage, 2), a file that is not a spreadsheet or
    // has no BIN column (1), a file whose list cannot be told (2). Nothing is changed.
    let out = clever(
        h,
        &[
            "risk-lists",
            "import",
            file.to_str().unwrap(),
            "--list",
            "nope",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("PSEUDO_COMPANY"));
    let text = h.join("list.xlsx");
    std::fs::write(&text, "БИН;Имя\n").unwrap();
    let out = clever(
        h,
        &[
            "risk-lists",
            "import",
            text.to_str().unwrap(),
            "--list",
            "INACTIVE",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("cannot read"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let unnamed = h.join("export.xlsx");
    {
        let mut book = rust_xlsxwriter::Workbook::new();
        let ws = book.add_worksheet();
        ws.write_string(0, 0, "БИН").unwrap();
        ws.write_string(1, 0, ALTYN).unwrap();
        book.save(&unnamed).unwrap();
    }
    let out = clever(h, &["risk-lists", "import", unnamed.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("give --list"));
    let status: serde_json::Value =
        serde_json::from_str(&stdout(&clever(h, &["risk-lists", "status", "--json"]))).unwrap();
    assert_eq!(status["lists"][0]["entries"], 1, "unchanged");
}

#[test]
fn check_says_valid_invalid_or_usage_by_its_exit_status() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let out = clever(h, &["check", "911105302575", "--json", "--offline"]);
    assert_eq!(out.status.code(), Some(0));
    let r: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    for key in [
        "input",
        "normalized",
        "kind",
        "valid",
        "errors",
        "warnings",
        "decoded",
        "sources",
        "flags",
    ] {
        assert!(r.get(key).is_some(), "{key} missing from {r}");
    }
    assert_eq!(r["kind"], "kz_iin");
    assert_eq!(r["decoded"]["probable_birth_date"], "1991-11-05");

    let out = clever(h, &["check", "821214240092"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("INVALID"));

    assert_eq!(clever(h, &["check"]).status.code(), Some(2));
    assert_eq!(
        clever(h, &["check", "1", "--country", "XX"]).status.code(),
        Some(2)
    );
    assert_eq!(
        clever(h, &["check", "--file", "/nonexistent"])
            .status
            .code(),
        Some(2)
    );

    // A 12-digit RU INN read in Russia.
    let out = clever(h, &["check", "526317984689", "--country", "RU", "--json"]);
    let r: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(
        (r["kind"].as_str(), r["valid"].as_bool()),
        (Some("ru_inn"), Some(true))
    );

    let list = h.join("ids.txt");
    std::fs::write(
        &list,
        "# counterparties\n940140000385\n\n940140000380\nKZ86125KZT5004100100\n",
    )
    .unwrap();
    let out = clever(
        h,
        &[
            "check",
            "--file",
            list.to_str().unwrap(),
            "--json",
            "--offline",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "one is invalid");
    let lines: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(
        lines
            .iter()
            .map(|l| l["valid"].as_bool().unwrap())
            .collect::<Vec<_>>(),
        [true, false, true]
    );
    assert_eq!(lines[2]["kind"], "iban");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn risk_lists_are_downloaded_from_an_address() {
    let w = setup().await;
    let base = w.base.clone();
    let home = tempfile::tempdir().unwrap();
    let h = home.path().to_path_buf();
    tokio::task::spawn_blocking(move || {
        let url = format!("{base}/_sandbox/risk-lists/bankrupt.xlsx");
        let out = clever(&h, &["risk-lists", "import", &url, "--json"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
        assert_eq!(v["imported"][0]["list"], "BANKRUPT");
        assert_eq!(v["imported"][0]["rows"], 2);
        assert_eq!(v["imported"][0]["files"][0], url.as_str());
        // The downloaded copy is kept.
        let kept: Vec<_> = std::fs::read_dir(h.join("d/risk-lists"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .collect();
        assert!(
            kept.iter().any(|n| n.ends_with("-bankrupt.xlsx")),
            "{kept:?}"
        );
        // An address that is not there: said, nothing changed.
        let out = clever(
            &h,
            &[
                "risk-lists",
                "import",
                &format!("{base}/_sandbox/risk-lists/none.xlsx"),
            ],
        );
        assert_eq!(out.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&out.stderr).contains("404"));
        let status: serde_json::Value =
            serde_json::from_str(&stdout(&clever(&h, &["risk-lists", "status", "--json"])))
                .unwrap();
        assert_eq!(status["lists"][0]["entries"], 2);
    })
    .await
    .unwrap();
}
