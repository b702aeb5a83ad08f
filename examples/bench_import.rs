//! Import throughput and the Subscribers window on a million subscribers.
//!
//! Run: `cargo run --release --example bench_import -- [ROWS]` (ROWS defaults to 1 000 000).
//! Writes a CSV (phone, name, consent, two attribute columns) to a temporary folder, imports
//! it into a fresh database, and in the same run times `sqlite3`'s `.import` of the same file
//! into a plain table (skipped with a note when the `sqlite3` command is not installed).
//! Then times window fetches at several positions and searches.

use cleverplatform::import::{ImportOptions, import_file};
use cleverplatform::store::subscribers::SubscriberFilter;
use cleverplatform::store::{Anchor, Location, PageRequest, Store};
use std::io::Write;
use std::time::Instant;

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
        .unwrap_or(0.0)
        / 1024.0
}

#[tokio::main]
async fn main() {
    let rows: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("subscribers.csv");
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&csv).unwrap());
        writeln!(f, "phone,name,consent,city,segment").unwrap();
        let prefixes = [
            "700", "701", "702", "705", "707", "747", "771", "775", "776", "777", "778",
        ];
        let cities = ["Алматы", "Астана", "Шымкент", "Караганда", "Актобе"];
        let names = [
            "Айгерим Сапарова",
            "Ерлан Ахметов",
            "Анна Иванова",
            "Данияр Омаров",
            "Emily Clarke",
        ];
        for i in 0..rows {
            let p = prefixes[(i % 11) as usize];
            writeln!(
                f,
                "+7{p}{:07},{} {i},{},{},{}",
                i / 11,
                names[(i % 5) as usize],
                if i % 4 == 0 { "no" } else { "yes" },
                cities[(i % 5) as usize],
                if i % 3 == 0 { "vip" } else { "regular" }
            )
            .unwrap();
        }
    }
    let size_mb = std::fs::metadata(&csv).unwrap().len() as f64 / 1e6;
    println!(
        "file: {rows} rows, {size_mb:.1} MB; peak RSS before import {:.1} MB",
        peak_rss_mb()
    );

    let store = Store::open(&Location::File(dir.path().join("clever.db")))
        .await
        .unwrap();
    let opts = ImportOptions::new("All", "bench");
    let t = Instant::now();
    let s = import_file(&store, &csv, &opts, |_| {}).await.unwrap();
    let ours = t.elapsed().as_secs_f64();
    println!(
        "clever import: {:.2} s, {:.0} rows/s (imported {}, rejected {}); peak RSS {:.1} MB",
        ours,
        rows as f64 / ours,
        s.imported,
        s.rejected,
        peak_rss_mb()
    );
    let t = Instant::now();
    let s = import_file(&store, &csv, &opts, |_| {}).await.unwrap();
    let again = t.elapsed().as_secs_f64();
    println!(
        "re-import of the same file: {again:.2} s ({} unchanged)",
        s.unchanged
    );

    let plain = dir.path().join("plain.db");
    let t = Instant::now();
    match std::process::Command::new("sqlite3")
        .arg(&plain)
        .arg(".mode csv")
        .arg(format!(".import {} t", csv.display()))
        .status()
    {
        Ok(st) if st.success() => {
            let theirs = t.elapsed().as_secs_f64();
            println!(
                "sqlite3 .import into a plain table: {theirs:.2} s; clever/sqlite3 = {:.2}×",
                ours / theirs
            );
        }
        _ => {
            println!("sqlite3 command not available: `apt-get install sqlite3` for the comparison")
        }
    }

    let filter = SubscriberFilter::default();
    let t = Instant::now();
    let total = store.count_subscribers(&filter).await.unwrap();
    println!(
        "count of {total} subscribers: {:.1} ms (once per list)",
        t.elapsed().as_secs_f64() * 1e3
    );
    let mut worst: f64 = 0.0;
    let first = store
        .subscriber_page(
            &filter,
            PageRequest {
                anchor: Anchor::First,
                limit: 200,
            },
        )
        .await
        .unwrap();
    for anchor in [
        Anchor::First,
        Anchor::After(total / 2),
        Anchor::After(total - 300),
        Anchor::Last,
        Anchor::Before(first.last().map_or(1, |r| r.id.0)),
    ] {
        let t = Instant::now();
        let page = store
            .subscriber_page(&filter, PageRequest { anchor, limit: 200 })
            .await
            .unwrap();
        let ms = t.elapsed().as_secs_f64() * 1e3;
        worst = worst.max(ms);
        println!("window of {} rows at {anchor:?}: {ms:.2} ms", page.len());
    }
    println!("worst window fetch: {worst:.2} ms");
    for q in ["айгерим 5000", "Ахметов", "+7701", "87770000123", "777000"] {
        let f = SubscriberFilter {
            search: Some(q.into()),
            list: None,
        };
        let t = Instant::now();
        let n = store.count_subscribers(&f).await.unwrap();
        let page = store
            .subscriber_page(
                &f,
                PageRequest {
                    anchor: Anchor::First,
                    limit: 200,
                },
            )
            .await
            .unwrap();
        println!(
            "search {q:?}: {n} matches, first {} rows, {:.1} ms",
            page.len(),
            t.elapsed().as_secs_f64() * 1e3
        );
    }
}
