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

/// Options every command understands, listed apart from a command's own in its help.
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Global options")]
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

    /// Read the machine id the licence is bound to from this file (e.g. the host's
    /// /etc/machine-id mounted into a container) [default: the system's]
    #[arg(
        long,
        global = true,
        env = "CLEVER_MACHINE_ID_FILE",
        value_name = "FILE"
    )]
    pub machine_id_file: Option<PathBuf>,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Open the console on a self-contained demo workspace (sample accounts, subscribers,
    /// campaigns), kept in the data folder's demo/ folder
    Demo(DemoArgs),

    /// Import, export, search and show subscribers; record consent; suppress addresses
    #[command(subcommand)]
    Subscribers(SubscribersCommand),

    /// Create, edit, list and delete subscriber lists; add subscribers to one or take them off
    #[command(subcommand)]
    Lists(ListsCommand),

    /// Connect, list, pause, resume and remove messenger accounts
    #[command(subcommand)]
    Accounts(AccountsCommand),

    /// Create, start, pause, resume, cancel and follow campaigns
    #[command(subcommand)]
    Campaigns(CampaignsCommand),

    /// The licence of this machine: its state and tariff, offline activation files
    #[command(subcommand)]
    License(LicenseCommand),

    /// Check a counterparty: BIN, IIN, INN, OGRN, OGRNIP, IBAN or BIC
    ///
    /// Validates and decodes the number, then asks the registries (the Bureau of National
    /// Statistics; data.egov.kz with an API key) and the imported risk lists. Exit status:
    /// 0 valid, 1 invalid (any, with --file), 2 a mistake in the command.
    Check(CheckArgs),

    /// Import and inspect the State Revenue Committee's risk lists (XLSX)
    #[command(subcommand)]
    RiskLists(RiskListsCommand),

    /// Run the background work without the screen (for systemd): receive webhooks when
    /// `[webhooks]` is configured, poll Telegram bots for updates; stops on SIGTERM
    Run(RunArgs),

    /// Run the loopback emulators of the WhatsApp, Telegram and Instagram APIs (for trying
    /// things out and for load tests); prints the bound address on the first line
    #[command(subcommand)]
    Sandbox(SandboxCommand),

    /// Print a shell completion script to standard output
    Completions {
        /// The shell
        #[arg(value_enum)]
        shell: Shell,
    },

    /// Print the man page (roff) to standard output
    Manpage,
}

/// `clever subscribers …`
#[derive(Debug, Subcommand)]
pub enum SubscribersCommand {
    /// Import subscribers from a CSV file (UTF-8 or Windows-1251; `,` `;` or tab)
    ///
    /// Columns are found by header name in English, Russian or Kazakh: phone,
    /// telegram_chat_id, instagram_id, name, locale, timezone, consent, consent_source,
    /// consent_at; any other column becomes an attribute. A channel may have several address
    /// columns (phone_2, Мобильный телефон and Рабочий телефон) and a cell several addresses
    /// (after `,` or `;`): each is added to the row's subscriber. The whole file is one
    /// transaction: it lands whole or not at all. Importing the same file again changes
    /// nothing.
    Import(ImportArgs),

    /// Write every subscriber of a list with identities, current consent and attributes
    Export {
        /// The list
        #[arg(long)]
        list: String,
        /// Output format
        #[arg(long, value_enum, default_value = "csv")]
        format: ExportFormat,
        /// Write to this file instead of standard output
        #[arg(long, short, value_name = "FILE")]
        output: Option<PathBuf>,
    },

    /// Show the subscribers of a list (or everyone), optionally searched
    List {
        /// The list [default: every subscriber]
        #[arg(long)]
        list: Option<String>,
        /// Name, phone, chat id or Instagram id (part of it)
        #[arg(long)]
        search: Option<String>,
        /// At most this many
        #[arg(long, default_value_t = 50)]
        limit: u32,
        /// One JSON document on stdout
        #[arg(long)]
        json: bool,
    },

