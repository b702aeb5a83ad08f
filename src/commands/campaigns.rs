//! `clever campaigns create|start|pause|resume|cancel|requeue-unknown|status|list|report`.
//! The lifecycle itself is `engine::campaigns`; the sending is done by whichever engine runs
//! (`clever run` or an open console).

use super::{actor, local_time, print_json, shell_word};
use crate::cli::{CampaignsCommand, CreateCampaignArgs};
use crate::domain::CampaignId;
use crate::engine::campaigns::{self, LifecycleError, Spec, Step};
use crate::license::state::Change;
use crate::store::{self, PageRequest, Store};
use anyhow::{Context, bail};

/// Runs one `campaigns` command.
pub async fn run(
    store: &Store,
    config: &crate::config::Config,
    cmd: CampaignsCommand,
) -> anyhow::Result<()> {
    match cmd {
        CampaignsCommand::Create(args) => {
            let sandbox = store::accounts::sandbox_by_name(store, args.account.trim())
                .await?
                .unwrap_or(false);
            super::permit(store, config, Change::Campaign { sandbox }).await?;
            create(store, args).await
        }
        CampaignsCommand::Start {
            campaign,
            dry_run: true,
            json,
        } => {
            let id = find(store, &campaign).await?;
            let reach = campaigns::reach(store, id).await.map_err(plain)?;
            if json {
                return print_json(&serde_json::json!({
                    "id": id, "dry_run": true, "reaches": reach.reaches,
                    "left_out": reach.left_out, "policy": reach.policy,
                }));
            }
            print_reach(id, &reach);
            Ok(())
        }
        CampaignsCommand::Start { campaign, json, .. } => {
            let id = find(store, &campaign).await?;
            permit_campaign(store, config, id).await?;
            let started = campaigns::start(store, id, &actor()).await.map_err(plain)?;
            if json {
                return print_json(&serde_json::json!({
                    "id": id, "status": started.status, "queued": started.queued,
                    "left_out": started.left_out,
                }));
            }
            if started.queued > 0 {
                println!(
                    "campaign {id} is {}: {} {} queued",
                    started.status,
                    started.queued,
                    crate::domain::noun(started.queued, "message", "messages")
                );
            } else {
                println!(
                    "campaign {id} started with nobody queued: it completes with nothing sent"
                );
            }
            for (reason, n) in &started.left_out {
                println!("  left out, {reason}: {n}");
            }
            if started.queued > 0 {
                println!("sending happens while `clever run` or the console runs");
            }
            Ok(())
        }
        CampaignsCommand::Pause { campaign } => step(store, &campaign, Step::Pause).await,
        CampaignsCommand::Resume { campaign } => {
            permit_campaign(store, config, find(store, &campaign).await?).await?;
            step(store, &campaign, Step::Resume).await
        }
        CampaignsCommand::Cancel { campaign, yes } => {
            if !yes {
                bail!("cancelling skips every message not yet sent; run again with --yes to do it");
            }
            step(store, &campaign, Step::Cancel).await
        }
        CampaignsCommand::RequeueUnknown { campaign, yes } => {
            let id = find(store, &campaign).await?;
            permit_campaign(store, config, id).await?;
            if !yes {
                let n = store.campaign(id).await?.map_or(0, |c| c.counts.unknown);
                bail!(
                    "{n} {} of campaign {id} may or may not have arrived (no answer came). \
                     Sending them again may reach some people twice; run again with --yes to do it",
                    crate::domain::noun(n, "message", "messages")
                );
            }
            let n = campaigns::requeue_unknown(store, id, &actor())
                .await
                .map_err(plain)?;
            println!(
                "{n} {} queued again",
                crate::domain::noun(n, "message", "messages")
            );
            Ok(())
        }
        CampaignsCommand::Status { campaign, json } => {
            let id = find(store, &campaign).await?;
            let Some(s) = campaigns::status(store, id).await? else {
                bail!("no campaign {id}");
            };
            if json {
                return print_json(&s);
            }
            println!("{} (campaign {}): {}", s.name, s.id, s.status);
            if let Some(r) = &s.reason {
                println!("  reason: {r}");
            }
            let c = &s.counts;
            let open = !s.status.is_final();
            match (&s.account_status, s.account_reason.as_deref()) {
                (crate::domain::AccountStatus::Paused, why) if open => println!(
                    "  account: {}, {}. Nothing is sent from it until it is {}resumed: `clever accounts resume {}`",
                    s.account,
                    crate::domain::states::pause_words(why),
                    if crate::domain::states::is_halt_reason(why) {
                        "fixed and "
                    } else {
                        ""
                    },
                    shell_word(&s.account)
                ),
                _ => println!("  account: {}", s.account),
            }
            if let Some(at) = s.schedule_at {
                let waits = s.status == crate::domain::CampaignStatus::Scheduled
                    || s.status == crate::domain::CampaignStatus::Draft;
                println!(
                    "  schedule: {}{}",
                    local_time(at),
                    if waits && at > chrono::Utc::now() {
                        " (nothing is sent before)"
                    } else {
                        ""
                    }
                );
            }
            println!(
                "  total {}  queued {}  sending {}  sent {}  delivered {}  read {}  failed {}  skipped {}  unknown {}",
                c["total"],
                c["queued"],
                c["sending"],
                c["sent"],
                c["delivered"],
                c["read"],
                c["failed"],
                c["skipped"],
                c["unknown"]
            );
            for f in &s.failed_by_cause {
                println!("  failed, {} {}: {}", f.class, f.describe(), f.count);
            }
            for k in &s.skipped_by_reason {
                println!(
                    "  skipped, {}: {}",
                    k["reason"].as_str().unwrap_or("?"),
                    k["count"]
                );
            }
            if let Some(o) = s.left_out.as_object() {
                for (reason, n) in o {
                    println!("  left out at start, {reason}: {n}");
                }
            }
            println!(
                "  rate {:.2}/s over the last minute{}",
                s.rate_per_sec,
                s.eta_seconds
                    .map(|e| format!(
                        ", about {} left",
                        crate::engine::campaigns::duration_words(e)
                    ))
                    .unwrap_or_default()
            );
            if s.waiting > 0
                && !s.status.is_final()
                && let Some(due) = s.next_due
            {
                println!(
                    "  waiting: {} of the queued are due later ({}); the first at {}",
                    s.waiting,
                    match &s.quiet_hours {
                        Some(w) => format!(
                            "outside the send window {w} in each recipient's time zone, a retry, or pacing"
                        ),
                        None => "a retry, or pacing".into(),
                    },
                    local_time(due)
                );
            }
            let waiting = c["queued"].as_i64().unwrap_or(0) > 0;
            match &s.engine {
                Some(holder) => println!("  engine: {holder} sends"),
                None if waiting && s.status == crate::domain::CampaignStatus::Running => println!(
                    "  engine: none is running, so nothing is sent: start `clever run` (or the console)"
                ),
                None => println!("  engine: none is running"),
            }
            Ok(())
        }
        CampaignsCommand::List { json } => {
            let rows = store
                .campaign_page(PageRequest {
                    anchor: store::Anchor::First,
                    limit: 10_000,
                })
                .await?;
            if json {
                let out: Vec<_> = rows
                    .iter()
                    .map(|c| serde_json::json!({
                        "id": c.id, "name": c.name, "status": c.status, "list": c.list_name,
                        "account": c.account_name, "total": c.counts.total, "sent": c.counts.sent,
                        "failed": c.counts.failed, "queued": c.counts.queued,
                    }))
                    .collect();
                return print_json(&out);
            }
            if rows.is_empty() {
                println!(
                    "no campaigns yet: `clever campaigns create --name N --list L --account A --text T`"
                );
            }
            for c in rows {
                println!(
                    "{:>5}  {:<30} {:<10} {:>6.1}%  {} of {} sent",
                    c.id.0,
                    c.name,
                    c.status.as_str(),
                    c.counts.progress() * 100.0,
                    c.counts.sent,
                    c.counts.total
                );
            }
            Ok(())
        }
        CampaignsCommand::Report {
            campaign,
            format,
            output,
        } => {
            let id = find(store, &campaign).await?;
            super::write_output(output.as_deref(), async |out| {
                let mut csv = super::csv_writer(out, format == crate::cli::ReportFormat::Excel)?;
                let mut conn = store.read().await?;
                store::campaigns::report(&mut conn, id, |row| {
                    csv.serialize(row).map_err(std::io::Error::other)
                })
                .await?;
                conn.commit().await?;
                csv.flush()?;
                Ok(())
            })
            .await
        }
    }
}

