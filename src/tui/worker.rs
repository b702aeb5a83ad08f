//! The TUI's hands: requests go to a worker task that calls the store (and, later, the
//! engine, the licence client and the lookup client) and sends back tagged results. The
//! terminal task never waits on I/O.

use super::action::PaneId;
use super::window::Fill;
use crate::domain::{AccountId, CampaignId, Channel, ConsentScope, ListId, SubscriberId};
use crate::import::{ImportOptions, ImportSummary, Progress, import_file};
use crate::store::accounts::AccountRow;
use crate::store::campaigns::CampaignRow;
use crate::store::lists::ListRow;
use crate::store::lookups::LookupRow;
use crate::store::overview::Overview;
use crate::store::subscribers::{SubscriberDetail, SubscriberFilter, SubscriberRow};
use crate::store::{PageRequest, Store, StoreError};
use std::path::PathBuf;
use tokio::sync::mpsc;

/// Facts about the workspace the console is open on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workspace {
    /// Shown in the status bar: `demo` or the data folder.
    pub label: String,
    /// Whether this is the demo workspace (sandbox accounts, sample data).
    pub demo: bool,
    /// Where the database is.
    pub database: String,
    /// Where the logs are.
    pub log_dir: String,
    /// Where an import's rejected rows go when the imported file's folder cannot be
    /// written to: the data folder's `rejects/`.
    pub rejects_dir: PathBuf,
    /// A file to offer when the operator starts an import (the demo's sample).
    pub sample_import: Option<String>,
    /// The name this console's engine holds the engine lease by, when it runs one.
    pub engine: Option<String>,
    /// The licence's state when the console started, shown until the sync publishes.
    pub license: crate::license::state::LicenseState,
    /// The licence server's URL.
    pub license_server: String,
    /// How a 12-digit number is read first in the Counterparty pane.
    pub country: crate::counterparty::Country,
    /// The region of phones written without a country code in an imported file.
    pub default_region: crate::domain::phone::Region,
}

/// What the TUI may use: handles, never raw SQL or HTTP.
#[derive(Debug, Clone)]
pub struct Services {
    pub store: Store,
    pub workspace: Workspace,
    /// Who works in the console, for consent records and the audit log.
    pub actor: String,
    /// The messenger APIs' client, for health checks.
    pub client: crate::channels::client::Client,
    /// The licence's files and sync, when the console runs one.
    pub licence: Option<crate::license::sync::LicenceControl>,
    /// Counterparty checks (registries, risk lists, history), when configured.
    pub checker: Option<crate::counterparty::check::Checker>,
}

/// Work for the worker.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    /// A page of a pane's list (with the total when `count`).
    Page {
        pane: PaneId,
        search: Option<String>,
        /// Subscribers of this list only.
        list: Option<ListId>,
        page: PageRequest,
        fill: Fill,
        count: bool,
    },
    /// The detail of one row; `live` when this process's engine sends, so the send rate
    /// comes from its state channel rather than the database; `waiting` when a campaign's
    /// rows due later are to be counted (a read of its whole queue, so not every second).
    Detail {
        pane: PaneId,
        id: i64,
        live: bool,
        waiting: bool,
    },
    /// Workspace-wide figures.
    Overview,
    /// Every subscriber list with its size.
    Lists,
    /// Subscribers that may be messaged now, per channel, in a list (or everyone).
    Sendable { list: Option<ListId> },
    /// Import a CSV file into a list; progress comes back as it goes.
    Import { path: PathBuf, list: String },
    /// Delete a list (refused while a campaign uses it).
    DeleteList { id: ListId, name: String },
    /// Record a consent given or withdrawn (the consent form).
    RecordConsent(crate::tui::consent_form::ConsentDraft),
    /// Make a list and add a subscriber (named, for the notice) to it.
    NewListWith {
        list: String,
        id: SubscriberId,
        name: String,
    },
    /// Take a subscriber entered by hand into a list, as one row of an import.
    AddSubscriber {
        list: ListId,
        entry: crate::import::hand::Entry,
    },
    /// Add a subscriber (named, for the notice) to a list, or with `add` false take them off
    /// it.
    ChangeMembers {
        list: ListId,
        id: SubscriberId,
        name: String,
        add: bool,
    },
    /// Set a list's time zone (a zone's name), or forget it.
    SetListTimeZone { id: ListId, zone: Option<String> },
    /// Set a subscriber's time zone (a zone's name), or forget it.
    SetTimeZone {
        id: SubscriberId,
        zone: Option<String>,
    },
    /// Suppress every address of a subscriber or, with `lift`, free every suppressed one.
    Suppress {
        id: SubscriberId,
        lift: bool,
        reason: String,
    },
    /// Check an account's token against its platform now.
    CheckAccount { id: AccountId },
    /// Count whom a draft would reach, before asking whether to start it.
    Reach { id: CampaignId },
    /// Start a draft campaign.
    StartCampaign { id: CampaignId },
    /// Pause, resume or cancel a campaign.
    StepCampaign {
        id: CampaignId,
        step: crate::engine::campaigns::Step,
    },
    /// Queue a campaign's unknown rows again.
    RequeueUnknown { id: CampaignId },
    /// Add (no id) or change an account from the form, then check its token.
    SaveAccount {
        id: Option<AccountId>,
        channel: Channel,
        draft: crate::domain::account::Draft,
    },
    /// The accounts a campaign can be made for (the campaign form's picker).
    FormAccounts,
    /// Subscribers of a list a new campaign's message is tried on.
    ListSamples { list: ListId },
    /// Tab in a file prompt: what the typed path completes to.
    CompletePath { typed: String },
    /// Create a draft campaign from the form.
    CreateCampaign {
        spec: crate::engine::campaigns::Spec,
    },
    /// Activate this machine with a licence key, refresh the lease, or free the seat.
    Licence(LicenceStep),
    /// Pause an account with a reason, or resume it (`None`).
    SetAccountStatus {
        id: AccountId,
        reason: Option<String>,
    },
    /// Check a counterparty's number against the registries and the risk lists.
    CheckNumber { input: String },
    /// Write the history of checks (matching a search) to a new CSV file.
    ExportChecks {
        path: PathBuf,
        search: Option<String>,
    },
    /// Write the subscribers of a list (`None`: everyone) to a new CSV file, as
    /// `subscribers export` does.
    ExportList {
        path: PathBuf,
        list: Option<ListId>,
        name: String,
    },
}

