//! `clever license activate | sync | deactivate | status | request | install`: this
//! machine's licence, on line with the licence server or by request and lease files for
//! servers that cannot reach it.
//! The files are [`crate::license::local`]'s.

use crate::cli::LicenseCommand;
use crate::config::Config;
use crate::license::fingerprint::{Fingerprint, MachineId};
use crate::license::key;
use crate::license::lease::{self, Lease};
use crate::license::local::{Local, Standing};
use crate::store::Store;
use anyhow::{Context, bail};
use chrono::Utc;
use std::io::Read;
use std::path::{Path, PathBuf};

fn local(config: &Config) -> Local {
    config.license_local()
}

fn read_input(path: &Path) -> anyhow::Result<String> {
    if path == Path::new("-") {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s)?;
        return Ok(s);
    }
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

/// Reads the stored lease and decides the state; records the time seen.
pub async fn standing(store: &Store, config: &Config) -> anyhow::Result<Standing> {
    Ok(local(config).standing(store).await?)
}

/// Runs one `license` command.
pub async fn run(store: &Store, config: &Config, cmd: LicenseCommand) -> anyhow::Result<()> {
    match cmd {
        LicenseCommand::Status { json } => status(store, config, json).await,
        LicenseCommand::Activate { key, key_file } => {
            let lease = local(config)
                .activate(&key_text(key, key_file, "activate")?)
                .await?;
            audit(store, "license.activate", &lease).await?;
            report(store, config, &lease).await
        }
        LicenseCommand::Sync => {
            let lease = local(config).sync().await?;
            audit(store, "license.sync", &lease).await?;
            report(store, config, &lease).await
        }
        LicenseCommand::Deactivate { yes } => {
            stored_key(config)?;
            if !yes {
                bail!(
                    "deactivating frees this machine's seat and stops sending here; run again with --yes to do it"
                );
            }
            local(config).deactivate().await?;
            let mut tx = store.begin().await?;
            crate::store::audit::record(
                &mut tx,
                &super::actor(),
                "license.deactivate",
                "license",
                None,
                &serde_json::json!({}),
            )
            .await?;
            tx.commit().await?;
            println!("this machine is deactivated; its seat is free for another");
            Ok(())
        }
        LicenseCommand::Request { key, key_file } => {
            let key = key::parse(
                &key_text(key, key_file, "request")?,
                &config.license.all_trusted(),
            )?;
            let id = MachineId::read(config.license.machine_id_file.as_deref())?;
            let nonce = hex::encode(rand::random::<[u8; 16]>());
            let request = serde_json::json!({
                "kind": "cleverplatform.activation_request",
                "key": key.text,
                "fingerprint": id.fingerprint(),
                "hostname": crate::host::name(),
                "nonce": nonce,
                "created_at": Utc::now(),
            });
            crate::license::local::write_private(
                &local(config).request_path(),
                &serde_json::to_string_pretty(&request)?,
            )?;
            println!("{}", serde_json::to_string_pretty(&request)?);
            eprintln!(
                "clever: take this request to the vendor's cabinet (or `clever-license-server activate-offline`), then run `clever license install lease.json`"
            );
            Ok(())
        }
        LicenseCommand::Install { file } => {
            let text = read_input(&file)?;
            let lease = lease::parse(&text, &config.license.all_trusted())?;
            let id = MachineId::read(config.license.machine_id_file.as_deref())?;
            let request_path = local(config).request_path();
            let request: serde_json::Value = match std::fs::read_to_string(&request_path) {
                Ok(t) => serde_json::from_str(&t).unwrap_or_default(),
                Err(_) => bail!(
                    "no activation request is pending on this machine: run `clever license request KEY` first and install the lease issued for it"
                ),
            };
            let nonce = request["nonce"].as_str().unwrap_or_default();
            // An offline round trip takes as long as it takes: the nonce, not the age,
            // ties the lease to this request.
            lease::check_answer(&lease, &id.fingerprint(), nonce, lease.issued_at)?;
            let signed: lease::SignedLease = serde_json::from_str(&text)?;
            let key = request["key"].as_str().unwrap_or_default().to_string();
            local(config).keep(&key, &signed)?;
            audit(store, "license.install", &lease).await?;
            let _ = std::fs::remove_file(&request_path);
            report(store, config, &lease).await
        }
    }
}

