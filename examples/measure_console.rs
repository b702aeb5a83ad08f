//! Measures the real console in a pseudo-terminal: time to the first frame and to the first
//! frame with data, resident memory, and CPU used while idle.
//!
//! Run: `cargo build --release && cargo run --release --example measure_console -- [IDLE_SECS]`
//! (IDLE_SECS defaults to 60). It uses `target/release/clever` on a demo workspace in a
//! temporary folder, seeded by a first run so the timed runs start warm.

use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[path = "support/mod.rs"]
mod support;

fn clock_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or_default();
    let fields: Vec<&str> = after.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of stat; after the comm they are 12 and 13.
    fields
        .get(11)
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(0)
        + fields
            .get(12)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

struct Run {
    first_output: Duration,
    first_data: Duration,
    pid: u32,
    writer: Box<dyn Write + Send>,
    child: Box<dyn portable_pty::Child + Send + Sync>,
}

fn start(bin: &str, dir: &std::path::Path) -> Run {
    let (pair, cmd) = support::console_in_pty(bin, dir, &["demo"]);
    let began = Instant::now();
    let child = pair.slave.spawn_command(cmd).unwrap();
    drop(pair.slave);
    let pid = child.process_id().unwrap();
    let mut reader = pair.master.try_clone_reader().unwrap();
    let writer = pair.master.take_writer().unwrap();
    let seen = Arc::new(Mutex::new((
        Vec::<u8>::new(),
        None::<Duration>,
        None::<Duration>,
    )));
    let sink = seen.clone();
    std::thread::spawn(move || {
        let _master = pair.master;
        let mut buf = [0u8; 8192];
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 {
                break;
            }
            let mut s = sink.lock().unwrap();
            s.0.extend_from_slice(&buf[..n]);
            if s.1.is_none() {
                s.1 = Some(began.elapsed());
            }
            if s.2.is_none() && String::from_utf8_lossy(&s.0).contains("SANDBOX") {
                s.2 = Some(began.elapsed());
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let (Some(a), Some(b)) = {
            let s = seen.lock().unwrap();
            (s.1, s.2)
        } {
            return Run {
                first_output: a,
                first_data: b,
                pid,
                writer,
                child,
            };
        }
        assert!(Instant::now() < deadline, "the console drew nothing");
        std::thread::sleep(Duration::from_millis(1));
    }
}

fn main() {
    let idle_secs: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(60);
    let bin = concat!(env!("CARGO_MANIFEST_DIR"), "/target/release/clever");
    let dir = tempfile::tempdir().unwrap();
    // Warm-up run: seeds the demo workspace and warms the page cache.
    let mut warm = start(bin, dir.path());
    warm.writer.write_all(b"\x03").unwrap();
    let _ = warm.child.wait();

    let mut firsts = Vec::new();
    let mut datas = Vec::new();
    for _ in 0..10 {
        let mut r = start(bin, dir.path());
        firsts.push(r.first_output);
        datas.push(r.first_data);
        r.writer.write_all(b"\x03").unwrap();
        let _ = r.child.wait();
    }
    firsts.sort();
    datas.sort();
    println!(
        "first frame (median of 10): {:.1} ms (max {:.1} ms)",
        firsts[5].as_secs_f64() * 1e3,
        firsts[9].as_secs_f64() * 1e3
    );
    println!(
        "first frame with data (median of 10): {:.1} ms (max {:.1} ms)",
        datas[5].as_secs_f64() * 1e3,
        datas[9].as_secs_f64() * 1e3
    );

    let mut r = start(bin, dir.path());
    // Visit every pane so every list and detail is loaded, then leave it idle.
    for k in ["2", "3", "4", "5", "1", "2"] {
        r.writer.write_all(k.as_bytes()).unwrap();
        std::thread::sleep(Duration::from_millis(200));
    }
    std::thread::sleep(Duration::from_millis(500));
    let rss = rss_kib(r.pid);
    let ticks_per_sec = 100.0; // USER_HZ on Linux
    let before = clock_ticks(r.pid);
    std::thread::sleep(Duration::from_secs(idle_secs));
    let after = clock_ticks(r.pid);
    let cpu = (after - before) as f64 / ticks_per_sec / idle_secs as f64 * 100.0;
    println!(
        "resident memory after visiting every pane: {:.1} MB",
        rss as f64 / 1024.0
    );
    println!(
        "idle CPU over {idle_secs} s: {cpu:.2}% of one core ({} clock ticks)",
        after - before
    );
    r.writer.write_all(b"\x03").unwrap();
    let _ = r.child.wait();
}
