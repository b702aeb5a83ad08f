//! `clever accounts add|list|pause|resume|remove`.
//!
//! Tokens are read from a file or standard input, stored in the database (file mode 0600),
//! and never printed, logged or put in `--json` output.

use super::{actor, print_json};
use crate::cli::{AccountsCommand, AddAccountArgs};
use crate::config::Config;
use crate::domain::{AccountStatus, account, mask};
use crate::license::state::Change;
use crate::store::{self, PageRequest, Store};
use anyhow::{Context, bail};
use std::io::Read;

/// Runs one `accounts` command.
pub async fn run(store: &Store, config: &Config, cmd: AccountsCommand) -> anyhow::Result<()> {
    match cmd {
        AccountsCommand::Add(args) => {
            // A plain-http base URL is only ever the loopback sandbox (as the draft's check).
            let sandbox = args
                .base_url
                .as_deref()
                .is_some_and(|u| u.trim().starts_with("http://"));
            super::permit(store, config, Change::Account { sandbox }).await?;
            let max = super::license::standing(store, config)
                .await?
                .lease
                .and_then(|l| l.tariff.accounts);
            add(store, args, max).await
        }
        AccountsCommand::List { json } => {
            let rows = store
                .account_page(PageRequest {
                    anchor: store::Anchor::First,
                    limit: 10_000,
                })
                .await?;
            if json {
                let out: Vec<_> = rows
                    .iter()
                    .map(|a| serde_json::json!({
                        "id": a.id, "name": a.name, "channel": a.channel, "status": a.status,
                        "status_reason": a.status_reason, "sandbox": a.sandbox,
                        "rate_per_sec": a.effective_rate(), "wa_daily_tier": a.wa_daily_tier,
                        "wa_platform_tier": a.wa_platform_tier, "wa_budget": a.wa_budget(),
                        "base_url": a.base_url, "api_version": a.api_version,
                        "token": if a.has_secret { "set" } else { "missing" },
                        "health": a.health, "health_checked_at": a.health_checked_at,
                        "settings": serde_json::from_str::<serde_json::Value>(&a.settings).unwrap_or_default(),
                    }))
                    .collect();
                return print_json(&out);
            }
            if rows.is_empty() {
                println!(
                    "no accounts yet: `clever accounts add --channel whatsapp --name N --token-file F …`"
                );
            }
            for a in rows {
                let state = match a.status {
                    AccountStatus::Active => "active".to_string(),
                    AccountStatus::Paused => {
                        crate::domain::states::pause_words(a.status_reason.as_deref())
                    }
                };
                // The health's words are `accounts check`'s; the list says only how it went.
                let health = match a.health_ok() {
                    Some(true) => "ok",
                    Some(false) => "failed",
                    None => "unchecked",
                };
                println!(
                    "{:<28} {:<10} {:>6}/s  token {}  health {:<9}  {:<7}  {}",
                    a.name,
                    a.channel.label(),
                    a.effective_rate(),
                    mask::secret(if a.has_secret { "x" } else { "" }),
                    health,
                    if a.sandbox { "SANDBOX" } else { "live" },
                    state,
                );
            }
            Ok(())
        }
        AccountsCommand::Check { name, json } => check(store, name.as_deref(), json).await,
        AccountsCommand::Pause { name, reason } => {
            set_status(store, &name, AccountStatus::Paused, Some(&reason)).await
        }
        AccountsCommand::SetToken { name, token_file } => {
            permit_account(store, config, &name).await?;
            let token = read_token(&token_file)?;
            set_token(store, &name, token).await
        }
        AccountsCommand::Resume { name } => {
            permit_account(store, config, &name).await?;
            set_status(store, &name, AccountStatus::Active, None).await
        }
        AccountsCommand::Remove { name, yes } => {
            permit_account(store, config, &name).await?;
            let mut tx = store.begin().await?;
            let id = account_id(&mut tx, &name).await?;
            if !yes {
                bail!(
                    "removing account `{name}` deletes its token from this workspace; run again with --yes to do it"
                );
            }
            if let Err(used) = store::accounts::delete_unused(&mut tx, id).await? {
                bail!(
                    "account `{name}` is used by {used} {}; it cannot be removed while {} exists (pause it instead)",
                    crate::domain::noun(used, "campaign", "campaigns"),
                    crate::domain::noun(used, "it", "they")
                );
            }
            store::audit::record(
                &mut tx,
                &actor(),
                "account.remove",
                "account",
                Some(&id.to_string()),
                &serde_json::json!({ "name": name }),
            )
            .await?;
            tx.commit().await?;
            println!("removed account `{name}`");
            Ok(())
        }
    }
}

