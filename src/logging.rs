//! Logging with `tracing` to a daily-rotating file in `<data_dir>/logs`, never to the
//! terminal (the TUI owns it). Tokens and phone numbers are masked by the callers
//! (`domain::mask`) before they reach a log line. `clever run --json` writes one JSON object
//! per line instead of text, for log shippers.

use std::path::{Path, PathBuf};
use tracing_appender::non_blocking::WorkerGuard;
use tracing_appender::rolling::{Builder, Rotation};
use tracing_subscriber::EnvFilter;

/// Why logging could not start.
#[derive(Debug, thiserror::Error)]
#[error(
    "cannot write logs in {dir}: {reason}. \
     Choose a writable data folder with --data-dir or CLEVER_DATA_DIR"
)]
pub struct LogError {
    pub dir: PathBuf,
    pub reason: String,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// `2026-11-26T01:02:03.456Z  INFO clever::engine: message key=value`
    #[default]
    Text,
    /// `{"timestamp":"…","level":"INFO","fields":{"message":"…",…},"target":"…"}`
    Json,
}

/// Starts logging to files in `dir`. Keep the guard alive until exit: dropping it flushes.
pub fn init(
    dir: &Path,
    level: &str,
    keep_files: usize,
    format: LogFormat,
) -> Result<WorkerGuard, LogError> {
    let fail = |reason: String| LogError {
        dir: dir.to_path_buf(),
        reason,
    };
    std::fs::create_dir_all(dir).map_err(|e| fail(e.to_string()))?;
    let appender = Builder::new()
        .rotation(Rotation::DAILY)
        .filename_prefix("clever")
        .filename_suffix("log")
        .max_log_files(keep_files.max(1))
        .build(dir)
        .map_err(|e| fail(e.to_string()))?;
    let (writer, guard) = tracing_appender::non_blocking(appender);
    let filter = EnvFilter::try_new(format!("{level},sqlx=warn"))
        .or_else(|_| EnvFilter::try_new("info"))
        .map_err(|e| fail(e.to_string()))?;
    // A second initialisation (tests run several flows in one process) keeps the first.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(false);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
    Ok(guard)
}
