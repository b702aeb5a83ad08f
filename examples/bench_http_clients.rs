//! The channels' HTTP client against reqwest, on the same emulator endpoint, in one process:
//! CPU per request and rate for each, in alternating rounds (the two share the machine's
//! noise). The channels' client is hyper's connections in the channels' own pool, under the
//! product's `Client` (request built, answer read and classified); reqwest is configured as
//! the client was before (rustls, keep-alive pool, timeouts) and posts the same JSON.
//!
//! Run: `cargo build --release && cargo run --release --example bench_http_clients -- [MESSAGES] [CONCURRENCY] [ROUNDS]`
//! (defaults 40 000, 64 and 3).

use cleverplatform::channels::Outcome;
use cleverplatform::channels::client::{Client, Message};
#[path = "support/mod.rs"]
mod support;
use std::sync::Arc;
use std::time::Duration;
use support::{emulator, round};

const TEXT: &str = "Сәлеметсіз бе! Скидка 20% до воскресенья 🎉";

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let arg = |n: usize, default: usize| {
        std::env::args()
            .nth(n)
            .and_then(|a| a.parse().ok())
            .unwrap_or(default)
    };
    let (total, concurrency, rounds) = (arg(1, 40_000), arg(2, 64), arg(3, 3));
    let (server, base) = emulator();
    let target = Arc::new(support::whatsapp_target(&base));
    let client = Client::new(Duration::from_secs(10)).unwrap();
    let reqwest = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .connect_timeout(Duration::from_secs(10))
        .pool_idle_timeout(Duration::from_secs(90))
        .user_agent("CleverPlatform/bench")
        .build()
        .unwrap();
    let url = Arc::new(format!("{base}/v23.0/106540352242922/messages"));
    let message = Arc::new(Message::Text(TEXT.into()));
    for r in 0..rounds {
        println!("round {}", r + 1);
        let (c, t, m) = (client.clone(), target.clone(), message.clone());
        round("channels", total, concurrency, move |to| {
            let (c, t, m) = (c.clone(), t.clone(), m.clone());
            async move { matches!(c.send(&t, &to, &m).await, Outcome::Sent { .. }) }
        })
        .await;
        let (http, url) = (reqwest.clone(), url.clone());
        round("reqwest", total, concurrency, move |to| {
            let (http, url) = (http.clone(), url.clone());
            async move {
                let body = serde_json::json!({
                    "messaging_product": "whatsapp", "recipient_type": "individual",
                    "to": to.trim_start_matches('+'), "type": "text",
                    "text": { "preview_url": false, "body": TEXT },
                });
                let Ok(response) = http
                    .post(url.as_str())
                    .bearer_auth("EAAGbench")
                    .json(&body)
                    .send()
                    .await
                else {
                    return false;
                };
                let ok = response.status().is_success();
                response.bytes().await.is_ok() && ok
            }
        })
        .await;
    }
    drop(server);
}
