//! Phone number figures: normalising the bench import's 1 000 000 numbers (`+7` and eleven
//! Kazakh mobile prefixes, default region KZ) with `domain::phone::normalize`, and the same
//! parse, validity check and E.164 format done wholly by the `phonenumber` crate, taking
//! turns in one run so that both meet the same machine.
//!
//! Run: `cargo run --release --example bench_phone [rows]`.

use cleverplatform::domain::phone::{Region, normalize};
use phonenumber::{Mode, country};
use std::time::Instant;

fn main() {
    let rows: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let prefixes = [
        "700", "701", "702", "705", "707", "747", "771", "775", "776", "777", "778",
    ];
    let numbers: Vec<String> = (0..rows)
        .map(|i| format!("+7{}{:07}", prefixes[(i % 11) as usize], i / 11))
        .collect();
    let per_row = |secs: f64| secs * 1e6 / rows as f64;
    for round in 1..=2 {
        let start = Instant::now();
        let ours = numbers
            .iter()
            .filter(|n| normalize(n, Region::default()).is_ok())
            .count();
        let ours_s = start.elapsed().as_secs_f64();
        let start = Instant::now();
        let crates = numbers
            .iter()
            .filter_map(|n| phonenumber::parse(Some(country::Id::KZ), n).ok())
            .filter(|p| p.is_valid() && !p.format().mode(Mode::E164).to_string().is_empty())
            .count();
        let crate_s = start.elapsed().as_secs_f64();
        assert_eq!(ours, crates, "both accept the same numbers");
        println!(
            "round {round}: normalize {ours_s:.2} s ({:.2} µs a number, {ours} valid); \
             the crate's own check {crate_s:.2} s ({:.2} µs)",
            per_row(ours_s),
            per_row(crate_s)
        );
    }
}
