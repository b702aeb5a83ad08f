//! `clever sandbox serve`: the loopback emulators on their own, until interrupted.

use crate::cli::SandboxCommand;
use crate::sandbox::{self, SandboxOptions};
use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

/// Runs the command; prints the bound address on the first line of stdout.
pub fn run(cmd: SandboxCommand) -> ExitCode {
    let SandboxCommand::Serve {
        listen,
        latency,
        fault_rate,
        drop_response_rate,
        webhook_url,
        app_secret_file,
        whatsapp_per_second,
        whatsapp_pair_spacing_ms,
        instagram_strict_window,
    } = cmd;
    for (name, v) in [
        ("--fault-rate", fault_rate),
        ("--drop-response-rate", drop_response_rate),
    ] {
        if !(0.0..=1.0).contains(&v) {
            eprintln!("clever: {name} is a share between 0 and 1");
            return ExitCode::from(2);
        }
    }
    let webhook = match (webhook_url, app_secret_file) {
        (Some(url), Some(file)) => {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                eprintln!("clever: --webhook-url must start with http:// or https://, got {url}");
                return ExitCode::from(2);
            }
            match std::fs::read_to_string(&file) {
                Ok(secret) if !secret.trim().is_empty() => Some(sandbox::WebhookTarget {
                    url,
                    app_secret: secret.trim().as_bytes().to_vec(),
                }),
                Ok(_) => {
                    eprintln!("clever: the app secret file {} is empty", file.display());
                    return ExitCode::from(2);
                }
                Err(e) => {
                    eprintln!(
                        "clever: cannot read the app secret from {}: {e}",
                        file.display()
                    );
                    return ExitCode::from(2);
                }
            }
        }
        _ => None,
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("clever: {e}");
            return ExitCode::from(1);
        }
    };
    runtime.block_on(async move {
        let options = SandboxOptions {
            latency: Duration::from_millis(latency),
            fault_rate,
            drop_response_rate,
            whatsapp_per_second,
            whatsapp_pair_spacing: Duration::from_millis(whatsapp_pair_spacing_ms),
            webhook,
            instagram_strict_window,
        };
        // Caught before the address is printed: whoever reads it may stop us at once.
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(t) => t,
                Err(e) => {
                    eprintln!("clever: {e}");
                    return ExitCode::from(1);
                }
            };
        let running = match sandbox::start(listen, options).await {
            Ok(r) => r,
            Err(e) => {
                eprintln!("clever: cannot listen on {listen}: {e}");
                return ExitCode::from(1);
            }
        };
        println!("{}", running.base_url());
        let _ = std::io::stdout().flush();
        eprintln!(
            "sandbox emulators on {}; messages at {}/_sandbox/messages; Ctrl-C stops",
            running.base_url(),
            running.base_url()
        );
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
        ExitCode::SUCCESS
    })
}