    /// Everything about one subscriber: identities, suppressions, the consent history with
    /// its proof, the latest campaign messages, lists and attributes
    ///
    /// WHO is an address on any channel (a phone in any format, a chat id, an Instagram
    /// id), or `#ID` for the number `subscribers list` shows first; a bare number that is
    /// nobody's address is taken as that number.
    Show {
        /// An address (a phone in any format, a chat id, an Instagram id), or `#ID`
        who: String,
        /// Region for phones written without a country code, e.g. KZ, RU, UZ [default:
        /// `[subscribers] default_region` in the config, else KZ]
        #[arg(long, value_name = "CC")]
        default_region: Option<String>,
        /// One JSON document on stdout
        #[arg(long)]
        json: bool,
    },

    /// Record a consent given or withdrawn outside an import (by phone, on paper, in
    /// person), with its source and proof; audited
    #[command(group(clap::ArgGroup::new("given").required(true).args(["grant", "withdraw"])))]
    Consent {
        /// An address on the channel (a phone in any format, a chat id, an Instagram id), or
        /// `#ID`
        who: String,
        /// whatsapp, telegram or instagram (or wa, tg, ig)
        #[arg(long, value_parser = parse_channel)]
        channel: crate::domain::Channel,
        /// The subscriber gave consent (needs --proof)
        #[arg(long)]
        grant: bool,
        /// The subscriber took it back
        #[arg(long)]
        withdraw: bool,
        /// marketing or service
        #[arg(long, default_value = "marketing", value_parser = parse_scope)]
        scope: crate::domain::ConsentScope,
        /// Where it came from: "call to the shop", "paper form at the till"
        #[arg(long)]
        source: String,
        /// What proves it: a form's number, a recording's id, a ticket
        #[arg(long, default_value = "")]
        proof: String,
        /// When it was given, if not now: YYYY-MM-DD, DD.MM.YYYY (with HH:MM if known) or
        /// RFC 3339; a time without an offset is UTC
        #[arg(long)]
        at: Option<String>,
        /// Region for phones written without a country code, e.g. KZ, RU, UZ [default:
        /// `[subscribers] default_region` in the config, else KZ]
        #[arg(long, value_name = "CC")]
        default_region: Option<String>,
    },

