//! `clever lists create|list|delete`.

use super::{actor, print_json};
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
        ListsCommand::Create { .. } | ListsCommand::Delete { .. }
    ) {
        super::permit(store, config, crate::license::state::Change::List).await?;
    }
    match cmd {
        ListsCommand::Create { name, description } => {
            let name = name.trim();
            if name.is_empty() {
                bail!("a list needs a name");
            }
            let mut tx = store.begin().await?;
            if store::lists::id_by_name(&mut tx, name).await?.is_some() {
                bail!("a list named `{name}` exists already");
            }
            let id = store::lists::insert(&mut tx, name, &description, None).await?;
            store::audit::record(
                &mut tx,
                &actor(),
                "list.create",
                "list",
                Some(&id.to_string()),
                &serde_json::json!({ "name": name }),
            )
            .await?;
            tx.commit().await.context("saving the list")?;
            println!("created list `{name}`");
        }
        ListsCommand::List { json } => {
            let lists = store.lists().await?;
            if json {
                let out: Vec<_> = lists
                    .iter()
                    .map(|l| serde_json::json!({ "id": l.id, "name": l.name, "description": l.description, "members": l.members, "created_at": l.created_at }))
                    .collect();
                return print_json(&out);
            }
            if lists.is_empty() {
                println!(
                    "no lists yet: `clever lists create NAME` or `clever subscribers import FILE --list NAME`"
                );
            }
            for l in lists {
                println!("{:<30} {:>9} members  {}", l.name, l.members, l.description);
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