async fn account_id(
    conn: &mut sqlx::SqliteConnection,
    name: &str,
) -> anyhow::Result<crate::domain::AccountId> {
    match store::accounts::id_by_name(conn, name).await? {
        Some(id) => Ok(id),
        None => bail!("no account named `{name}`; `clever accounts list` shows them"),
    }
}

async fn set_status(
    store: &Store,
    name: &str,
    status: AccountStatus,
    reason: Option<&str>,
) -> anyhow::Result<()> {
    let mut tx = store.begin().await?;
    let id = account_id(&mut tx, name).await?;
    store::accounts::change_status(&mut tx, id, status, reason, &actor()).await?;
    tx.commit().await?;
    println!("account `{name}` is {status}");
    Ok(())
}

/// Checks each account's token against its platform and records the result.
async fn check(store: &Store, only: Option<&str>, json: bool) -> anyhow::Result<()> {
    let client = client()?;
    let rows = store
        .account_page(PageRequest {
            anchor: store::Anchor::First,
            limit: 10_000,
        })
        .await?;
    let rows: Vec<_> = rows
        .into_iter()
        .filter(|a| only.is_none_or(|n| n == a.name))
        .collect();
    if let (Some(n), true) = (only, rows.is_empty()) {
        bail!("no account named `{n}`; `clever accounts list` shows them");
    }
    let mut results = Vec::new();
    let mut failed = 0;
    for a in rows {
        let Some((_, health)) = crate::engine::check_account(store, &client, a.id).await? else {
            continue;
        };
        let line = health.line();
        failed += usize::from(!health.ok);
        results.push(serde_json::json!({ "name": a.name, "channel": a.channel, "ok": health.ok, "detail": health.detail }));
        if !json {
            println!("{:<28} {:<10} {line}", a.name, a.channel.label());
            if let (Some(set), Some(platform)) = (a.wa_daily_tier, health.wa_tier)
                && platform < set
            {
                println!(
                    "{:<39} the platform's tier is {platform} unique recipients a day, below the \
                     {set} set here: campaigns keep to {platform}",
                    ""
                );
            }
        }
    }
    if json {
        print_json(&results)?;
    }
    if failed > 0 {
        bail!(
            "{failed} {} failed the check",
            crate::domain::noun(failed, "account", "accounts")
        );
    }
    Ok(())
}

/// Reads a token from a file or, for `-`, standard input; whitespace around it is dropped.
fn read_token(path: &std::path::Path) -> anyhow::Result<String> {
    let mut text = String::new();
    if path.as_os_str() == "-" {
        std::io::stdin()
            .read_to_string(&mut text)
            .context("reading the token from standard input")?;
    } else {
        text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the token file {}", path.display()))?;
    }
    let token = text.trim().to_string();
    if token.is_empty() {
        bail!("the token file {} is empty", path.display());
    }
    if token.chars().any(char::is_whitespace) {
        bail!(
            "the token in {} has spaces or several lines; put only the token in the file",
            path.display()
        );
    }
    Ok(token)
}

/// The typed options as a draft for the shared checks.
fn draft(args: &AddAccountArgs, token: String) -> account::Draft {
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    account::Draft {
        name: args.name.clone(),
        token: Some(token),
        phone_number_id: text(&args.phone_number_id),
        waba_id: text(&args.waba_id),
        ig_user_id: text(&args.ig_user_id),
        base_url: text(&args.base_url),
        rate: args.rate.map(|r| r.to_string()).unwrap_or_default(),
        wa_tier: args.wa_tier.map(|t| t.to_string()).unwrap_or_default(),
    }
}

/// Checks what each channel needs before anything is stored; every problem is listed with
/// the flag that fixes it.
fn validate(args: &AddAccountArgs, token: &str) -> anyhow::Result<account::Valid> {
    account::validate(args.channel, &draft(args, token.to_string())).map_err(by_flag)
}

/// The shared checks' problems, each with the flag that fixes it, one a line.
fn by_flag(errors: Vec<(account::Field, String)>) -> anyhow::Error {
    let lines: Vec<String> = errors
        .iter()
        .map(|(field, why)| format!("{}: {why}", field.flag()))
        .collect();
    anyhow::anyhow!(lines.join("\n"))
}

