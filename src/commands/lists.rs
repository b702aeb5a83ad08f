//! `clever lists create|edit|add|remove|list|delete`.

use super::{actor, print_json, zone};
use crate::cli::ListsCommand;
use crate::store::{self, Store};
use anyhow::{Context, bail};

/// Runs one `lists` command.
pub async fn run(
    store: &Store,
    config: &crate::config::Config,
    cmd: ListsCommand,
) -> anyhow::Result<()> {
    if matches!(
        cmd,
        ListsCommand::Create { .. }
            | ListsCommand::Edit { .. }
            | ListsCommand::Add { .. }
            | ListsCommand::Remove { .. }
            | ListsCommand::Delete { .. }
    ) {
        super::permit(store, config, crate::license::state::Change::List).await?;
    }
    match cmd {
        ListsCommand::Create {
            name,
            description,
            time_zone,
        } => {
            let name = name.trim();
            if name.is_empty() {
                bail!("a list needs a name");
            }
            let zone = time_zone.as_deref().map(zone).transpose()?;
            let mut tx = store.begin().await?;
            if store::lists::id_by_name(&mut tx, name).await?.is_some() {
                bail!("a list named `{name}` exists already");
            }
            store::lists::create(&mut tx, name, &description, zone, &actor()).await?;
            tx.commit().await.context("saving the list")?;
            match zone {
                Some(zone) => println!("created list `{name}` (time zone {zone})"),
                None => println!("created list `{name}`"),
            }
        }
        ListsCommand::Edit {
            name,
            rename,
            description,
            time_zone,
            no_time_zone,
        } => {
            if rename.is_none() && description.is_none() && time_zone.is_none() && !no_time_zone {
                bail!(
                    "nothing to change: give --rename NAME, --description TEXT, --time-zone ZONE \
                     or --no-time-zone"
                );
            }
            let new_zone = time_zone.as_deref().map(zone).transpose()?;
            let mut tx = store.begin().await?;
            let Some(before) = store::lists::by_name(&mut tx, &name).await? else {
                bail!("no list named `{name}`; `clever lists list` shows them");
            };
            let new_name = match rename.as_deref().map(str::trim) {
                Some("") => bail!("a list needs a name"),
                Some(new) if new != before.name => {
                    if store::lists::id_by_name(&mut tx, new).await?.is_some() {
                        bail!("a list named `{new}` exists already; pick another name");
                    }
                    new
                }
                _ => before.name.as_str(),
            };
            let description = description.as_deref().unwrap_or(&before.description);
            let zone = if no_time_zone {
                None
            } else {
                new_zone.or(before.default_time_zone.as_deref())
            };
            if new_name == before.name
                && description == before.description
                && zone == before.default_time_zone.as_deref()
            {
                println!(
                    "list `{}` is like that already; nothing changed",
                    before.name
                );
                return Ok(());
            }
            store::lists::update(&mut tx, &before, new_name, description, zone, &actor()).await?;
            tx.commit().await.context("saving the list")?;
            if new_name != before.name {
                println!("renamed list `{}` to `{new_name}`", before.name);
            }
            if description != before.description {
                println!("list `{new_name}`: description changed");
            }
            let was = before.default_time_zone.as_deref().unwrap_or("none");
            match zone {
                _ if zone == before.default_time_zone.as_deref() => {}
                Some(zone) => println!(
                    "list `{new_name}`: time zone {zone} (was {was}); quiet hours of its members \
                     with none of their own follow it from each campaign's next batch"
                ),
                None => println!(
                    "list `{new_name}`: no time zone (was {was}); its members with none of their \
                     own follow `[engine] time_zone` (else Asia/Almaty) from each campaign's next batch"
                ),
            }
        }
        ListsCommand::Add {
            list,
            who,
            default_region,
        } => members(store, config, &list, &who, default_region.as_deref(), true).await?,
        ListsCommand::Remove {
            list,
            who,
            default_region,
        } => members(store, config, &list, &who, default_region.as_deref(), false).await?,
        ListsCommand::List { json } => {
            let lists = store.lists().await?;
            if json {
                let out: Vec<_> = lists
                    .iter()
                    .map(|l| serde_json::json!({ "id": l.id, "name": l.name, "description": l.description, "time_zone": l.default_time_zone, "members": l.members, "created_at": l.created_at }))
                    .collect();
                return print_json(&out);
            }
            if lists.is_empty() {
                println!(
                    "no lists yet: `clever lists create NAME` or `clever subscribers import FILE --list NAME`"
                );
            }
            for l in lists {
                let zone = l.default_time_zone.as_deref().unwrap_or("no time zone");
                println!(
                    "{:<30} {:>9} {:<7}  {zone:<20} {}",
                    l.name,
                    l.members,
                    crate::domain::noun(l.members, "member", "members"),
                    l.description
                );
            }
        }
        ListsCommand::Delete { name, yes } => {
            let mut tx = store.begin().await?;
            let Some(id) = store::lists::id_by_name(&mut tx, &name).await? else {
                bail!("no list named `{name}`; `clever lists list` shows them");
            };
            if !yes {
                bail!(
                    "deleting list `{name}` removes its memberships (the subscribers stay); run again with --yes to do it"
                );
            }
            if let Err(used) = store::lists::delete_unused(&mut tx, id, &name, &actor()).await? {
                bail!(
                    "list `{name}` is used by {used} {}, so it cannot be deleted (`clever campaigns list` shows them)",
                    crate::domain::noun(used, "campaign", "campaigns"),
                );
            }
            tx.commit().await?;
            println!("deleted list `{name}`");
        }
    }
    Ok(())
}

