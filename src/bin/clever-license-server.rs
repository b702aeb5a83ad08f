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
    /// Folder of the database, the signing key and the e-mail outbox
    #[arg(long, env = "CLEVER_LICENSE_SERVER_DIR", value_name = "DIR")]
    data_dir: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// The signing key pair
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Tariffs and their limits
    #[command(subcommand)]
    Tariffs(TariffsCommand),
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
    /// Suspend a licence (a failed payment)
    Suspend { license: String },
    /// Make a suspended licence active again
    Reinstate { license: String },
    /// Block a licence for a violation (spam, tampering)
    Block { license: String },
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
enum KeysCommand {
    /// Create the signing key pair (never replaces one); prints the public key to put in the
    /// console's build (CLEVER_VENDOR_KEY) or its `[license] trusted_keys`
    Create,
    /// Print the public key
    Show,
}

#[derive(Debug, Subcommand)]
enum TariffsCommand {
    /// Add or change a tariff (limits left out are unlimited)
    Add {
        code: String,
        #[arg(long)]
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
    },
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
    let store = ServerStore::open(&cli.data_dir).await?;
    match cli.command {
        Command::Keys(KeysCommand::Create) => {
            println!("{}", store.create_signing_key()?);
            eprintln!(
                "clever-license-server: the private key is in {} (0600); back it up offline",
                store.dir.join(license_server::store::KEY_FILE).display()
            );
        }
        Command::Keys(KeysCommand::Show) => {
            println!(
                "{}",
                hex::encode(store.signing_key()?.verifying_key().to_bytes())
            );
        }
        Command::Tariffs(TariffsCommand::Add {
            code,
            name,
            accounts,
            messages_per_day,
            lookups_per_day,
            machines,
            period_days,
        }) => {
            if machines < 1 || period_days < 1 {
                anyhow::bail!(
                    "a tariff needs at least one machine and a period of at least one day"
                );
            }
            store
                .put_tariff(&TariffRow {
                    code: code.clone(),
                    name,
                    accounts,
                    messages_per_day,
                    lookups_per_day,
                    machines,
                    period_days,
                })
                .await?;
            println!("tariff `{code}` saved");
        }
        Command::Issue {
            tariff,
            email,
            paid_days,
        } => {
            let (l, mail) = store.issue(&tariff, &email, paid_days).await?;
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
        Command::Suspend { license } => {
            store.set_status(&license, "suspended").await?;
            println!("{license} suspended");
        }
        Command::Reinstate { license } => {
            store.set_status(&license, "active").await?;
            println!("{license} active");
        }
        Command::Block { license } => {
            store.set_status(&license, "blocked").await?;
            println!("{license} blocked");
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