/// The client token checks go through.
fn client() -> anyhow::Result<crate::channels::client::Client> {
    crate::channels::client::Client::new(std::time::Duration::from_secs(15))
        .map_err(anyhow::Error::msg)
}

/// Refuses a change to an existing account the licence does not permit.
async fn permit_account(store: &Store, config: &Config, name: &str) -> anyhow::Result<()> {
    let sandbox = store::accounts::sandbox_by_name(store, name)
        .await?
        .unwrap_or(false);
    super::permit(store, config, Change::Account { sandbox }).await
}

async fn add(store: &Store, args: AddAccountArgs, max_real: Option<u32>) -> anyhow::Result<()> {
    let token = read_token(&args.token_file)?;
    let valid = validate(&args, &token)?;
    let mut tx = store.begin().await?;
    let added = store::accounts::add(
        &mut tx,
        args.channel,
        &valid,
        Some(&args.api_version),
        &actor(),
        max_real,
    )
    .await?;
    let id = match added {
        Ok(id) => id,
        Err((_, why)) => bail!("{why}"),
    };
    tx.commit().await?;
    println!(
        "added {} account `{}` (token {})",
        args.channel.label(),
        valid.name,
        mask::secret(&token)
    );
    check_one(store, id, &valid.name).await
}

/// Replaces an account's token after the same checks as adding, records who did it (never
/// the token), and checks the new one against the platform.
async fn set_token(store: &Store, name: &str, token: String) -> anyhow::Result<()> {
    let mut tx = store.read().await?;
    let id = account_id(&mut tx, name).await?;
    tx.commit().await?;
    let Some(a) = store.account(id).await? else {
        bail!("no account named `{name}`; `clever accounts list` shows them");
    };
    let valid = account::validate(a.channel, &store::accounts::draft_of(&a, Some(token)))
        .map_err(by_flag)?;
    let mut tx = store.begin().await?;
    if let Err((_, why)) = store::accounts::edit(&mut tx, id, a.channel, &valid, &actor()).await? {
        bail!("{why}");
    }
    tx.commit().await?;
    println!("the token of `{name}` is replaced");
    check_one(store, id, name).await?;
    if a.status == AccountStatus::Paused {
        println!(
            "the account is still {}; `clever accounts resume {}` lets it send again",
            crate::domain::states::pause_words(a.status_reason.as_deref()),
            super::shell_word(name)
        );
    }
    Ok(())
}

/// Checks a just saved token and says how it went; a failed check is a warning (the account
/// is saved, and its health says what failed).
async fn check_one(store: &Store, id: crate::domain::AccountId, name: &str) -> anyhow::Result<()> {
    let client = client()?;
    if let Some((_, health)) = crate::engine::check_account(store, &client, id).await? {
        if health.ok {
            println!("token works: {}", health.detail);
        } else {
            eprintln!(
                "clever: warning: the token check failed: {}; replace it with `clever accounts set-token {} --token-file F`",
                health.detail,
                super::shell_word(name)
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    use crate::domain::Channel;

    fn args(channel: Channel) -> AddAccountArgs {
        AddAccountArgs {
            channel,
            name: "A".into(),
            token_file: PathBuf::from("-"),
            phone_number_id: None,
            waba_id: None,
            ig_user_id: None,
            base_url: None,
            api_version: "v23.0".into(),
            rate: None,
            wa_tier: None,
        }
    }

    #[test]
    fn each_channel_gets_what_it_needs() {
        assert!(
            validate(&args(Channel::WhatsApp), "t")
                .unwrap_err()
                .to_string()
                .contains("--phone-number-id")
        );
        let mut wa = args(Channel::WhatsApp);
        wa.phone_number_id = Some("106540352242922".into());
        assert!(validate(&wa, "EAAG").is_ok());
        wa.wa_tier = Some(300);
        assert!(validate(&wa, "EAAG").is_err());
        assert!(validate(&args(Channel::Telegram), "nonsense").is_err());
        assert!(
            validate(
                &args(Channel::Telegram),
                "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
            )
            .is_ok()
        );
        assert!(validate(&args(Channel::Instagram), "t").is_err());
        let mut web = args(Channel::Telegram);
        web.base_url = Some("http://api.example.com".into());
        assert!(
            validate(&web, "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw")
                .unwrap_err()
                .to_string()
                .contains("https")
        );
    }
}
