//! `clever accounts add|list|pause|resume|remove`.
//!
//! Tokens are read from a file or standard input, stored in the database (file mode 0600),
//! and never printed, logged or put in `--json` output.

use super::{actor, print_json};
use crate::cli::{AccountsCommand, AddAccountArgs};
use crate::domain::{AccountStatus, Channel, mask};
use crate::store::accounts::NewAccount;
use crate::store::{self, PageRequest, Store};
use anyhow::{Context, bail};
use std::io::Read;

/// Runs one `accounts` command.
pub async fn run(store: &Store, cmd: AccountsCommand) -> anyhow::Result<()> {
    match cmd {
        AccountsCommand::Add(args) => add(store, args).await,
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
                        "base_url": a.base_url, "api_version": a.api_version,
                        "token": if a.has_secret { "set" } else { "missing" },
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
                        format!("paused: {}", a.status_reason.as_deref().unwrap_or_default())
                    }
                };
                println!(
                    "{:<28} {:<10} {:>6}/s  token {}  {}{}",
                    a.name,
                    a.channel.label(),
                    a.effective_rate(),
                    mask::secret(if a.has_secret { "x" } else { "" }),
                    state,
                    if a.sandbox { "  SANDBOX" } else { "" }
                );
            }
            Ok(())
        }
        AccountsCommand::Check { name, json } => check(store, name.as_deref(), json).await,
        AccountsCommand::Pause { name, reason } => {
            set_status(store, &name, AccountStatus::Paused, Some(&reason)).await
        }
        AccountsCommand::Resume { name } => {
            set_status(store, &name, AccountStatus::Active, None).await
        }
        AccountsCommand::Remove { name, yes } => {
            let mut tx = store.begin().await?;
            let id = account_id(&mut tx, &name).await?;
            if !yes {
                bail!(
                    "removing account `{name}` deletes its token from this workspace; run again with --yes to do it"
                );
            }
            if let Err(used) = store::accounts::delete_unused(&mut tx, id).await? {
                bail!(
                    "account `{name}` is used by {used} campaign(s); it cannot be removed while they exist (pause it instead)"
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
    let client = crate::channels::client::Client::new(std::time::Duration::from_secs(15))
        .map_err(anyhow::Error::msg)?;
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
        }
    }
    if json {
        print_json(&results)?;
    }
    if failed > 0 {
        bail!("{failed} account(s) failed the check");
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

/// Checks what each channel needs before anything is stored.
fn validate(args: &AddAccountArgs, token: &str) -> anyhow::Result<serde_json::Value> {
    if args.name.trim().is_empty() {
        bail!("--name cannot be empty");
    }
    if let Some(r) = args.rate
        && !(r > 0.0 && r <= 1000.0)
    {
        bail!("--rate must be between 0 and 1000 messages per second");
    }
    if let Some(url) = &args.base_url
        && !(url.starts_with("https://")
            || url.starts_with("http://127.")
            || url.starts_with("http://localhost")
            || url.starts_with("http://[::1]"))
    {
        bail!("--base-url must be https:// (plain http only for this machine's loopback sandbox)");
    }
    Ok(match args.channel {
        Channel::WhatsApp => {
            let Some(id) = args
                .phone_number_id
                .as_deref()
                .filter(|i| i.chars().all(|c| c.is_ascii_digit()) && !i.is_empty())
            else {
                bail!(
                    "WhatsApp needs --phone-number-id (digits, from WhatsApp Manager → phone numbers)"
                );
            };
            if let Some(t) = args.wa_tier
                && ![250, 1000, 2000, 10_000, 100_000].contains(&t)
            {
                bail!("--wa-tier is one of 250, 1000, 2000, 10000, 100000");
            }
            serde_json::json!({ "phone_number_id": id, "waba_id": args.waba_id })
        }
        Channel::Telegram => {
            let (bot, secret) = token.split_once(':').unwrap_or(("", ""));
            if bot.is_empty() || !bot.chars().all(|c| c.is_ascii_digit()) || secret.len() < 30 {
                bail!(
                    "that is not a Telegram bot token (it looks like 123456789:AA… from @BotFather)"
                );
            }
            serde_json::json!({ "bot_id": bot })
        }
        Channel::Instagram => {
            let Some(id) = args
                .ig_user_id
                .as_deref()
                .filter(|i| i.chars().all(|c| c.is_ascii_digit()) && !i.is_empty())
            else {
                bail!("Instagram needs --ig-user-id (digits, the professional account's id)");
            };
            serde_json::json!({ "ig_user_id": id })
        }
    })
}

async fn add(store: &Store, args: AddAccountArgs) -> anyhow::Result<()> {
    let token = read_token(&args.token_file)?;
    let settings = validate(&args, &token)?;
    let name = args.name.trim();
    let mut tx = store.begin().await?;
    if store::accounts::id_by_name(&mut tx, name).await?.is_some() {
        bail!("an account named `{name}` exists already");
    }
    let sandbox = args
        .base_url
        .as_deref()
        .is_some_and(|u| u.starts_with("http://"));
    let id = store::accounts::insert(
        &mut tx,
        &NewAccount {
            channel: args.channel,
            name,
            settings,
            secret: &token,
            base_url: args.base_url.as_deref(),
            api_version: (args.channel != Channel::Telegram).then_some(args.api_version.as_str()),
            sandbox,
            rate_per_sec: args.rate,
            wa_daily_tier: args.wa_tier,
        },
    )
    .await?;
    store::audit::record(
        &mut tx,
        &actor(),
        "account.add",
        "account",
        Some(&id.to_string()),
        &serde_json::json!({ "name": name, "channel": args.channel }),
    )
    .await?;
    tx.commit().await?;
    println!(
        "added {} account `{name}` (token {})",
        args.channel.label(),
        mask::secret(&token)
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

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
