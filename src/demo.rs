//! The demo workspace: a database under `<data_dir>/demo/` seeded from
//! `assets/demo/workspace.toml` with a fixed random seed — thousands of subscribers with
//! consent records, lists, SANDBOX accounts of all three channels, campaigns in every state
//! and a history of counterparty checks.
//!
//! Owns: building the sample data. Must not touch: the terminal. Writes only through the
//! store's insert functions, in one transaction, so a half-seeded demo never exists.

use crate::domain::{
    AccountId, AccountStatus, CampaignStatus, Channel, ConsentScope, ConsentStatus, ListId,
    OutboxState, SubscriberId,
};
use crate::store::{self, Store, StoreError};
use chrono::{DateTime, Duration, Utc};
use rand::prelude::*;
use rand_chacha::ChaCha8Rng;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

/// The seed data.
pub const WORKSPACE_TOML: &str = include_str!("../assets/demo/workspace.toml");

/// A sample import file (Windows-1251, `;`, a few bad rows), written next to the demo
/// database for trying the import.
pub const IMPORT_SAMPLE: &[u8] = include_bytes!("../assets/demo/import-sample.csv");

/// File name of the sample import in the demo folder.
pub const IMPORT_SAMPLE_NAME: &str = "import-sample.csv";

/// Writes the sample import file into the demo folder unless it is there; returns its path.
pub fn write_import_sample(dir: &Path) -> std::io::Result<std::path::PathBuf> {
    let path = dir.join(IMPORT_SAMPLE_NAME);
    if !path.exists() {
        std::fs::write(&path, IMPORT_SAMPLE)?;
    }
    Ok(path)
}

/// The settings key that marks a seeded demo.
pub const SEEDED_KEY: &str = "demo.seeded_at";

const SEED: u64 = 2026;

/// A list member and its identity ids per channel.
type Member = (SubscriberId, BTreeMap<Channel, i64>);

#[derive(Debug, Deserialize)]
struct Seed {
    subscribers: usize,
    names: BTreeMap<String, Vec<String>>,
    cities: Vec<(String, String, u32)>,
    consent_sources: Vec<(String, String)>,
    lists: Vec<SeedList>,
    accounts: Vec<SeedAccount>,
    campaigns: Vec<SeedCampaign>,
    lookups: Vec<SeedLookup>,
}

#[derive(Debug, Deserialize)]
struct SeedList {
    name: String,
    description: String,
    share: u32,
}

#[derive(Debug, Deserialize)]
struct SeedAccount {
    channel: Channel,
    name: String,
    settings: serde_json::Value,
    wa_daily_tier: Option<i64>,
    /// Messages a second; the demo's WhatsApp account sends slowly so its campaign is seen
    /// moving.
    rate_per_sec: Option<f64>,
    paused: Option<String>,
}

#[derive(Debug, Deserialize)]
struct SeedCampaign {
    name: String,
    list: String,
    account: String,
    status: CampaignStatus,
    #[serde(default)]
    done: f64,
    days_ago: i64,
    schedule_in_hours: Option<i64>,
    quiet: Option<(String, String)>,
    /// A WhatsApp template (name, language) with its body parameters; `text` is then unused.
    template: Option<(String, String)>,
    #[serde(default)]
    params: Vec<String>,
    #[serde(default)]
    text: String,
    reason: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedLookup {
    input: String,
}

/// Why the demo could not be prepared.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("the demo seed data is damaged: {0}")]
    SeedData(String),
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("cannot remove the old demo workspace at {path}: {error}")]
    Reset { path: String, error: std::io::Error },
}

/// Deletes the demo database files (and only those) so the next open starts afresh.
pub fn reset(database: &Path) -> Result<(), DemoError> {
    for suffix in ["", "-wal", "-shm"] {
        let mut p = database.as_os_str().to_owned();
        p.push(suffix);
        match std::fs::remove_file(&p) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => {
                return Err(DemoError::Reset {
                    path: Path::new(&p).display().to_string(),
                    error,
                });
            }
        }
    }
    Ok(())
}