/// A licence step asked for in the License pane.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LicenceStep {
    Activate(String),
    Sync,
    Deactivate,
}

/// Rows of one pane.
#[derive(Debug, Clone, PartialEq)]
pub enum Rows {
    Accounts(Vec<AccountRow>),
    Subscribers(Vec<SubscriberRow>),
    Campaigns(Vec<CampaignRow>),
    Lookups(Vec<LookupRow>),
}

/// The detail of one row, beyond what the row holds.
#[derive(Debug, Clone, PartialEq)]
pub enum Detail {
    Subscriber(Box<SubscriberDetail>),
    Campaign {
        failures: Vec<crate::store::campaigns::FailureCause>,
        /// A few rows behind each failure cause.
        failure_rows: Vec<crate::store::campaigns::FailureRow>,
        /// Messages accepted per [`HISTORY_BUCKET`] seconds, oldest first (from the
        /// database; `None` when asked for live).
        history: Option<Vec<i64>>,
        skips: Vec<(String, i64)>,
        /// Messages accepted a second over the last minute (from the database; `None` when
        /// asked for live).
        rate: Option<f64>,
        /// The message as the first subscribers of the list get it.
        preview: Vec<(String, Result<String, String>)>,
        /// Queued rows due only later, and when the first is (when asked for).
        waiting: Option<crate::store::outbox::Waiting>,
    },
    /// The row says it all.
    None,
}

/// Seconds per bar of a campaign's send-rate sparkline, and how many bars it has.
pub const HISTORY_BUCKET: i64 = 10;
pub const HISTORY_BUCKETS: usize = 30;
/// Failed rows shown under each failure cause.
pub const FAILURE_ROWS: i64 = 3;

/// What came back.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    Page {
        pane: PaneId,
        fill: Fill,
        total: Option<usize>,
        rows: Rows,
    },
    Detail {
        pane: PaneId,
        id: i64,
        detail: Detail,
    },
    Overview(Overview),
    Lists(Vec<ListRow>),
    Sendable {
        list: Option<ListId>,
        counts: Vec<(Channel, i64)>,
    },
    ImportProgress(Progress),
    ImportDone(Result<ImportSummary, String>),
    /// The name of the deleted list, or why it was not deleted.
    ListDeleted(Result<String, String>),
    /// What changed, in words.
    AccountStatusSet(String),
    /// What a suppression (or its lifting) changed, or why it could not be made.
    Suppressed(Result<String, String>),
    /// What a change of a subscriber's time zone did.
    TimeZoneSet(Result<String, String>),
    /// What entering a subscriber by hand did, or why the import refused them.
    SubscriberAdded(Result<String, String>),
    /// What adding a subscriber to a list, or taking them off, did.
    MembersChanged(Result<String, String>),
    /// What recording a consent came to, in words.
    ConsentRecorded(Result<String, String>),
    /// An account's name and what its check found.
    AccountChecked {
        name: String,
        ok: bool,
        detail: String,
    },
    /// Accounts for the campaign form.
    FormAccounts(Vec<crate::tui::campaign_form::AccountChoice>),
    ListSamples {
        list: ListId,
        samples: Vec<crate::engine::campaigns::Sample>,
    },
    PathCompleted {
        typed: String,
        completion: crate::tui::complete::Completion,
    },
    /// The new campaign's id and name, or why it was not made.
    /// The new draft, or why not (and which of the form's fields that is about).
    CampaignCreated(
        Result<(CampaignId, String), (Option<crate::engine::campaigns::SpecField>, String)>,
    ),
    /// What a licence step did, or why it did not happen.
    LicenceChanged(Result<String, String>),
    /// A check's summary (the check is the history's newest row), or why it failed.
    Checked(Result<String, String>),
    /// Where the history went and how many rows, or why it did not.
    Exported(Result<String, String>),
    /// What a campaign step did, or why it was refused.
    CampaignChanged(Result<String, String>),
    /// Whom a draft would reach, or why it cannot be counted.
    Reach {
        id: CampaignId,
        reach: Result<crate::engine::campaigns::Reach, String>,
    },
    /// The form's account was saved (what to tell the operator, and whether its check
    /// passed), or why not (with the field to blame, if one is).
    AccountSaved(Result<(String, bool), Vec<(crate::domain::account::Field, String)>>),
    Failed {
        pane: Option<PaneId>,
        message: String,
    },
}