/// The key from the argument, a file or standard input.
fn key_text(key: Option<String>, key_file: Option<PathBuf>, verb: &str) -> anyhow::Result<String> {
    Ok(match (key, key_file) {
        (Some(k), _) if k == "-" => read_input(Path::new("-"))?,
        (Some(k), _) => k,
        (None, Some(f)) => read_input(&f)?,
        (None, None) => bail!(
            "give the key: clever license {verb} KEY (or --key-file F, or - for standard input)"
        ),
    })
}

/// The key this machine was activated with.
fn stored_key(config: &Config) -> anyhow::Result<String> {
    local(config).stored_key().ok_or_else(|| {
        anyhow::anyhow!("this machine is not activated: run `clever license activate KEY` first")
    })
}

/// Audits a licence step.
async fn audit(store: &Store, action: &str, lease: &Lease) -> anyhow::Result<()> {
    let mut tx = store.begin().await?;
    crate::store::audit::record(
        &mut tx,
        &super::actor(),
        action,
        "license",
        Some(&lease.license_id),
        &serde_json::json!({ "status": lease.status, "tariff": lease.tariff.name }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Says where the licence stands after a new lease.
async fn report(store: &Store, config: &Config, lease: &Lease) -> anyhow::Result<()> {
    let s = standing(store, config).await?;
    println!("licence {}: {}", lease.license_id, s.state.label());
    println!("{}", s.state.advice(Utc::now()));
    Ok(())
}

fn limit(n: Option<impl ToString>) -> String {
    n.map_or_else(|| "unlimited".into(), |n| n.to_string())
}

async fn status(store: &Store, config: &Config, json: bool) -> anyhow::Result<()> {
    let s = standing(store, config).await?;
    let now = Utc::now();
    let allows = s.state.allows();
    if json {
        return super::print_json(&serde_json::json!({
            "state": s.state.label(),
            "reason": s.state.advice(now),
            "allows": {
                "send": allows.send, "send_sandbox": allows.send_sandbox,
                "lookups": allows.lookups, "change": allows.change,
            },
            "license_id": s.lease.as_ref().map(|l| &l.license_id),
            "tariff": s.lease.as_ref().map(|l| &l.tariff),
            "paid_until": s.lease.as_ref().map(|l| l.paid_until),
            "auto_renew": s.lease.as_ref().map(|l| l.auto_renew),
            "last_sync": s.lease.as_ref().map(|l| l.issued_at),
            "valid_until": s.lease.as_ref().map(|l| l.valid_until),
            "fingerprint": s.fingerprint.as_ref().ok(),
            "fingerprint_short": s.fingerprint.as_ref().ok().map(Fingerprint::short),
            "fingerprint_error": s.fingerprint.as_ref().err(),
            "server_url": config.license.server_url,
        }));
    }
    println!("licence: {}", s.state.label());
    println!("  {}", s.state.advice(now));
    if let Some(l) = &s.lease {
        println!("  licence id   {}", l.license_id);
        println!(
            "  tariff       {}: accounts {}, messages a day {}, lookups a day {}, machines {}",
            l.tariff.name,
            limit(l.tariff.accounts),
            limit(l.tariff.messages_per_day),
            limit(l.tariff.lookups_per_day),
            l.tariff.machines
        );
        println!(
            "  paid until   {} ({} days left), auto-renew {}",
            l.paid_until.format("%Y-%m-%d"),
            (l.paid_until - now).num_days().max(0),
            if l.auto_renew { "on" } else { "off" }
        );
        println!(
            "  last sync    {}; works offline until {}",
            l.issued_at.format("%Y-%m-%d %H:%M UTC"),
            l.valid_until.format("%Y-%m-%d %H:%M UTC")
        );
    }
    match &s.fingerprint {
        Ok(fp) => println!("  machine      {}", fp.short()),
        Err(e) => println!("  machine      cannot be identified: {e}"),
    }
    println!("  server       {}", config.license.server_url);
    Ok(())
}
