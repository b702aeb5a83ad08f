//! `clever`: argv → Config → dispatch. Nothing else lives here.

use anyhow::Context;
use clap::{CommandFactory, Parser};
use cleverplatform::cli::{Cli, Command, DemoArgs, Shell};
use cleverplatform::config::Config;
use cleverplatform::logging::{self, LogFormat};
use cleverplatform::store::{self, Location, Store};
use cleverplatform::tui::worker::{Services, Workspace};
use cleverplatform::{commands, demo, tui};
use std::io::{IsTerminal, Write};
use std::process::ExitCode;

fn main() -> ExitCode {
    fewer_malloc_arenas();
    let cli = Cli::parse();
    if prints_a_stream(&cli.command) {
        quiet_on_closed_pipe();
    }
    match cli.command {
        Some(Command::Completions { shell }) => {
            let shell = match shell {
                Shell::Bash => clap_complete::Shell::Bash,
                Shell::Zsh => clap_complete::Shell::Zsh,
                Shell::Fish => clap_complete::Shell::Fish,
            };
            clap_complete::generate(shell, &mut Cli::command(), "clever", &mut std::io::stdout());
            ExitCode::SUCCESS
        }
        Some(Command::Manpage) => {
            match clap_mangen::Man::new(Cli::command()).render(&mut std::io::stdout()) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => fail(&anyhow::Error::new(e), 1),
            }
        }
        Some(Command::Demo(args)) => console(&cli.global, Some(args)),
        Some(Command::Subscribers(cmd)) => command(&cli.global, |store, config| async move {
            commands::subscribers::run(&store, &config, cmd).await
        }),
        Some(Command::Lists(cmd)) => command(&cli.global, |store, config| async move {
            commands::lists::run(&store, &config, cmd).await
        }),
        Some(Command::Accounts(cmd)) => command(&cli.global, |store, config| async move {
            commands::accounts::run(&store, &config, cmd).await
        }),
        Some(Command::Campaigns(cmd)) => command(&cli.global, |store, config| async move {
            commands::campaigns::run(&store, &config, cmd).await
        }),
        Some(Command::License(cmd)) => command(&cli.global, |store, config| async move {
            commands::license::run(&store, &config, cmd).await
        }),
        Some(Command::Check(args)) => command(&cli.global, |store, config| async move {
            commands::check::check(&store, &config, args).await
        }),
        Some(Command::RiskLists(cmd)) => command(&cli.global, |store, config| async move {
            commands::check::risk_lists(&store, &config, cmd).await
        }),
        Some(Command::Run(args)) => {
            let format = if args.json {
                LogFormat::Json
            } else {
                LogFormat::Text
            };
            command_logged(&cli.global, format, |store, config| async move {
                commands::run::run(&store, &config).await
            })
        }
        Some(Command::Sandbox(cmd)) => commands::sandbox::run(cmd),
        None => console(&cli.global, None),
    }
}

/// Starts logging and the async runtime (two workers: the machine's size).
fn start(
    config: &Config,
    format: LogFormat,
) -> anyhow::Result<(
    tracing_appender::non_blocking::WorkerGuard,
    tokio::runtime::Runtime,
)> {
    let log = logging::init(
        &config.log_dir,
        &config.log_level,
        config.log_keep_files,
        format,
    )?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    Ok((log, runtime))
}

/// Runs a non-interactive command on the workspace database.
fn command<F, Fut>(global: &cleverplatform::cli::GlobalArgs, f: F) -> ExitCode
where
    F: FnOnce(Store, Config) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    command_logged(global, LogFormat::Text, f)
}

/// Runs a non-interactive command, its log lines written in `format`.
fn command_logged<F, Fut>(
    global: &cleverplatform::cli::GlobalArgs,
    format: LogFormat,
    f: F,
) -> ExitCode
where
    F: FnOnce(Store, Config) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    let config = match Config::load(global) {
        Ok(c) => c,
        Err(e) => return fail(&e.into(), 2),
    };
    let (_log, runtime) = match start(&config, format) {
        Ok(both) => both,
        Err(e) => return fail(&e, 1),
    };
    let result = runtime.block_on(async {
        let store = commands::open(&config.database).await?;
        let result = f(store.clone(), config.clone()).await;
        store.close().await;
        result
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => match e.downcast_ref::<commands::Exit>() {
            Some(commands::Exit(code)) => ExitCode::from(*code),
            None => {
                tracing::error!(error = %format!("{e:#}"), "command failed");
                fail(&e, 1)
            }
        },
    }
}