/// A request or reply with the generation it belongs to; stale replies are dropped.
#[derive(Debug, Clone, PartialEq)]
pub struct Tagged<T> {
    pub generation: u64,
    pub body: T,
}

impl<T> Tagged<T> {
    /// One that belongs to no window's generation (lists, counts, commands), which nothing
    /// checks for staleness.
    pub fn any(body: T) -> Tagged<T> {
        Tagged {
            generation: 0,
            body,
        }
    }
}

/// Runs requests until the sender is dropped; each request in its own task so a slow one
/// does not hold up the rest.
pub async fn run(
    services: Services,
    mut requests: mpsc::UnboundedReceiver<Tagged<Request>>,
    replies: mpsc::UnboundedSender<Tagged<Reply>>,
) {
    while let Some(req) = requests.recv().await {
        let services = services.clone();
        let replies = replies.clone();
        tokio::spawn(async move {
            let generation = req.generation;
            let body = match req.body {
                Request::Import { path, list } => 'import: {
                    match refusal(
                        &services,
                        &Request::Import {
                            path: path.clone(),
                            list: list.clone(),
                        },
                    )
                    .await
                    {
                        Ok(Some(why)) => break 'import Reply::ImportDone(Err(why)),
                        Ok(None) => {}
                        Err(e) => break 'import Reply::ImportDone(Err(e.to_string())),
                    }
                    let progress = replies.clone();
                    import(&services, &path, &list, move |p| {
                        let _ = progress.send(Tagged {
                            generation,
                            body: Reply::ImportProgress(p),
                        });
                    })
                    .await
                }
                other => serve(&services, other).await,
            };
            let _ = replies.send(Tagged { generation, body });
        });
    }
}

/// Imports a file into a list, reporting progress; the reply says how it went.
pub async fn import(
    services: &Services,
    path: &std::path::Path,
    list: &str,
    progress: impl FnMut(Progress),
) -> Reply {
    let opts = ImportOptions {
        rejects: Some(rejects_path(path, &services.workspace.rejects_dir)),
        region: services.workspace.default_region,
        ..ImportOptions::new(list, services.actor.clone())
    };
    Reply::ImportDone(
        import_file(&services.store, path, &opts, progress)
            .await
            .map_err(|e| e.to_string()),
    )
}

/// Where the console writes the rejected rows of an import: next to the file, or in
/// `fallback` (the workspace's `rejects/` folder) when the file's folder cannot be written
/// to (a share mounted read-only, another user's upload folder), so such a file can still
/// be imported. The import box names the file either way.
pub fn rejects_path(path: &std::path::Path, fallback: &std::path::Path) -> PathBuf {
    let beside = crate::import::rejects_beside(path);
    if can_write(&beside) {
        return beside;
    }
    let elsewhere = fallback.join(beside.file_name().unwrap_or_default());
    if std::fs::create_dir_all(fallback).is_ok() && can_write(&elsewhere) {
        elsewhere
    } else {
        // The import then stops before writing anything and says why.
        beside
    }
}

/// Whether the rejects file at `path` can be written (as `PATH.partial`, which the import
/// writes first); a probe file is removed again.
fn can_write(path: &std::path::Path) -> bool {
    let partial = crate::import::partial_path(path);
    let existed = partial.exists();
    match std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(&partial)
    {
        Ok(_) => {
            if !existed {
                let _ = std::fs::remove_file(&partial);
            }
            true
        }
        Err(_) => false,
    }
}

/// Carries out one request.
pub async fn serve(services: &Services, request: Request) -> Reply {
    let pane = match &request {
        Request::Page { pane, .. } | Request::Detail { pane, .. } => Some(*pane),
        _ => None,
    };
    match try_serve(services, request).await {
        Ok(reply) => reply,
        Err(e) => {
            tracing::error!(error = %e, "request failed");
            Reply::Failed {
                pane,
                message: e.to_string(),
            }
        }
    }
}

/// The change a request makes, for the licence to decide on (`None`: it changes nothing
/// the licence guards).
async fn change_of(
    store: &Store,
    request: &Request,
) -> Result<Option<crate::license::state::Change>, StoreError> {
    use crate::license::state::Change;
    use crate::store::accounts::{campaign_on_sandbox, sandbox_by_name};
    Ok(match request {
        Request::Import { .. } => Some(Change::Import),
        Request::DeleteList { .. } => Some(Change::List),
        Request::Suppress { lift: true, .. } => Some(Change::Unsuppress),
        Request::SetTimeZone { .. } => Some(Change::Subscriber),
        Request::SetListTimeZone { .. } => Some(Change::List),
        Request::ChangeMembers { .. } => Some(Change::List),
        Request::AddSubscriber { .. } => Some(Change::Import),
        Request::NewListWith { .. } => Some(Change::List),
        Request::RecordConsent(d) if d.status == crate::domain::ConsentStatus::Granted => {
            Some(Change::Consent)
        }
        Request::SaveAccount { draft, .. } => Some(Change::Account {
            sandbox: draft.base_url.trim().starts_with("http://"),
        }),
        Request::SetAccountStatus { id, reason: None } => Some(Change::Account {
            sandbox: store.account(*id).await?.is_some_and(|a| a.sandbox),
        }),
        Request::CreateCampaign { spec } => Some(Change::Campaign {
            sandbox: sandbox_by_name(store, spec.account.trim())
                .await?
                .unwrap_or(false),
        }),
        Request::StartCampaign { id }
        | Request::RequeueUnknown { id }
        | Request::StepCampaign {
            id,
            step: crate::engine::campaigns::Step::Resume,
        } => Some(Change::Campaign {
            sandbox: campaign_on_sandbox(store, *id).await?.unwrap_or(false),
        }),
        _ => None,
    })
}

