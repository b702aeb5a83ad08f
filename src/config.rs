//! Configuration: `config.toml`, then `CLEVER_*` environment variables, then flags.
//!
//! Owns: where files live (from `directories`: ProjectDirs kz / HAER / CleverPlatform), the
//! commented default file written on first run, and errors that name file, line and key.
//! Must not touch: the database or the terminal. Key bindings are kept here as text with
//! their positions; the TUI's keymap turns them into bindings and reports mistakes through
//! [`Config::locate`].

use crate::cli::GlobalArgs;
use crate::store::{Location, StoreError};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// The commented default configuration written on first run.
pub const DEFAULT_CONFIG: &str = include_str!("../assets/config.default.toml");

/// File name of the database inside the data folder.
pub const DATABASE_FILE: &str = "clever.db";

/// Key bindings from the file: mode → action → keys, each with its place in the file.
pub type KeyOverrides = BTreeMap<String, BTreeMap<String, Spanned<Vec<String>>>>;

/// The settings a `config.toml` may hold.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<String>,
    #[serde(default)]
    pub ui: UiConfig,
    #[serde(default)]
    pub log: LogConfig,
    #[serde(default)]
    pub keys: KeyOverrides,
    #[serde(default)]
    pub webhooks: WebhooksConfig,
    #[serde(default)]
    pub engine: EngineConfig,
    #[serde(default)]
    pub license: LicenseFileConfig,
    #[serde(default)]
    pub counterparty: CounterpartyFileConfig,
    #[serde(default)]
    pub subscribers: SubscribersFileConfig,
}

/// `[subscribers]` as written in the file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubscribersFileConfig {
    /// The region of phone numbers written without a country code (`8 701 …`).
    pub default_region: Option<String>,
}

/// `[counterparty]` as written in the file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CounterpartyFileConfig {
    /// `KZ` or `RU`: how a 12-digit number is read first.
    pub country: Option<String>,
    pub stat_url: Option<String>,
    pub stat_lang: Option<String>,
    pub egov_url: Option<String>,
    /// A file holding the data.egov.kz API key.
    pub egov_api_key_file: Option<PathBuf>,
    pub timeout_seconds: Option<u64>,
    pub retries: Option<u32>,
    pub cache_hours: Option<u32>,
}

impl CounterpartyFileConfig {
    /// The check's settings, with `CLEVER_STAT_URL` and `CLEVER_EGOV_API_KEY` winning over
    /// the file.
    pub fn resolve(
        &self,
        env_stat_url: Option<String>,
        env_egov_key: Option<String>,
    ) -> Result<crate::counterparty::check::CheckSettings, String> {
        use crate::counterparty::check::CheckSettings;
        let mut s = CheckSettings::default();
        if let Some(c) = &self.country {
            s.country = crate::counterparty::Country::parse(c)
                .ok_or_else(|| format!("[counterparty] country = {c:?}: use \"KZ\" or \"RU\""))?;
        }
        if let Some(u) = env_stat_url
            .filter(|u| !u.trim().is_empty())
            .or_else(|| self.stat_url.clone())
        {
            s.stat_url = u.trim().trim_end_matches('/').to_string();
        }
        if let Some(l) = &self.stat_lang {
            if !matches!(l.as_str(), "ru" | "kk" | "en") {
                return Err(format!(
                    "[counterparty] stat_lang = {l:?}: use \"ru\", \"kk\" or \"en\""
                ));
            }
            s.stat_lang = l.clone();
        }
        if let Some(u) = &self.egov_url {
            s.egov_url = u.trim().trim_end_matches('/').to_string();
        }
        s.egov_api_key = match (
            env_egov_key.filter(|k| !k.trim().is_empty()),
            &self.egov_api_key_file,
        ) {
            (Some(k), _) => Some(k.trim().to_string()),
            (None, Some(f)) => Some(
                std::fs::read_to_string(f)
                    .map_err(|e| format!("[counterparty] egov_api_key_file {}: {e}", f.display()))?
                    .trim()
                    .to_string(),
            ),
            (None, None) => None,
        };
        if let Some(t) = self.timeout_seconds {
            s.sources.timeout = std::time::Duration::from_secs(t.max(1));
        }
        if let Some(r) = self.retries {
            s.sources.retries = r.min(5);
        }
        if let Some(h) = self.cache_hours {
            s.cache_ttl = chrono::Duration::hours(i64::from(h));
        }
        Ok(s)
    }
}