/// Commands that print rows and nothing else, read the database only and make no network
/// connection: often piped into `head` or `grep -m`.
fn prints_a_stream(command: &Option<Command>) -> bool {
    use cleverplatform::cli::{CampaignsCommand as C, ListsCommand as L, SubscribersCommand as S};
    matches!(
        command,
        Some(Command::Subscribers(S::List { .. } | S::Export { .. }))
            | Some(Command::Lists(L::List { .. }))
            | Some(Command::Campaigns(
                C::List { .. } | C::Status { .. } | C::Report { .. }
            ))
            | Some(Command::Completions { .. } | Command::Manpage)
    )
}

/// Lets the process end quietly, as `cat` or `ls` do, when the reader of its output goes
/// away (`clever subscribers export | head`), instead of failing on the next write. Only for
/// [`prints_a_stream`] commands: a process that talks to servers keeps ignoring the signal,
/// so a peer closing a connection is an error it handles, not its end.
fn quiet_on_closed_pipe() {
    #[cfg(unix)]
    // SAFETY: restores the default action of one signal before any other thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// Caps glibc's allocator at two arenas, one for each core of the machines the console is
/// sized for, instead of its default of eight a core. Each thread that allocates while the
/// others do gets an arena of its own (the runtime's workers, each SQLite connection's
/// thread), and what one frees stays in it for that thread: sending from a 1 000 000-row
/// outbox, the engine's peak memory was 49.1–49.7 MB with two against 52.9–53.8 MB without,
/// and it sent as fast (BENCHMARKS.md, campaign engine). Called before any other thread
/// exists.
fn fewer_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: sets one of the allocator's parameters before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

/// Prints the error and its causes, leaving out a cause its parent already quotes.
fn fail(e: &anyhow::Error, code: u8) -> ExitCode {
    let mut text = e.to_string();
    let mut last = text.clone();
    for cause in e.chain().skip(1) {
        let c = cause.to_string();
        if !last.contains(&c) {
            text.push_str(": ");
            text.push_str(&c);
        }
        last = c;
    }
    // Not `eprintln!`: after the console, standard error may be a terminal that is gone,
    // and failing to say so must not turn into a panic.
    let _ = writeln!(std::io::stderr(), "clever: {text}");
    ExitCode::from(code)
}

/// Opens the console on the operator's workspace, or on the demo workspace.
fn console(global: &cleverplatform::cli::GlobalArgs, demo_args: Option<DemoArgs>) -> ExitCode {
    let config = match Config::load(global) {
        Ok(c) => c,
        Err(e) => return fail(&e.into(), 2),
    };
    let config = if demo_args.is_some() {
        config.for_demo()
    } else {
        config
    };
    tracing::info!(version = env!("CARGO_PKG_VERSION"), database = %config.database.display(), "starting");
    let (_log, runtime) = match start(&config, LogFormat::Text) {
        Ok(both) => both,
        Err(e) => return fail(&e, 1),
    };
    match runtime.block_on(open_and_run(config, demo_args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %format!("{e:#}"), "stopped");
            fail(&e, 1)
        }
    }
}

