//! Counterparty check figures: the offline validation the pane runs on every key, and whole
//! checks (registries over loopback HTTP, risk lists, history and audit written) against the
//! registry emulator, first asked and then answered from the cache.
//!
//! Run: `cargo run --release --example bench_check`.

use cleverplatform::counterparty::check::{CheckRequest, CheckSettings, Checker};
use cleverplatform::counterparty::{Country, validate};
use cleverplatform::store::{Location, Store};
use std::time::{Duration, Instant};

fn median_and_p95(mut v: Vec<Duration>) -> (f64, f64) {
    v.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    (ms(v[v.len() / 2]), ms(v[v.len() * 95 / 100]))
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    // Validation: a mix of kinds, as pasted.
    let inputs = [
        "990 140 004 654",
        "911105302575",
        "7707083893",
        "1027700132195",
        "304500116000157",
        "KZ86 125K ZT50 0410 0100",
        "CASPKZKA",
        "821214240092",
    ];
    let n = 200_000;
    let t = Instant::now();
    for i in 0..n {
        std::hint::black_box(validate(inputs[i % inputs.len()], Country::Kz));
    }
    let per = t.elapsed().as_secs_f64() / n as f64 * 1e6;
    println!("validation (as typed): {per:.2} µs a number over {n}");

    let sandbox =
        cleverplatform::sandbox::start("127.0.0.1:0".parse().unwrap(), Default::default())
            .await
            .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&Location::File(dir.path().join("clever.db")))
        .await
        .unwrap();
    let checker = Checker::new(
        store.clone(),
        CheckSettings {
            stat_url: sandbox.base_url(),
            egov_url: sandbox.base_url(),
            egov_api_key: Some("bench".into()),
            ..CheckSettings::default()
        },
        None,
    )
    .unwrap();
    let bins: Vec<String> = cleverplatform::sandbox::registry::companies()
        .iter()
        .filter(|c| c["answer"].is_null())
        .filter_map(|c| c["bin"].as_str().map(str::to_string))
        .collect();
    for (label, rounds) in [
        ("first asked (two registries over HTTP)", 1),
        ("from the cache", 20),
    ] {
        let mut times = Vec::new();
        let t = Instant::now();
        for _ in 0..rounds {
            for b in &bins {
                let s = Instant::now();
                checker
                    .check(&CheckRequest {
                        input: b,
                        offline: false,
                        country: None,
                        actor: "bench",
                    })
                    .await
                    .unwrap();
                times.push(s.elapsed());
            }
        }
        let total = t.elapsed();
        let count = times.len();
        let (median, p95) = median_and_p95(times);
        println!(
            "whole check, {label}: median {median:.2} ms, p95 {p95:.2} ms, {:.0} checks/s over {count}",
            count as f64 / total.as_secs_f64()
        );
    }
    store.close().await;
}
