//! `clever run`: the console's background work without the screen, for systemd: the webhook
//! endpoints (when `[webhooks]` is configured), Telegram updates by long poll, and the
//! campaign sender.
//!
//! It stops cleanly on SIGTERM, SIGINT or SIGHUP; a second instance on the same address
//! fails at start with the address in the message.

use crate::config::Config;
use crate::inbound::server::{WebhookSettings, serve};
use crate::store::Store;
use anyhow::Context;

/// Runs until a signal arrives.
pub async fn run(store: &Store, config: &Config) -> anyhow::Result<()> {
    // Signals are caught from the start, so a stop asked for during start-up is clean too.
    let signals = Signals::new()?;
    let client = crate::channels::client::Client::new(std::time::Duration::from_secs(15))
        .map_err(anyhow::Error::msg)?;
    let webhooks = match config.webhooks.listen {
        Some(listen) => {
            let settings =
                WebhookSettings::from_config(&config.webhooks).map_err(anyhow::Error::msg)?;
            let (addr, task) = serve(store.clone(), settings, listen)
                .await
                .with_context(|| format!("cannot listen for webhooks on {listen}"))?;
            eprintln!("clever run: receiving webhooks on {addr}");
            tracing::info!(%addr, "webhooks served");
            Some(task)
        }
        None => {
            eprintln!(
                "clever run: no [webhooks] listen address configured; WhatsApp and Instagram \
                 statuses and replies are not received (see README, Channels)"
            );
            None
        }
    };
    // The licence is synced here too; the engine reads it before every batch.
    let licence = crate::license::sync::spawn(store.clone(), config.license_local());
    let engine = crate::engine::sender::Engine::start(
        store.clone(),
        client.clone(),
        crate::engine::sender::EngineOptions {
            licence: Some(licence.state.clone()),
            ..crate::engine::sender::EngineOptions::configured(&config.engine)
        },
    );
    let telegram = crate::inbound::telegram::spawn(
        store.clone(),
        client,
        config.webhooks.opt_out_keywords.clone(),
    );
    eprintln!(
        "clever run: Telegram bots without a webhook are polled for updates; SIGTERM or Ctrl-C stops"
    );
    let signal = signals.wait().await;
    eprintln!("clever run: {signal}, stopping");
    tracing::info!(signal, "stopping");
    // In-flight requests finish and are recorded (each bounded by the client's timeout).
    engine.stop().await;
    drop(telegram);
    if let Some(task) = webhooks {
        task.abort();
    }
    Ok(())
}

/// SIGTERM, SIGHUP and SIGINT, caught.
struct Signals {
    term: tokio::signal::unix::Signal,
    hup: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
}

impl Signals {
    fn new() -> std::io::Result<Signals> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Signals {
            term: signal(SignalKind::terminate())?,
            hup: signal(SignalKind::hangup())?,
            int: signal(SignalKind::interrupt())?,
        })
    }

    async fn wait(mut self) -> &'static str {
        tokio::select! {
            _ = self.int.recv() => "interrupted",
            _ = self.term.recv() => "SIGTERM",
            _ = self.hup.recv() => "SIGHUP",
        }
    }
}