/// `[license]` as written in the file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LicenseFileConfig {
    pub server_url: Option<String>,
    #[serde(default)]
    pub trusted_keys: Vec<String>,
}

/// The licence server the vendor runs.
pub const DEFAULT_LICENSE_SERVER: &str = "https://license.cleverplatform.kz";

/// Licensing settings, resolved from the file, the environment and the flags.
#[derive(Debug, Clone)]
pub struct LicenseConfig {
    pub server_url: String,
    /// Keys trusted besides the vendor's (checked when read).
    pub trusted_keys: Vec<ed25519_dalek::VerifyingKey>,
    /// Where to read the machine id instead of the system's (`--machine-id-file`).
    pub machine_id_file: Option<PathBuf>,
}

impl Default for LicenseConfig {
    fn default() -> Self {
        LicenseConfig {
            server_url: DEFAULT_LICENSE_SERVER.into(),
            trusted_keys: Vec::new(),
            machine_id_file: None,
        }
    }
}

impl LicenseConfig {
    /// From the file's `[license]`, `CLEVER_LICENSE_SERVER` (wins over the file),
    /// `CLEVER_LICENSE_TRUSTED_KEYS` (added to the file's) and `--machine-id-file`.
    pub fn resolve(
        file: &LicenseFileConfig,
        env_server: Option<String>,
        env_keys: Option<String>,
        machine_id_file: Option<PathBuf>,
    ) -> Result<LicenseConfig, crate::license::TrustedKeyError> {
        let mut keys = Vec::new();
        for k in file.trusted_keys.iter().cloned().chain(
            env_keys
                .iter()
                .flat_map(|v| v.split(','))
                .map(str::trim)
                .filter(|k| !k.is_empty())
                .map(str::to_string),
        ) {
            keys.push(crate::license::parse_public_key(&k)?);
        }
        Ok(LicenseConfig {
            server_url: env_server
                .filter(|s| !s.trim().is_empty())
                .or_else(|| file.server_url.clone())
                .unwrap_or_else(|| DEFAULT_LICENSE_SERVER.into())
                .trim_end_matches('/')
                .to_string(),
            trusted_keys: keys,
            machine_id_file,
        })
    }

    /// Every key licence keys and leases are checked against: the vendor's, then these.
    pub fn all_trusted(&self) -> Vec<ed25519_dalek::VerifyingKey> {
        let mut keys = crate::license::trusted_keys(&[]).unwrap_or_default();
        keys.extend(self.trusted_keys.iter().copied());
        keys
    }
}

/// `[engine]`: how the campaign sender works.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EngineConfig {
    /// The time zone of recipients with none of their own (nor their list's).
    pub time_zone: Option<TimeZoneName>,
    /// How long a message may stay `sending` before its fate counts as unknown.
    pub lease_seconds: Option<u64>,
    /// How long a standby engine waits for a silent active one before taking over.
    pub takeover_seconds: Option<u64>,
    /// How often each account's token is checked against its platform; 0 never.
    pub health_check_minutes: Option<u64>,
    /// The reply an address's first opt-out keyword gets; empty sends none.
    pub opt_out_reply: Option<String>,
}

/// A time zone (an IANA name or a whole-hour offset, see `parse_zone`), checked when the
/// file is read.
#[derive(Debug, Clone, Copy)]
pub struct TimeZoneName(pub chrono_tz::Tz);

impl<'de> Deserialize<'de> for TimeZoneName {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        crate::domain::quiet::parse_zone(&name)
            .map(TimeZoneName)
            .map_err(serde::de::Error::custom)
    }
}

/// `[webhooks]`: where the console listens for the platforms' webhooks. Secrets live in
/// files named here, never in this file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhooksConfig {
    pub listen: Option<std::net::SocketAddr>,
    pub verify_token_file: Option<PathBuf>,
    pub app_secret_file: Option<PathBuf>,
    pub telegram_secret_file: Option<PathBuf>,
    #[serde(default)]
    pub opt_out_keywords: Vec<String>,
}

/// `[ui]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UiConfig {
    pub theme: Option<String>,
}

/// `[log]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    pub level: Option<String>,
    pub keep_files: Option<usize>,
}

/// A mistake in a configuration file, with where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub file: PathBuf,
    pub line: usize,
    pub column: usize,
    pub key: Option<String>,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: ", self.file.display(), self.line, self.column)?;
        if let Some(key) = &self.key {
            write!(f, "key `{key}`: ")?;
        }
        write!(f, "{}", self.message)
    }
}

