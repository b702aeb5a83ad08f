//! The command line, as clap definitions only. Completions and the man page are generated
//! from these same definitions.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// CleverPlatform console: messaging campaigns to consenting subscribers over the official
/// WhatsApp, Telegram and Instagram business APIs.
///
/// With no command, opens the full-screen console on your workspace.
#[derive(Debug, Parser)]
#[command(name = "clever", version, about, long_about, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Options every command understands.
#[derive(Debug, Clone, Default, Args)]
pub struct GlobalArgs {
    /// Folder for the database and logs [default: the platform's data folder]
    #[arg(long, global = true, env = "CLEVER_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// Configuration file [default: config.toml in the platform's config folder]
    #[arg(long, global = true, env = "CLEVER_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Database URL, e.g. sqlite:///srv/clever/clever.db [default: clever.db in the data folder]
    #[arg(long, global = true, env = "CLEVER_DATABASE_URL", value_name = "URL")]
    pub database_url: Option<String>,

    /// Colour theme: default, light, high-contrast, mono, or one in the config folder's themes/
    #[arg(long, global = true, env = "CLEVER_THEME", value_name = "NAME")]
    pub theme: Option<String>,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Open the console on a self-contained demo workspace (sample accounts, subscribers,
    /// campaigns), kept in the data folder's demo/ folder
    Demo(DemoArgs),

    /// Print a shell completion script to standard output
    Completions {
        /// The shell
        #[arg(value_enum)]
        shell: Shell,
    },

    /// Print the man page (roff) to standard output
    Manpage,
}

/// Options of `clever demo`.
#[derive(Debug, Clone, Default, Args)]
pub struct DemoArgs {
    /// Throw the demo workspace away and seed it afresh
    #[arg(long)]
    pub reset: bool,
}

/// Shells that completions are generated for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn definitions_are_consistent() {
        Cli::command().debug_assert();
    }
}
