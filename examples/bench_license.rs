//! Licensing figures: verifying a licence key and a lease (the console does both at start and
//! before every send batch), and heartbeats a second through the licence server.
//!
//! Run: `cargo build --release && cargo run --release --example bench_license`. The server
//! runs as `target/release/clever-license-server serve` in its own process; `wrk`
//! (`apt-get install wrk`) posts one machine's heartbeat to it for 5 s over 32 connections.

use cleverplatform::license::fingerprint::Fingerprint;
use cleverplatform::license::key::{self, KeyPayload};
use cleverplatform::license::lease::{self, Lease, LeaseStatus, Tariff};
use std::io::BufRead;
use std::time::Instant;

const BIN: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/target/release/clever-license-server"
);

fn per_op(n: u32, mut f: impl FnMut()) -> f64 {
    for _ in 0..n / 10 {
        f();
    }
    let t = Instant::now();
    for _ in 0..n {
        f();
    }
    t.elapsed().as_secs_f64() / f64::from(n) * 1e6
}

fn server(dir: &std::path::Path, args: &[&str]) -> String {
    let out = std::process::Command::new(BIN)
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .output()
        .expect("build the release binaries first: cargo build --release");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn main() {
    // Verification, in this process.
    let signing = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
    let trusted = [signing.verifying_key()];
    let k = key::issue(
        &KeyPayload {
            license_id: "lic_0123456789abcdef".into(),
            tariff: "Business".into(),
            issued_at: chrono::Utc::now(),
            email: "ops@example.kz".into(),
        },
        &signing,
    );
    let now = chrono::Utc::now();
    let l = Lease {
        license_id: "lic_0123456789abcdef".into(),
        fingerprint: Fingerprint("ab".repeat(32)),
        status: LeaseStatus::Active,
        tariff: Tariff {
            name: "Business".into(),
            accounts: Some(5),
            messages_per_day: Some(50_000),
            lookups_per_day: Some(500),
            machines: 1,
        },
        paid_until: now,
        auto_renew: true,
        issued_at: now,
        valid_until: now,
        nonce: "0123456789abcdef0123456789abcdef".into(),
    };
    let lease_text = serde_json::to_string(&lease::sign(&l, &signing)).unwrap();
    let key_us = per_op(20_000, || {
        key::parse(&k, &trusted).unwrap();
    });
    let lease_us = per_op(20_000, || {
        lease::parse(&lease_text, &trusted).unwrap();
    });
    println!("licence key verification: {key_us:.1} µs per key");
    println!("lease verification (signature + JSON): {lease_us:.1} µs per lease");

    // Heartbeats through the server, in its own process.
    let dir = tempfile::tempdir().unwrap();
    let public = server(dir.path(), &["init"]);
    server(
        dir.path(),
        &[
            "tariff",
            "add",
            "Business",
            "--machines",
            "1",
            "--messages-per-day",
            "50000",
        ],
    );
    let lic_key = server(
        dir.path(),
        &["issue", "--tariff", "Business", "--email", "b@example.kz"],
    );
    let mut child = std::process::Command::new(BIN)
        .arg("--data-dir")
        .arg(dir.path())
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut base = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut base)
        .unwrap();
    let base = base.trim().to_string();
    let fingerprint = "cd".repeat(32);
    let body = serde_json::json!({
        "key": lic_key, "fingerprint": fingerprint, "hostname": "bench", "nonce": "n",
    })
    .to_string();
    // One activation, so the machine's heartbeats are answered.
    let status = std::process::Command::new("curl")
        .args(["-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST"])
        .args(["-H", "content-type: application/json", "-d", &body])
        .arg(format!("{base}/v1/activate"))
        .output();
    match status {
        Ok(o) if String::from_utf8_lossy(&o.stdout) == "200" => {}
        other => panic!("activation failed (needs curl): {other:?}"),
    }
    let script = std::env::temp_dir().join("clever-wrk-heartbeat.lua");
    std::fs::write(
        &script,
        format!(
            "wrk.method = \"POST\"\nwrk.headers[\"Content-Type\"] = \"application/json\"\nwrk.body = '{body}'\n"
        ),
    )
    .unwrap();
    match std::process::Command::new("wrk")
        .args(["-t2", "-c32", "-d5s", "-s"])
        .arg(&script)
        .arg(format!("{base}/v1/heartbeat"))
        .output()
    {
        Ok(out) => {
            let text = String::from_utf8_lossy(&out.stdout);
            for line in text.lines() {
                if line.contains("Requests/sec")
                    || line.contains("Non-2xx")
                    || line.contains("Latency")
                {
                    println!("heartbeats, wrk -t2 -c32 -d5s: {}", line.trim());
                }
            }
        }
        Err(e) => println!("wrk is not installed ({e}); apt-get install wrk"),
    }
    let _ = child.kill();
    let _ = child.wait();
    let _ = public;
}