impl std::error::Error for ConfigError {}

/// Why the configuration could not be put together.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("{0}\nFix that line, or move the file aside to get a fresh default.")]
    File(#[from] ConfigError),
    #[error("cannot read the configuration file {path}: {error}")]
    Read {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error(
        "cannot work out the home folder for the default config and data folders; \
         give them with --config and --data-dir (or CLEVER_CONFIG and CLEVER_DATA_DIR)"
    )]
    NoHome,
    #[error("{0}")]
    Database(#[from] StoreError),
    #[error("{0} (in [license] trusted_keys or CLEVER_LICENSE_TRUSTED_KEYS)")]
    License(String),
    #[error("{0}")]
    Counterparty(String),
    #[error("[subscribers] default_region: {0}")]
    Subscribers(String),
}

/// Everything the binary needs to know, resolved.
#[derive(Debug, Clone)]
pub struct Config {
    /// The configuration file (which may not exist).
    pub config_file: PathBuf,
    /// Its folder; user themes live in `themes/` under it.
    pub config_dir: PathBuf,
    /// Folder of the database and logs.
    pub data_dir: PathBuf,
    /// The database.
    pub database: Location,
    /// Folder of the rotating log files.
    pub log_dir: PathBuf,
    /// Log level filter.
    pub log_level: String,
    /// How many daily log files to keep.
    pub log_keep_files: usize,
    /// The theme asked for.
    pub theme: String,
    /// Whether the theme was asked for by flag or environment (wins over NO_COLOR).
    pub theme_explicit: bool,
    /// Key bindings from the file.
    pub keys: KeyOverrides,
    /// The webhook endpoints, when configured.
    pub webhooks: WebhooksConfig,
    /// The campaign sender's settings.
    pub engine: EngineConfig,
    /// Licensing: the server, trusted keys, the machine id's source.
    pub license: LicenseConfig,
    /// Counterparty checks: the sources and how they are asked.
    pub counterparty: crate::counterparty::check::CheckSettings,
    /// The region of phone numbers written without a country code, where a command or the
    /// console reads one (`[subscribers] default_region`, KZ unless set); `--default-region`
    /// wins for one command.
    pub default_region: crate::domain::phone::Region,
    /// The file's text, for locating mistakes found later (key bindings).
    source: String,
    /// Things the operator should know that did not stop start-up.
    pub notices: Vec<String>,
}

impl Config {
    /// Resolves paths and reads the file. Writes a commented default file when there is none;
    /// failing to write it is a notice, not an error.
    pub fn load(args: &GlobalArgs) -> Result<Config, SetupError> {
        let dirs = directories::ProjectDirs::from("kz", "HAER", "CleverPlatform");
        let config_file = match (&args.config, &dirs) {
            (Some(file), _) => file.clone(),
            (None, Some(d)) => d.config_dir().join("config.toml"),
            (None, None) => return Err(SetupError::NoHome),
        };
        let mut notices = Vec::new();
        let source = match std::fs::read_to_string(&config_file) {
            Ok(text) => text,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
                ) =>
            {
                if let Err(e) = write_default(&config_file) {
                    notices.push(format!(
                        "could not write the default configuration to {}: {e}; \
                         running on built-in defaults",
                        config_file.display()
                    ));
                } else {
                    notices.push(format!(
                        "wrote a commented default configuration to {}",
                        config_file.display()
                    ));
                }
                String::new()
            }
            Err(error) => {
                return Err(SetupError::Read {
                    path: config_file,
                    error,
                });
            }
        };
        let file = parse(&config_file, &source)?;

        let data_dir = match (&args.data_dir, &file.data_dir, &dirs) {
            (Some(d), _, _) | (None, Some(d), _) => d.clone(),
            (None, None, Some(d)) => d.data_dir().to_path_buf(),
            (None, None, None) => return Err(SetupError::NoHome),
        };
        let database = match args
            .database_url
            .as_deref()
            .or(file.database_url.as_deref())
        {
            Some(url) => Location::from_url(url)?,
            None => Location::File(data_dir.join(DATABASE_FILE)),
        };
        let (theme, theme_explicit) = match (&args.theme, &file.ui.theme) {
            (Some(t), _) => (t.clone(), true),
            (None, Some(t)) => (t.clone(), false),
            (None, None) => ("default".to_string(), false),
        };
        let license = LicenseConfig::resolve(
            &file.license,
            std::env::var("CLEVER_LICENSE_SERVER").ok(),
            std::env::var("CLEVER_LICENSE_TRUSTED_KEYS").ok(),
            args.machine_id_file.clone(),
        )
        .map_err(|e| SetupError::License(e.to_string()))?;
        let counterparty = file
            .counterparty
            .resolve(
                std::env::var("CLEVER_STAT_URL").ok(),
                std::env::var("CLEVER_EGOV_API_KEY").ok(),
            )
            .map_err(SetupError::Counterparty)?;
        let default_region = match &file.subscribers.default_region {
            Some(r) => r.parse().map_err(SetupError::Subscribers)?,
            None => crate::domain::phone::Region::default(),
        };
        let log_level = std::env::var("CLEVER_LOG")
            .ok()
            .filter(|l| !l.is_empty())
            .or(file.log.level.clone())
            .unwrap_or_else(|| "info".to_string());
        Ok(Config {
            config_dir: config_file
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_default(),
            config_file,
            log_dir: data_dir.join("logs"),
            data_dir,
            database,
            log_level,
            log_keep_files: file.log.keep_files.unwrap_or(14),
            theme,
            theme_explicit,
            keys: file.keys,
            webhooks: file.webhooks,
            engine: file.engine,
            license,
            counterparty,
            default_region,
            source,
            notices,
        })
    }

    /// This machine's licence files and what they are checked against.
    pub fn license_local(&self) -> crate::license::local::Local {
        crate::license::local::Local {
            folder: self.data_dir.join("license"),
            trusted: self.license.all_trusted(),
            machine_id_file: self.license.machine_id_file.clone(),
            server_url: self.license.server_url.clone(),
        }
    }

    /// The same configuration pointed at the demo workspace: `<data_dir>/demo/`.
    pub fn for_demo(mut self) -> Config {
        let demo = self.data_dir.join("demo");
        self.database = Location::File(demo.join(DATABASE_FILE));
        self.data_dir = demo;
        self
    }

    /// Turns a span in the configuration file into a located error.
    pub fn locate(&self, span: Range<usize>, key: Option<String>, message: String) -> ConfigError {
        let (line, column) = line_col(&self.source, span.start);
        ConfigError {
            file: self.config_file.clone(),
            line,
            column,
            key,
            message,
        }
    }

    /// The same configuration with the settings of a configuration file's text (theme, log,
    /// keys), as if read from `config_file`. For tests and tools.
    pub fn with_text(mut self, text: &str) -> Result<Config, ConfigError> {
        let file = parse(&self.config_file, text)?;
        if let Some(theme) = file.ui.theme {
            self.theme = theme;
        }
        if let Some(level) = file.log.level {
            self.log_level = level;
        }
        self.keys = file.keys;
        self.source = text.to_string();
        Ok(self)
    }

    /// A configuration for tests and tools: everything under one folder, no file read.
    pub fn in_folder(dir: &Path) -> Config {
        Config {
            config_file: dir.join("config.toml"),
            config_dir: dir.to_path_buf(),
            data_dir: dir.to_path_buf(),
            database: Location::File(dir.join(DATABASE_FILE)),
            log_dir: dir.join("logs"),
            log_level: "info".into(),
            log_keep_files: 14,
            theme: "default".into(),
            theme_explicit: false,
            keys: KeyOverrides::new(),
            webhooks: WebhooksConfig::default(),
            engine: EngineConfig::default(),
            license: LicenseConfig::default(),
            counterparty: crate::counterparty::check::CheckSettings::default(),
            default_region: crate::domain::phone::Region::default(),
            source: String::new(),
            notices: Vec::new(),
        }
    }
}

