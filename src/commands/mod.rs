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

/// A time in this machine's zone (or `TZ`), to the minute, with its offset
/// (`2026-11-27 10:00 +05:00`), so a line copied into a ticket means the same time anywhere.
pub(crate) fn local_time(at: chrono::DateTime<chrono::Utc>) -> String {
    at.with_timezone(&chrono::Local)
        .format("%Y-%m-%d %H:%M %:z")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::shell_word;

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
