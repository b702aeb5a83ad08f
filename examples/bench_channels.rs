//! Send throughput of the WhatsApp client against the loopback emulator, and the client's
//! CPU cost per message; then `wrk` against the same endpoint in the same run.
//!
//! Run: `cargo build --release && cargo run --release --example bench_channels -- [MESSAGES] [CONCURRENCY]`
//! (defaults 20 000 and 32). It starts `target/release/clever sandbox serve` as a separate
//! process, so this process's CPU time is the client's alone. `wrk` (Debian package `wrk`)
//! is used when installed.

use cleverplatform::channels::Outcome;
use cleverplatform::channels::client::{Client, Message};
#[path = "support/mod.rs"]
mod support;
use std::sync::Arc;
use std::time::Duration;
use support::{emulator, round};

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
    let target = Arc::new(support::whatsapp_target(&base));
    let client = Client::new(Duration::from_secs(10)).unwrap();
    let message = Arc::new(Message::Text(
        "Сәлеметсіз бе! Скидка 20% до воскресенья 🎉".into(),
    ));
    // Warm up the connection pool.
    for _ in 0..concurrency {
        client.send(&target, "+77011234567", &message).await;
    }
    let label = format!("client → emulator (WhatsApp text, {concurrency} concurrent, keep-alive)");
    round(&label, total, concurrency, move |to| {
        let (client, target, message) = (client.clone(), target.clone(), message.clone());
        async move {
            matches!(
                client.send(&target, &to, &message).await,
                Outcome::Sent { .. }
            )
        }
    })
    .await;
    support::wrk(&base, concurrency);
    drop(server);
}
