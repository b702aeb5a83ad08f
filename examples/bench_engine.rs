//! The campaign engine's figures: the full send path with limits lifted (claim → HTTP to
//! the loopback emulator → record), compared with `wrk` against the same endpoint; the rate
//! held at a limit; the memory while sending; and making a large outbox at start.
//!
//! Run: `cargo build --release && cargo run --release --example bench_engine -- PART [N] [DIR]`
//! where PART is `path` (N recipients, default 20 000), `rate` (80 msg/s for 60 s, 6 000
//! recipients), `prepare` (write a workspace of N subscribers, default 1 000 000, to DIR), or
//! `start` (make the outbox of the list in DIR, or of a fresh N-subscriber list, then send
//! from it for 20 s to watch memory; with DIR the import's memory is not in the figures).
//! The emulator runs as `target/release/clever sandbox serve` in its own process, so CPU
//! figures are the engine's alone.

use cleverplatform::channels::client::Client;
use cleverplatform::engine::campaigns::{self, Spec};
use cleverplatform::engine::sender::{Engine, EngineOptions};
use cleverplatform::import::{ImportOptions, import_file};
use cleverplatform::store::accounts::NewAccount;
use cleverplatform::store::{Location, Store};
use std::io::Write;

#[path = "support/mod.rs"]
mod support;
use std::time::{Duration, Instant};
use support::{cpu_seconds, cpu_seconds_of, emulator, thread_cpu_seconds};

fn proc_field(name: &str) -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(name))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse::<f64>().ok())
        .unwrap_or(0.0)
        / 1024.0
}

