//! Licensing end to end over real loopback HTTP: the vendor's server (its own SQLite file)
//! issues a key; `clever license activate`, `sync` and `deactivate` bind and free seats; the
//! vendor's suspend, reinstate and block reach the console with the next sync; a second
//! machine is refused while the seat is taken; an offline request is answered by
//! `clever-license-server activate-offline` and installed.

use cleverplatform::license_server::store::{ServerStore, TariffRow};
use cleverplatform::license_server::{self, ServerOptions};
use std::path::Path;

#[path = "common/vendor.rs"]
mod vendor;
use std::process::Output;
use vendor::{Vendor, vendor};

struct Machine {
    home: tempfile::TempDir,
    base: String,
    trusted: String,
}

impl Machine {
    fn new(base: &str, trusted: &str, id: &str) -> Machine {
        let home = tempfile::tempdir().unwrap();
        std::fs::write(home.path().join("machine-id"), format!("{id}\n")).unwrap();
        Machine {
            home,
            base: base.into(),
            trusted: trusted.into(),
        }
    }

    fn clever(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    /// `clever` on this machine's workspace, not yet run.
    fn command(&self, args: &[&str]) -> std::process::Command {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_clever"));
        c.env_clear()
            .env("HOME", self.home.path())
            .env("LANG", "C.UTF-8")
            .env("CLEVER_LICENSE_SERVER", &self.base)
            .env("CLEVER_LICENSE_TRUSTED_KEYS", &self.trusted)
            .arg("--data-dir")
            .arg(self.home.path().join("d"))
            .arg("--machine-id-file")
            .arg(self.home.path().join("machine-id"))
            .args(args);
        c
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.clever(args);
        assert!(
            out.status.success(),
            "clever {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn fails(&self, args: &[&str]) -> String {
        let out = self.clever(args);
        assert_eq!(out.status.code(), Some(1), "clever {args:?} should fail");
        String::from_utf8_lossy(&out.stderr).into_owned()
    }

    fn state(&self) -> serde_json::Value {
        serde_json::from_str(&self.ok(&["license", "status", "--json"])).unwrap()
    }
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.unwrap()
}

fn server_cli(dir: &Path, args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_clever-license-server"))
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .output()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn machines_are_activated_synced_and_freed_against_the_server() {
    let vendor = tempfile::tempdir().unwrap();
    let store = ServerStore::open(vendor.path()).await.unwrap();
    let public = store.create_signing_key().unwrap();
    assert!(
        store.create_signing_key().is_err(),
        "a signing key is never replaced"
    );
    store
        .put_tariff(&TariffRow {
            code: "business".into(),
            name: "Business".into(),
            accounts: Some(5),
            messages_per_day: Some(50_000),
            lookups_per_day: Some(500),
            machines: 1,
            period_days: 30,
            price: 25_000,
        })
        .await
        .unwrap();
    let (licence, mail) = store
        .issue("business", "ops@example.kz", None)
        .await
        .unwrap();
    let mail = std::fs::read_to_string(mail).unwrap();
    assert!(mail.contains("To: ops@example.kz") && mail.contains(&licence.key));
    let server = license_server::start(
        store.clone(),
        "127.0.0.1:0".parse().unwrap(),
        ServerOptions::default(),
    )
    .await
    .unwrap();
    let base = server.base_url();

    let a = Machine::new(&base, &public, "4c4c4544003910808033b4c04f4e4d32");
    let b = Machine::new(&base, &public, "9f86d081884c7d659a2feaa0c55ad015");
    let key = licence.key.clone();
    let (a, b) = blocking(move || {
        let out = a.ok(&["license", "activate", &key]);
        assert!(out.contains(": active"), "{out}");
        let s = a.state();
        assert_eq!(s["state"], "active");
        assert_eq!(s["tariff"]["messages_per_day"], 50_000);
        assert_eq!(s["allows"]["send"], true);
        // Activating again on the same machine keeps the one seat.
        a.ok(&["license", "activate", &key]);
        a.ok(&["license", "sync"]);
        // The seat is taken: a second machine is refused, with what to do.
        let e = b.fails(&["license", "activate", &key]);
        assert!(e.contains("deactivate one"), "{e}");
        (a, b)
    })
    .await;
    assert_eq!(
        store.license(&licence.id).await.unwrap().unwrap().machines,
        1
    );

    // The vendor suspends (a failed payment): the next sync says so; reinstating restores.
    store
        .set_status(&licence.id, "suspended", Some("payment failed"))
        .await
        .unwrap();
    let a = blocking(move || {
        a.ok(&["license", "sync"]);
        let s = a.state();
        assert_eq!(s["state"], "suspended");
        assert_eq!(s["allows"]["send"], false);
        assert!(s["reason"].as_str().unwrap().contains("personal cabinet"));
        // Read-only: changes are refused with the reason; opt-outs and reading still work.
        let e = a.fails(&["lists", "create", "Autumn"]);
        assert!(
            e.contains("suspended") && e.contains("changing lists"),
            "{e}"
        );
        a.ok(&[
            "subscribers",
            "suppress",
            "+77010000001",
            "--channel",
            "whatsapp",
            "--reason",
            "asked",
        ]);
        a.ok(&["lists", "list"]);
        a
    })
    .await;
    store.set_status(&licence.id, "active", None).await.unwrap();
    let key = licence.key.clone();
    let b = blocking(move || {
        a.ok(&["license", "sync"]);
        assert_eq!(a.state()["state"], "active");
        a.ok(&["lists", "create", "Autumn"]);
        // Freeing the seat lets the other machine in.
        let e = a.fails(&["license", "deactivate"]);
        assert!(e.contains("--yes"), "{e}");
        a.ok(&["license", "deactivate", "--yes"]);
        assert_eq!(a.state()["state"], "not activated");
        let e = a.fails(&["license", "sync"]);
        assert!(e.contains("not activated"), "{e}");
        b.ok(&["license", "activate", &key]);
        assert_eq!(b.state()["state"], "active");
        b
    })
    .await;

    // Blocked for a violation: the lease says so.
    store
        .set_status(&licence.id, "blocked", Some("spam"))
        .await
        .unwrap();
    let b = blocking(move || {
        b.ok(&["license", "sync"]);
        let s = b.state();
        assert_eq!(s["state"], "blocked");
        assert_eq!(s["allows"]["send_sandbox"], false);
        b
    })
    .await;
    drop(b);

    // An air-gapped machine: request → the vendor's activate-offline → install.
    let (second, _) = store
        .issue("business", "branch@example.kz", Some(10))
        .await
        .unwrap();
    let c = Machine::new(
        "http://127.0.0.1:9",
        &public,
        "e3b0c44298fc1c149afbf4c8996fb924",
    );
    let dir = vendor.path().to_path_buf();
    blocking(move || {
        let request = c.ok(&["license", "request", &second.key]);
        let req_file = c.home.path().join("req.json");
        std::fs::write(&req_file, &request).unwrap();
        let out = server_cli(&dir, &["activate-offline", &req_file.display().to_string()]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let lease_file = c.home.path().join("lease.json");
        std::fs::write(&lease_file, &out.stdout).unwrap();
        let out = c.ok(&["license", "install", &lease_file.display().to_string()]);
        assert!(out.contains(": active"), "{out}");
        let s = c.state();
        assert_eq!(s["state"], "active");
        // Days paid: the issue's 10, not the tariff's 30.
        let paid: chrono::DateTime<chrono::Utc> =
            s["paid_until"].as_str().unwrap().parse().unwrap();
        assert!((paid - chrono::Utc::now()).num_days() <= 10);
        // The same request again takes no second seat (the machine is already bound).
        let out = server_cli(&dir, &["activate-offline", &req_file.display().to_string()]);
        assert!(out.status.success());
        // The server's listing shows both licences; `show` the machine and the audit trail.
        let out = server_cli(&dir, &["list", "--json"]);
        let all: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(all.as_array().unwrap().len(), 2);
        let out = server_cli(&dir, &["show", &second.key, "--json"]);
        let shown: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(shown["machines"].as_array().unwrap().len(), 1);
        let kinds: Vec<&str> = shown["audit"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["kind"].as_str().unwrap())
            .collect();
        assert_eq!(kinds, ["issued", "activated"]);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn activation_attempts_and_seat_cycling_are_limited() {
    // The folder is bound so it lives as long as the test.
    let Vendor {
        _dir: _folder,
        public,
        licence,
        server,
        ..
    } = vendor(
        None,
        ServerOptions {
            activations_per_hour: 3,
            deactivations_per_30_days: 1,
            ..ServerOptions::default()
        },
    )
    .await;
    let a = Machine::new(
        &server.base_url(),
        &public,
        "4c4c4544003910808033b4c04f4e4d32",
    );
    let key = licence.key.clone();
    blocking(move || {
        a.ok(&["license", "activate", &key]);
        a.ok(&["license", "deactivate", "--yes"]);
        a.ok(&["license", "activate", &key]);
        // One move in 30 days is all this server allows.
        let e = a.fails(&["license", "deactivate", "--yes"]);
        assert!(e.contains("30 days"), "{e}");
        a.ok(&["license", "activate", &key]);
        let e = a.fails(&["license", "activate", &key]);
        assert!(e.contains("too many activation attempts"), "{e}");
    })
    .await;
}

/// The tariff's accounts: real accounts beyond it are refused; sandbox accounts are free.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tariff_bounds_the_real_accounts() {
    // The folder is bound so it lives as long as the test.
    let Vendor {
        _dir: _folder,
        public,
        licence,
        server,
        ..
    } = vendor(Some(1), ServerOptions::default()).await;
    let a = Machine::new(
        &server.base_url(),
        &public,
        "4c4c4544003910808033b4c04f4e4d32",
    );
    blocking(move || {
        a.ok(&["license", "activate", &licence.key]);
        // Each bot its own token: one bot is one account.
        let add = |name: &str, bot: u32, extra: &[&str]| {
            let tok = a.home.path().join(format!("tok{bot}"));
            std::fs::write(&tok, format!("{bot}:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw")).unwrap();
            let tok = tok.display().to_string();
            let mut args = vec![
                "accounts",
                "add",
                "--channel",
                "telegram",
                "--name",
                name,
                "--token-file",
                &tok,
            ];
            args.extend_from_slice(extra);
            a.clever(&args)
        };
        // Real (https) accounts whose token check finds nothing listening, without the internet.
        let real = ["--base-url", "https://127.0.0.1:1"];
        assert!(add("Bot one", 123456781, &real).status.success());
        let second = add("Bot two", 123456782, &real);
        assert_eq!(second.status.code(), Some(1));
        let e = String::from_utf8_lossy(&second.stderr);
        assert!(e.contains("tariff allows 1 account"), "{e}");
        // A sandbox account does not count.
        assert!(
            add(
                "Sandbox bot",
                123456783,
                &["--base-url", "http://127.0.0.1:9"]
            )
            .status
            .success()
        );
    })
    .await;
}

/// A stored lease with one flipped byte, and a clock set back by a day: each makes the
/// licence invalid with the reason, and nothing is deleted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tampered_lease_or_a_clock_set_back_is_refused_and_kept() {
    // The folder is bound so it lives as long as the test.
    let Vendor {
        _dir: _folder,
        public,
        licence,
        server,
        ..
    } = vendor(None, ServerOptions::default()).await;
    let a = Machine::new(
        &server.base_url(),
        &public,
        "4c4c4544003910808033b4c04f4e4d32",
    );
    let a = blocking(move || {
        a.ok(&["license", "activate", &licence.key]);
        let path = a.home.path().join("d/license/lease.json");
        let good = std::fs::read_to_string(&path).unwrap();
        // One byte of the signed lease flipped.
        let v: serde_json::Value = serde_json::from_str(&good).unwrap();
        let mut lease = v["lease"].as_str().unwrap().to_string().into_bytes();
        lease[40] = if lease[40] == b'A' { b'B' } else { b'A' };
        let flipped = serde_json::json!({
            "lease": String::from_utf8(lease).unwrap(),
            "signature": v["signature"],
        });
        std::fs::write(&path, flipped.to_string()).unwrap();
        let s = a.state();
        assert_eq!(s["state"], "invalid");
        assert!(s["reason"].as_str().unwrap().contains("signature"), "{s}");
        assert_eq!(s["allows"]["send"], false);
        assert!(path.exists(), "nothing deleted");
        // The good lease back.
        std::fs::write(&path, &good).unwrap();
        assert_eq!(a.state()["state"], "active");
        a
    })
    .await;
    // A clock a day behind a time this workspace has already seen.
    let db = a.home.path().join("d/clever.db");
    let workspace = cleverplatform::store::Store::open(&cleverplatform::store::Location::File(db))
        .await
        .unwrap();
    let tomorrow = (chrono::Utc::now() + chrono::Duration::days(1)).to_rfc3339();
    workspace
        .set_setting("license.highest_seen", &tomorrow)
        .await
        .unwrap();
    workspace.close().await;
    blocking(move || {
        let s = a.state();
        assert_eq!(s["state"], "invalid");
        assert!(s["reason"].as_str().unwrap().contains("clock"), "{s}");
        assert!(
            a.home.path().join("d/license/lease.json").exists(),
            "nothing deleted"
        );
    })
    .await;
}

/// A lease from the real server ages on this machine: in grace once the server has not been
/// heard from for longer than a refresh, read-only (nothing sent through real accounts) past
/// its valid-until; and a clock turned back afterwards is caught.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lease_ages_into_grace_then_read_only() {
    use cleverplatform::license::state::LicenseState;
    let v = vendor(None, ServerOptions::default()).await;
    let m = Machine::new(
        &v.server.base_url(),
        &v.public,
        "4c4c4544003910808033b4c04f4e4d32",
    );
    let key = v.licence.key.clone();
    let m = blocking(move || {
        m.ok(&["license", "activate", &key]);
        m
    })
    .await;
    let data = m.home.path().join("d");
    let store = cleverplatform::store::Store::open(&cleverplatform::store::Location::File(
        data.join("clever.db"),
    ))
    .await
    .unwrap();
    let local = cleverplatform::license::local::Local {
        folder: data.join("license"),
        trusted: vec![cleverplatform::license::parse_public_key(&v.public).unwrap()],
        machine_id_file: Some(m.home.path().join("machine-id")),
        server_url: v.server.base_url(),
    };
    let now = chrono::Utc::now();
    let at = |hours: i64| now + chrono::Duration::hours(hours);
    assert_eq!(
        local.standing_at(&store, at(0)).await.unwrap().state,
        LicenseState::Active
    );
    // Five hours without the server: grace, everything still allowed, until valid-until.
    let grace = local.standing_at(&store, at(5)).await.unwrap().state;
    let LicenseState::Grace { until } = grace else {
        panic!("{grace:?}")
    };
    assert!((until - at(72)).num_minutes().abs() <= 1, "{until}");
    assert!(grace.allows().send && grace.allows().lookups);
    // Past the 72 hours of grace: read-only; nothing goes out through real accounts.
    let late = local.standing_at(&store, at(73)).await.unwrap().state;
    assert!(
        matches!(&late, LicenseState::Invalid { reason } if reason.contains("not been reached since")),
        "{late:?}"
    );
    let allows = late.allows();
    assert!(!allows.send && !allows.lookups && !allows.change && allows.send_sandbox);
    // Back to the real clock, after 73 hours were seen: a clock turned back.
    let back = local.standing_at(&store, at(0)).await.unwrap().state;
    assert!(
        matches!(&back, LicenseState::Invalid { reason } if reason.contains("clock")),
        "{back:?}"
    );
    // The files are kept whatever the state.
    assert!(local.lease_path().exists());
}

/// Another machine's lease copied over, another machine's answer installed as this one's,
/// and a 1 MB paste: each refused with the reason, the machine's own files kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leases_and_answers_of_other_machines_and_huge_pastes_are_refused() {
    let v = vendor(None, ServerOptions::default()).await;
    let base = v.server.base_url();
    let a = Machine::new(&base, &v.public, "4c4c4544003910808033b4c04f4e4d32");
    let b = Machine::new(&base, &v.public, "9f86d081884c7d659a2feaa0c55ad015");
    let key = v.licence.key.clone();
    blocking(move || {
        a.ok(&["license", "activate", &key]);
        let a_lease = a.home.path().join("d/license/lease.json");
        // B asks for an offline activation, then is handed A's lease.
        let request = b.ok(&["license", "request", &key]);
        assert!(request.contains("nonce"), "{request}");
        let e = b.fails(&["license", "install", a_lease.to_str().unwrap()]);
        assert!(e.contains("another machine") || e.contains("nonce"), "{e}");
        assert!(
            b.home.path().join("d/license/request.json").exists(),
            "the request is kept"
        );
        assert_eq!(b.state()["state"], "not activated");
        // A's lease file copied into B's folder: invalid, for another machine.
        std::fs::copy(&a_lease, b.home.path().join("d/license/lease.json")).unwrap();
        let s = b.state();
        assert_eq!(s["state"], "invalid");
        assert!(
            s["reason"].as_str().unwrap().contains("another machine"),
            "{s}"
        );
        assert_eq!(s["allows"]["send"], false);
        // A megabyte pasted as a key: refused at once, nothing sent to the server.
        let mut child = a
            .command(&["license", "activate", "-"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        {
            use std::io::Write;
            let mut stdin = child.stdin.take().unwrap();
            let _ = stdin.write_all(&vec![b'A'; 1 << 20]);
        }
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(1));
        let e = String::from_utf8_lossy(&out.stderr);
        assert!(e.contains("longer than any key"), "{e}");
        assert_eq!(
            a.state()["state"],
            "active",
            "the machine's licence is untouched"
        );
    })
    .await;
}

/// The vendor's private key never leaves the server: outside the licence server's own code,
/// nothing opens the signing key file or asks the server's store for the key.
#[test]
fn no_console_code_reads_the_signing_key() {
    fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    walk(&root.join("src"), &mut files);
    assert!(files.len() > 50);
    for f in files {
        let rel = f.strip_prefix(root).unwrap().to_string_lossy().to_string();
        if rel.starts_with("src/license_server/") || rel == "src/bin/clever-license-server.rs" {
            continue;
        }
        let text = std::fs::read_to_string(&f).unwrap();
        for needle in [
            "KEY_FILE",
            "signing.key",
            ".signing_key()",
            "create_signing_key",
        ] {
            assert!(!text.contains(needle), "{rel} mentions {needle}");
        }
    }
}