    /// Add one subscriber by hand (a customer at the till, a caller): their addresses, name
    /// and consent, checked and recorded as an import's row is
    #[command(group(clap::ArgGroup::new("address").required(true).multiple(true)
        .args(["phone", "telegram", "instagram"])))]
    Add {
        /// The list they join; it must exist (`clever lists create`)
        #[arg(long)]
        list: String,
        /// Their phone, in any format (for WhatsApp)
        #[arg(long)]
        phone: Option<String>,
        /// Their Telegram chat id (the bot sees it when they press Start)
        #[arg(long, value_name = "CHAT_ID")]
        telegram: Option<String>,
        /// Their Instagram-scoped id
        #[arg(long, value_name = "ID")]
        instagram: Option<String>,
        /// The name messages greet them by
        #[arg(long)]
        name: Option<String>,
        /// Their language, e.g. ru, kk, en
        #[arg(long, value_name = "CODE")]
        locale: Option<String>,
        /// Their time zone, for quiet hours: an IANA name (Asia/Aqtobe), a city, or an offset
        /// (UTC+5)
        #[arg(long, value_name = "ZONE")]
        time_zone: Option<String>,
        /// They agreed to messages of --scope, on every address given (needs --source and
        /// --proof)
        #[arg(long, conflicts_with = "withdraw", requires_all = ["source", "proof"])]
        grant: bool,
        /// They said no to messages of --scope (needs --source)
        #[arg(long, requires = "source")]
        withdraw: bool,
        /// What --grant or --withdraw covers: marketing or service [default: marketing]
        #[arg(long, value_parser = parse_scope)]
        scope: Option<crate::domain::ConsentScope>,
        /// Where the consent came from: "paper form at the till", "call to the shop"
        #[arg(long)]
        source: Option<String>,
        /// What proves it: a form's number, a recording's id, a ticket
        #[arg(long)]
        proof: Option<String>,
        /// When it was given, if not now: YYYY-MM-DD, DD.MM.YYYY (with HH:MM if known) or
        /// RFC 3339
        #[arg(long)]
        at: Option<String>,
        /// Region for phones written without a country code, e.g. KZ, RU, UZ [default:
        /// `[subscribers] default_region` in the config, else KZ]
        #[arg(long, value_name = "CC")]
        default_region: Option<String>,
        /// The import's summary as one JSON document
        #[arg(long)]
        json: bool,
    },

    /// Put an address on the do-not-contact list: it is never messaged again
    Suppress {
        /// Phone (any format), chat id or Instagram id
        address: String,
        /// whatsapp, telegram or instagram (or wa, tg, ig)
        #[arg(long, value_parser = parse_channel)]
        channel: crate::domain::Channel,
        /// Why, for the audit log
        #[arg(long)]
        reason: String,
        /// Region for phones written without a country code, e.g. KZ, RU, UZ [default:
        /// `[subscribers] default_region` in the config, else KZ]
        #[arg(long, value_name = "CC")]
        default_region: Option<String>,
    },

    /// Change a subscriber's name, language or time zone (audited); addresses and consent
    /// have commands of their own
    Edit {
        /// An address (a phone in any format, a chat id, an Instagram id), or `#ID`
        who: String,
        /// The name messages greet them by
        #[arg(long)]
        name: Option<String>,
        /// Their language, e.g. ru, kk, en
        #[arg(long, value_name = "CODE")]
        locale: Option<String>,
        /// Their time zone, for quiet hours: an IANA name (Asia/Aqtobe), a city, or an offset
        /// (UTC+5)
        #[arg(long, value_name = "ZONE", conflicts_with = "no_time_zone")]
        time_zone: Option<String>,
        /// Forget their time zone: quiet hours use their list's, else `[engine] time_zone`
        #[arg(long)]
        no_time_zone: bool,
        /// Region for phones written without a country code, e.g. KZ, RU, UZ [default:
        /// `[subscribers] default_region` in the config, else KZ]
        #[arg(long, value_name = "CC")]
        default_region: Option<String>,
    },

    /// Take an address off the do-not-contact list (audited)
    Unsuppress {
        /// Phone (any format), chat id or Instagram id
        address: String,
        /// whatsapp, telegram or instagram (or wa, tg, ig)
        #[arg(long, value_parser = parse_channel)]
        channel: crate::domain::Channel,
        /// Why, for the audit log
        #[arg(long)]
        reason: String,
        /// Region for phones written without a country code, e.g. KZ, RU, UZ [default:
        /// `[subscribers] default_region` in the config, else KZ]
        #[arg(long, value_name = "CC")]
        default_region: Option<String>,
    },
}

fn parse_scope(s: &str) -> Result<crate::domain::ConsentScope, String> {
    s.trim()
        .to_lowercase()
        .parse()
        .map_err(|_| format!("`{s}` is not a consent scope: marketing or service"))
}

fn parse_channel(s: &str) -> Result<crate::domain::Channel, String> {
    s.parse()
        .map_err(|e: crate::domain::channel::UnknownChannel| e.to_string())
}

/// Options of `clever subscribers import`.
#[derive(Debug, Clone, Args)]
pub struct ImportArgs {
    /// The CSV file
    pub file: PathBuf,
    /// The list the subscribers join (created when missing)
    #[arg(long)]
    pub list: String,
    /// Text encoding of the file
    #[arg(long, value_enum, default_value = "auto")]
    pub encoding: crate::import::detect::Encoding,
    /// Field delimiter: auto, `,`, `;` or tab
    #[arg(long, default_value = "auto")]
    pub delimiter: String,
    /// Region for phones written without a country code, e.g. KZ, RU, UZ [default:
    /// `[subscribers] default_region` in the config, else KZ]
    #[arg(long, value_name = "CC")]
    pub default_region: Option<String>,
    /// Declare consent for every row without a consent value; the text is kept as proof
    #[arg(long, value_name = "TEXT")]
    pub consent_source: Option<String>,
    /// Write rejected rows, with line and reason, to this CSV file
    #[arg(long, value_name = "FILE")]
    pub rejects: Option<PathBuf>,
    /// Check everything and report, but change nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Print the summary as one JSON document
    #[arg(long)]
    pub json: bool,
}