/// `lists add` (`add`) or `lists remove`: everyone named is found first, and one who is not
/// found changes nothing, so a run can be put right and repeated.
async fn members(
    store: &Store,
    config: &crate::config::Config,
    list: &str,
    who: &[String],
    default_region: Option<&str>,
    add: bool,
) -> anyhow::Result<()> {
    let region = super::subscribers::region(default_region, config)?;
    // Before standard input is read: a wrong list name is said at once.
    super::subscribers::list_id(store, list).await?;
    // Named on the command line, or one a line on standard input (`-`).
    let mut named: Vec<(Option<usize>, String)> = Vec::new();
    for w in who {
        if w == "-" {
            for (n, line) in std::io::stdin().lines().enumerate() {
                let line = line.context("reading who to change from standard input")?;
                if !line.trim().is_empty() {
                    named.push((Some(n + 1), line.trim().to_string()));
                }
            }
        } else {
            named.push((None, w.clone()));
        }
    }
    if named.is_empty() {
        bail!("nobody named: give addresses or #IDs, or `-` and one a line on standard input");
    }
    let mut ids = Vec::with_capacity(named.len());
    let mut unknown: Vec<String> = Vec::new();
    for (line, w) in &named {
        let at = line.map(|n| format!("line {n}: ")).unwrap_or_default();
        match super::subscribers::find_subscriber(store, w, region).await {
            Ok(id) => ids.push((id, format!("{at}`{w}`"))),
            Err(e) => unknown.push(format!("{at}{e}")),
        }
    }
    let mut tx = store.begin().await?;
    let Some(row) = store::lists::by_name(&mut tx, list).await? else {
        bail!("no list named `{list}`; `clever lists list` shows them");
    };
    let just_ids: Vec<_> = ids.iter().map(|(id, _)| *id).collect();
    for gone in store::lists::missing_subscribers(&mut tx, &just_ids).await? {
        if let Some((_, w)) = ids.iter().find(|(id, _)| *id == gone) {
            unknown.push(format!("{w}: there is no subscriber #{gone}"));
        }
    }
    if !unknown.is_empty() {
        const SHOWN: usize = 10;
        let more = unknown.len().saturating_sub(SHOWN);
        bail!(
            "nothing changed: {} of {} could not be found:\n  {}{}",
            unknown.len(),
            named.len(),
            unknown[..unknown.len().min(SHOWN)].join("\n  "),
            if more > 0 {
                format!("\n  … and {more} more")
            } else {
                String::new()
            }
        );
    }
    let who_count = |n: u64| {
        format!(
            "{n} {}",
            crate::domain::noun(n, "subscriber", "subscribers")
        )
    };
    if add {
        let done = store::lists::add_members(&mut tx, &row, &just_ids, &actor()).await?;
        let campaigns = store::lists::campaigns_using(&mut tx, row.id).await?;
        tx.commit().await.context("saving the list")?;
        let mut said = format!("added {} to list `{}`", who_count(done.changed), row.name);
        if done.changed == 0 {
            said = format!(
                "nothing changed: everyone named is in list `{}` already",
                row.name
            );
        } else if done.unchanged > 0 {
            said += &format!(
                "; {} {} in it already",
                done.unchanged,
                crate::domain::noun(done.unchanged, "was", "were")
            );
        }
        println!("{said}");
        if done.changed > 0 && campaigns > 0 {
            println!(
                "campaigns already started on `{}` do not include them; a draft does when it starts",
                row.name
            );
        }
    } else {
        let done = store::lists::remove_members(&mut tx, &row, &just_ids, &actor()).await?;
        tx.commit().await.context("saving the list")?;
        let mut said = format!("took {} off list `{}`", who_count(done.changed), row.name);
        if done.changed == 0 {
            said = format!("nothing changed: nobody named is in list `{}`", row.name);
        } else if done.unchanged > 0 {
            said += &format!(
                "; {} {} not in it",
                done.unchanged,
                crate::domain::noun(done.unchanged, "was", "were")
            );
        }
        if done.skipped > 0 {
            said += &format!(
                "; {} queued {} to them in the list's campaigns skipped",
                done.skipped,
                crate::domain::noun(done.skipped, "message", "messages")
            );
        }
        println!("{said}");
    }
    Ok(())
}
