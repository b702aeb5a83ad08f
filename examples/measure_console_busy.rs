//! Measures the console while its own engine sends at an account's highest rate: how long a
//! key takes to show on screen, the rate the campaign keeps, and the console's CPU.
//!
//! Run: `cargo build --release && cargo run --release --example measure_console_busy -- [N] [SECS]`
//! (N subscribers, default 100 000; SECS of key presses, default 20). The workspace is made
//! with the command line (`subscribers import`, `accounts add --rate 1000`, `campaigns
//! create|start`) against `clever sandbox serve` in its own process, then the console runs
//! in a pseudo-terminal (120×36) on the Campaigns pane with the campaign's detail open. Every
//! 250 ms it switches between the Subscribers and Campaigns panes; the latency is from
//! writing the key to reading the new pane's title in the console's output. With a third
//! argument `headless`, the same campaign runs under `clever run` instead, for comparison.

use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[path = "support/mod.rs"]
mod support;

const BIN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/target/release/clever");

fn clever(dir: &std::path::Path, args: &[&str]) -> String {
    let out = std::process::Command::new(BIN)
        .arg("--data-dir")
        .arg(dir)
        .arg("--config")
        .arg(dir.join("config.toml"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "clever {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn sent(dir: &std::path::Path) -> i64 {
    let v: serde_json::Value =
        serde_json::from_str(&clever(dir, &["campaigns", "status", "Busy", "--json"])).unwrap();
    v["counts"]["sent"].as_i64().unwrap_or(0)
}

fn clock_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or_default();
    let f: Vec<&str> = after.split_whitespace().collect();
    f.get(11).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0)
        + f.get(12).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0)
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100_000);
    let secs: u64 = std::env::args()
        .nth(2)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20);
    let (server, base) = support::emulator();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let csv = dir.join("s.csv");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&csv).unwrap());
    writeln!(f, "phone,name,consent").unwrap();
    for i in 0..n {
        writeln!(f, "+7702{i:06}5,Клиент {i},yes").unwrap();
    }
    f.flush().unwrap();
    drop(f);
    clever(
        dir,
        &[
            "subscribers",
            "import",
            &csv.display().to_string(),
            "--list",
            "L",
        ],
    );
    std::fs::write(dir.join("token"), "EAAGbusy").unwrap();
    clever(
        dir,
        &[
            "accounts",
            "add",
            "--channel",
            "whatsapp",
            "--name",
            "WA",
            "--token-file",
            &dir.join("token").display().to_string(),
            "--phone-number-id",
            "106540352242922",
            "--base-url",
            &base,
            "--rate",
            "1000",
            "--wa-tier",
            "100000",
        ],
    );
    clever(
        dir,
        &[
            "campaigns",
            "create",
            "--name",
            "Busy",
            "--list",
            "L",
            "--account",
            "WA",
            "--wa-template",
            "promo",
            "--wa-lang",
            "ru",
            "--wa-param",
            "name",
        ],
    );
    clever(dir, &["campaigns", "start", "Busy"]);
    eprintln!("workspace ready: {n} subscribers, campaign started");
    if std::env::args().nth(3).as_deref() == Some("headless") {
        // The same campaign under `clever run`, for comparison.
        let mut run = std::process::Command::new(BIN)
            .arg("--data-dir")
            .arg(dir)
            .arg("--config")
            .arg(dir.join("config.toml"))
            .arg("run")
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_secs(3));
        let (sent0, ticks0, began) = (sent(dir), clock_ticks(run.id()), Instant::now());
        std::thread::sleep(Duration::from_secs(secs));
        let elapsed = began.elapsed().as_secs_f64();
        let (sent1, ticks) = (sent(dir), clock_ticks(run.id()) - ticks0);
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &run.id().to_string()])
            .status();
        let _ = run.wait();
        drop(server);
        println!(
            "clever run: {:.0} msg/s (account limit 1000), {:.0}% of one core",
            (sent1 - sent0) as f64 / elapsed,
            ticks as f64 / elapsed
        );
        return;
    }

    let (pair, cmd) = support::console_in_pty(BIN, dir, &[]);
    let mut child = pair.slave.spawn_command(cmd).unwrap();
    drop(pair.slave);
    let pid = child.process_id().unwrap();
    let mut reader = pair.master.try_clone_reader().unwrap();
    let mut writer = pair.master.take_writer().unwrap();
    let seen = Arc::new(Mutex::new(Vec::<u8>::new()));
    let sink = seen.clone();
    std::thread::spawn(move || {
        let _master = pair.master;
        let mut buf = [0u8; 65536];
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 {
                break;
            }
            sink.lock().unwrap().extend_from_slice(&buf[..n]);
        }
    });
    let wait_for = |from: usize, text: &str, limit: Duration| -> Option<Duration> {
        let began = Instant::now();
        while began.elapsed() < limit {
            {
                let s = seen.lock().unwrap();
                if String::from_utf8_lossy(&s[from.min(s.len())..]).contains(text) {
                    return Some(began.elapsed());
                }
            }
            std::thread::sleep(Duration::from_micros(200));
        }
        None
    };
    wait_for(0, "Accounts · ", Duration::from_secs(30)).expect("the console drew nothing");
    writer.write_all(b"3").unwrap();
    std::thread::sleep(Duration::from_millis(300));
    writer.write_all(b"\r").unwrap();
    // Let the engine get going.
    std::thread::sleep(Duration::from_secs(3));

    let sent0 = sent(dir);
    let ticks0 = clock_ticks(pid);
    let began = Instant::now();
    let mut latencies = Vec::new();
    let mut missed = 0;
    let mut to_subscribers = true;
    while began.elapsed() < Duration::from_secs(secs) {
        let (key, title) = if to_subscribers {
            (b"2", "Subscribers · ")
        } else {
            (b"3", "Campaigns · ")
        };
        let from = seen.lock().unwrap().len();
        let t = Instant::now();
        writer.write_all(key).unwrap();
        match wait_for(from, title, Duration::from_secs(2)) {
            Some(_) => latencies.push(t.elapsed()),
            None => missed += 1,
        }
        to_subscribers = !to_subscribers;
        std::thread::sleep(Duration::from_millis(250));
    }
    let elapsed = began.elapsed().as_secs_f64();
    let ticks = clock_ticks(pid) - ticks0;
    let sent1 = sent(dir);
    writer.write_all(b"\x03").unwrap();
    let _ = child.wait();
    drop(server);

    latencies.sort();
    let pct = |p: f64| {
        latencies
            .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
            .map_or(0.0, |d| d.as_secs_f64() * 1e3)
    };
    println!(
        "key to frame while sending, {} presses: median {:.1} ms, p95 {:.1} ms, max {:.1} ms; missed (over 2 s): {missed}",
        latencies.len(),
        pct(0.5),
        pct(0.95),
        latencies.last().map_or(0.0, |d| d.as_secs_f64() * 1e3)
    );
    println!(
        "campaign rate meanwhile: {:.0} msg/s (account limit 1000); console CPU (engine included): {:.0}% of one core",
        (sent1 - sent0) as f64 / elapsed,
        ticks as f64 / elapsed
    );
}