/// `clever sandbox …`
#[derive(Debug, Subcommand)]
pub enum SandboxCommand {
    /// Serve the emulators until interrupted
    Serve {
        /// Address to listen on; port 0 picks a free one
        #[arg(long, default_value = "127.0.0.1:0")]
        listen: std::net::SocketAddr,
        /// Milliseconds added to every answer
        #[arg(long, default_value_t = 0)]
        latency: u64,
        /// Share of sends answered with a transient server error, 0 to 1
        #[arg(long, default_value_t = 0.0)]
        fault_rate: f64,
        /// Share of sends accepted but never answered, 0 to 1
        #[arg(long, default_value_t = 0.0)]
        drop_response_rate: f64,
        /// Where to post signed Meta webhooks (statuses, inbound messages): `URL/whatsapp`
        /// and `URL/instagram`, e.g. http://127.0.0.1:8088/webhooks
        #[arg(long, requires = "app_secret_file")]
        webhook_url: Option<String>,
        /// File holding the app secret the webhooks are signed with
        #[arg(long, requires = "webhook_url")]
        app_secret_file: Option<std::path::PathBuf>,
        /// WhatsApp messages a second per phone number before error 130429
        #[arg(long, default_value_t = crate::sandbox::WHATSAPP_PER_SECOND)]
        whatsapp_per_second: u32,
        /// Least milliseconds between two WhatsApp messages to one recipient before 131056
        #[arg(long, default_value_t = crate::sandbox::WHATSAPP_PAIR_SPACING.as_millis() as u64)]
        whatsapp_pair_spacing_ms: u64,
        /// Instagram answers only people who wrote in the last 24 h (POST /_sandbox/inbound)
        #[arg(long)]
        instagram_strict_window: bool,
    },
}

/// `clever accounts …`
#[derive(Debug, Subcommand)]
pub enum AccountsCommand {
    /// Connect an account of an official business API. The token is read from a file (or
    /// `-` for standard input), never from the command line.
    Add(AddAccountArgs),
    /// Show every account (tokens are never shown)
    List {
        /// One JSON document on stdout
        #[arg(long)]
        json: bool,
    },
    /// Check that accounts' tokens work (all accounts, or one)
    Check {
        /// The account's name (all accounts without it)
        name: Option<String>,
        /// One JSON document on stdout
        #[arg(long)]
        json: bool,
    },
    /// Stop sending from an account, with a reason the operator will read
    Pause {
        /// The account's name
        name: String,
        /// Why, shown with the account and kept in the audit log
        #[arg(long)]
        reason: String,
    },
    /// Replace an account's token (e.g. a renewed Instagram token); the new one is checked
    /// against the platform at once
    SetToken {
        /// The account's name
        name: String,
        /// File holding the new token; `-` reads stdin
        #[arg(long, value_name = "FILE")]
        token_file: PathBuf,
    },
    /// Let a paused account send again
    Resume {
        /// The account's name
        name: String,
    },
    /// Remove an account; refused while a campaign refers to it
    Remove {
        /// The account's name
        name: String,
        /// Really remove
        #[arg(long)]
        yes: bool,
    },
}

