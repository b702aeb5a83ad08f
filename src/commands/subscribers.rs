//! `clever subscribers import|export|list|suppress|unsuppress`.

use super::{actor, local_time, print_json};
use crate::cli::{ExportFormat, ImportArgs, SubscribersCommand};
use crate::domain::consent::{ManualGap, manual_gaps};
use crate::domain::phone::Region;
use crate::domain::{Channel, ConsentStatus, ListId, SubscriberId};
use crate::import::{self, ImportOptions, ImportSummary};
use crate::store::subscribers::{ConsentChange, SubscriberFilter};
use crate::store::{self, PageRequest, Store};
use anyhow::bail;
use std::io::IsTerminal;

/// Runs one `subscribers` command.
pub async fn run(
    store: &Store,
    config: &crate::config::Config,
    cmd: SubscribersCommand,
) -> anyhow::Result<()> {
    use crate::license::state::Change;
    match cmd {
        SubscribersCommand::Import(args) => {
            if !args.dry_run {
                super::permit(store, config, Change::Import).await?;
            }
            import(store, config, args).await
        }
        SubscribersCommand::Add {
            list,
            phone,
            telegram,
            instagram,
            name,
            locale,
            time_zone,
            grant,
            withdraw,
            scope,
            source,
            proof,
            at,
            default_region,
            json,
        } => {
            if !grant
                && !withdraw
                && (source.is_some() || proof.is_some() || at.is_some() || scope.is_some())
            {
                bail!(
                    "--source, --proof, --at and --scope say how a consent was given: add \
                     --grant (they agreed) or --withdraw (they said no)"
                );
            }
            super::permit(store, config, Change::Import).await?;
            let list = list.trim().to_string();
            // Refused rather than made: a name mistyped by hand would start a list of one.
            list_id(store, &list).await?;
            let entry = import::hand::Entry {
                phone: phone.unwrap_or_default(),
                telegram: telegram.unwrap_or_default(),
                instagram: instagram.unwrap_or_default(),
                name: name.unwrap_or_default(),
                locale: locale.unwrap_or_default(),
                time_zone: time_zone.unwrap_or_default(),
                consent: (grant || withdraw).then_some(if grant {
                    ConsentStatus::Granted
                } else {
                    ConsentStatus::Withdrawn
                }),
                scope: scope.unwrap_or_default(),
                source: source.unwrap_or_default(),
                proof: proof.unwrap_or_default(),
                at: at.unwrap_or_default(),
            };
            let opts = ImportOptions {
                region: region(default_region.as_deref(), config)?,
                ..ImportOptions::new(&list, actor())
            };
            let who = entry
                .addresses()
                .first()
                .map(|(_, a)| a.to_string())
                .unwrap_or_default();
            let added = match import::hand::add(store, &entry, &opts).await? {
                Ok(added) => added,
                Err(why) => {
                    if json {
                        print_json(&serde_json::json!({
                            "outcome": "refused", "reason": why, "subscriber": null,
                            "list": list,
                        }))?;
                    }
                    bail!("{who} was not added: {why}; nothing changed")
                }
            };
            if json {
                return print_json(&serde_json::json!({
                    "outcome": added.outcome, "reason": null, "subscriber": added.subscriber,
                    "list": list, "import": added.summary,
                }));
            }
            // Named as the workspace now knows them.
            let shown = match added.subscriber {
                Some(id) => {
                    let mut conn = store.read().await?;
                    match store::subscribers::profile(&mut conn, id).await? {
                        Some(p) if !p.name.is_empty() => format!("{} (#{id})", p.name),
                        _ => format!("#{id}"),
                    }
                }
                None => who.clone(),
            };
            use import::hand::Outcome;
            match added.outcome {
                Outcome::New => println!("added {shown} to list `{list}`"),
                Outcome::Updated => println!(
                    "{shown} was known already by that address: updated, and in list `{list}`"
                ),
                Outcome::Unchanged => {
                    println!("{shown} is in list `{list}` already, as entered; nothing changed")
                }
            }
            if entry.consent.is_none() && added.outcome == Outcome::New {
                println!(
                    "  with no consent on record they are not messaged: `clever subscribers consent {who} --channel C --grant --source S --proof P` records one"
                );
            }
            Ok(())
        }
        SubscribersCommand::Export {
            list,
            format,
            output,
        } => {
            let list_id = list_id(store, &list).await?;
            let n = super::write_output(output.as_deref(), async |out| {
                import::export::subscribers(store, Some(list_id), format.into(), out).await
            })
            .await?;
            if let Some(p) = output {
                eprintln!("exported {n} subscribers of `{list}` to {}", p.display());
            }
            Ok(())
        }
        SubscribersCommand::List {
            list,
            search,
            limit,
            json,
        } => {
            let list_id = match &list {
                Some(l) => Some(list_id(store, l).await?),
                None => None,
            };
            let filter = SubscriberFilter {
                search,
                list: list_id,
            };
            let total = store.count_subscribers(&filter).await?;
            let rows = store
                .subscriber_page(
                    &filter,
                    PageRequest {
                        anchor: store::Anchor::First,
                        limit,
                    },
                )
                .await?;
            if json {
                let items: Vec<_> = rows
                    .iter()
                    .map(|r| serde_json::json!({
                        "id": r.id, "name": r.name, "locale": r.locale, "time_zone": r.time_zone,
                        "channels": r.channel_list(), "marketing_consent": r.marketing_list(),
                        "suppressed": r.suppressed_list(),
                    }))
                    .collect();
                return print_json(&serde_json::json!({ "total": total, "subscribers": items }));
            }
            for r in &rows {
                let ch: String = r.channel_list().iter().map(|c| c.badge()).collect();
                let mk: String = r.marketing_list().iter().map(|c| c.badge()).collect();
                println!(
                    "{:>8}  {:<32} channels {:<3} consent {:<3}",
                    r.id,
                    crate::domain::one_line(&r.name),
                    ch,
                    mk
                );
            }
            println!("{} of {total} shown", rows.len());
            if total == 0 && filter.short_phone() {
                println!("a phone is found from its first three digits on: +770…, 8 70…, 701 1…");
            }
            Ok(())
        }
        SubscribersCommand::Show {
            who,
            default_region,
            json,
        } => {
            let id =
                find_subscriber(store, &who, region(default_region.as_deref(), config)?).await?;
            let Some(d) = store.subscriber_detail(id).await? else {
                bail!(
                    "nobody has the address or the number `{}`; `clever subscribers list --search TEXT` searches names and addresses",
                    who.trim()
                );
            };
            if json {
                return print_json(&detail_json(&d));
            }
            print_detail(&d);
            Ok(())
        }
        SubscribersCommand::Consent {
            who,
            channel,
            grant,
            withdraw: _,
            scope,
            source,
            proof,
            at,
            default_region,
        } => {
            let (source, proof) = (source.trim(), proof.trim());
            let now = chrono::Utc::now();
            let at = match at.as_deref().map(str::trim) {
                None => now,
                Some(text) => given_at(text, now)?,
            };
            let recorded_at = (at < now).then_some(now);
            let status = if grant {
                ConsentStatus::Granted
            } else {
                ConsentStatus::Withdrawn
            };
            match manual_gaps(status, source, proof).first() {
                Some(ManualGap::Source) => bail!(
                    "--source needs the words of where the consent came from, e.g. \"call to the shop\""
                ),
                Some(ManualGap::Proof) => bail!(
                    "a consent is granted only with proof: --proof \"paper form No. 123\" (a form's number, a recording's id, a ticket)"
                ),
                None => {}
            }
            if grant {
                super::permit(store, config, Change::Consent).await?;
            }
            let id =
                find_subscriber(store, &who, region(default_region.as_deref(), config)?).await?;
            let by = actor();
            let mut tx = store.begin().await?;
            let change = store::subscribers::change_consent(
                &mut tx,
                &store::subscribers::NewConsent {
                    subscriber: id,
                    channel,
                    scope,
                    status,
                    source,
                    proof,
                    at,
                    recorded_by: &by,
                    recorded_at,
                },
            )
            .await?;
            tx.commit().await?;
            match change {
                ConsentChange::NoAddress => bail!(
                    "subscriber #{id} has no {} address, so there is nothing to consent to there; \
                     `clever subscribers show #{id}` shows what they have",
                    channel.label()
                ),
                ConsentChange::Unchanged => println!(
                    "#{id}'s {} {} consent is already {status}; nothing was recorded",
                    channel.label(),
                    scope
                ),
                ConsentChange::Outdated {
                    status: latest,
                    at: latest_at,
                } => bail!(
                    "#{id}'s {} {scope} consent was {latest} on {}, after {}: an older statement does not override a newer one, so nothing was recorded; \
                     if they changed their mind since, record it with the date they did (or without --at)",
                    channel.label(),
                    latest_at.format("%Y-%m-%d %H:%M UTC"),
                    at.format("%Y-%m-%d %H:%M UTC"),
                ),
                ConsentChange::Recorded {
                    address,
                    suppressed,
                    skipped,
                } => {
                    println!(
                        "#{id}: {} {scope} consent {status} ({source}){}",
                        channel.label(),
                        match recorded_at {
                            Some(_) => format!(", given {}", local_time(at)),
                            None => String::new(),
                        }
                    );
                    if grant && suppressed.is_some() {
                        println!(
                            "  {address} is suppressed, so it is still not messaged; `clever subscribers unsuppress` lifts that"
                        );
                    }
                    if skipped > 0 {
                        println!(
                            "  {skipped} queued campaign message(s) to it skipped as `consent withdrawn`"
                        );
                    }
                }
            }
            Ok(())
        }
        SubscribersCommand::Suppress {
            address,
            channel,
            reason,
            default_region,
        } => {
            let address = normalize_address(
                &address,
                channel,
                region(default_region.as_deref(), config)?,
            )?;
            let mut tx = store.begin().await?;
            let (new, skipped) =
                store::subscribers::suppress_address(&mut tx, channel, &address, &reason, &actor())
                    .await?;
            let earlier = match new {
                true => None,
                false => store::subscribers::suppression(&mut tx, channel, &address).await?,
            };
            tx.commit().await?;
            match earlier {
                // Said plainly, so nobody believes the new reason was recorded.
                Some(s) => println!(
                    "{address} on {} was suppressed already, since {} by {} ({}); nothing changed",
                    channel.label(),
                    super::local_time(s.created_at),
                    s.created_by,
                    s.reason
                ),
                None => println!(
                    "{address} on {} will not be messaged again ({reason})",
                    channel.label()
                ),
            }
            if skipped > 0 {
                println!("  {skipped} queued campaign message(s) to it skipped as `suppressed`");
            }
            Ok(())
        }
        SubscribersCommand::Edit {
            who,
            name,
            locale,
            time_zone,
            no_time_zone,
            default_region,
        } => {
            if name.is_none() && locale.is_none() && time_zone.is_none() && !no_time_zone {
                bail!(
                    "nothing to change: give --name TEXT, --locale CODE, --time-zone ZONE or \
                     --no-time-zone"
                );
            }
            let zone = time_zone.as_deref().map(super::zone).transpose()?;
            let name = name.map(|n| crate::domain::one_line(n.trim()).into_owned());
            if name.as_deref() == Some("") {
                bail!("--name: a name cannot be empty");
            }
            let locale = locale.map(|l| l.trim().to_lowercase());
            super::permit(store, config, Change::Subscriber).await?;
            let id =
                find_subscriber(store, &who, region(default_region.as_deref(), config)?).await?;
            let mut tx = store.begin().await?;
            let Some(before) = store::subscribers::profile(&mut tx, id).await? else {
                bail!("there is no subscriber {id}; `clever subscribers list` numbers them");
            };
            let after_name = name.as_deref().unwrap_or(&before.name);
            let after_locale = match locale.as_deref() {
                Some("") => None,
                Some(l) => Some(l),
                None => before.locale.as_deref(),
            };
            let after_zone = match (zone, no_time_zone) {
                (_, true) => None,
                (Some(z), _) => Some(z),
                (None, _) => before.time_zone.as_deref(),
            };
            let who_now = format!("{} (#{})", after_name, before.id);
            if after_name == before.name
                && after_locale == before.locale.as_deref()
                && after_zone == before.time_zone.as_deref()
            {
                println!("{who_now} is like that already; nothing changed");
                return Ok(());
            }
            store::subscribers::update_profile(
                &mut tx,
                &before,
                after_name,
                after_locale,
                after_zone,
                &actor(),
            )
            .await?;
            tx.commit().await?;
            let shown = |v: Option<&str>| v.unwrap_or("none").to_string();
            if after_name != before.name {
                println!("{who_now}: name `{after_name}` (was `{}`)", before.name);
            }
            if after_locale != before.locale.as_deref() {
                println!(
                    "{who_now}: language {} (was {})",
                    shown(after_locale),
                    shown(before.locale.as_deref())
                );
            }
            if after_zone != before.time_zone.as_deref() {
                println!(
                    "{who_now}: time zone {} (was {}); quiet hours follow it from each campaign's \
                     next batch",
                    after_zone.unwrap_or("none, so their list's or `[engine] time_zone`"),
                    shown(before.time_zone.as_deref())
                );
            }
            Ok(())
        }
        SubscribersCommand::Unsuppress {
            address,
            channel,
            reason,
            default_region,
        } => {
            super::permit(store, config, Change::Unsuppress).await?;
            let mut tx = store.begin().await?;
            let address = match normalize_address(
                &address,
                channel,
                region(default_region.as_deref(), config)?,
            ) {
                Ok(a) => a,
                // An address suppressed as typed before addresses were checked can still be
                // taken off the list as it was written.
                Err(_)
                    if store::subscribers::suppression(&mut tx, channel, address.trim())
                        .await?
                        .is_some() =>
                {
                    address.trim().to_string()
                }
                Err(e) => return Err(e),
            };
            if !store::subscribers::lift_suppression(&mut tx, channel, &address, &reason, &actor())
                .await?
            {
                bail!("{address} is not suppressed on {}", channel.label());
            }
            tx.commit().await?;
            println!(
                "{address} on {} is no longer suppressed; it is messaged only with a granted consent",
                channel.label()
            );
            Ok(())
        }
    }
}

