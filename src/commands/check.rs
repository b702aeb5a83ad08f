//! `clever check` and `clever risk-lists`.

use super::{Exit, actor, print_json, usage};
use crate::cli::{CheckArgs, CountryArg, RiskListsCommand};
use crate::config::Config;
use crate::counterparty::Country;
use crate::counterparty::check::{self, CheckRequest, CheckResult, Checker};
use crate::counterparty::risk::{self, Level};
use crate::license::sync::Licence;
use crate::store::{self, Store};
use anyhow::Context;
use sha2::Digest;
use std::io::BufRead;

/// A checker for this workspace, under the licence as it stands now.
pub async fn checker(store: &Store, config: &Config) -> anyhow::Result<Checker> {
    let standing = super::license::standing(store, config).await?;
    let (_tx, rx) = tokio::sync::watch::channel(Licence {
        standing: Some(standing),
        ..Licence::default()
    });
    Ok(Checker::new(
        store.clone(),
        config.counterparty.clone(),
        Some(rx),
    )?)
}

/// `clever check`.
pub async fn check(store: &Store, config: &Config, args: CheckArgs) -> anyhow::Result<()> {
    let checker = checker(store, config).await?;
    let country = args.country.map(|c| match c {
        CountryArg::Kz => Country::Kz,
        CountryArg::Ru => Country::Ru,
    });
    let who = actor();
    let run = |input: String| {
        let checker = checker.clone();
        let who = who.clone();
        async move {
            checker
                .check(&CheckRequest {
                    input: &input,
                    offline: args.offline,
                    country,
                    actor: &who,
                })
                .await
        }
    };
    let Some(file) = &args.file else {
        let id = args.id.clone().unwrap_or_default();
        if id.trim().is_empty() {
            return Err(usage("give a number to check, or --file"));
        }
        let r = run(id).await?;
        if args.json {
            print_json(&r)?;
        } else {
            print!("{}", text(&r));
        }
        return if r.valid { Ok(()) } else { Err(Exit(1).into()) };
    };
    let reader: Box<dyn BufRead> = if file.as_os_str() == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        match std::fs::File::open(file) {
            Ok(f) => Box::new(std::io::BufReader::new(f)),
            Err(e) => return Err(usage(format!("cannot read {}: {e}", file.display()))),
        }
    };
    let (mut valid, mut invalid) = (0u64, 0u64);
    for (n, line) in reader.lines().enumerate() {
        let line = line.with_context(|| format!("reading line {} of {}", n + 1, file.display()))?;
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let r = run(t.to_string()).await?;
        if r.valid {
            valid += 1;
        } else {
            invalid += 1;
        }
        if args.json {
            println!("{}", serde_json::to_string(&r)?);
        } else {
            println!(
                "{:<14} {:<8} {}",
                r.normalized,
                if r.valid { "valid" } else { "INVALID" },
                r.summary
            );
        }
    }
    if !args.json {
        eprintln!("{valid} valid, {invalid} invalid");
    }
    if invalid > 0 {
        Err(Exit(1).into())
    } else {
        Ok(())
    }
}

/// The result as an operator reads it.
pub fn text(r: &CheckResult) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{} — {}",
        r.normalized,
        if r.valid { "valid" } else { "INVALID" }
    );
    for e in &r.errors {
        let _ = writeln!(s, "  error: {e}");
    }
    for w in &r.warnings {
        let _ = writeln!(s, "  warning: {w}");
    }
    for (label, value) in r.facts() {
        let _ = writeln!(s, "  {label:<19} {value}");
    }
    if !r.flags.is_empty() {
        let _ = writeln!(s, "Flags");
        for f in &r.flags {
            let level = match f.level {
                Level::Red => "RED  ",
                Level::Amber => "AMBER",
            };
            let _ = writeln!(s, "  {level} {}", check::flag_line(f));
        }
    } else if r.valid && r.sources.iter().all(|x| x.status.answered()) && !r.sources.is_empty() {
        let _ = writeln!(s, "Flags: none in the sources checked");
    }
    if !r.sources.is_empty() {
        let _ = writeln!(s, "Sources");
        for x in &r.sources {
            let _ = write!(s, "  {:<22} {}", x.source, check::status_label(x));
            if let Some(m) = &x.message {
                let _ = write!(s, " — {m}");
            }
            let _ = writeln!(s);
        }
    }
    s
}