/// `clever campaigns …`. CAMPAIGN is a campaign's id or name.
#[derive(Debug, Subcommand)]
pub enum CampaignsCommand {
    /// Make a draft campaign; its message is checked against the list's subscribers
    Create(CreateCampaignArgs),
    /// Check the content policy, make the outbox from sendable subscribers, start sending
    /// (or wait for --schedule); reports who was left out and why
    Start {
        /// The campaign's id or name
        campaign: String,
        /// Only count whom it would reach now and who would be left out; start nothing
        #[arg(long)]
        dry_run: bool,
        /// One JSON document on stdout
        #[arg(long)]
        json: bool,
    },
    /// Stop claiming new rows (messages in flight finish)
    Pause {
        /// The campaign's id or name
        campaign: String,
    },
    /// Continue from the outbox (nothing is sent twice)
    Resume {
        /// The campaign's id or name
        campaign: String,
    },
    /// Skip every row not yet sent
    Cancel {
        /// The campaign's id or name
        campaign: String,
        /// Really cancel
        #[arg(long)]
        yes: bool,
    },
    /// Queue the rows whose fate is unknown again; some of those people may get the message twice
    RequeueUnknown {
        /// The campaign's id or name
        campaign: String,
        /// Really requeue
        #[arg(long)]
        yes: bool,
    },
    /// Counts by state, failures by cause, skipped by reason, rate and ETA
    Status {
        /// The campaign's id or name
        campaign: String,
        /// One JSON document on stdout
        #[arg(long)]
        json: bool,
    },
    /// Every campaign with its progress
    List {
        /// One JSON document on stdout
        #[arg(long)]
        json: bool,
    },
    /// Every outbox row of a campaign as CSV (standard output, or -o FILE)
    Report {
        /// The campaign's id or name
        campaign: String,
        /// csv, or excel (CSV as Excel opens it with a double click)
        #[arg(long, default_value = "csv")]
        format: ReportFormat,
        /// Write to this file instead of standard output (whole, or not at all)
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
}

/// Report formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Csv,
    /// CSV as Excel opens it with a double click: UTF-8 with a BOM, `;` between fields
    Excel,
}

/// Options of `clever campaigns create`.
#[derive(Debug, Clone, Args)]
pub struct CreateCampaignArgs {
    /// A name to know it by, unique in the workspace
    #[arg(long)]
    pub name: String,
    /// The subscriber list
    #[arg(long)]
    pub list: String,
    /// The account that sends
    #[arg(long)]
    pub account: String,
    /// The message: text with {{ name }}, {{ attributes.city }}, {{ name | default("клиент") }}
    #[arg(long, conflicts_with_all = ["text_file", "wa_template"])]
    pub text: Option<String>,
    /// The message from a file (UTF-8)
    #[arg(long, conflicts_with = "wa_template")]
    pub text_file: Option<PathBuf>,
    /// WhatsApp: an approved template's name
    #[arg(long, requires = "wa_lang")]
    pub wa_template: Option<String>,
    /// WhatsApp: the template's language code, e.g. ru
    #[arg(long)]
    pub wa_lang: Option<String>,
    /// WhatsApp: a body parameter, in order: a field (`name`, `attributes.city`) or a template
    #[arg(long)]
    pub wa_param: Vec<String>,
    /// When to start sending: 2026-12-01 10:00 in this machine's zone (or TZ's), or RFC 3339
    /// with its offset (2026-12-01T10:00:00+05:00); a time that has passed is refused
    #[arg(long)]
    pub schedule: Option<String>,
    /// Send only between these local times of each recipient, e.g. 09:00-21:00
    #[arg(long)]
    pub quiet_hours: Option<String>,
    /// One JSON document on stdout
    #[arg(long)]
    pub json: bool,
}

/// Options of `clever accounts add`.
#[derive(Debug, Clone, Args)]
pub struct AddAccountArgs {
    /// whatsapp, telegram or instagram (or wa, tg, ig)
    #[arg(long, value_parser = parse_channel)]
    pub channel: crate::domain::Channel,
    /// A name to know it by, e.g. "Shop WhatsApp"
    #[arg(long)]
    pub name: String,
    /// File holding the access token (WhatsApp, Instagram) or bot token (Telegram); `-` reads stdin
    #[arg(long, value_name = "FILE")]
    pub token_file: PathBuf,
    /// WhatsApp: the phone number id from WhatsApp Manager
    #[arg(long)]
    pub phone_number_id: Option<String>,
    /// WhatsApp: the WhatsApp Business Account id
    #[arg(long)]
    pub waba_id: Option<String>,
    /// Instagram: the professional account's id
    #[arg(long)]
    pub ig_user_id: Option<String>,
    /// API base URL [default: the platform's own host]
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
    /// Graph API version for WhatsApp and Instagram
    #[arg(long, default_value = "v23.0")]
    pub api_version: String,
    /// Messages per second [default: the channel's limit]
    #[arg(long)]
    pub rate: Option<f64>,
    /// WhatsApp: business-initiated unique recipients per 24 h (250, 2000, 10000, 100000)
    #[arg(long)]
    pub wa_tier: Option<i64>,
}

