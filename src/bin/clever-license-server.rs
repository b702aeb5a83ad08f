//! `clever-license-server`: the vendor's licence server and its admin commands. Everything
//! lives in one data folder: the database, the signing key (0600) and the outbox of
//! licensee e-mails.

use clap::{Parser, Subcommand};
use cleverplatform::license_server::store::{ServerStore, TariffRow};
use cleverplatform::license_server::{self, ServerOptions};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(
    name = "clever-license-server",
    version,
    about = "The CleverPlatform licence server: keys, machines, signed leases"
)]
struct Cli {
    /// Folder of the signing key, the e-mail outbox and (by default) the database
    /// [default: the platform's data folder, clever-license-server/]
    #[arg(
        long,
        global = true,
        env = "CLEVER_LICENSE_SERVER_DIR",
        value_name = "DIR"
    )]
    data_dir: Option<PathBuf>,
    /// The database: a SQLite path or sqlite:// URL [default: license-server.db in the data folder]
    #[arg(long, global = true, env = "CLEVER_LICENSE_DB", value_name = "URL")]
    db: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create the ed25519 signing key (0600; never replaces one) and print its public key, for
    /// the console's build (CLEVER_VENDOR_KEY) or its `[license] trusted_keys`
    Init,
    /// Print the signing key's public key
    PublicKey,
    /// Tariffs and their limits
    #[command(subcommand)]
    Tariff(TariffCommand),
    /// Issue a licence: prints the key and writes the licensee's e-mail to the outbox
    Issue {
        #[arg(long)]
        tariff: String,
        #[arg(long)]
        email: String,
        /// Days paid from now [default: the tariff's period]
        #[arg(long)]
        paid_days: Option<i64>,
    },
    /// Every licence with its status, paid period and machines
    List {
        #[arg(long)]
        json: bool,
    },
    /// One licence (by id or key): status, tariff, paid period, machines, audit trail
    Show {
        license: String,
        #[arg(long)]
        json: bool,
    },
    /// Suspend a licence (a failed payment)
    Suspend {
        license: String,
        #[arg(long)]
        reason: Option<String>,
    },
    /// Make a suspended or blocked licence active again
    Reinstate { license: String },
    /// Block a licence for a violation (spam, tampering)
    Block {
        license: String,
        #[arg(long)]
        reason: String,
    },
    /// Turn auto-renewal on or off
    AutoRenew {
        license: String,
        #[arg(value_parser = ["on", "off"])]
        state: String,
    },
    /// Answer an offline activation request (`clever license request`) with a lease
    ActivateOffline {
        /// The request file (`-` reads standard input)
        request: PathBuf,
    },
    /// Serve the HTTP API
    Serve {
        #[arg(long, default_value = "127.0.0.1:8443")]
        listen: std::net::SocketAddr,
        /// Hours a console may work without reaching this server
        #[arg(long, default_value_t = 72)]
        grace_hours: i64,
    },
}

