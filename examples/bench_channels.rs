//! Send throughput of the WhatsApp client against the loopback emulator, and the client's
//! CPU cost per message; then `wrk` against the same endpoint in the same run.
//!
//! Run: `cargo build --release && cargo run --release --example bench_channels -- [MESSAGES] [CONCURRENCY]`
//! (defaults 20 000 and 32). It starts `target/release/clever sandbox serve` as a separate
//! process, so this process's CPU time is the client's alone. `wrk` (Debian package `wrk`)
//! is used when installed.

use cleverplatform::channels::Outcome;
use cleverplatform::channels::client::{Client, Message, Target};
use cleverplatform::domain::Channel;
use std::io::BufRead;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or_default();
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks = f.get(11).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0)
        + f.get(12).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    ticks / 100.0
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let total: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20_000);
    let concurrency: usize = std::env::args()
        .nth(2)
        .and_then(|a| a.parse().ok())
        .unwrap_or(32);
    let bin = concat!(env!("CARGO_MANIFEST_DIR"), "/target/release/clever");
    let mut server = std::process::Command::new(bin)
        // The platform's pacing is lifted: this measures the client and the emulator.
        .args([
            "sandbox",
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--whatsapp-per-second",
            "4000000000",
            "--whatsapp-pair-spacing-ms",
            "0",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("build the release binary first: cargo build --release");
    let mut base = String::new();
    std::io::BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut base)
        .unwrap();
    let base = base.trim().to_string();
    let target = Arc::new(Target {
        channel: Channel::WhatsApp,
        base_url: base.clone(),
        api_version: "v23.0".into(),
        token: "EAAGbench".into(),
        phone_number_id: "106540352242922".into(),
    });
    let client = Client::new(Duration::from_secs(10)).unwrap();
    let message = Arc::new(Message::Text(
        "Сәлеметсіз бе! Скидка 20% до воскресенья 🎉".into(),
    ));
    // Warm up the connection pool.
    for _ in 0..concurrency {
        client.send(&target, "+77011234567", &message).await;
    }
    let cpu0 = cpu_seconds();
    let t = Instant::now();
    let per_task = total / concurrency;
    let mut tasks = Vec::new();
    for w in 0..concurrency {
        let (client, target, message) = (client.clone(), target.clone(), message.clone());
        tasks.push(tokio::spawn(async move {
            let mut sent = 0usize;
            for i in 0..per_task {
                // Ending in 5: never one of the emulator's magic numbers.
                let to = format!("+7702{:03}{:03}5", w, i % 1000);
                if let Outcome::Sent { .. } = client.send(&target, &to, &message).await {
                    sent += 1;
                }
            }
            sent
        }));
    }
    let mut sent = 0;
    for t in tasks {
        sent += t.await.unwrap();
    }
    let secs = t.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu0;
    println!(
        "client → emulator (WhatsApp text, {concurrency} concurrent, keep-alive): {sent} sent in {secs:.2} s = {:.0} msg/s; client CPU {:.1} µs per message",
        sent as f64 / secs,
        cpu / sent as f64 * 1e6
    );
    let script = std::env::temp_dir().join("clever-wrk.lua");
    std::fs::write(
        &script,
        "wrk.method = \"POST\"\nwrk.headers[\"Content-Type\"] = \"application/json\"\nwrk.headers[\"Authorization\"] = \"Bearer EAAGbench\"\nwrk.body = '{\"messaging_product\":\"whatsapp\",\"recipient_type\":\"individual\",\"to\":\"77021234567\",\"type\":\"text\",\"text\":{\"preview_url\":false,\"body\":\"hello\"}}'\n",
    )
    .unwrap();
    match std::process::Command::new("wrk")
        .args(["-t2", &format!("-c{concurrency}"), "-d5s", "-s"])
        .arg(&script)
        .arg(format!("{base}/v23.0/106540352242922/messages"))
        .output()
    {
        Ok(out) if out.status.success() => {
            let text = String::from_utf8_lossy(&out.stdout);
            let line = text
                .lines()
                .find(|l| l.starts_with("Requests/sec"))
                .unwrap_or("no Requests/sec line");
            println!("wrk against the same endpoint ({concurrency} connections, 5 s): {line}");
        }
        _ => println!("wrk not installed: `apt-get install wrk` for the comparison"),
    }
    let _ = server.kill();
    let _ = server.wait();
}