/// Why the licence refuses a request now, if it does (the console's licence files are read
/// as the command line reads them).
async fn refusal(services: &Services, request: &Request) -> Result<Option<String>, StoreError> {
    let Some(control) = &services.licence else {
        return Ok(None);
    };
    let Some(change) = change_of(&services.store, request).await? else {
        return Ok(None);
    };
    let state = match control.local.standing(&services.store).await {
        Ok(s) => s.state,
        Err(e) => crate::license::state::LicenseState::Invalid {
            reason: format!("the licence files cannot be read: {e}"),
        },
    };
    Ok(state.permits(change, chrono::Utc::now()).err())
}

async fn try_serve(services: &Services, request: Request) -> Result<Reply, StoreError> {
    let store = &services.store;
    if let Some(why) = refusal(services, &request).await? {
        return Ok(match request {
            Request::Import { .. } => Reply::ImportDone(Err(why)),
            _ => Reply::Failed {
                pane: None,
                message: why,
            },
        });
    }
    Ok(match request {
        Request::Page {
            pane,
            search,
            list,
            page,
            fill,
            count,
        } => {
            let (total, rows) = match pane {
                PaneId::Accounts => {
                    let mut rows = store.account_page(page).await?;
                    let mut conn = store.read().await?;
                    let today = start_of_today();
                    let sent = crate::store::accounts::sent_since(&mut conn, today).await?;
                    let mut replies =
                        crate::store::inbound::replies_since(&mut conn, today).await?;
                    conn.commit().await?;
                    for a in &mut rows {
                        a.sent_today = sent.iter().find(|(id, _)| *id == a.id).map_or(0, |s| s.1);
                        if let Some(i) = replies.iter().position(|(id, _)| *id == a.id) {
                            a.replies_today = replies.swap_remove(i).1;
                        }
                    }
                    (
                        count_if(count, store.count_accounts()).await?,
                        Rows::Accounts(rows),
                    )
                }
                PaneId::Subscribers => {
                    let filter = SubscriberFilter { search, list };
                    (
                        count_if(count, store.count_subscribers(&filter)).await?,
                        Rows::Subscribers(store.subscriber_page(&filter, page).await?),
                    )
                }
                PaneId::Campaigns => (
                    count_if(count, store.count_campaigns()).await?,
                    Rows::Campaigns(store.campaign_page(page).await?),
                ),
                PaneId::Counterparty => (
                    count_if(count, store.count_lookups(search.as_deref())).await?,
                    Rows::Lookups(store.lookup_page(search.as_deref(), page).await?),
                ),
                PaneId::License => {
                    return Ok(Reply::Overview(store.overview(start_of_today()).await?));
                }
            };
            Reply::Page {
                pane,
                fill,
                total,
                rows,
            }
        }
        Request::Detail {
            pane,
            id,
            live,
            waiting,
        } => {
            let detail = match pane {
                PaneId::Subscribers => match store.subscriber_detail(SubscriberId(id)).await? {
                    Some(d) => Detail::Subscriber(Box::new(d)),
                    None => Detail::None,
                },
                PaneId::Campaigns => {
                    let id = CampaignId(id);
                    let now = chrono::Utc::now();
                    let (rate, history) = if live {
                        (None, None)
                    } else {
                        let mut conn = store.read().await?;
                        let minute = crate::store::outbox::sent_since(
                            &mut conn,
                            id,
                            now - chrono::Duration::seconds(60),
                        )
                        .await?;
                        conn.commit().await?;
                        (
                            Some(minute as f64 / 60.0),
                            Some(
                                store
                                    .campaign_send_history(id, now, HISTORY_BUCKET, HISTORY_BUCKETS)
                                    .await?,
                            ),
                        )
                    };
                    Detail::Campaign {
                        failures: store.campaign_failures(id).await?,
                        failure_rows: store.campaign_failure_rows(id, FAILURE_ROWS).await?,
                        history,
                        skips: store.campaign_skips(id).await?,
                        rate,
                        preview: crate::engine::campaigns::preview(store, id, 3).await?,
                        waiting: match waiting {
                            true => {
                                let mut conn = store.read().await?;
                                let w = crate::store::outbox::waiting(&mut conn, id, now).await?;
                                conn.commit().await?;
                                Some(w)
                            }
                            false => None,
                        },
                    }
                }
                _ => Detail::None,
            };
            Reply::Detail { pane, id, detail }
        }
        Request::Overview => Reply::Overview(store.overview(start_of_today()).await?),
        Request::Lists => Reply::Lists(store.lists().await?),
        Request::Sendable { list } => Reply::Sendable {
            list,
            counts: store.sendable_counts(list, ConsentScope::Marketing).await?,
        },
        Request::Import { path, list } => import(services, &path, &list, |_| {}).await,
        Request::RecordConsent(d) => {
            use crate::store::subscribers::{ConsentChange, NewConsent, change_consent};
            let mut tx = store.begin().await?;
            let change = change_consent(
                &mut tx,
                &NewConsent {
                    subscriber: d.subscriber,
                    channel: d.channel,
                    scope: d.scope,
                    status: d.status,
                    source: &d.source,
                    proof: &d.proof,
                    at: d.at.unwrap_or_else(chrono::Utc::now),
                    recorded_by: &services.actor,
                    recorded_at: d.at.map(|_| chrono::Utc::now()),
                },
            )
            .await?;
            tx.commit().await?;
            let what = format!("{} {} consent", d.channel.label(), d.scope);
            Reply::ConsentRecorded(match change {
                ConsentChange::NoAddress => Err(format!(
                    "they have no {} address any more; nothing was recorded",
                    d.channel.label()
                )),
                ConsentChange::Unchanged => Err(format!(
                    "{what} is {} already; nothing was recorded",
                    d.status
                )),
                ConsentChange::Outdated { status, at } => Err(format!(
                    "{what} was {status} on {}, after the date given; nothing was recorded",
                    at.format("%Y-%m-%d %H:%M UTC")
                )),
                ConsentChange::Recorded {
                    address,
                    suppressed,
                    skipped,
                } => Ok(match (d.status, suppressed, skipped) {
                    (crate::domain::ConsentStatus::Granted, Some(_), _) => format!(
                        "{what} granted for {address}; the address is suppressed, so it is still not messaged until that is lifted"
                    ),
                    (_, _, 0) => format!(
                        "{what} {} for {address}{}",
                        d.status,
                        d.at.map(|at| format!(", given {}", at.format("%Y-%m-%d %H:%M UTC")))
                            .unwrap_or_default()
                    ),
                    (_, _, n) => format!(
                        "{what} withdrawn for {address}; {n} queued campaign message(s) to it skipped"
                    ),
                }),
            })
        }
        Request::Suppress { id, lift, reason } => {
            let mut tx = store.begin().await?;
            let changed = crate::store::subscribers::suppress_subscriber(
                &mut tx,
                id,
                lift,
                &reason,
                &services.actor,
            )
            .await?;
            tx.commit().await?;
            let addresses = changed
                .iter()
                .map(|(c, a)| format!("{a} ({})", c.label()))
                .collect::<Vec<_>>()
                .join(", ");
            Reply::Suppressed(match (changed.is_empty(), lift) {
                (true, _) => Err("nothing changed: the addresses were already as asked".into()),
                (false, false) => Ok(format!("not messaged again: {addresses}")),
                (false, true) => Ok(format!("suppression lifted: {addresses}")),
            })
        }
        Request::NewListWith { list, id, name } => {
            let mut tx = store.begin().await?;
            if crate::store::lists::id_by_name(&mut tx, &list)
                .await?
                .is_some()
            {
                return Ok(Reply::MembersChanged(Err(format!(
                    "a list named “{list}” was made meanwhile; press + again to add {name} to it"
                ))));
            }
            if !crate::store::lists::missing_subscribers(&mut tx, &[id])
                .await?
                .is_empty()
            {
                return Ok(Reply::MembersChanged(Err(format!("{name} is gone"))));
            }
            let made =
                crate::store::lists::create(&mut tx, &list, "", None, &services.actor).await?;
            let Some(row) = crate::store::lists::by_id(&mut tx, made).await? else {
                return Ok(Reply::MembersChanged(Err("the new list is gone".into())));
            };
            crate::store::lists::add_members(&mut tx, &row, &[id], &services.actor).await?;
            tx.commit().await?;
            Reply::MembersChanged(Ok(format!("made list “{list}” and added {name} to it")))
        }
        Request::AddSubscriber { list, entry } => {
            let Some(row) = ({
                let mut conn = store.read().await?;
                crate::store::lists::by_id(&mut conn, list).await?
            }) else {
                return Ok(Reply::SubscriberAdded(Err("that list is gone".into())));
            };
            let opts = ImportOptions {
                region: services.workspace.default_region,
                ..ImportOptions::new(&row.name, services.actor.clone())
            };
            let added = match crate::import::hand::add(store, &entry, &opts).await {
                Ok(Ok(added)) => added,
                Ok(Err(why)) => return Ok(Reply::SubscriberAdded(Err(why))),
                Err(e) => return Ok(Reply::SubscriberAdded(Err(e.to_string()))),
            };
            let who = added
                .subscriber
                .map(|id| format!("#{id}"))
                .unwrap_or_else(|| "them".into());
            let name = crate::domain::one_line(entry.name.trim()).into_owned();
            let who = if name.is_empty() {
                who
            } else {
                format!("{name} ({who})")
            };
            use crate::import::hand::Outcome;
            Reply::SubscriberAdded(Ok(match added.outcome {
                Outcome::New if entry.consent.is_none() => format!(
                    "added {who} to “{}”; with no consent on record they are not messaged (C records one)",
                    row.name
                ),
                Outcome::New => format!("added {who} to “{}”", row.name),
                Outcome::Updated => format!(
                    "{who} was known already by that address: updated, and in “{}”",
                    row.name
                ),
                Outcome::Unchanged => {
                    format!(
                        "{who} is in “{}” already, as entered; nothing changed",
                        row.name
                    )
                }
            }))
        }
        Request::ChangeMembers {
            list,
            id,
            name,
            add,
        } => {
            let mut tx = store.begin().await?;
            let Some(row) = crate::store::lists::by_id(&mut tx, list).await? else {
                return Ok(Reply::MembersChanged(Err("that list is gone".into())));
            };
            if !crate::store::lists::missing_subscribers(&mut tx, &[id])
                .await?
                .is_empty()
            {
                return Ok(Reply::MembersChanged(Err(format!("{name} is gone"))));
            }
            let l = &row.name;
            let said = if add {
                let done =
                    crate::store::lists::add_members(&mut tx, &row, &[id], &services.actor).await?;
                let campaigns = crate::store::lists::campaigns_using(&mut tx, list).await?;
                match (done.changed, campaigns) {
                    (0, _) => format!("{name} is in list “{l}” already; nothing changed"),
                    (_, 0) => format!("added {name} to list “{l}”"),
                    _ => format!(
                        "added {name} to list “{l}”; campaigns already started on it do not include them"
                    ),
                }
            } else {
                let done =
                    crate::store::lists::remove_members(&mut tx, &row, &[id], &services.actor)
                        .await?;
                match (done.changed, done.skipped) {
                    (0, _) => format!("{name} is not in list “{l}”; nothing changed"),
                    (_, 0) => format!("took {name} off list “{l}”"),
                    (_, n) => format!(
                        "took {name} off list “{l}”; {n} queued {} to them skipped",
                        crate::domain::noun(n, "message", "messages")
                    ),
                }
            };
            tx.commit().await?;
            Reply::MembersChanged(Ok(said))
        }
        Request::SetListTimeZone { id, zone } => {
            let mut tx = store.begin().await?;
            let Some(before) = crate::store::lists::by_id(&mut tx, id).await? else {
                return Ok(Reply::TimeZoneSet(Err("that list is gone".into())));
            };
            let was = before.default_time_zone.as_deref().unwrap_or("none");
            if before.default_time_zone == zone {
                return Ok(Reply::TimeZoneSet(Ok(format!(
                    "list “{}”: time zone {was} already; nothing changed",
                    before.name
                ))));
            }
            crate::store::lists::update(
                &mut tx,
                &before,
                &before.name,
                &before.description,
                zone.as_deref(),
                &services.actor,
            )
            .await?;
            tx.commit().await?;
            Reply::TimeZoneSet(Ok(format!(
                "list “{}”: time zone {} (was {was}); quiet hours of its members with none of their own follow it from each campaign's next batch",
                before.name,
                zone.as_deref().unwrap_or("none, so the configuration's")
            )))
        }
        Request::SetTimeZone { id, zone } => {
            let mut tx = store.begin().await?;
            let Some(before) = crate::store::subscribers::profile(&mut tx, id).await? else {
                return Ok(Reply::TimeZoneSet(Err("that subscriber is gone".into())));
            };
            let name = crate::domain::one_line(&before.name).into_owned();
            let shown = |z: Option<&str>| z.unwrap_or("none, so their list's").to_string();
            if before.time_zone == zone {
                return Ok(Reply::TimeZoneSet(Ok(format!(
                    "{name}: time zone {} already; nothing changed",
                    shown(zone.as_deref())
                ))));
            }
            crate::store::subscribers::update_profile(
                &mut tx,
                &before,
                &before.name,
                before.locale.as_deref(),
                zone.as_deref(),
                &services.actor,
            )
            .await?;
            tx.commit().await?;
            Reply::TimeZoneSet(Ok(format!(
                "{name}: time zone {} (was {}); quiet hours follow it from each campaign's next batch",
                shown(zone.as_deref()),
                before.time_zone.as_deref().unwrap_or("none")
            )))
        }
        Request::SetAccountStatus { id, reason } => {
            let status = if reason.is_some() {
                crate::domain::AccountStatus::Paused
            } else {
                crate::domain::AccountStatus::Active
            };
            let mut tx = store.begin().await?;
            crate::store::accounts::change_status(
                &mut tx,
                id,
                status,
                reason.as_deref(),
                &services.actor,
            )
            .await?;
            tx.commit().await?;
            Reply::AccountStatusSet(match reason {
                Some(r) => format!("account paused: {r}"),
                None => "account resumed".to_string(),
            })
        }
        Request::Reach { id } => Reply::Reach {
            id,
            reach: crate::engine::campaigns::reach(store, id)
                .await
                .map_err(|e| e.to_string()),
        },
        Request::StartCampaign { id } => {
            use crate::engine::campaigns::{LifecycleError, start};
            Reply::CampaignChanged(match start(store, id, &services.actor).await {
                Ok(s) => {
                    let left: Vec<String> = s
                        .left_out
                        .iter()
                        .map(|(reason, n)| format!("{n} {reason}"))
                        .collect();
                    Ok(format!(
                        "campaign {}: {} queued{}",
                        s.status,
                        s.queued,
                        if left.is_empty() {
                            String::new()
                        } else {
                            format!("; left out: {}", left.join(", "))
                        }
                    ))
                }
                Err(LifecycleError::Refused(why) | LifecycleError::Invalid(_, why)) => {
                    Err(why.replace('\n', " "))
                }
                Err(LifecycleError::Store(e)) => return Err(e),
            })
        }
        Request::FormAccounts => {
            let rows = store
                .account_page(crate::store::PageRequest {
                    anchor: crate::store::Anchor::First,
                    limit: 1000,
                })
                .await?;
            Reply::FormAccounts(
                rows.into_iter()
                    .map(|a| crate::tui::campaign_form::AccountChoice {
                        id: a.id,
                        name: a.name,
                        channel: a.channel,
                    })
                    .collect(),
            )
        }
        Request::CompletePath { typed } => {
            // The home folder as the import and export read it when the path is used.
            let home = std::env::var_os("HOME").map(std::path::PathBuf::from);
            let cwd = std::env::current_dir().unwrap_or_else(|_| "/".into());
            let asked = typed.clone();
            let completion = tokio::task::spawn_blocking(move || {
                crate::tui::complete::complete(&asked, home.as_deref(), &cwd)
            })
            .await
            .unwrap_or_else(|_| crate::tui::complete::Completion {
                text: typed.clone(),
                choices: Vec::new(),
            });
            Reply::PathCompleted { typed, completion }
        }
        Request::ListSamples { list } => Reply::ListSamples {
            list,
            samples: crate::engine::campaigns::samples(store, list).await?,
        },
        Request::CreateCampaign { spec } => {
            use crate::engine::campaigns::{LifecycleError, create};
            Reply::CampaignCreated(match create(store, &spec, &services.actor).await {
                Ok(id) => Ok((id, spec.name.trim().to_string())),
                Err(LifecycleError::Refused(why)) => Err((None, why)),
                Err(LifecycleError::Invalid(field, why)) => Err((Some(field), why)),
                Err(LifecycleError::Store(e)) => return Err(e),
            })
        }
        Request::CheckNumber { input } => {
            let Some(checker) = &services.checker else {
                return Ok(Reply::Checked(Err(
                    "counterparty checks are not set up in this console".into(),
                )));
            };
            let r = checker
                .check(&crate::counterparty::check::CheckRequest {
                    input: &input,
                    offline: false,
                    country: None,
                    actor: &services.actor,
                })
                .await?;
            Reply::Checked(Ok(format!(
                "{} — {}: {}",
                r.normalized,
                if r.valid { "valid" } else { "invalid" },
                r.summary
            )))
        }
        Request::ExportChecks { path, search } => {
            Reply::Exported(export_checks(store, &path, search.as_deref()).await)
        }
        Request::ExportList { path, list, name } => {
            Reply::Exported(export_list(store, &path, list, &name).await)
        }
        Request::Licence(step) => {
            let Some(control) = &services.licence else {
                return Ok(Reply::LicenceChanged(Err(
                    "no licence sync runs in this console".into(),
                )));
            };
            let local = &control.local;
            let (action, result) = match step {
                LicenceStep::Activate(key) => {
                    ("license.activate", local.activate(&key).await.map(Some))
                }
                LicenceStep::Sync => ("license.sync", local.sync().await.map(Some)),
                LicenceStep::Deactivate => (
                    "license.deactivate",
                    local.deactivate().await.map(|()| None),
                ),
            };
            control.wake();
            match result {
                Ok(lease) => {
                    let mut tx = store.begin().await?;
                    crate::store::audit::record(
                        &mut tx,
                        &services.actor,
                        action,
                        "license",
                        lease.as_ref().map(|l| l.license_id.as_str()),
                        &serde_json::json!({ "status": lease.as_ref().map(|l| l.status) }),
                    )
                    .await?;
                    tx.commit().await?;
                    Reply::LicenceChanged(Ok(match lease {
                        Some(l) => {
                            format!("licence {}: lease received ({:?})", l.license_id, l.status)
                                .to_lowercase()
                        }
                        None => "this machine is deactivated; its seat is free".into(),
                    }))
                }
                Err(e) => Reply::LicenceChanged(Err(e.to_string())),
            }
        }
        Request::StepCampaign { id, step } => {
            use crate::engine::campaigns::LifecycleError;
            Reply::CampaignChanged(
                match crate::engine::campaigns::step(store, id, step, &services.actor).await {
                    Ok(status) => Ok(format!("campaign {status}")),
                    Err(LifecycleError::Refused(why) | LifecycleError::Invalid(_, why)) => Err(why),
                    Err(LifecycleError::Store(e)) => return Err(e),
                },
            )
        }
        Request::RequeueUnknown { id } => {
            use crate::engine::campaigns::LifecycleError;
            Reply::CampaignChanged(
                match crate::engine::campaigns::requeue_unknown(store, id, &services.actor).await {
                    Ok(n) => Ok(format!(
                        "{n} {} queued again",
                        crate::domain::noun(n, "message", "messages")
                    )),
                    Err(LifecycleError::Refused(why) | LifecycleError::Invalid(_, why)) => Err(why),
                    Err(LifecycleError::Store(e)) => return Err(e),
                },
            )
        }
        Request::SaveAccount { id, channel, draft } => {
            save_account(services, id, channel, &draft).await?
        }
        Request::CheckAccount { id } => {
            let Some((a, health)) =
                crate::engine::check_account(store, &services.client, id).await?
            else {
                return Ok(Reply::Failed {
                    pane: None,
                    message: "that account no longer exists".into(),
                });
            };
            Reply::AccountChecked {
                name: a.name,
                ok: health.ok,
                detail: health.detail,
            }
        }
        Request::DeleteList { id, name } => {
            let mut tx = store.begin().await?;
            if let Err(used) =
                crate::store::lists::delete_unused(&mut tx, id, &name, &services.actor).await?
            {
                return Ok(Reply::ListDeleted(Err(format!(
                    "list “{name}” is used by {used} {} and cannot be deleted",
                    crate::domain::noun(used, "campaign", "campaigns")
                ))));
            }
            tx.commit().await?;
            Reply::ListDeleted(Ok(name))
        }
    })
}

