//! `clever lists create|edit|list|delete`.

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
        ListsCommand::Create { .. } | ListsCommand::Edit { .. } | ListsCommand::Delete { .. }
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
            let id = store::lists::insert(&mut tx, name, &description, zone).await?;
            store::audit::record(
                &mut tx,
                &actor(),
                "list.create",
                "list",
                Some(&id.to_string()),
                &serde_json::json!({ "name": name, "time_zone": zone }),
            )
            .await?;
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
                    "{:<30} {:>9} members  {zone:<20} {}",
                    l.name, l.members, l.description
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