/// A workspace with `n` consenting subscribers in list `L` and a WhatsApp account.
async fn workspace(dir: &std::path::Path, n: usize, base: &str, rate: Option<f64>) -> Store {
    let store = Store::open(&Location::File(dir.join("clever.db")))
        .await
        .unwrap();
    let csv = dir.join("s.csv");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&csv).unwrap());
    writeln!(f, "phone,name,consent,city").unwrap();
    for i in 0..n {
        writeln!(f, "+7702{i:06}5,Клиент {i},yes,Алматы").unwrap();
    }
    f.flush().unwrap();
    drop(f);
    let t = Instant::now();
    import_file(&store, &csv, &ImportOptions::new("L", "bench"), |_| {})
        .await
        .unwrap();
    eprintln!(
        "imported {n} subscribers in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let mut tx = store.begin().await.unwrap();
    cleverplatform::store::accounts::insert(
        &mut tx,
        &NewAccount {
            channel: cleverplatform::domain::Channel::WhatsApp,
            name: "WA",
            settings: serde_json::json!({ "phone_number_id": "106540352242922" }),
            secret: "EAAGbench",
            base_url: Some(base),
            api_version: Some("v23.0"),
            sandbox: true,
            rate_per_sec: rate,
            wa_daily_tier: None,
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    store
}

async fn create(store: &Store) -> cleverplatform::domain::CampaignId {
    campaigns::create(
        store,
        &Spec {
            name: "Bench".into(),
            list: "L".into(),
            account: "WA".into(),
            text: Some("{{ name }}, скидка 20% до воскресенья 🎉".into()),
            ..Spec::default()
        },
        "bench",
    )
    .await
    .unwrap()
}

/// The text campaign needs an open window on WhatsApp: everyone "wrote" just now.
async fn open_windows(dir: &std::path::Path) {
    let db = dir.join("clever.db");
    let status = std::process::Command::new("sqlite3")
        .arg(&db)
        .arg("INSERT INTO inbound (account_id, identity_id, last_at) SELECT 1, id, '2100-01-01 00:00:00+00:00' FROM identities;")
        .status();
    if !status.is_ok_and(|s| s.success()) {
        panic!("this part needs the sqlite3 shell: apt-get install sqlite3");
    }
}

/// Limits lifted: large batches, many requests in flight, no rate.
fn flat_out() -> EngineOptions {
    EngineOptions {
        batch: 2000,
        concurrency: 64,
        rate_override: Some(1e9),
        ..EngineOptions::default()
    }
}

async fn until_done(store: &Store, id: cleverplatform::domain::CampaignId) {
    // A cheap probe (one index seek), so the polling costs the figures nothing; the full
    // status is read once at the end.
    loop {
        let mut tx = store.read().await.unwrap();
        let open: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM outbox WHERE campaign_id = ? \
             AND state IN ('queued', 'sending'))",
        )
        .bind(id)
        .fetch_one(&mut *tx)
        .await
        .unwrap();
        tx.commit().await.unwrap();
        if !open {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn main() {
    // As `clever`'s `main` does, before the runtime's threads exist.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: sets one of the allocator's parameters before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(bench());
}

async fn bench() {
    let part = std::env::args().nth(1).unwrap_or_else(|| "path".into());
    let n: Option<usize> = std::env::args().nth(2).and_then(|a| a.parse().ok());
    let (server, base) = emulator();
    let dir = tempfile::tempdir().unwrap();
    let client = Client::new(Duration::from_secs(10)).unwrap();
    match part.as_str() {
        "path" => {
            let n = n.unwrap_or(20_000);
            let store = workspace(dir.path(), n, &base, None).await;
            open_windows(dir.path()).await;
            let id = create(&store).await;
            campaigns::start(&store, id, "bench").await.unwrap();
            let rss0 = proc_field("VmRSS:");
            let server_pid = server.id().to_string();
            let cpu0 = cpu_seconds();
            let server0 = cpu_seconds_of(&server_pid);
            let sql0 = thread_cpu_seconds("sqlx-sqlite");
            let t = Instant::now();
            let engine = Engine::start(store.clone(), client, flat_out());
            until_done(&store, id).await;
            let secs = t.elapsed().as_secs_f64();
            let cpu = cpu_seconds() - cpu0;
            let server_cpu = cpu_seconds_of(&server_pid) - server0;
            let sql_cpu = thread_cpu_seconds("sqlx-sqlite") - sql0;
            engine.stop().await;
            let c = store.campaign(id).await.unwrap().unwrap();
            println!(
                "full path (claim → HTTP → record), {n} recipients, limits lifted: {} sent in {secs:.2} s = {:.0} msg/s; engine CPU {:.0} µs per message ({:.0} µs of it in SQLite's threads); emulator CPU {:.0} µs per message; both processes busy {:.0} % of two cores; RSS {rss0:.1} → {:.1} MB (peak {:.1} MB)",
                c.counts.sent,
                c.counts.sent as f64 / secs,
                cpu / c.counts.sent.max(1) as f64 * 1e6,
                sql_cpu / c.counts.sent.max(1) as f64 * 1e6,
                server_cpu / c.counts.sent.max(1) as f64 * 1e6,
                (cpu + server_cpu) / secs / 2.0 * 100.0,
                proc_field("VmRSS:"),
                proc_field("VmHWM:"),
            );
            support::wrk(&base, 64);
        }
        "rate" => {
            let n = n.unwrap_or(6_000);
            let store = workspace(dir.path(), n, &base, Some(80.0)).await;
            open_windows(dir.path()).await;
            let id = create(&store).await;
            campaigns::start(&store, id, "bench").await.unwrap();
            let engine = Engine::start(store.clone(), client, EngineOptions::default());
            tokio::time::sleep(Duration::from_secs(62)).await;
            engine.stop().await;
            // Per-second counts from the emulator's own clock.
            let lines = reqwest::get(format!("{base}/_sandbox/messages"))
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            let times: Vec<u128> = lines
                .lines()
                .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
                .filter_map(|v| v["at_ms"].as_u64().map(u128::from))
                .collect();
            let first = *times.iter().min().unwrap();
            let window: Vec<u128> = times
                .iter()
                .copied()
                .filter(|t| *t >= first + 1000 && *t < first + 61_000)
                .collect();
            let mut per_second = vec![0u32; 60];
            for t in &window {
                per_second[((t - first - 1000) / 1000) as usize] += 1;
            }
            // Any one-second window, not only aligned ones.
            let mut sorted = window.clone();
            sorted.sort();
            let mut worst = 0;
            let mut j = 0;
            for i in 0..sorted.len() {
                while sorted[i] - sorted[j] >= 1000 {
                    j += 1;
                }
                worst = worst.max(i - j + 1);
            }
            println!(
                "limit 80 msg/s, burst 2: {} sent in the 60 s after the first second = {:.2} msg/s ({:+.2} %); busiest one-second window {worst}; aligned seconds min {} max {}",
                window.len(),
                window.len() as f64 / 60.0,
                (window.len() as f64 / 60.0 / 80.0 - 1.0) * 100.0,
                per_second.iter().min().unwrap(),
                per_second.iter().max().unwrap(),
            );
        }
        "prepare" => {
            let n = n.unwrap_or(1_000_000);
            let out = std::path::PathBuf::from(std::env::args().nth(3).expect("give DIR"));
            std::fs::create_dir_all(&out).unwrap();
            let store = workspace(&out, n, &base, None).await;
            store.close().await;
            println!("prepared {n} subscribers in {}", out.display());
        }
        "start" => {
            let n = n.unwrap_or(1_000_000);
            let store = match std::env::args().nth(3) {
                Some(d) => {
                    let store =
                        Store::open(&Location::File(std::path::Path::new(&d).join("clever.db")))
                            .await
                            .unwrap();
                    // The emulator's address is new each run.
                    let mut tx = store.begin().await.unwrap();
                    cleverplatform::store::accounts::point_sandbox_accounts(&mut tx, &base)
                        .await
                        .unwrap();
                    tx.commit().await.unwrap();
                    store
                }
                None => workspace(dir.path(), n, &base, None).await,
            };
            // A template campaign: no window needed.
            let id = campaigns::create(
                &store,
                &Spec {
                    name: "Bench".into(),
                    list: "L".into(),
                    account: "WA".into(),
                    wa_template: Some("promo".into()),
                    wa_lang: Some("ru".into()),
                    wa_params: vec!["{{ name }}".into()],
                    ..Spec::default()
                },
                "bench",
            )
            .await
            .unwrap();
            let t = Instant::now();
            let started = campaigns::start(&store, id, "bench").await.unwrap();
            println!(
                "start of a campaign on the list (outbox made in one transaction): {} queued in {:.2} s",
                started.queued,
                t.elapsed().as_secs_f64()
            );
            let rss0 = proc_field("VmRSS:");
            let engine = Engine::start(store.clone(), client, flat_out());
            let mut samples = Vec::new();
            for _ in 0..20 {
                tokio::time::sleep(Duration::from_secs(1)).await;
                samples.push(proc_field("VmRSS:"));
            }
            engine.stop().await;
            let c = store.campaign(id).await.unwrap().unwrap();
            println!(
                "sending from it for 20 s: {} sent; RSS before {rss0:.1} MB, during min {:.1} max {:.1} MB",
                c.counts.sent,
                samples.iter().cloned().fold(f64::MAX, f64::min),
                samples.iter().cloned().fold(0.0, f64::max),
            );
        }
        other => eprintln!("unknown part `{other}`: path, rate, prepare or start"),
    }
    drop(server);
}