#[derive(Debug, Subcommand)]
enum TariffCommand {
    /// Add or change a tariff (limits left out are unlimited)
    Add {
        /// The tariff's name, also its code in keys
        name: String,
        #[arg(long)]
        accounts: Option<i64>,
        #[arg(long)]
        messages_per_day: Option<i64>,
        #[arg(long)]
        lookups_per_day: Option<i64>,
        #[arg(long, default_value_t = 1)]
        machines: i64,
        #[arg(long, default_value_t = 30)]
        period_days: i64,
        /// Price of one period, in tenge
        #[arg(long, default_value_t = 0)]
        price: i64,
    },
    /// Every tariff
    List,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("clever-license-server: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("clever-license-server: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let dir = match cli.data_dir {
        Some(d) => d,
        None => directories::ProjectDirs::from("kz", "HAER", "CleverPlatform")
            .map(|d| d.data_dir().join("clever-license-server"))
            .ok_or_else(|| anyhow::anyhow!("no home folder: give --data-dir"))?,
    };
    let store = ServerStore::open_at(&dir, cli.db.as_deref()).await?;
    match cli.command {
        Command::Init => {
            println!("{}", store.create_signing_key()?);
            eprintln!(
                "clever-license-server: the private key is in {} (0600); back it up offline",
                store.dir.join(license_server::store::KEY_FILE).display()
            );
        }
        Command::PublicKey => {
            println!(
                "{}",
                hex::encode(store.signing_key()?.verifying_key().to_bytes())
            );
        }
        Command::Tariff(TariffCommand::List) => {
            for t in store.tariffs().await? {
                println!(
                    "{:<12} accounts {:<8} messages/day {:<10} lookups/day {:<8} machines {} period {} days, {} tenge",
                    t.name,
                    t.accounts.map_or("-".into(), |n| n.to_string()),
                    t.messages_per_day.map_or("-".into(), |n| n.to_string()),
                    t.lookups_per_day.map_or("-".into(), |n| n.to_string()),
                    t.machines,
                    t.period_days,
                    t.price
                );
            }
        }
        Command::Tariff(TariffCommand::Add {
            name,
            accounts,
            messages_per_day,
            lookups_per_day,
            machines,
            period_days,
            price,
        }) => {
            if machines < 1 || period_days < 1 || price < 0 {
                anyhow::bail!(
                    "a tariff needs at least one machine, a period of at least one day and a price of 0 or more"
                );
            }
            store
                .put_tariff(&TariffRow {
                    code: name.clone(),
                    name: name.clone(),
                    accounts,
                    messages_per_day,
                    lookups_per_day,
                    machines,
                    period_days,
                    price,
                })
                .await?;
            println!("tariff `{name}` saved");
        }
        Command::Issue {
            tariff,
            email,
            paid_days,
        } => {
            let (l, mail) = store.issue(&tariff, &email, paid_days).await?;
            // The key alone on stdout, so it can be captured.
            println!("{}", l.key);
            eprintln!(
                "clever-license-server: licence {} for {email}, paid until {}; e-mail written to {}",
                l.id,
                l.paid_until.format("%Y-%m-%d"),
                mail.display()
            );
        }
        Command::List { json } => {
            let all = store.licenses().await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&all)?);
            } else {
                for l in all {
                    println!(
                        "{}  {:<9} {:<10} paid until {}  auto-renew {:<3}  machines {}  {}",
                        l.id,
                        l.status,
                        l.tariff,
                        l.paid_until.format("%Y-%m-%d"),
                        if l.auto_renew { "on" } else { "off" },
                        l.machines,
                        l.email
                    );
                }
            }
        }
        Command::Show { license, json } => {
            let Some(l) = store.find(&license).await? else {
                anyhow::bail!("no licence with that id or key; `list` shows them");
            };
            let machines = license_server::machines(&store, &l.id).await?;
            let audit = store.audit_of(&l.id).await?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&serde_json::json!({
                        "license": l,
                        "machines": machines.iter().map(|(f, h, a, s)| serde_json::json!({
                            "fingerprint": f, "hostname": h, "activated_at": a, "last_seen": s,
                        })).collect::<Vec<_>>(),
                        "audit": audit.iter().map(|(k, d, at)| serde_json::json!({
                            "kind": k, "detail": d, "at": at,
                        })).collect::<Vec<_>>(),
                    }))?
                );
            } else {
                println!(
                    "{}  {}{}  tariff {}  {}",
                    l.id,
                    l.status,
                    l.status_reason
                        .as_deref()
                        .map(|r| format!(" ({r})"))
                        .unwrap_or_default(),
                    l.tariff,
                    l.email
                );
                println!(
                    "paid until {}, auto-renew {}",
                    l.paid_until.format("%Y-%m-%d"),
                    if l.auto_renew { "on" } else { "off" }
                );
                for (f, h, a, s) in machines {
                    println!(
                        "machine {} on {h}: activated {}, last seen {}",
                        f.short(),
                        a.format("%Y-%m-%d %H:%M"),
                        s.format("%Y-%m-%d %H:%M")
                    );
                }
                for (k, d, at) in audit {
                    println!("{}  {k} {d}", at.format("%Y-%m-%d %H:%M:%S"));
                }
            }
        }
        Command::Suspend { license, reason } => {
            store
                .set_status(&license, "suspended", reason.as_deref())
                .await?;
            println!("{license} suspended");
        }
        Command::Reinstate { license } => {
            store.set_status(&license, "active", None).await?;
            println!("{license} active");
        }
        Command::Block { license, reason } => {
            store.set_status(&license, "blocked", Some(&reason)).await?;
            println!("{license} blocked: {reason}");
        }
        Command::AutoRenew { license, state } => {
            store.set_auto_renew(&license, state == "on").await?;
            println!("{license}: auto-renew {state}");
        }
        Command::ActivateOffline { request } => {
            let text = if request.as_os_str() == "-" {
                std::io::read_to_string(std::io::stdin())?
            } else {
                std::fs::read_to_string(&request)?
            };
            let lease = license_server::activate_offline(store, &text).await?;
            println!("{}", serde_json::to_string_pretty(&lease)?);
        }
        Command::Serve {
            listen,
            grace_hours,
        } => {
            let running = license_server::start(
                store,
                listen,
                ServerOptions {
                    grace: chrono::Duration::hours(grace_hours.max(1)),
                    ..ServerOptions::default()
                },
            )
            .await?;
            println!("{}", running.base_url());
            let mut term =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        }
    }
    Ok(())
}