async fn open_and_run(mut config: Config, demo_args: Option<DemoArgs>) -> anyhow::Result<()> {
    let is_demo = demo_args.is_some();
    if let (Some(args), Location::File(db)) = (&demo_args, &config.database)
        && args.reset
    {
        demo::reset(db)?;
    }
    let store = Store::open(&config.database).await?;
    if is_demo
        && demo::ensure_seeded(&store, chrono::Utc::now())
            .await
            .context("seeding the demo workspace")?
    {
        tracing::info!("demo workspace seeded");
    }
    // The platforms' webhooks, when configured, are received while the console runs; the
    // demo receives its emulators' webhooks on a loopback port with one-time secrets.
    let webhook_settings = match (config.webhooks.listen, is_demo) {
        (Some(listen), _) => Some((
            listen,
            cleverplatform::inbound::server::WebhookSettings::from_config(&config.webhooks)
                .map_err(anyhow::Error::msg)?,
        )),
        (None, true) => Some((
            "127.0.0.1:0".parse()?,
            cleverplatform::inbound::server::WebhookSettings::one_time(
                config.webhooks.opt_out_keywords.clone(),
            ),
        )),
        (None, false) => None,
    };
    let webhooks = match webhook_settings {
        Some((listen, settings)) => {
            let secret = settings.app_secret.clone();
            let (addr, task) =
                cleverplatform::inbound::server::serve(store.clone(), settings, listen)
                    .await
                    .with_context(|| format!("cannot listen for webhooks on {listen}"))?;
            tracing::info!(%addr, "webhooks served");
            Some((addr, secret, task))
        }
        None => None,
    };
    // The demo talks to the loopback emulators over real HTTP.
    let sandbox = if is_demo {
        let options = cleverplatform::sandbox::SandboxOptions {
            webhook: webhooks.as_ref().map(|(addr, secret, _)| {
                cleverplatform::sandbox::WebhookTarget {
                    url: format!("http://{addr}/webhooks"),
                    app_secret: secret.clone(),
                }
            }),
            ..Default::default()
        };
        let running = cleverplatform::sandbox::start("127.0.0.1:0".parse()?, options)
            .await
            .context("starting the sandbox emulators")?;
        let mut conn = store.begin().await?;
        store::accounts::point_sandbox_accounts(&mut conn, &running.base_url()).await?;
        conn.commit().await?;
        tracing::info!(base = %running.base_url(), "sandbox emulators started");
        Some(running)
    } else {
        None
    };
    // The demo has a licence of its own: an in-process licence server whose key only the
    // demo workspace trusts, and a machine id of the demo's (so it works in containers too).
    let _demo_licence = if is_demo {
        let (running, public, key) =
            cleverplatform::license_server::start_demo(&config.data_dir.join("license-server"))
                .await
                .context("starting the demo licence server")?;
        config.license.server_url = running.base_url();
        config.license.trusted_keys.push(public);
        config.license.machine_id_file = Some(demo::machine_id_file(&config.data_dir)?);
        let local = config.license_local();
        if local.stored_key().is_none() {
            local
                .activate(&key)
                .await
                .context("activating the demo licence")?;
        }
        Some(running)
    } else {
        None
    };
    // The licence sync runs for the whole session; the engine and the status bar read it.
    let licence = cleverplatform::license::sync::spawn(store.clone(), config.license_local());
    let engine_options = cleverplatform::engine::sender::EngineOptions {
        licence: Some(licence.state.clone()),
        ..cleverplatform::engine::sender::EngineOptions::configured(&config.engine)
    };
    // Counterparty checks: the demo asks its registry emulator, with a key of its own.
    if let Some(s) = &sandbox {
        config.counterparty.stat_url = s.base_url();
        config.counterparty.egov_url = s.base_url();
        config.counterparty.egov_api_key = Some("demo".into());
    }
    let checker = cleverplatform::counterparty::check::Checker::new(
        store.clone(),
        config.counterparty.clone(),
        Some(licence.state.clone()),
    )?;
    let services = Services {
        store: store.clone(),
        checker: Some(checker),
        client: cleverplatform::channels::client::Client::new(std::time::Duration::from_secs(15))
            .map_err(anyhow::Error::msg)?,
        actor: cleverplatform::commands::actor(),
        licence: Some(licence.control(config.license_local())),
        workspace: Workspace {
            label: if is_demo {
                "demo workspace".into()
            } else {
                config.data_dir.display().to_string()
            },
            demo: is_demo,
            database: config.database.display(),
            log_dir: config.log_dir.display().to_string(),
            rejects_dir: config.data_dir.join("rejects"),
            sample_import: if is_demo {
                demo::write_import_sample(&config.data_dir)
                    .ok()
                    .map(|p| p.display().to_string())
            } else {
                None
            },
            engine: Some(engine_options.holder.clone()),
            license_server: config.license.server_url.clone(),
            country: config.counterparty.country,
            default_region: config.default_region,
            license: match cleverplatform::commands::license::standing(&store, &config).await {
                Ok(s) => s.state,
                Err(e) => cleverplatform::license::state::LicenseState::Invalid {
                    reason: format!("the licence files cannot be read: {e:#}"),
                },
            },
        },
    };
    let mut app = tui::build_app(&config, &services)?;
    if let (Some((addr, ..)), false) = (&webhooks, is_demo) {
        app.notify(format!("receiving webhooks on {addr}"), false);
    }
    // Checked before the engine starts: an engine that took the lease and vanished with the
    // process would keep `clever run` waiting for the lease to run out.
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        store.close().await;
        anyhow::bail!(
            "the console needs a terminal on standard input and output. \
             Run it in an SSH session or tmux; see `clever --help` for commands"
        );
    }
    // The sender runs here unless another engine (`clever run`) holds the database's engine
    // lease; then this console only watches and steers through the database.
    let engine = cleverplatform::engine::sender::Engine::start(
        store.clone(),
        services.client.clone(),
        engine_options,
    );
    // Telegram bots without a webhook get their updates (opt-outs, replies) by long poll.
    let telegram = cleverplatform::inbound::telegram::spawn(
        store.clone(),
        services.client.clone(),
        config.webhooks.opt_out_keywords.clone(),
    );
    let result = futures::FutureExt::catch_unwind(std::panic::AssertUnwindSafe(tui::run(
        app,
        services,
        Some(engine.state.clone()),
        Some(licence.state.clone()),
    )))
    .await;
    // Whatever ended the console, a panic included, its engine finishes what is in flight
    // and gives the lease up.
    engine.stop().await;
    let result = result.unwrap_or_else(|panic| std::panic::resume_unwind(panic));
    result?;
    drop(telegram);
    drop(sandbox);
    if let Some((.., task)) = webhooks {
        task.abort();
    }
    store.close().await;
    Ok(())
}