fn plain(e: LifecycleError) -> anyhow::Error {
    anyhow::anyhow!(e.to_string())
}

/// A campaign by id or name.
/// Refuses a change to a campaign the licence does not permit.
async fn permit_campaign(
    store: &Store,
    config: &crate::config::Config,
    id: CampaignId,
) -> anyhow::Result<()> {
    let sandbox = store::accounts::campaign_on_sandbox(store, id)
        .await?
        .unwrap_or(false);
    super::permit(store, config, Change::Campaign { sandbox }).await
}

async fn find(store: &Store, text: &str) -> anyhow::Result<CampaignId> {
    if let Ok(n) = text.parse::<i64>()
        && store.campaign(CampaignId(n)).await?.is_some()
    {
        return Ok(CampaignId(n));
    }
    let mut conn = store.read().await?;
    match store::campaigns::named(&mut conn, text).await?.as_slice() {
        [] => bail!("no campaign `{text}`; `clever campaigns list` shows them"),
        [(id, _)] => Ok(*id),
        // Never a guess: a command may pause, cancel or send again.
        many => bail!(
            "`{text}` names {} campaigns: {}; give the one you mean by its id",
            many.len(),
            many.iter()
                .map(|(id, status)| format!("{id} ({status})"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

async fn step(store: &Store, campaign: &str, s: Step) -> anyhow::Result<()> {
    let id = find(store, campaign).await?;
    let status = campaigns::step(store, id, s, &actor())
        .await
        .map_err(plain)?;
    println!("campaign {id} is {status}");
    Ok(())
}

/// A template parameter as typed: a bare field (`name`, `attributes.city`) or a template.
fn param(p: &str) -> String {
    let p = p.trim();
    if p.contains("{{") {
        p.to_string()
    } else {
        format!("{{{{ {p} }}}}")
    }
}

async fn create(store: &Store, args: CreateCampaignArgs) -> anyhow::Result<()> {
    let text = match (&args.text, &args.text_file) {
        (Some(t), _) => Some(t.clone()),
        (None, Some(f)) => Some(
            std::fs::read_to_string(f)
                .with_context(|| format!("cannot read the message from {}", f.display()))?,
        ),
        (None, None) => None,
    };
    let schedule = args
        .schedule
        .as_deref()
        .map(|s| {
            campaigns::parse_schedule(s, chrono::Utc::now())
                .map_err(|e| anyhow::anyhow!("--schedule {e}"))
        })
        .transpose()?;
    let spec = Spec {
        name: args.name.clone(),
        list: args.list.clone(),
        account: args.account.clone(),
        text,
        wa_template: args.wa_template.clone(),
        wa_lang: args.wa_lang.clone(),
        wa_params: args.wa_param.iter().map(|p| param(p)).collect(),
        schedule,
        quiet_hours: args.quiet_hours.clone(),
    };
    let id = campaigns::create(store, &spec, &actor())
        .await
        .map_err(plain)?;
    // Whom it would reach, so that nobody starts a campaign that reaches no one by surprise.
    let reach = campaigns::reach(store, id).await.map_err(plain)?;
    if args.json {
        return print_json(&serde_json::json!({
            "id": id, "name": spec.name, "status": "draft", "schedule_at": spec.schedule,
            "reaches": reach.reaches, "left_out": reach.left_out,
        }));
    }
    println!("created draft campaign {id} `{}`", spec.name);
    if let Some(at) = spec.schedule {
        println!("once started, it sends from {}", local_time(at));
    }
    print_reach(id, &reach);
    Ok(())
}

/// Whom a draft reaches now, who is left out, and what starting it takes.
fn print_reach(id: CampaignId, reach: &campaigns::Reach) {
    println!(
        "it would reach {} {} now",
        reach.reaches,
        crate::domain::noun(reach.reaches, "subscriber", "subscribers")
    );
    for (reason, n) in &reach.left_out {
        println!("  left out, {reason}: {n}");
    }
    if !reach.policy.is_empty() {
        println!(
            "the message breaks the content policy, so it cannot start:\n  {}",
            reach.policy.join("\n  ")
        );
    } else if reach.reaches == 0 {
        println!(
            "nobody can be reached now: fix the reasons above (consent, suppressions, addresses, \
             or for free text on WhatsApp and Instagram an open 24-hour window) before starting"
        );
    } else {
        println!("start it with `clever campaigns start {id}`");
    }
}
