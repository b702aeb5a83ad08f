//! # CleverPlatform console
//!
//! `clever` is a full-screen terminal console for operators who run messaging to consenting
//! subscribers over the official business APIs of WhatsApp, Telegram and Instagram, check
//! counterparties, and hold a licence bound to their machine. This crate is its library; the
//! `clever` binary (`src/main.rs`) only parses arguments, builds the [`config::Config`] and
//! dispatches.
//!
//! ## Layout and dependency direction
//!
//! | module | owns | may use |
//! |---|---|---|
//! | [`domain`] | ids, channels, states, masking: plain types and rules, no I/O | nothing |
//! | [`store`] | every SQL statement; pool setup, embedded migrations | `domain` |
//! | [`channels`] | the `Channel` trait, the three HTTP clients, outcome classification, webhook parsing | `domain` |
//! | [`import`] | streaming CSV import of subscribers: sniffing, validation, rejects | `domain`, `store` |
//! | [`engine`] | the campaign lifecycle and the sender (claim → limit → send → record), account health checks | `channels`, `domain`, `license` (what the licence allows), `store` |
//! | [`inbound`] | applying webhooks and Telegram updates (long poll): windows, opt-outs (suppress + withdraw), statuses | `channels`, `domain`, `engine`, `store` |
//! | [`counterparty`] | KZ IIN/BIN, RU INN/OGRN/OGRNIP, KZ IBAN and BIC: normalised, validated, decoded (pure); the bank table in `assets/counterparty/`; the registry sources (`sources/`), the risk lists' XLSX files (`risk`), and the whole check with its cache, flags, history and the licence's lookups (`check`) | `domain`, `license` (what the licence allows), `store` (cache, risk entries, history) |
//! | [`license`] | licence keys, the machine fingerprint, signed leases, the licence states and what each allows (pure); the licence files, the calls to the licence server and the background sync | `domain`, `store` (the latest time seen) |
//! | [`license_server`] | the vendor's licence server: its own SQLite store, admin operations, the HTTP API that binds machines and signs leases | `license` |
//! | [`sandbox`] | loopback emulators of the three messenger APIs and the registries (demo, tests, benches); the registry's companies in `assets/sandbox/` | `domain` |
//! | [`commands`] | the non-interactive commands (`subscribers`, `lists`): the binary's edge | all of the above |
//! | [`config`] | `config.toml` + `CLEVER_*` + flags, paths from `directories` | `store` (locations), `license` and `counterparty` (their settings) |
//! | [`host`] | this machine's name (the engine's lease holder, licence activations) | — |
//! | [`logging`] | the rotating log file in the data folder | — |
//! | [`demo`] | seeding the demo workspace from `assets/demo/` (its risk lists from `assets/demo/risk-lists/`, served by the sandbox too) | `counterparty`, `domain`, `sandbox` (the risk-list files), `store` |
//! | [`tui`] | the console: state, keymap, themes, panes, event loop, terminal guard | all of the above, through handles |
//! | [`cli`] | clap definitions only | — |
//!
//! Later releases add licence renewals and Russian registries (ARCHITECTURE.md §3); no module reaches "up" this table, and the TUI never runs SQL or HTTP itself: it sends
//! requests to a worker and gets tagged results back.
//!
//! ## Files
//!
//! `themes/*.toml` (built-in themes, compiled in), `assets/` (the default configuration and
//! the demo seed), `src/store/migrations/` (the schema; landed migrations are never edited).

// One block is allowed, in `store::direct`: sqlx lends its SQLite handle to rusqlite there.
#![deny(unsafe_code)]

pub mod channels;
pub mod cli;
pub mod commands;
pub mod config;
pub mod counterparty;
pub mod demo;
pub mod domain;
pub mod engine;
pub mod host;
pub mod import;
pub mod inbound;
pub mod license;
pub mod license_server;
pub mod logging;
pub mod sandbox;
pub mod store;
pub mod tui;