async fn count_if(
    count: bool,
    f: impl std::future::Future<Output = Result<i64, StoreError>>,
) -> Result<Option<usize>, StoreError> {
    Ok(if count {
        Some(usize::try_from(f.await?).unwrap_or(0))
    } else {
        None
    })
}

/// Midnight of today in the machine's time zone, as UTC.
pub fn start_of_today() -> chrono::DateTime<chrono::Utc> {
    crate::domain::quiet::start_of_day(chrono::Local::now())
}

/// Saves the form's account (the same checks as the command line), then checks its token.
async fn save_account(
    services: &Services,
    id: Option<AccountId>,
    channel: Channel,
    draft: &crate::domain::account::Draft,
) -> Result<Reply, StoreError> {
    use crate::domain::account;
    let store = &services.store;
    let valid = match account::validate(channel, draft) {
        Ok(v) => v,
        Err(errors) => return Ok(Reply::AccountSaved(Err(errors))),
    };
    let verb = if id.is_none() { "added" } else { "saved" };
    // The licence's tariff bounds the real accounts (read before the write transaction).
    let max_real = match &services.licence {
        Some(c) => c
            .local
            .standing(store)
            .await
            .ok()
            .and_then(|s| s.lease)
            .and_then(|l| l.tariff.accounts),
        None => None,
    };
    let mut tx = store.begin().await?;
    let saved = match id {
        None => {
            crate::store::accounts::add(&mut tx, channel, &valid, None, &services.actor, max_real)
                .await?
        }
        Some(id) => crate::store::accounts::edit(&mut tx, id, channel, &valid, &services.actor)
            .await?
            .map(|()| id),
    };
    let id = match saved {
        Ok(id) => id,
        Err(refusal) => return Ok(Reply::AccountSaved(Err(vec![refusal]))),
    };
    tx.commit().await?;
    let Some((_, health)) = crate::engine::check_account(store, &services.client, id).await? else {
        return Ok(Reply::AccountSaved(Ok((
            format!("{verb} “{}”", valid.name),
            true,
        ))));
    };
    let message = if health.ok {
        format!("{verb} “{}” — token works: {}", valid.name, health.detail)
    } else {
        format!(
            "{verb} “{}”, but its check failed: {} (fix it with e, or check again with c)",
            valid.name, health.detail
        )
    };
    Ok(Reply::AccountSaved(Ok((message, health.ok))))
}