fn write_default(path: &Path) -> std::io::Result<()> {
    use std::io::Write;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)?;
    f.write_all(DEFAULT_CONFIG.as_bytes())
}

/// Parses a configuration file's text; a mistake names file, line and key.
pub fn parse(file: &Path, source: &str) -> Result<FileConfig, ConfigError> {
    toml::from_str(source).map_err(|e| {
        let start = e.span().map(|s| s.start).unwrap_or(0);
        let (line, column) = line_col(source, start);
        ConfigError {
            file: file.to_path_buf(),
            line,
            column,
            key: key_at(source, start),
            message: e.message().trim().to_string(),
        }
    })
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(source: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(source.len());
    let before = source.get(..offset).unwrap_or(source);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    let column = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
    (line, column)
}

/// The dotted key whose line holds `offset`: the table header above it plus the key on the
/// line, e.g. `ui.theme`. `None` when the line holds no key.
pub fn key_at(source: &str, offset: usize) -> Option<String> {
    let offset = offset.min(source.len());
    let line_start = source.get(..offset)?.rfind('\n').map_or(0, |i| i + 1);
    let line = source.get(line_start..)?.lines().next().unwrap_or("");
    let trimmed = line.trim();
    let table = source.get(..line_start)?.lines().rev().find_map(|l| {
        let l = l.trim();
        l.strip_prefix('[')
            .and_then(|rest| rest.trim_start_matches('[').split(']').next())
            .map(|name| name.trim().to_string())
    });
    if let Some(header) = trimmed.strip_prefix('[') {
        return header
            .trim_start_matches('[')
            .split(']')
            .next()
            .map(|h| h.trim().to_string());
    }
    let key = trimmed.split('=').next()?.trim().trim_matches('"');
    if key.is_empty() || trimmed.starts_with('#') || !trimmed.contains('=') {
        return table;
    }
    Some(match table {
        Some(t) => format!("{t}.{key}"),
        None => key.to_string(),
    })
}

#[cfg(test)]
mod tests {

    #[test]
    fn counterparty_settings_resolve_with_the_environment_winning() {
        let file = CounterpartyFileConfig {
            country: Some("ru".into()),
            stat_url: Some("https://stat.example/".into()),
            cache_hours: Some(48),
            ..Default::default()
        };
        let s = file.resolve(None, None).unwrap();
        assert_eq!(s.country, crate::counterparty::Country::Ru);
        assert_eq!(s.stat_url, "https://stat.example");
        assert_eq!(s.cache_ttl, chrono::Duration::hours(48));
        assert_eq!(s.egov_api_key, None);
        let s = file
            .resolve(Some("http://127.0.0.1:9".into()), Some(" key ".into()))
            .unwrap();
        assert_eq!(s.stat_url, "http://127.0.0.1:9");
        assert_eq!(s.egov_api_key.as_deref(), Some("key"));
        let bad = CounterpartyFileConfig {
            country: Some("KG".into()),
            ..Default::default()
        };
        assert!(
            bad.resolve(None, None)
                .unwrap_err()
                .contains("\"KZ\" or \"RU\"")
        );
        let missing = CounterpartyFileConfig {
            egov_api_key_file: Some("/nonexistent/key".into()),
            ..Default::default()
        };
        assert!(
            missing
                .resolve(None, None)
                .unwrap_err()
                .contains("/nonexistent/key")
        );
    }
    use super::*;

    fn err(src: &str) -> ConfigError {
        parse(Path::new("/etc/clever.toml"), src).unwrap_err()
    }

    #[test]
    fn default_file_parses_to_defaults() {
        let f = parse(Path::new("x"), DEFAULT_CONFIG).unwrap();
        assert!(f.data_dir.is_none() && f.ui.theme.is_none() && f.keys.is_empty());
    }

    #[test]
    fn unknown_key_is_named_with_its_line() {
        let e = err("[ui]\ntheme = \"mono\"\ncolour = \"red\"\n");
        assert_eq!(e.line, 3);
        assert_eq!(e.key.as_deref(), Some("ui.colour"));
        assert!(e.message.contains("unknown field"), "{}", e.message);
        assert!(e.to_string().starts_with("/etc/clever.toml:3:"));
    }

    #[test]
    fn wrong_type_is_named_with_its_line() {
        let e = err("# top\n\n[log]\nkeep_files = \"many\"\n");
        assert_eq!((e.line, e.key.as_deref()), (4, Some("log.keep_files")));
    }

    #[test]
    fn syntax_error_has_a_line() {
        let e = err("[ui]\ntheme = \n");
        assert_eq!(e.line, 2);
    }

    #[test]
    fn line_col_counts_characters() {
        assert_eq!(line_col("ab\nпри", 7), (2, 3));
    }

    #[test]
    fn keys_keep_their_position() {
        let src = "[keys.normal]\nquit = [\"x\"]\n";
        let f = parse(Path::new("c.toml"), src).unwrap();
        let span = f.keys["normal"]["quit"].span();
        assert_eq!(line_col(src, span.start).0, 2);
    }
}
