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
#[path = "support/mod.rs"]
mod support;
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::{cpu_seconds, emulator};

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
    let (server, base) = emulator();
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
    support::wrk(&base, concurrency);
    drop(server);
}
