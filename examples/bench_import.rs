//! Import throughput and the Subscribers window on a million subscribers.
//!
//! Run: `cargo run --release --example bench_import -- [ROWS]` (ROWS defaults to 1 000 000).
//! Writes a CSV (phone, name, consent, two attribute columns) to a temporary folder, imports
//! it into a fresh database, and in the same run times `sqlite3`'s `.import` of the same file
//! into a plain table (skipped with a note when the `sqlite3` command is not installed), and
//! what SQLite alone takes to write the same rows into the console's schema from that table
//! (`write_floor`): the bound under any import into this schema.
//! Then times window fetches at several positions and searches, and last the counts of who
//! can be messaged per channel, for everyone and for the list.

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

/// The schema's own write floor: the rows the import writes for this file (a subscriber with
/// its name in the search index, a WhatsApp identity, a consent event, a list membership),
/// copied from the plain table `sqlite3 .import` made with one `INSERT … SELECT` per table,
/// in one transaction, by the same SQLite library the console links, on a fresh database with
/// the console's schema and the settings its import runs with (WAL, `synchronous = NORMAL`,
/// foreign keys, a 16 MB page cache), with no reading, parsing or checking at all. No import
/// into this schema can be faster.
async fn write_floor(dir: &std::path::Path, plain: &std::path::Path, theirs: f64, ours: f64) {
    let db = dir.join("floor.db");
    let store = Store::open(&Location::File(db.clone())).await.unwrap();
    store.close().await;
    // As long as the import's own times, so that the rows are as wide.
    let at = "2026-11-29T13:57:34.396227027+00:00";
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch(&format!(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;
         PRAGMA cache_size = -16384; PRAGMA temp_store = FILE;
         ATTACH '{}' AS p;
         INSERT INTO lists (name, created_at) VALUES ('All', '{at}');",
        plain.display()
    ))
    .unwrap();
    let steps = [
        ("begin", "BEGIN".to_string()),
        (
            "subscribers with their name index",
            format!(
                "INSERT INTO subscribers (id, name, attributes, created_at, updated_at)
                 SELECT rowid, name, json_object('city', city, 'segment', segment), '{at}',
                     '{at}' FROM p.t"
            ),
        ),
        (
            "identities",
            format!(
                "INSERT INTO identities (subscriber_id, channel, address, created_at)
                 SELECT rowid, 'whatsapp', phone, '{at}' FROM p.t"
            ),
        ),
        (
            "consents",
            format!(
                "INSERT INTO consents (subscriber_id, channel, scope, status, source, proof, at,
                     recorded_by)
                 SELECT rowid, 'whatsapp', 'marketing',
                     CASE consent WHEN 'yes' THEN 'granted' ELSE 'withdrawn' END,
                     'import subscribers.csv',
                     'subscribers.csv, line ' || (rowid + 1) || ': consent `' || consent || '`',
                     '{at}', 'operator'
                 FROM p.t"
            ),
        ),
        (
            "list members",
            format!(
                "INSERT INTO list_members (list_id, subscriber_id, added_at)
                 SELECT 1, rowid, '{at}' FROM p.t"
            ),
        ),
        ("commit", "COMMIT".to_string()),
    ];
    let mut floor = 0.0;
    let mut parts = Vec::new();
    for (name, sql) in steps {
        let t = Instant::now();
        conn.execute_batch(&sql).unwrap();
        let took = t.elapsed().as_secs_f64();
        floor += took;
        if name != "begin" {
            parts.push(format!("{name} {took:.2} s"));
        }
    }
    println!(
        "schema write floor (the same rows copied from that table, no checks): {floor:.2} s = \
         {:.2}× sqlite3 .import; clever import = {:.2}× the floor\n  {}",
        floor / theirs,
        ours / floor,
        parts.join(", ")
    );
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
            write_floor(dir.path(), &plain, theirs, ours).await;
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
    // Last, so that these long reads do not push the pages the windows and searches read out
    // of memory first.
    let t = Instant::now();
    let sendable = store
        .sendable_counts(None, cleverplatform::domain::ConsentScope::Marketing)
        .await
        .unwrap();
    println!(
        "sendable per channel, everyone: {sendable:?}: {:.2} s (once per list, by the pane's worker)",
        t.elapsed().as_secs_f64()
    );
    let all = store.lists().await.unwrap()[0].id;
    let t = Instant::now();
    store
        .sendable_counts(Some(all), cleverplatform::domain::ConsentScope::Marketing)
        .await
        .unwrap();
    println!(
        "sendable per channel, the list of all of them: {:.2} s",
        t.elapsed().as_secs_f64()
    );
}