/// Export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    Csv,
    /// CSV as Excel opens it with a double click: UTF-8 with a BOM, `;` between fields
    Excel,
    Jsonl,
}

/// `clever lists …`
#[derive(Debug, Subcommand)]
pub enum ListsCommand {
    /// Create a list
    Create {
        /// The list's name, unique in the workspace
        name: String,
        /// What the list is for
        #[arg(long, default_value = "")]
        description: String,
        /// The time zone of its members with none of their own, for quiet hours: an IANA
        /// name (Asia/Almaty) or an offset (UTC+5) [default: `[engine] time_zone`]
        #[arg(long, value_name = "ZONE")]
        time_zone: Option<String>,
    },
    /// Rename a list, or change its description or time zone
    Edit {
        /// The list's name
        name: String,
        /// Its new name, unique in the workspace
        #[arg(long, value_name = "NAME")]
        rename: Option<String>,
        /// What the list is for
        #[arg(long)]
        description: Option<String>,
        /// The time zone of its members with none of their own, for quiet hours: an IANA
        /// name (Asia/Almaty) or an offset (UTC+5); campaigns sending to the list follow it
        /// from their next batch
        #[arg(long, value_name = "ZONE", conflicts_with = "no_time_zone")]
        time_zone: Option<String>,
        /// Forget the list's time zone: its members with none of their own use `[engine]
        /// time_zone`
        #[arg(long)]
        no_time_zone: bool,
    },
    /// Add subscribers already in the workspace to a list (new people come in with `subscribers
    /// import`); campaigns started on the list before do not include them
    Add {
        /// The list's name
        list: String,
        /// Who: an address (a phone in any format, a chat id, an Instagram id) or `#ID`; `-`
        /// reads them from standard input, one a line
        #[arg(required = true, value_name = "WHO")]
        who: Vec<String>,
        /// Region for phones written without a country code, e.g. KZ, RU, UZ [default:
        /// `[subscribers] default_region` in the config, else KZ]
        #[arg(long, value_name = "CC")]
        default_region: Option<String>,
    },
    /// Take subscribers off a list (they stay in the workspace and in their other lists);
    /// their queued messages in the list's campaigns are skipped
    Remove {
        /// The list's name
        list: String,
        /// Who: an address (a phone in any format, a chat id, an Instagram id) or `#ID`; `-`
        /// reads them from standard input, one a line
        #[arg(required = true, value_name = "WHO")]
        who: Vec<String>,
        /// Region for phones written without a country code, e.g. KZ, RU, UZ [default:
        /// `[subscribers] default_region` in the config, else KZ]
        #[arg(long, value_name = "CC")]
        default_region: Option<String>,
    },
    /// Show every list with its size
    List {
        /// One JSON document on stdout
        #[arg(long)]
        json: bool,
    },
    /// Delete a list (its subscribers stay); refused while a campaign uses it
    Delete {
        /// The list's name
        name: String,
        /// Really delete
        #[arg(long)]
        yes: bool,
    },
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