/// `--at` of `subscribers consent`: when the consent was given.
fn given_at(
    text: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<chrono::DateTime<chrono::Utc>> {
    crate::domain::consent::given_at(text, now)
        .map_err(|e| anyhow::anyhow!("--at {}, or leave --at out for now", e.explain(text)))
}

/// The subscriber `who` names: `#ID`, an address on any channel, or a bare number taken as
/// an id when it is nobody's address.
pub(super) async fn find_subscriber(
    store: &Store,
    who: &str,
    region: Region,
) -> anyhow::Result<SubscriberId> {
    let who = who.trim();
    if let Some(n) = who.strip_prefix('#') {
        return match n.trim().parse::<i64>() {
            Ok(n) => Ok(SubscriberId(n)),
            Err(_) => bail!("`{who}` is not a subscriber number like #42"),
        };
    }
    let mut conn = store.read().await?;
    let mut found: Vec<(Channel, SubscriberId)> = Vec::new();
    for channel in Channel::ALL {
        // A phone is matched as the import stores it; an id as typed.
        let Ok(address) = normalize_address(who, channel, region) else {
            continue;
        };
        if let Some(s) = store::subscribers::by_address(&mut conn, channel, &address).await? {
            found.push((channel, s));
        }
    }
    conn.commit().await?;
    found.dedup_by_key(|f| f.1);
    match found.as_slice() {
        [(_, id)] => Ok(*id),
        [] => match who.parse::<i64>() {
            Ok(n) if who.bytes().all(|b| b.is_ascii_digit()) => Ok(SubscriberId(n)),
            _ => bail!(
                "nobody has the address `{who}`; `clever subscribers list --search TEXT` searches names and addresses"
            ),
        },
        many => bail!(
            "`{who}` is the address of several subscribers: {}; name one as #ID",
            many.iter()
                .map(|(c, id)| format!("#{id} on {}", c.label()))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// A subscriber's detail as one JSON document.
fn detail_json(d: &store::subscribers::SubscriberDetail) -> serde_json::Value {
    serde_json::json!({
        "id": d.row.id,
        "name": d.row.name,
        "locale": d.row.locale,
        "time_zone": d.row.time_zone,
        "created_at": d.created_at,
        "lists": d.lists,
        "identities": d.identities.iter().map(|i| serde_json::json!({
            "channel": i.channel, "address": i.address, "suppressed": i.suppressed,
        })).collect::<Vec<_>>(),
        "consents": d.consents.iter().map(|c| serde_json::json!({
            "channel": c.channel, "scope": c.scope, "status": c.status, "source": c.source,
            "proof": c.proof, "at": c.at, "recorded_by": c.recorded_by,
            "recorded_at": c.recorded_at,
        })).collect::<Vec<_>>(),
        "messages": d.messages.iter().map(|m| serde_json::json!({
            "campaign_id": m.campaign_id, "campaign": m.campaign, "channel": m.channel,
            "state": m.state, "at": m.at, "why": m.why,
        })).collect::<Vec<_>>(),
        "attributes": d.attributes,
    })
}

/// A subscriber's detail for people, as the console's detail view has it.
fn print_detail(d: &store::subscribers::SubscriberDetail) {
    use crate::domain::one_line;
    println!("{} (#{})", one_line(&d.row.name), d.row.id);
    println!(
        "  language {} · time zone {} · added {}",
        d.row.locale.as_deref().unwrap_or("—"),
        d.row.time_zone.as_deref().unwrap_or("the list's"),
        local_time(d.created_at)
    );
    println!(
        "  lists: {}",
        if d.lists.is_empty() {
            "none".to_string()
        } else {
            d.lists.join(", ")
        }
    );
    println!("identities");
    if d.identities.is_empty() {
        println!("  none: cannot be messaged");
    }
    for i in &d.identities {
        match &i.suppressed {
            Some(why) => println!(
                "  {:<10} {}  SUPPRESSED: {}",
                i.channel.label(),
                i.address,
                one_line(why)
            ),
            None => println!("  {:<10} {}", i.channel.label(), i.address),
        }
    }
    println!("consent history (newest first)");
    if d.consents.is_empty() {
        println!("  none recorded: never messaged");
    }
    for c in &d.consents {
        println!(
            "  {} {} {} {} · {}",
            local_time(c.at),
            c.status.as_str(),
            c.channel.label(),
            c.scope.as_str(),
            one_line(&c.source)
        );
        if !c.proof.is_empty() {
            println!("      proof: {}", one_line(&c.proof));
        }
        match c.recorded_at {
            Some(at) => println!(
                "      recorded by {} on {}",
                one_line(&c.recorded_by),
                local_time(at)
            ),
            None => println!("      recorded by {}", one_line(&c.recorded_by)),
        }
    }
    println!(
        "campaign messages (newest first, at most {})",
        store::subscribers::MESSAGES_SHOWN
    );
    if d.messages.is_empty() {
        println!("  none");
    }
    for m in &d.messages {
        print!(
            "  {} {} {} (campaign {}) · {}",
            local_time(m.at),
            m.state,
            one_line(&m.campaign),
            m.campaign_id,
            m.channel.label()
        );
        match m.why.as_deref().filter(|w| !w.is_empty()) {
            Some(why) => println!(" · {}", one_line(why)),
            None => println!(),
        }
    }
    if !d.attributes.is_empty() {
        println!("attributes");
        for (k, v) in &d.attributes {
            let v = match v {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            println!("  {:<16} {}", one_line(k), one_line(&v));
        }
    }
}

/// `--default-region` when given, else the configuration's `[subscribers] default_region`.
pub(super) fn region(flag: Option<&str>, config: &crate::config::Config) -> anyhow::Result<Region> {
    match flag {
        Some(r) => r.parse().map_err(anyhow::Error::msg),
        None => Ok(config.default_region),
    }
}

fn normalize_address(address: &str, channel: Channel, region: Region) -> anyhow::Result<String> {
    channel
        .normalize_address(address, region)
        .map_err(anyhow::Error::msg)
}

pub(super) async fn list_id(store: &Store, name: &str) -> anyhow::Result<ListId> {
    let mut conn = store.read().await?;
    match store::lists::id_by_name(&mut conn, name).await? {
        Some(id) => Ok(id),
        None => bail!("no list named `{name}`; `clever lists list` shows them"),
    }
}

async fn import(
    store: &Store,
    config: &crate::config::Config,
    args: ImportArgs,
) -> anyhow::Result<()> {
    let opts = ImportOptions {
        list: args.list.trim().to_string(),
        encoding: args.encoding,
        delimiter: args.delimiter.parse().map_err(anyhow::Error::msg)?,
        region: region(args.default_region.as_deref(), config)?,
        consent_source: args.consent_source.filter(|s| !s.trim().is_empty()),
        rejects: args.rejects,
        dry_run: args.dry_run,
        actor: actor(),
    };
    if opts.list.is_empty() {
        bail!("--list needs a name");
    }
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {msg} ({eta})")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    });
    let summary = import::import_file(store, &args.file, &opts, |p| {
        if let Some(b) = &bar {
            b.set_length(p.total_bytes);
            b.set_position(p.bytes_read);
            b.set_message(format!("{} rows", p.rows));
        }
    })
    .await;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let summary = summary?;
    if args.json {
        return print_json(&summary);
    }
    print_summary(&summary);
    Ok(())
}

/// The import summary for people.
pub fn print_summary(s: &ImportSummary) {
    println!(
        "{} {} into list `{}` ({}, delimiter `{}`)",
        if s.dry_run { "Checked" } else { "Imported" },
        s.file,
        s.list,
        s.encoding,
        s.delimiter
    );
    if s.list_created {
        // A mistyped name would otherwise scatter subscribers into a list nobody sends to.
        println!(
            "  `{}` is a new list: {} (`clever lists list` shows the others)",
            s.list,
            if s.dry_run {
                "the import would create it"
            } else {
                "it was created"
            }
        );
    }
    for (label, n) in [
        ("rows read", s.rows),
        ("imported", s.imported),
        ("updated", s.updated),
        ("unchanged", s.unchanged),
        ("rejected", s.rejected),
    ] {
        println!("  {label:<12}{n:>10}");
    }
    for (reason, n) in &s.rejected_by_reason {
        println!("    {reason:<40}{n:>8}");
    }
    if !s.first_rejected.is_empty() {
        println!("  first rejected rows:");
        for r in &s.first_rejected {
            println!("    line {}: {}", r.line, r.reason);
        }
        let more = s.rejected - s.first_rejected.len() as u64;
        if s.rejects_file.is_none() {
            let every = if more > 0 {
                format!("{more} more; ")
            } else {
                String::new()
            };
            println!(
                "    ({every}--rejects FILE writes every rejected row with its line and reason, to fix and import again)"
            );
        }
    }
    if s.queued_skipped > 0 {
        println!(
            "  {} queued campaign message(s) {} as `consent withdrawn`: the file withdrew their consent",
            s.queued_skipped,
            if s.dry_run {
                "would be skipped"
            } else {
                "skipped"
            }
        );
    }
    if s.consent_outdated > 0 {
        let (applied, imported) = if s.dry_run {
            ("would not be applied", "would be")
        } else {
            ("not applied", "is")
        };
        println!(
            "  {} consent value(s) {applied}: dated (consent_at) before the consent on record\n    \
             (the rest of each row {imported} imported; `clever subscribers show WHO` lists the history)",
            s.consent_outdated,
        );
    }
    if s.withdrawn_kept > 0 {
        println!(
            "  {} subscriber(s) kept withdrawn: --consent-source {} not undo a withdrawal\n    \
             (`clever subscribers consent --grant` records it if they agreed again)",
            s.withdrawn_kept,
            if s.dry_run { "would" } else { "does" }
        );
    }
    if let Some(r) = &s.rejects_file {
        println!("  rejected rows, with line and reason: {r}");
    }
    if s.dry_run {
        println!("Dry run: nothing was changed.");
    }
}

impl From<ExportFormat> for import::export::Format {
    fn from(f: ExportFormat) -> Self {
        use import::export::Format;
        match f {
            ExportFormat::Csv => Format::Csv,
            ExportFormat::Excel => Format::Excel,
            ExportFormat::Jsonl => Format::Jsonl,
        }
    }
}
