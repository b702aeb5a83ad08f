//! The non-interactive commands: argument structs from `cli` in, the library's services
//! called, results out on stdout (text, or one JSON document with `--json`), errors on
//! stderr. This is the binary's edge, so errors are `anyhow` here.

pub mod accounts;
pub mod campaigns;
pub mod check;
pub mod license;
pub mod lists;
pub mod run;
pub mod sandbox;
pub mod subscribers;

use crate::store::{Location, Store};

/// Who runs the command, for consent records and the audit log: the login name.
pub fn actor() -> String {
    ["USER", "LOGNAME"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|s| !s.is_empty()))
        .unwrap_or_else(|| "operator".to_string())
}

/// Opens the workspace database.
pub async fn open(location: &Location) -> anyhow::Result<Store> {
    Ok(Store::open(location).await?)
}

/// Prints one JSON document.
pub fn print_json<T: serde::Serialize>(value: &T) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// Refuses a change the licence does not permit now (read-only states), saying why and
/// what to do; nothing is changed.
pub async fn permit(
    store: &Store,
    config: &crate::config::Config,
    change: crate::license::state::Change,
) -> anyhow::Result<()> {
    let state = match license::standing(store, config).await {
        Ok(s) => s.state,
        Err(e) => crate::license::state::LicenseState::Invalid {
            reason: format!("the licence files cannot be read: {e:#}"),
        },
    };
    state.permits(change, chrono::Utc::now()).map_err(|why| {
        // The demo's licence comes from a licence server that runs inside `clever demo` only.
        if crate::demo::is_demo_folder(&config.data_dir) {
            anyhow::anyhow!(
                "{} is the demo workspace: its licence is valid only inside `clever demo`, so \
                 this change is refused here. Make it in the demo's console, or use a workspace \
                 of your own. ({why})",
                config.data_dir.display()
            )
        } else {
            anyhow::Error::msg(why)
        }
    })
}

/// Ends a command with this exit status, its output already printed.
#[derive(Debug, thiserror::Error)]
#[error("exit status {0}")]
pub struct Exit(pub u8);

/// A mistake in the command (exit status 2), said on stderr.
pub fn usage(message: impl std::fmt::Display) -> anyhow::Error {
    eprintln!("clever: {message}");
    Exit(2).into()
}

/// `word` as a shell reads it back whole, for commands suggested to the operator: as it is
/// when it is plain, in single quotes otherwise.
pub fn shell_word(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "@%+=:,./_-".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

pub use crate::import::export::csv_writer;

/// Runs `write` on standard output, or on `path` by way of `PATH.partial`, which is renamed
/// over `path` only once everything is written and on disk. A failure part-way leaves no
/// half-written file, and the file that was at `path` (yesterday's report) as it was.
pub(crate) async fn write_output<T>(
    path: Option<&std::path::Path>,
    write: impl AsyncFnOnce(&mut dyn std::io::Write) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    use anyhow::Context;
    use std::io::Write;
    let Some(path) = path else {
        let mut out = std::io::stdout().lock();
        let value = write(&mut out).await?;
        out.flush()?;
        return Ok(value);
    };
    crate::import::replaceable(path).map_err(|e| anyhow::anyhow!("{e}; nothing was written"))?;
    let partial = crate::import::partial_path(path);
    let cannot = || format!("cannot write {}", path.display());
    let file = std::fs::File::create(&partial).with_context(cannot)?;
    let mut out = std::io::BufWriter::new(file);
    let written = match write(&mut out).await {
        Ok(value) => out
            .into_inner()
            .map_err(|e| e.into_error())
            .and_then(|file| file.sync_all())
            .with_context(cannot)
            .map(|()| value),
        Err(e) => Err(e),
    };
    match written.and_then(|value| {
        std::fs::rename(&partial, path)
            .with_context(cannot)
            .map(|()| value)
    }) {
        Ok(value) => Ok(value),
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            Err(e.context(format!(
                "{} was not written (a file already there is as it was)",
                path.display()
            )))
        }
    }
}

/// A time in this machine's zone (or `TZ`), to the minute, with its offset
/// (`2026-11-27 10:00 +05:00`), so a line copied into a ticket means the same time anywhere.
pub(crate) fn local_time(at: chrono::DateTime<chrono::Utc>) -> String {
    at.with_timezone(&chrono::Local)
        .format("%Y-%m-%d %H:%M %:z")
        .to_string()
}

/// `--time-zone` as typed, by its zone's name (read as an import reads a `timezone`).
pub fn zone(text: &str) -> anyhow::Result<&'static str> {
    crate::domain::quiet::parse_zone(text)
        .map(|tz| tz.name())
        .map_err(|e| anyhow::anyhow!("--time-zone: {e}"))
}

#[cfg(test)]
mod tests {
    use super::{shell_word, write_output};

    #[tokio::test]
    async fn an_output_file_is_whole_or_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("report.csv");
        std::fs::write(&path, "yesterday\n").unwrap();
        // Fails after writing part of it: the old file stays, no partial one is left.
        let e = write_output::<()>(Some(&path), async |out| {
            out.write_all(b"half of it")?;
            anyhow::bail!("the database went away")
        })
        .await
        .unwrap_err();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "yesterday\n");
        assert!(!dir.path().join("report.csv.partial").exists());
        let shown = format!("{e:#}");
        assert!(shown.contains("report.csv was not written"), "{shown}");
        assert!(shown.contains("the database went away"), "{shown}");
        // Succeeds: the new content replaces it whole.
        let n = write_output(Some(&path), async |out| {
            out.write_all(b"today\n")?;
            Ok(7)
        })
        .await
        .unwrap();
        assert_eq!(n, 7);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "today\n");
        assert!(!dir.path().join("report.csv.partial").exists());
        // A folder that does not exist is named as the operator gave it.
        let missing = dir.path().join("no/such/folder.csv");
        let e = write_output(Some(&missing), async |_| Ok(()))
            .await
            .unwrap_err();
        assert!(
            format!("{e:#}").contains(&format!("cannot write {}", missing.display())),
            "{e:#}"
        );
    }

    /// An output named like a SQLite database (the workspace's, mistyped) never replaces it.
    #[tokio::test]
    async fn an_output_never_replaces_a_database() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("clever.db");
        let mut bytes = b"SQLite format 3\0".to_vec();
        bytes.extend([7u8; 100]);
        std::fs::write(&db, &bytes).unwrap();
        let e = write_output(Some(&db), async |out| {
            out.write_all(b"phone\n")?;
            Ok(())
        })
        .await
        .unwrap_err();
        assert!(
            format!("{e:#}").contains("clever.db is a SQLite database"),
            "{e:#}"
        );
        assert_eq!(std::fs::read(&db).unwrap(), bytes);
        assert!(!dir.path().join("clever.db.partial").exists());
        // Any other file, even a short one, is replaced as asked.
        let short = dir.path().join("short.csv");
        std::fs::write(&short, "SQLite").unwrap();
        write_output(Some(&short), async |out| Ok(out.write_all(b"new")?))
            .await
            .unwrap();
        assert_eq!(std::fs::read(&short).unwrap(), b"new");
    }

    #[test]
    fn suggested_words_survive_the_shell() {
        assert_eq!(shell_word("@clever_shop_bot"), "@clever_shop_bot");
        assert_eq!(
            shell_word("Clever Shop · WhatsApp"),
            "'Clever Shop · WhatsApp'"
        );
        assert_eq!(shell_word("O'Hara"), r"'O'\''Hara'");
        assert_eq!(shell_word(""), "''");
    }
}