    /// Every command and every option says what it is in `--help` and the man page.
    #[test]
    fn every_command_and_option_is_explained() {
        fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
            let path = format!("{path} {}", cmd.get_name());
            if cmd.get_about().is_none() && cmd.get_name() != "help" {
                missing.push(path.clone());
            }
            for arg in cmd.get_arguments() {
                let id = arg.get_id().as_str();
                if id != "help" && id != "version" && arg.get_help().is_none() {
                    missing.push(format!("{path} {id}"));
                }
            }
            for sub in cmd.get_subcommands() {
                walk(sub, &path, missing);
            }
        }
        let mut missing = Vec::new();
        walk(&Cli::command(), "", &mut missing);
        assert!(missing.is_empty(), "without a help text: {missing:#?}");
    }
}

/// Options of `clever run`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct RunArgs {
    /// Write the log file as JSON lines (one object per event) instead of text
    #[arg(long)]
    pub json: bool,
}

/// `clever check …`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The number, as pasted (spaces, dashes and dots are fine)
    #[arg(required_unless_present = "file", conflicts_with = "file")]
    pub id: Option<String>,
    /// How a 12-digit number is read first [default: the `[counterparty]` country, else KZ]
    #[arg(long, value_enum)]
    pub country: Option<CountryArg>,
    /// Validate only: ask no registry (the imported risk lists are still read)
    #[arg(long)]
    pub offline: bool,
    /// One JSON document (with --file: one JSON document per line)
    #[arg(long)]
    pub json: bool,
    /// Check every number in this file, one per line (`-` reads standard input; blank lines
    /// and lines starting with # are skipped)
    #[arg(long, value_name = "FILE")]
    pub file: Option<PathBuf>,
}

/// A country for reading 12-digit numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CountryArg {
    #[value(name = "KZ", alias = "kz")]
    Kz,
    #[value(name = "RU", alias = "ru")]
    Ru,
}

/// `clever risk-lists …`.
#[derive(Debug, Subcommand)]
pub enum RiskListsCommand {
    /// Import downloaded risk-list files; each replaces its list's entries whole
    ///
    /// Lists: PSEUDO_COMPANY, INVALID_REGISTRATION, BANKRUPT, INACTIVE, TAX_ARREARS_150,
    /// WRONG_ADDRESS, VIOLATION_TAX_CODE. Which list a file is comes from --list, else from
    /// words in its name or title. Several files of one list are imported together. An
    /// http(s) address is downloaded first (a copy is kept in the data folder's risk-lists/).
    Import {
        /// The XLSX (or XLS, ODS) files, or addresses to download them from
        #[arg(required = true)]
        files: Vec<String>,
        /// The list every file belongs to
        #[arg(long)]
        list: Option<String>,
        /// One JSON document
        #[arg(long)]
        json: bool,
    },
    /// Every imported list: entries, file, when and by whom
    Status {
        /// One JSON document
        #[arg(long)]
        json: bool,
    },
}

/// `clever license …`.
#[derive(Debug, Subcommand)]
pub enum LicenseCommand {
    /// Activate this machine with a licence key (from the e-mail or the personal cabinet)
    Activate {
        /// The licence key (or use --key-file; `-` reads standard input)
        key: Option<String>,
        /// A file holding the key
        #[arg(long, value_name = "FILE", conflicts_with = "key")]
        key_file: Option<PathBuf>,
    },
    /// Refresh the lease from the licence server now
    Sync,
    /// Free this machine's seat on the licence server (sending stops here)
    Deactivate {
        /// Do it (without it, says what would happen)
        #[arg(long)]
        yes: bool,
    },
    /// The licence's state, what it allows, the tariff, paid-until, auto-renew and this
    /// machine's fingerprint
    Status {
        /// One JSON document on stdout
        #[arg(long)]
        json: bool,
    },
    /// Write an activation request for an air-gapped server to standard output: take it to
    /// the vendor (cabinet, or `clever-license-server activate-offline`) and bring back the
    /// lease for `clever license install`
    Request {
        /// The licence key (or use --key-file; `-` reads standard input)
        key: Option<String>,
        /// A file holding the key
        #[arg(long, value_name = "FILE", conflicts_with = "key")]
        key_file: Option<PathBuf>,
    },
    /// Install the lease the vendor issued for this machine's request
    Install {
        /// The lease file (`-` reads standard input)
        file: PathBuf,
    },
}