/// Seeds the workspace unless it was seeded before. Returns whether it seeded.
pub async fn ensure_seeded(store: &Store, now: DateTime<Utc>) -> Result<bool, DemoError> {
    if store.setting(SEEDED_KEY).await?.is_some() {
        return Ok(false);
    }
    seed(store, now).await?;
    Ok(true)
}

/// Writes the whole demo in one transaction, with times relative to `now`.
pub async fn seed(store: &Store, now: DateTime<Utc>) -> Result<(), DemoError> {
    let seed: Seed =
        toml::from_str(WORKSPACE_TOML).map_err(|e| DemoError::SeedData(e.to_string()))?;
    let mut rng = ChaCha8Rng::seed_from_u64(SEED);
    let mut tx = store.begin().await?;
    let conn = &mut *tx;

    let mut accounts: BTreeMap<String, (AccountId, Channel)> = BTreeMap::new();
    for a in &seed.accounts {
        let id = store::accounts::insert(
            conn,
            &store::accounts::NewAccount {
                channel: a.channel,
                name: &a.name,
                settings: a.settings.clone(),
                // A paused demo account holds an expired token, as in real life.
                secret: match (a.paused.is_some(), a.channel) {
                    (true, _) => "revoked-sandbox-token",
                    // A bot token has the bot's id before the colon.
                    (false, Channel::Telegram) => "7000001:AAsandbox-demo-bot-token-0123456789",
                    (false, _) => "sandbox-token",
                },
                base_url: Some("http://127.0.0.1 (sandbox)"),
                api_version: match a.channel {
                    Channel::Telegram => None,
                    _ => Some("v23.0"),
                },
                sandbox: true,
                rate_per_sec: a.rate_per_sec,
                wa_daily_tier: a.wa_daily_tier,
            },
        )
        .await?;
        if let Some(reason) = &a.paused {
            store::accounts::set_status(conn, id, AccountStatus::Paused, Some(reason)).await?;
        }
        accounts.insert(a.name.clone(), (id, a.channel));
    }

    let mut lists: BTreeMap<String, (ListId, Vec<Member>)> = BTreeMap::new();
    for l in &seed.lists {
        let id = store::lists::insert(conn, &l.name, &l.description, Some("Asia/Almaty")).await?;
        lists.insert(l.name.clone(), (id, Vec::new()));
    }

    let names = |key: &str| seed.names.get(key).map(Vec::as_slice).unwrap_or_default();
    let city_weights: Vec<u32> = seed.cities.iter().map(|c| c.2).collect();
    let city_total: u32 = city_weights.iter().sum();
    let mut used_phones = std::collections::BTreeSet::new();

    for n in 0..seed.subscribers {
        let lang = match rng.random_range(0..100) {
            0..55 => "kk",
            55..92 => "ru",
            _ => "en",
        };
        let female = rng.random_bool(0.5);
        let first = names(&format!(
            "{lang}_{}",
            if female { "female" } else { "male" }
        ))
        .choose(&mut rng)
        .cloned()
        .unwrap_or_default();
        let mut surname = names(&format!("{lang}_surname"))
            .choose(&mut rng)
            .cloned()
            .unwrap_or_default();
        if female && lang != "en" {
            surname.push('а');
        }
        let mut pick = rng.random_range(0..city_total.max(1));
        let city = seed
            .cities
            .iter()
            .find(|c| {
                if pick < c.2 {
                    true
                } else {
                    pick -= c.2;
                    false
                }
            })
            .unwrap_or(&seed.cities[0]);
        let created = now
            - Duration::days(rng.random_range(1..400))
            - Duration::minutes(rng.random_range(0..1440));
        let attributes = serde_json::json!({
            "city": city.0,
            "loyalty_points": rng.random_range(0..5000),
        });
        let sid = store::subscribers::insert(
            conn,
            &format!("{first} {surname}"),
            Some(lang),
            Some(&city.1),
            &attributes,
            created,
        )
        .await?;

        let mut identities: BTreeMap<Channel, i64> = BTreeMap::new();
        let mut wa_phone = None;
        if rng.random_bool(0.9) {
            let phone = loop {
                let prefix = [
                    "700", "701", "702", "705", "707", "747", "771", "775", "776", "777", "778",
                ]
                .choose(&mut rng)
                .copied()
                .unwrap_or("701");
                // Every so often a number the sandbox answers in a set way, so the demo's
                // live campaign shows failures, an opt-out reply and a failed delivery.
                let magic = ["1026", "0700", "0500", "1050"];
                let p = if n % 97 == 5 {
                    format!(
                        "+7{prefix}{:03}{}",
                        rng.random_range(0..1000),
                        magic[(n / 97) % magic.len()]
                    )
                } else {
                    format!("+7{prefix}{:07}", rng.random_range(0..10_000_000))
                };
                if used_phones.insert(p.clone()) {
                    break p;
                }
            };
            let id = store::subscribers::add_identity(conn, sid, Channel::WhatsApp, &phone).await?;
            identities.insert(Channel::WhatsApp, id);
            wa_phone = Some(phone);
        }
        if rng.random_bool(0.4) {
            let chat = format!(
                "{}",
                100_000_000 + n as u64 * 7919 + rng.random_range(0..7000)
            );
            let id = store::subscribers::add_identity(conn, sid, Channel::Telegram, &chat).await?;
            identities.insert(Channel::Telegram, id);
        }
        if rng.random_bool(0.2) {
            let igsid = format!("{}", 17_841_400_000_000_000u64 + n as u64 * 104_729);
            let id =
                store::subscribers::add_identity(conn, sid, Channel::Instagram, &igsid).await?;
            identities.insert(Channel::Instagram, id);
        }

        // Made channel by channel, recorded in time order, as they would have come in: the
        // history reads newest first by when each was recorded.
        let mut events = Vec::new();
        for (&channel, _) in identities.iter() {
            if !rng.random_bool(0.88) {
                continue;
            }
            let (source, proof) = seed
                .consent_sources
                .choose(&mut rng)
                .cloned()
                .unwrap_or_default();
            let proof = proof
                .replace("{n}", &(1000 + n).to_string())
                .replace("{a}", &rng.random_range(1..255).to_string())
                .replace("{b}", &rng.random_range(1..255).to_string());
            let granted_at = created + Duration::minutes(rng.random_range(1..600));
            events.push((
                granted_at,
                channel,
                ConsentScope::Marketing,
                ConsentStatus::Granted,
                source,
                proof,
                "import",
            ));
            if rng.random_bool(0.05) {
                events.push((
                    granted_at + Duration::days(rng.random_range(1..60)),
                    channel,
                    ConsentScope::Marketing,
                    ConsentStatus::Withdrawn,
                    "inbound STOP".into(),
                    "subscriber replied STOP".into(),
                    "webhook",
                ));
            }
        }
        // Every ninth customer with WhatsApp ordered online and asked to hear about the
        // order there: service consent, for the service line's messages. Decided by number,
        // not drawn, so the rest of the demo is as it was.
        if n % 9 == 4 && identities.contains_key(&Channel::WhatsApp) {
            events.push((
                created + Duration::minutes(5),
                Channel::WhatsApp,
                ConsentScope::Service,
                ConsentStatus::Granted,
                "checkout on clever.kz".into(),
                format!(
                    "order #{}: «Сообщать о заказе в WhatsApp» ticked",
                    20_000 + n
                ),
                "web form",
            ));
        }
        events.sort_by_key(|e| e.0);
        for (at, channel, scope, status, source, proof, by) in &events {
            store::subscribers::record_consent(
                conn,
                &store::subscribers::NewConsent {
                    subscriber: sid,
                    channel: *channel,
                    scope: *scope,
                    status: *status,
                    source,
                    proof,
                    at: *at,
                    recorded_by: by,
                    recorded_at: None,
                },
            )
            .await?;
        }
        if let Some(phone) = wa_phone.as_deref().filter(|_| rng.random_bool(0.012)) {
            store::subscribers::suppress(
                conn,
                Channel::WhatsApp,
                phone,
                "opt-out keyword СТОП",
                "webhook",
            )
            .await?;
        }

        for l in &seed.lists {
            let telegram_list = l.name == "Telegram bot";
            let member = if telegram_list {
                identities.contains_key(&Channel::Telegram) && rng.random_bool(0.8)
            } else {
                rng.random_range(0..100) < l.share
            };
            if member && let Some((lid, members)) = lists.get_mut(&l.name) {
                store::lists::add_member(conn, *lid, sid).await?;
                members.push((sid, identities.clone()));
            }
        }
    }

    for c in &seed.campaigns {
        let (list_id, members) = lists
            .get(&c.list)
            .ok_or_else(|| DemoError::SeedData(format!("campaign {} names no list", c.name)))?;
        let &(account, channel) = accounts
            .get(&c.account)
            .ok_or_else(|| DemoError::SeedData(format!("campaign {} names no account", c.name)))?;
        let created = now - Duration::days(c.days_ago) - Duration::hours(3);
        let started = !matches!(c.status, CampaignStatus::Draft | CampaignStatus::Scheduled);
        let campaign = store::campaigns::insert(
            conn,
            &store::campaigns::NewCampaign {
                name: &c.name,
                list: *list_id,
                account,
                message_text: c.template.is_none().then_some(c.text.as_str()),
                wa_template_name: c.template.as_ref().map(|t| t.0.as_str()),
                wa_template_lang: c.template.as_ref().map(|t| t.1.as_str()),
                wa_template_params: c.params.clone(),
                schedule_at: c.schedule_in_hours.map(|h| now + Duration::hours(h)),
                quiet_hours: c.quiet.as_ref().map(|(a, b)| (a.as_str(), b.as_str())),
                status: c.status,
                status_reason: c.reason.as_deref(),
                created_at: created,
                started_at: started.then(|| created + Duration::minutes(20)),
                finished_at: c.status.is_final().then(|| created + Duration::hours(2)),
            },
        )
        .await?;
        if c.status == CampaignStatus::Scheduled {
            // A scheduled campaign was started: its outbox waits for the time.
            store::outbox::materialise(conn, campaign, now).await?;
        }
        if !started {
            continue;
        }
        // A campaign under way reached only whom its start let through, by the real rules:
        // most of its members on the channel had written in the day before (Instagram, and
        // WhatsApp free text, reach only those), and consent and suppressions decided.
        let start = created + Duration::minutes(20);
        for (_, identities) in members {
            if let Some(&identity) = identities.get(&channel)
                && rng.random_bool(0.7)
            {
                let wrote = start - Duration::minutes(rng.random_range(30..1200));
                store::inbound::open_window(conn, account, identity, wrote).await?;
            }
        }
        store::outbox::materialise(conn, campaign, start).await?;
        let mut recipients = store::campaigns::take_outbox(conn, campaign).await?;
        recipients.sort();
        for (sid, identity) in recipients {
            let roll: f64 = rng.random_range(0.0..1.0);
            let (state, fail_class, fail, skip) = if roll >= c.done {
                if c.status == CampaignStatus::Cancelled {
                    (OutboxState::Skipped, None, None, Some("cancelled"))
                } else {
                    (OutboxState::Queued, None, None, None)
                }
            } else {
                match rng.random_range(0..1000) {
                    0..8 => (
                        OutboxState::Failed,
                        Some("permanent"),
                        Some(permanent_failure(channel)),
                        None,
                    ),
                    8..12 => (OutboxState::Unknown, None, None, None),
                    12..30 => (
                        OutboxState::Skipped,
                        None,
                        None,
                        Some("opted out meanwhile"),
                    ),
                    30..300 => (OutboxState::Sent, None, None, None),
                    300..620 => (OutboxState::Delivered, None, None, None),
                    _ => (OutboxState::Read, None, None, None),
                }
            };
            let at = created + Duration::minutes(20 + rng.random_range(0..90));
            let provider_id = state
                .delivery_rank()
                .map(|_| format!("{}.{:016x}", channel.as_str(), rng.random::<u64>()));
            store::campaigns::insert_outbox(
                conn,
                &store::campaigns::OutboxRecord {
                    campaign,
                    subscriber: sid,
                    identity,
                    account,
                    state,
                    fail_class,
                    fail_code: fail.map(|(code, _)| code),
                    fail_detail: fail.map(|(_, detail)| detail),
                    skip_reason: skip,
                    provider_id: provider_id.as_deref(),
                    at,
                },
            )
            .await?;
        }
        store::audit::record(
            conn,
            "demo",
            "campaign.create",
            "campaign",
            Some(&campaign.to_string()),
            &serde_json::json!({ "name": c.name, "status": c.status }),
        )
        .await?;
    }

    // The history starts with offline checks; the demo's registry emulator answers the
    // operator's own checks.
    for (i, l) in seed.lookups.iter().enumerate() {
        let at = now - Duration::hours(30 - i as i64 * 4);
        let r = crate::counterparty::check::offline(&l.input, crate::counterparty::Country::Kz, at);
        crate::counterparty::check::keep(conn, &r, "demo", false).await?;
    }
    // The risk lists of assets/demo/risk-lists, as `clever risk-lists import` reads them.
    for (name, bytes) in crate::sandbox::registry::RISK_LIST_FILES {
        let read = crate::counterparty::risk::read_xlsx_bytes(name, bytes)
            .map_err(|e| DemoError::SeedData(e.to_string()))?;
        let list = crate::counterparty::risk::guess_list(&read.title_text)
            .ok_or_else(|| DemoError::SeedData(format!("{name}: which risk list?")))?;
        store::counterparty::replace_risk_list(
            conn,
            &store::counterparty::RiskFile {
                list: list.code,
                file: &format!("assets/demo/risk-lists/{name}"),
                sha256: "",
                skipped: read.skipped.len() as u64,
                as_of: read.as_of,
                by: "demo",
            },
            &read.rows,
        )
        .await?;
    }
    store::audit::record(
        conn,
        "demo",
        "workspace.seed",
        "workspace",
        None,
        &serde_json::json!({ "subscribers": seed.subscribers }),
    )
    .await?;
    store::settings::set(conn, SEEDED_KEY, &now.to_rfc3339()).await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(())
}

/// A permanent failure as each platform words it: (code, message).
fn permanent_failure(channel: Channel) -> (&'static str, &'static str) {
    match channel {
        Channel::WhatsApp => ("131026", "Message Undeliverable"),
        Channel::Telegram => ("403", "Forbidden: user is deactivated"),
        Channel::Instagram => ("551", "This person isn't available right now"),
    }
}

/// Whether a data folder is the demo workspace (it holds the demo's machine id).
pub fn is_demo_folder(dir: &std::path::Path) -> bool {
    dir.join("license").join("demo-machine-id").exists()
}

/// The demo's own machine id (made once, kept in the demo folder), so the demo licence binds
/// to the demo workspace wherever it runs, containers with no machine id included.
pub fn machine_id_file(demo_dir: &std::path::Path) -> std::io::Result<std::path::PathBuf> {
    let path = demo_dir.join("license").join("demo-machine-id");
    if !is_demo_folder(demo_dir) {
        std::fs::create_dir_all(path.parent().unwrap_or(demo_dir))?;
        std::fs::write(&path, hex::encode(rand::random::<[u8; 16]>()))?;
    }
    Ok(path)
}