/// The largest risk-list file downloaded (the committee's are a few megabytes).
const MAX_DOWNLOAD: usize = 64 << 20;

/// Downloads a risk-list file into the data folder's `risk-lists/` (kept: it is what was
/// imported), named by the time and the address's last part.
async fn download(config: &Config, url: &str) -> anyhow::Result<std::path::PathBuf> {
    let fail = |e: &dyn std::fmt::Display| anyhow::anyhow!("downloading {url}: {e}");
    let http = reqwest::Client::builder()
        .user_agent(concat!("CleverPlatform/", env!("CARGO_PKG_VERSION")))
        .timeout(std::time::Duration::from_secs(120))
        .build()?;
    let mut resp = http.get(url).send().await.map_err(|e| fail(&e))?;
    if !resp.status().is_success() {
        return Err(fail(&format!("the server answered {}", resp.status())));
    }
    let mut bytes = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| fail(&e))? {
        bytes.extend_from_slice(&chunk);
        if bytes.len() > MAX_DOWNLOAD {
            return Err(fail(&format!(
                "larger than {} MB: not a risk list",
                MAX_DOWNLOAD >> 20
            )));
        }
    }
    let name: String = url
        .split(['?', '#'])
        .next()
        .unwrap_or_default()
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, '.' | '-' | '_'))
        .collect();
    let name = if name.is_empty() {
        "download.xlsx".into()
    } else {
        name
    };
    let dir = config.data_dir.join("risk-lists");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let path = dir.join(format!(
        "{}-{name}",
        chrono::Utc::now().format("%Y%m%dT%H%M%S")
    ));
    std::fs::write(&path, &bytes).with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}

/// One file read: its name, its SHA-256 and what it held.
type ReadOne = (String, String, risk::ReadFile);