/// Creates a file to export to; never over one that exists.
fn new_export_file(path: &std::path::Path) -> Result<std::fs::File, String> {
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => format!(
                "{} exists; give another file name (nothing was written)",
                path.display()
            ),
            _ => format!("cannot write {}: {e}", path.display()),
        })
}

/// Writes the subscribers of a list to a new CSV file, which `import` reads back; a file
/// left half-written by a failure is removed.
async fn export_list(
    store: &Store,
    path: &std::path::Path,
    list: Option<ListId>,
    name: &str,
) -> Result<String, String> {
    use crate::import::export::{Format, subscribers};
    let file = new_export_file(path)?;
    match subscribers(store, list, Format::Csv, std::io::BufWriter::new(file)).await {
        Ok(n) => Ok(format!(
            "written to {}: {n} subscriber(s) of {name}, with their consent and its proof",
            path.display()
        )),
        Err(e) => {
            let _ = std::fs::remove_file(path);
            Err(format!(
                "writing {}: {e:#} (the file was removed; nothing else changed)",
                path.display()
            ))
        }
    }
}

/// Writes the history of checks matching `search` to a new CSV file (never over one).
async fn export_checks(
    store: &Store,
    path: &std::path::Path,
    search: Option<&str>,
) -> Result<String, String> {
    use futures::TryStreamExt;
    let file = new_export_file(path)?;
    let mut out = csv::Writer::from_writer(std::io::BufWriter::new(file));
    let fail = |e: &dyn std::fmt::Display| format!("writing {}: {e}", path.display());
    out.write_record([
        "id",
        "checked_at",
        "checked_by",
        "input",
        "normalized",
        "kind",
        "valid",
        "name",
        "flags",
        "not_checked",
        "summary",
    ])
    .map_err(|e| fail(&e))?;
    let mut rows = store.lookups_all(search);
    let mut n = 0u64;
    while let Some(l) = rows.try_next().await.map_err(|e| fail(&e))? {
        let r = l.result();
        let name = r
            .as_ref()
            .and_then(|r| r.company.as_ref()?.name.clone())
            .unwrap_or_default();
        let flags = r
            .as_ref()
            .map(|r| {
                r.flags
                    .iter()
                    .map(|f| f.code.as_str())
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .unwrap_or_default();
        let not_checked = r
            .as_ref()
            .map(|r| {
                r.not_checked()
                    .map(|s| s.source.as_str())
                    .collect::<Vec<_>>()
                    .join("; ")
            })
            .unwrap_or_default();
        out.write_record([
            l.id.to_string(),
            l.checked_at.to_rfc3339(),
            l.checked_by.clone(),
            l.input.clone(),
            l.normalized.clone(),
            l.kind.clone(),
            l.valid.to_string(),
            name,
            flags,
            not_checked,
            l.summary.clone(),
        ])
        .map_err(|e| fail(&e))?;
        n += 1;
    }
    out.flush().map_err(|e| fail(&e))?;
    Ok(format!(
        "wrote {n} check{} to {}",
        if n == 1 { "" } else { "s" },
        path.display()
    ))
}