/// `clever risk-lists …`.
pub async fn risk_lists(
    store: &Store,
    config: &Config,
    cmd: RiskListsCommand,
) -> anyhow::Result<()> {
    match cmd {
        RiskListsCommand::Status { json } => {
            let status = store::counterparty::risk_status(store).await?;
            if json {
                return print_json(&serde_json::json!({
                    "lists": status,
                    "missing": risk::LISTS.iter().map(|l| l.code)
                        .filter(|c| !status.iter().any(|s| s.list == *c)).collect::<Vec<_>>(),
                }));
            }
            for l in risk::LISTS {
                match status.iter().find(|s| s.list == l.code) {
                    Some(s) => println!(
                        "{:<21} {:>7} entries  as of {}  {}  imported {} by {}",
                        l.code,
                        s.entries,
                        s.as_of,
                        s.file,
                        s.imported_at.format("%Y-%m-%d %H:%M UTC"),
                        s.imported_by
                    ),
                    None => println!(
                        "{:<21}       — not imported: checks say \"not checked\" for it",
                        l.code
                    ),
                }
            }
            Ok(())
        }
        RiskListsCommand::Import { files, list, json } => {
            let plural = |n: usize| if n == 1 { "entry" } else { "entries" };
            let forced = match &list {
                Some(name) => Some(risk::list(name).ok_or_else(|| {
                    usage(format!(
                        "--list {name:?} is not a risk list; use one of {}",
                        risk::LISTS
                            .iter()
                            .map(|l| l.code)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))
                })?),
                None => None,
            };
            // Read every file first: nothing is written unless all of them can be read.
            let mut by_list: Vec<(&'static risk::List, Vec<ReadOne>)> = Vec::new();
            for arg in &files {
                let (f, shown) = if arg.starts_with("https://") || arg.starts_with("http://") {
                    (download(config, arg).await?, arg.clone())
                } else {
                    (std::path::PathBuf::from(arg), arg.clone())
                };
                let f = &f;
                let read = risk::read_file(f)?;
                let l = match forced.or_else(|| risk::guess_list(&read.title_text)) {
                    Some(l) => l,
                    None => {
                        return Err(usage(format!(
                            "cannot tell which risk list {} is from its name or title: give --list (one of {})",
                            f.display(),
                            risk::LISTS
                                .iter()
                                .map(|l| l.code)
                                .collect::<Vec<_>>()
                                .join(", ")
                        )));
                    }
                };
                let bytes = std::fs::read(f).with_context(|| format!("reading {}", f.display()))?;
                let sha = hex::encode(sha2::Sha256::digest(&bytes));
                let entry = (shown, sha, read);
                match by_list.iter_mut().find(|(k, _)| k.code == l.code) {
                    Some((_, v)) => v.push(entry),
                    None => by_list.push((l, vec![entry])),
                }
            }
            let who = actor();
            let mut tx = store.begin().await?;
            let mut report = Vec::new();
            for (l, read) in &by_list {
                let rows: Vec<_> = read
                    .iter()
                    .flat_map(|(_, _, r)| r.rows.iter().cloned())
                    .collect();
                let skipped: u64 = read.iter().map(|(_, _, r)| r.skipped.len() as u64).sum();
                let names: Vec<&str> = read.iter().map(|(f, _, _)| f.as_str()).collect();
                let shas: Vec<&str> = read.iter().map(|(_, s, _)| s.as_str()).collect();
                let id = store::counterparty::replace_risk_list(
                    &mut tx,
                    &store::counterparty::RiskFile {
                        list: l.code,
                        file: &names.join(", "),
                        sha256: &shas.join(","),
                        skipped,
                        as_of: read.iter().filter_map(|(_, _, r)| r.as_of).min(),
                        by: &who,
                    },
                    &rows,
                )
                .await?;
                let bins: std::collections::HashSet<&str> =
                    rows.iter().map(|r| r.bin.as_str()).collect();
                store::audit::record(
                    &mut tx,
                    &who,
                    "risk_list.import",
                    "risk_list",
                    Some(l.code),
                    &serde_json::json!({ "files": names, "rows": rows.len(), "skipped": skipped, "import": id }),
                )
                .await?;
                report.push(serde_json::json!({
                    "list": l.code,
                    "files": names,
                    "sheets": read.iter().flat_map(|(_, _, r)| r.sheets.clone()).collect::<Vec<_>>(),
                    "rows": rows.len(),
                    "bins": bins.len(),
                    "skipped": read.iter().flat_map(|(f, _, r)| r.skipped.iter().map(move |(sheet, line, why)| {
                        serde_json::json!({ "file": f, "sheet": sheet, "line": line, "reason": why })
                    })).collect::<Vec<_>>(),
                }));
            }
            tx.commit().await?;
            if json {
                return print_json(&serde_json::json!({ "imported": report }));
            }
            for r in &report {
                let n = r["rows"].as_u64().unwrap_or_default() as usize;
                println!(
                    "{}: {n} {} ({} BINs) from {}; {} rows skipped",
                    r["list"].as_str().unwrap_or_default(),
                    plural(n),
                    r["bins"],
                    r["files"]
                        .as_array()
                        .map(|a| a
                            .iter()
                            .filter_map(|f| f.as_str())
                            .collect::<Vec<_>>()
                            .join(", "))
                        .unwrap_or_default(),
                    r["skipped"].as_array().map_or(0, Vec::len),
                );
                for s in r["skipped"].as_array().into_iter().flatten().take(10) {
                    println!(
                        "  skipped {} sheet {:?} line {}: {}",
                        s["file"].as_str().unwrap_or_default(),
                        s["sheet"].as_str().unwrap_or_default(),
                        s["line"],
                        s["reason"].as_str().unwrap_or_default()
                    );
                }
            }
            Ok(())
        }
    }
}
