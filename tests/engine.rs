//! The campaign engine against the sandbox emulators over loopback and a real SQLite file:
//! nothing sent twice, nothing lost, opt-outs honoured mid-campaign, 429 storms ridden out,
//! a halted account stopping only itself. Each test is bounded in time.

use cleverplatform::channels::client::Client;
use cleverplatform::domain::{CampaignId, CampaignStatus, Channel};
use cleverplatform::engine::campaigns::{self, Spec};
use cleverplatform::engine::sender::{Engine, EngineOptions};
use cleverplatform::import::{ImportOptions, import_file};
use cleverplatform::license::state::LicenseState;
use cleverplatform::sandbox::{self, SandboxOptions};
use cleverplatform::store::accounts::NewAccount;
use cleverplatform::store::{Location, Store};
use std::collections::HashMap;
use std::time::Duration;

#[path = "common/vendor.rs"]
mod vendor;

/// The engine tests run one at a time: each drives an engine and an emulator flat out, and
/// on two cores they would otherwise starve one another.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

struct Workspace {
    _dir: tempfile::TempDir,
    store: Store,
}

/// A workspace whose list `L` holds `phones` (all with marketing consent on WhatsApp).
async fn workspace(phones: &[String]) -> Workspace {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&Location::File(dir.path().join("clever.db")))
        .await
        .unwrap();
    let csv = dir.path().join("s.csv");
    let mut text = String::from("phone,name,consent,city\n");
    for (i, p) in phones.iter().enumerate() {
        text.push_str(&format!("{p},Клиент {i},yes,Алматы\n"));
    }
    std::fs::write(&csv, text).unwrap();
    let opts = ImportOptions::new("L", "t");
    let summary = import_file(&store, &csv, &opts, |_| {}).await.unwrap();
    assert_eq!(summary.imported as usize, phones.len(), "{summary:?}");
    Workspace { _dir: dir, store }
}

/// The emulator posting its webhooks (statuses, replies) to the inbound server on `store`;
/// the server runs while its handle is kept.
async fn sandbox_with_webhooks(store: &Store) -> (sandbox::Running, tokio::task::JoinHandle<()>) {
    use cleverplatform::inbound::server::{WebhookSettings, serve};
    let settings = WebhookSettings::one_time(vec![]);
    let secret = settings.app_secret.clone();
    let (addr, server) = serve(store.clone(), settings, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let sb = sandbox::start(
        "127.0.0.1:0".parse().unwrap(),
        SandboxOptions {
            webhook: Some(sandbox::WebhookTarget {
                url: format!("http://{addr}/webhooks"),
                app_secret: secret,
            }),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    (sb, server)
}

/// Phones that end in 5: never one of the emulator's magic endings.
fn phones(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("+7702{i:06}5")).collect()
}

async fn account(store: &Store, name: &str, base: &str, token: &str, number: &str) {
    account_at(store, name, base, token, number, None).await;
}

async fn account_at(
    store: &Store,
    name: &str,
    base: &str,
    token: &str,
    number: &str,
    rate: Option<f64>,
) {
    let mut tx = store.begin().await.unwrap();
    cleverplatform::store::accounts::insert(
        &mut tx,
        &NewAccount {
            channel: Channel::WhatsApp,
            name,
            settings: serde_json::json!({ "phone_number_id": number }),
            secret: token,
            base_url: Some(base),
            api_version: Some("v23.0"),
            sandbox: true,
            rate_per_sec: rate,
            wa_daily_tier: None,
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
}

/// The account called `name`, as it stands.
async fn account_named(store: &Store, name: &str) -> cleverplatform::store::accounts::AccountRow {
    store
        .account_page(cleverplatform::store::PageRequest {
            anchor: cleverplatform::store::Anchor::First,
            limit: 10,
        })
        .await
        .unwrap()
        .into_iter()
        .find(|a| a.name == name)
        .unwrap()
}

/// WhatsApp's template, so no 24-hour window is needed.
async fn campaign(store: &Store, name: &str, account: &str) -> CampaignId {
    let id = campaigns::create(
        store,
        &Spec {
            name: name.into(),
            list: "L".into(),
            account: account.into(),
            wa_template: Some("promo".into()),
            wa_lang: Some("ru".into()),
            wa_params: vec!["{{ name }}".into(), "{{ attributes.city }}".into()],
            ..Spec::default()
        },
        "t",
    )
    .await
    .unwrap();
    let started = campaigns::start(store, id, "t").await.unwrap();
    assert_eq!(started.status, CampaignStatus::Running);
    id
}

/// A draft of WhatsApp template `template` (ru, the name its one parameter) to list `L`
/// from account `WA`.
async fn template_draft(store: &Store, name: &str, template: &str) -> CampaignId {
    campaigns::create(
        store,
        &Spec {
            name: name.into(),
            list: "L".into(),
            account: "WA".into(),
            wa_template: Some(template.into()),
            wa_lang: Some("ru".into()),
            wa_params: vec!["{{ name }}".into()],
            ..Spec::default()
        },
        "t",
    )
    .await
    .unwrap()
}

/// A draft of `text` to list `L` from account `WA`.
async fn text_draft(store: &Store, name: &str, text: &str) -> CampaignId {
    campaigns::create(
        store,
        &Spec {
            name: name.into(),
            list: "L".into(),
            account: "WA".into(),
            text: Some(text.into()),
            ..Spec::default()
        },
        "t",
    )
    .await
    .unwrap()
}

/// The emulators on a free loopback port, as they come.
async fn emulators() -> sandbox::Running {
    sandbox::start("127.0.0.1:0".parse().unwrap(), SandboxOptions::default())
        .await
        .unwrap()
}

/// The emulators without WhatsApp's pacing, so the account's own rate is what holds.
async fn unpaced_emulators() -> sandbox::Running {
    sandbox::start(
        "127.0.0.1:0".parse().unwrap(),
        SandboxOptions {
            whatsapp_per_second: u32::MAX,
            ..Default::default()
        },
    )
    .await
    .unwrap()
}

/// An engine on `store` whose client gives up on an answer after 5 s.
fn start_engine(store: &Store, options: EngineOptions) -> Engine {
    Engine::start(
        store.clone(),
        Client::new(Duration::from_secs(5)).unwrap(),
        options,
    )
}

fn fast() -> EngineOptions {
    EngineOptions {
        holder: "test".into(),
        batch: 400,
        concurrency: 64,
        lease: Duration::from_secs(30),
        rate_override: Some(1_000_000.0),
        backoff_base: Duration::from_millis(20),
        max_pause: Duration::from_millis(100),
        ..EngineOptions::default()
    }
}

async fn wait_for(store: &Store, id: CampaignId, status: CampaignStatus, limit: Duration) {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let c = store.campaign(id).await.unwrap().unwrap();
        if c.status == status {
            return;
        }
        if tokio::time::Instant::now() >= deadline {
            let mut rows = String::new();
            let mut conn = store.read().await.unwrap();
            cleverplatform::store::campaigns::report(&mut conn, id, |r| {
                if !matches!(
                    r.state,
                    cleverplatform::domain::OutboxState::Sent
                        | cleverplatform::domain::OutboxState::Delivered
                        | cleverplatform::domain::OutboxState::Read
                ) {
                    rows.push_str(&format!("\n  {r:?}"));
                }
                Ok(())
            })
            .await
            .unwrap();
            panic!(
                "campaign {id} still {} after {limit:?}: {:?}{rows}",
                c.status, c.counts
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits (bounded) until at least `n` messages of a campaign were accepted.
async fn wait_sent(store: &Store, id: CampaignId, n: i64, limit: Duration) {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let c = store.campaign(id).await.unwrap().unwrap();
        if c.counts.sent >= n {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "{:?}", c.counts);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Changes the workspace under the test (a setting no command exposes).
async fn set(store: &Store, sql: &'static str) {
    let mut tx = store.begin().await.unwrap();
    sqlx::query(sql).execute(&mut *tx).await.unwrap();
    tx.commit().await.unwrap();
}

/// Every message the emulator accepted, from its own record.
async fn recorded(base: &str) -> Vec<serde_json::Value> {
    let lines = reqwest::get(format!("{base}/_sandbox/messages"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    lines
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// How many times each recipient got a message, from the emulator's own record.
async fn received(base: &str) -> HashMap<String, usize> {
    let mut out = HashMap::new();
    for v in recorded(base).await {
        *out.entry(v["recipient"].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    out
}

/// (a) 20 000 recipients, a tenth of sends failing transiently and some answers dropped:
/// the campaign completes, nobody gets the message twice, every row ends in a final state,
/// and rows of unknown fate are no more than the dropped answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_campaign_with_faults_sends_each_message_once() {
    let _serial = SERIAL.lock().await;
    let n = 20_000;
    let w = workspace(&phones(n)).await;
    let sb = sandbox::start(
        "127.0.0.1:0".parse().unwrap(),
        SandboxOptions {
            fault_rate: 0.1,
            drop_response_rate: 0.002,
            whatsapp_per_second: u32::MAX,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    account(&w.store, "WA", &sb.base_url(), "EAAG", "1001").await;
    let id = campaign(&w.store, "Big", "WA").await;
    let client = Client::new(Duration::from_millis(300)).unwrap();
    let engine = Engine::start(w.store.clone(), client, fast());
    wait_for(
        &w.store,
        id,
        CampaignStatus::Completed,
        Duration::from_secs(180),
    )
    .await;
    engine.stop().await;
    let c = w.store.campaign(id).await.unwrap().unwrap();
    let got = received(&sb.base_url()).await;
    assert!(got.values().all(|&k| k == 1), "someone got it twice");
    assert_eq!(c.counts.total, n as i64);
    assert_eq!(c.counts.queued + c.counts.sending, 0);
    assert_eq!(c.counts.done(), n as i64, "{:?}", c.counts);
    // Every accepted row reached the emulator; every unknown row is a dropped answer (the
    // emulator recorded it) or never arrived.
    assert!(got.len() as i64 >= c.counts.sent);
    assert!(got.len() as i64 <= c.counts.sent + c.counts.unknown);
    let dropped = got.len() as i64 - c.counts.sent;
    assert!(c.counts.unknown >= dropped);
    assert!(
        c.counts.unknown <= (n as f64 * 0.01) as i64,
        "{:?}",
        c.counts
    );
}

/// (c) A STOP arriving by webhook mid-campaign stops every later send to that address.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_opt_out_mid_campaign_stops_later_sends() {
    let _serial = SERIAL.lock().await;
    let stopper = "+77021230700".to_string();
    let mut list = vec![stopper.clone()];
    list.extend(phones(50));
    let w = workspace(&list).await;
    let (sb, _server) = sandbox_with_webhooks(&w.store).await;
    account(&w.store, "WA", &sb.base_url(), "EAAG", "1002").await;
    let first = campaign(&w.store, "First", "WA").await;
    let second = campaign(&w.store, "Second", "WA").await;
    let engine = start_engine(
        &w.store,
        EngineOptions {
            rate_override: Some(20.0),
            ..fast()
        },
    );
    wait_for(
        &w.store,
        first,
        CampaignStatus::Completed,
        Duration::from_secs(150),
    )
    .await;
    wait_for(
        &w.store,
        second,
        CampaignStatus::Completed,
        Duration::from_secs(150),
    )
    .await;
    engine.stop().await;
    let got = received(&sb.base_url()).await;
    assert_eq!(got.get("+77021230700"), Some(&1), "one message, then STOP");
    let second = w.store.campaign(second).await.unwrap().unwrap();
    assert_eq!(second.counts.skipped, 1, "{:?}", second.counts);
    let skips = w.store.campaign_skips(second.id).await.unwrap();
    assert!(
        skips[0].0 == "opted out" || skips[0].0 == "suppressed",
        "{skips:?}"
    );
    // The two campaigns' rows for the stopper came in one batch: the first campaign's went,
    // the second's waited out the recipient spacing, and by then the STOP was in.
    let first = w.store.campaign(first).await.unwrap().unwrap();
    assert_eq!(
        (first.counts.total, first.counts.skipped),
        (51, 0),
        "{:?}",
        first.counts
    );
    // Statuses flowed in: rows moved on to read.
    assert!(first.counts.read > 0, "{:?}", first.counts);
}

/// A consent on a subscriber's WhatsApp address, given or withdrawn by phone.
fn by_phone(
    who: cleverplatform::domain::SubscriberId,
    scope: cleverplatform::domain::ConsentScope,
    status: cleverplatform::domain::ConsentStatus,
) -> cleverplatform::store::subscribers::NewConsent<'static> {
    cleverplatform::store::subscribers::NewConsent {
        subscriber: who,
        channel: cleverplatform::domain::Channel::WhatsApp,
        scope,
        status,
        source: "phone call",
        proof: "call 17",
        at: chrono::Utc::now(),
        recorded_by: "op",
        recorded_at: None,
    }
}

/// What stops a recipient while their row waits in a batch claimed ahead.
#[derive(Clone, Copy, Debug)]
enum StopAhead {
    /// The operator's `o`, or `subscribers suppress`, or a STOP by webhook.
    Suppress,
    /// `subscribers consent --withdraw`, or an import with the consent column saying no.
    Withdraw,
    /// `lists remove`, or the console's `-`: taken off the campaign's list, with the last
    /// recipient, whose row is still queued.
    RemoveFromList,
}

/// A recipient stopped while their row waits in a batch claimed ahead is skipped, not sent:
/// the batch is checked again before it goes.
async fn a_row_claimed_ahead_is_stopped_by(how: StopAhead, why: &str) {
    use cleverplatform::domain::{Channel, ConsentScope, ConsentStatus};
    use cleverplatform::store::subscribers as subs;
    let _serial = SERIAL.lock().await;
    let list = phones(120);
    // At 20 msg/s a batch is 20 rows (a second): this one is in the fourth batch, claimed
    // while the third is being sent.
    let target = list[60].clone();
    let last = list[119].clone();
    let w = workspace(&list).await;
    let sb = emulators().await;
    account(&w.store, "WA", &sb.base_url(), "EAAG", "1002").await;
    let id = campaign(&w.store, "Ahead", "WA").await;
    let engine = start_engine(
        &w.store,
        EngineOptions {
            rate_override: Some(20.0),
            ..fast()
        },
    );
    let state = || async {
        let mut conn = w.store.read().await.unwrap();
        let s: String = sqlx::query_scalar(
            "SELECT o.state FROM outbox o JOIN identities i ON i.id = o.identity_id \
             WHERE i.address = ?",
        )
        .bind(&target)
        .fetch_one(&mut *conn)
        .await
        .unwrap();
        s
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while state().await == "queued" {
        assert!(tokio::time::Instant::now() < deadline, "never claimed");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(state().await, "sending", "claimed, not yet sent");
    let mut tx = w.store.begin().await.unwrap();
    match how {
        StopAhead::Suppress => {
            subs::suppress(
                &mut tx,
                Channel::WhatsApp,
                &target,
                "asked by phone",
                "operator",
            )
            .await
            .unwrap();
        }
        StopAhead::Withdraw => {
            let who = subs::by_address(&mut tx, Channel::WhatsApp, &target)
                .await
                .unwrap()
                .unwrap();
            subs::record_consent(
                &mut tx,
                &by_phone(who, ConsentScope::Marketing, ConsentStatus::Withdrawn),
            )
            .await
            .unwrap();
        }
        StopAhead::RemoveFromList => {
            let mut who = Vec::new();
            for address in [&target, &last] {
                who.push(
                    subs::by_address(&mut tx, Channel::WhatsApp, address)
                        .await
                        .unwrap()
                        .unwrap(),
                );
            }
            let l = cleverplatform::store::lists::by_name(&mut tx, "L")
                .await
                .unwrap()
                .unwrap();
            let done = cleverplatform::store::lists::remove_members(&mut tx, &l, &who, "operator")
                .await
                .unwrap();
            assert_eq!(
                (done.changed, done.skipped),
                (2, 1),
                "both taken off; only the last one's row was still queued"
            );
        }
    }
    tx.commit().await.unwrap();
    // Taken off the list, the last recipient is skipped at once, not when their turn comes.
    let stopped = usize::from(matches!(how, StopAhead::RemoveFromList)) + 1;
    wait_for(
        &w.store,
        id,
        CampaignStatus::Completed,
        Duration::from_secs(60),
    )
    .await;
    engine.stop().await;
    let got = received(&sb.base_url()).await;
    assert_eq!(
        got.get(&target),
        None,
        "{how:?}: the stopped address got the message"
    );
    assert_eq!(
        got.contains_key(&last),
        stopped == 1,
        "{how:?}: the last address"
    );
    assert_eq!(got.len(), 120 - stopped);
    let c = w.store.campaign(id).await.unwrap().unwrap();
    assert_eq!(
        (c.counts.sent, c.counts.skipped),
        (120 - stopped as i64, stopped as i64),
        "{:?}",
        c.counts
    );
    let skips = w.store.campaign_skips(id).await.unwrap();
    assert_eq!(skips, [(why.to_string(), stopped as i64)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_suppression_holds_for_a_row_already_claimed() {
    a_row_claimed_ahead_is_stopped_by(StopAhead::Suppress, "suppressed").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_consent_withdrawn_holds_for_a_row_already_claimed() {
    a_row_claimed_ahead_is_stopped_by(StopAhead::Withdraw, "consent withdrawn").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn taken_off_the_list_holds_for_a_row_already_claimed() {
    a_row_claimed_ahead_is_stopped_by(StopAhead::RemoveFromList, "removed from the list").await;
}

/// Five subscribers queued in a running campaign `name` on a WhatsApp account (phone number
/// id `number`) whose platform is never reached; returns the workspace, their numbers, the
/// campaign and the subscriber `who` (an index into the numbers).
async fn five_queued(
    name: &str,
    number: &str,
    who: usize,
) -> (
    Workspace,
    Vec<String>,
    CampaignId,
    cleverplatform::domain::SubscriberId,
) {
    let list = phones(5);
    let w = workspace(&list).await;
    account(&w.store, "WA", "http://127.0.0.1:9", "EAAG", number).await;
    let id = campaign(&w.store, name, "WA").await;
    let mut conn = w.store.read().await.unwrap();
    let who = cleverplatform::store::subscribers::by_address(
        &mut conn,
        cleverplatform::domain::Channel::WhatsApp,
        &list[who],
    )
    .await
    .unwrap()
    .unwrap();
    drop(conn);
    (w, list, id, who)
}

/// Suppressing a subscriber (the console's `o`) skips their queued rows at once, so the
/// campaign's counts say so before the sender gets to them; lifting it does not queue them
/// again, and nobody else's rows move.
#[tokio::test]
async fn suppressing_a_subscriber_skips_their_queued_rows_at_once() {
    use cleverplatform::store::subscribers as subs;
    let _serial = SERIAL.lock().await;
    let (w, _, id, who) = five_queued("Queued", "4001", 2).await;
    let mut tx = w.store.begin().await.unwrap();
    let changed = subs::suppress_subscriber(&mut tx, who, false, "asked by phone", "op")
        .await
        .unwrap();
    assert_eq!(changed.len(), 1);
    tx.commit().await.unwrap();
    let c = w.store.campaign(id).await.unwrap().unwrap();
    assert_eq!(
        (c.counts.queued, c.counts.skipped),
        (4, 1),
        "{:?}",
        c.counts
    );
    let skips = w.store.campaign_skips(id).await.unwrap();
    assert_eq!(skips[0].0, "suppressed", "{skips:?}");
    // The subscriber's detail (console and `subscribers show`) has the message and why.
    let detail = w.store.subscriber_detail(who).await.unwrap().unwrap();
    let m = &detail.messages;
    assert_eq!(m.len(), 1, "{m:?}");
    assert_eq!(
        (m[0].campaign.as_str(), m[0].state, m[0].why.as_deref()),
        (
            "Queued",
            cleverplatform::domain::OutboxState::Skipped,
            Some("suppressed")
        )
    );
    let mut tx = w.store.begin().await.unwrap();
    subs::suppress_subscriber(&mut tx, who, true, "by mistake", "op")
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let c = w.store.campaign(id).await.unwrap().unwrap();
    assert_eq!(
        (c.counts.queued, c.counts.skipped),
        (4, 1),
        "{:?}",
        c.counts
    );
}

/// A consent withdrawn (`subscribers consent --withdraw`, the console's consent form) skips
/// the subscriber's queued rows of that scope at once; a withdrawal for the other scope, or
/// one already on record, moves nothing; a grant skips nothing.
#[tokio::test]
async fn withdrawing_consent_skips_their_queued_rows_of_that_scope_at_once() {
    use cleverplatform::domain::{ConsentScope, ConsentStatus};
    use cleverplatform::store::subscribers::{self as subs, ConsentChange};
    let _serial = SERIAL.lock().await;
    let (w, list, id, who) = five_queued("Marketing", "4002", 3).await;
    let change = |scope, status| {
        let store = w.store.clone();
        async move {
            let mut tx = store.begin().await.unwrap();
            let c = subs::change_consent(&mut tx, &by_phone(who, scope, status))
                .await
                .unwrap();
            tx.commit().await.unwrap();
            c
        }
    };
    let counts = || async {
        let c = w.store.campaign(id).await.unwrap().unwrap();
        (c.counts.queued, c.counts.skipped)
    };
    // The service scope: the marketing campaign's row stays queued.
    let c = change(ConsentScope::Service, ConsentStatus::Withdrawn).await;
    assert!(
        matches!(c, ConsentChange::Recorded { skipped: 0, .. }),
        "{c:?}"
    );
    assert_eq!(counts().await, (5, 0));
    // Marketing: skipped at once, with the reason the claim would give.
    let c = change(ConsentScope::Marketing, ConsentStatus::Withdrawn).await;
    assert_eq!(
        c,
        ConsentChange::Recorded {
            address: list[3].clone(),
            suppressed: None,
            skipped: 1
        }
    );
    assert_eq!(counts().await, (4, 1));
    let skips = w.store.campaign_skips(id).await.unwrap();
    assert_eq!(skips[0].0, "consent withdrawn", "{skips:?}");
    // Again: nothing is recorded. A grant afterwards does not queue the row again.
    let c = change(ConsentScope::Marketing, ConsentStatus::Withdrawn).await;
    assert_eq!(c, ConsentChange::Unchanged);
    let c = change(ConsentScope::Marketing, ConsentStatus::Granted).await;
    assert!(
        matches!(c, ConsentChange::Recorded { skipped: 0, .. }),
        "{c:?}"
    );
    assert_eq!(counts().await, (4, 1));
    // An import that withdraws a consent skips that address's queued rows at once too, and
    // says how many; a dry run says so and changes nothing.
    let csv = w._dir.path().join("withdraw.csv");
    let import = |text: String, dry_run: bool| {
        std::fs::write(&csv, text).unwrap();
        let mut opts = ImportOptions::new("L", "t");
        opts.dry_run = dry_run;
        let (store, csv) = (w.store.clone(), csv.clone());
        async move { import_file(&store, &csv, &opts, |_| {}).await.unwrap() }
    };
    let withdraw = format!(
        "phone,name,consent\n{},Клиент 1,no\n{},Клиент 0,yes\n",
        list[1], list[0]
    );
    let summary = import(withdraw.clone(), true).await;
    assert_eq!(summary.queued_skipped, 1, "{summary:?}");
    assert_eq!(counts().await, (4, 1));
    let summary = import(withdraw, false).await;
    assert_eq!(
        (summary.updated, summary.queued_skipped),
        (1, 1),
        "{summary:?}"
    );
    assert_eq!(counts().await, (3, 2));
    // A withdrawal dated before the consent on record is not applied, and skips nothing.
    let summary = import(
        format!("phone,consent,consent_at\n{},no,2020-01-01\n", list[2]),
        false,
    )
    .await;
    assert_eq!(
        (summary.consent_outdated, summary.queued_skipped),
        (1, 0),
        "{summary:?}"
    );
    assert_eq!(counts().await, (3, 2));
    // A service consent withdrawn in a file (a column `subscribers export` writes) moves no
    // row of a marketing campaign; of a service campaign, it skips the address's row.
    let service_no = format!(
        "phone,service_consent_whatsapp\n{},no\n{},нет\n",
        list[0], list[4]
    );
    let summary = import(service_no.clone(), false).await;
    assert_eq!(
        (summary.updated, summary.queued_skipped),
        (2, 0),
        "{summary:?}"
    );
    assert_eq!(counts().await, (3, 2));
    let mut tx = w.store.begin().await.unwrap();
    sqlx::query("UPDATE campaigns SET scope = 'service' WHERE id = ?")
        .bind(id)
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let summary = import(service_no.clone(), true).await;
    assert_eq!(
        (summary.unchanged, summary.queued_skipped),
        (2, 2),
        "{summary:?}"
    );
    assert_eq!(counts().await, (3, 2), "a dry run moves nothing");
    let summary = import(service_no, false).await;
    assert_eq!(summary.queued_skipped, 2, "{summary:?}");
    assert_eq!(counts().await, (1, 4));
    // Each recorded change is audited, with what the operator gave.
    let mut conn = w.store.read().await.unwrap();
    let audited: Vec<(String, String)> = sqlx::query_as(
        "SELECT action, detail FROM audit_log WHERE action LIKE 'consent.%' ORDER BY id",
    )
    .fetch_all(&mut *conn)
    .await
    .unwrap();
    let actions: Vec<&str> = audited.iter().map(|(a, _)| a.as_str()).collect();
    assert_eq!(
        actions,
        ["consent.withdraw", "consent.withdraw", "consent.grant"]
    );
    assert!(audited[2].1.contains("call 17"), "{audited:?}");
}

/// (d) A 429 storm: the account slows down and recovers; no row fails.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_storm_slows_the_account_without_failing_rows() {
    let _serial = SERIAL.lock().await;
    let n = 300;
    let w = workspace(&phones(n)).await;
    let sb = sandbox::start(
        "127.0.0.1:0".parse().unwrap(),
        SandboxOptions {
            whatsapp_per_second: 60,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    account(&w.store, "WA", &sb.base_url(), "EAAG", "1003").await;
    let id = campaign(&w.store, "Storm", "WA").await;
    let engine = start_engine(
        &w.store,
        EngineOptions {
            rate_override: Some(400.0),
            max_attempts: 1000,
            ..fast()
        },
    );
    wait_for(
        &w.store,
        id,
        CampaignStatus::Completed,
        Duration::from_secs(90),
    )
    .await;
    engine.stop().await;
    let c = w.store.campaign(id).await.unwrap().unwrap();
    assert_eq!(
        (c.counts.sent, c.counts.failed),
        (n as i64, 0),
        "{:?}",
        c.counts
    );
    let got = received(&sb.base_url()).await;
    assert_eq!(got.len(), n);
    assert!(got.values().all(|&k| k == 1));
}

/// (e) An expired token halts only its own account; its rows stay queued.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_halted_account_stops_only_itself() {
    let _serial = SERIAL.lock().await;
    let w = workspace(&phones(40)).await;
    let sb = emulators().await;
    account(&w.store, "Good", &sb.base_url(), "EAAG", "2001").await;
    account(&w.store, "Expired", &sb.base_url(), "revoked-token", "2002").await;
    let good = campaign(&w.store, "Good one", "Good").await;
    let bad = campaign(&w.store, "Bad one", "Expired").await;
    let engine = start_engine(&w.store, fast());
    wait_for(
        &w.store,
        good,
        CampaignStatus::Completed,
        Duration::from_secs(60),
    )
    .await;
    // Give the halted account's sender time to have tried.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let halted = loop {
        let a = account_named(&w.store, "Expired").await;
        if a.status == cleverplatform::domain::AccountStatus::Paused {
            break a;
        }
        assert!(tokio::time::Instant::now() < deadline, "never halted");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    engine.stop().await;
    assert!(
        halted
            .status_reason
            .as_deref()
            .unwrap()
            .starts_with("halted: 190"),
        "{:?}",
        halted.status_reason
    );
    let bad = w.store.campaign(bad).await.unwrap().unwrap();
    assert_eq!(
        bad.status,
        CampaignStatus::Running,
        "the campaign waits for its account"
    );
    assert_eq!(
        (bad.counts.queued, bad.counts.failed),
        (40, 0),
        "{:?}",
        bad.counts
    );
    let good = w.store.campaign(good).await.unwrap().unwrap();
    assert_eq!(good.counts.sent, 40);
    // The waiting campaign's status names its account's halt, so the operator knows why.
    let status = campaigns::status(&w.store, bad.id).await.unwrap().unwrap();
    assert_eq!(
        (status.account.as_str(), status.account_status),
        ("Expired", cleverplatform::domain::AccountStatus::Paused)
    );
    assert_eq!(status.account_reason, halted.status_reason);
}

/// (b) The engine process is killed with SIGKILL at several points of a campaign and started
/// again: nobody gets the message twice, every row ends final, and the rows of unknown fate
/// are no more than were in flight at the kills.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_engines_never_send_twice() {
    let _serial = SERIAL.lock().await;
    use rand::RngExt;
    let n = 3_000;
    let w = workspace(&phones(n)).await;
    let sb = sandbox::start(
        "127.0.0.1:0".parse().unwrap(),
        SandboxOptions {
            fault_rate: 0.01,
            whatsapp_per_second: u32::MAX,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    account_at(&w.store, "WA", &sb.base_url(), "EAAG", "3001", Some(400.0)).await;
    let id = campaign(&w.store, "Killed", "WA").await;
    let dir = w._dir.path();
    let config = dir.join("config.toml");
    std::fs::write(
        &config,
        "[engine]\nlease_seconds = 5\ntakeover_seconds = 2\n",
    )
    .unwrap();
    let spawn = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_clever"))
            .arg("--config")
            .arg(&config)
            .arg("--data-dir")
            .arg(dir)
            .arg("run")
            .env("HOME", dir)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap()
    };
    let mut kills = 0;
    for _ in 0..3 {
        let mut engine = spawn();
        let wait = rand::rng().random_range(2500..4500);
        tokio::time::sleep(Duration::from_millis(wait)).await;
        engine.kill().unwrap(); // SIGKILL
        engine.wait().unwrap();
        kills += 1;
        let c = w.store.campaign(id).await.unwrap().unwrap();
        eprintln!("killed after {wait} ms: {:?}", c.counts);
    }
    let mut engine = spawn();
    wait_for(
        &w.store,
        id,
        CampaignStatus::Completed,
        Duration::from_secs(120),
    )
    .await;
    std::process::Command::new("kill")
        .args(["-TERM", &engine.id().to_string()])
        .status()
        .unwrap();
    engine.wait().unwrap();
    let c = w.store.campaign(id).await.unwrap().unwrap();
    let got = received(&sb.base_url()).await;
    assert!(got.values().all(|&k| k == 1), "someone got it twice");
    assert_eq!(c.counts.queued + c.counts.sending, 0);
    assert_eq!(c.counts.done(), n as i64, "{:?}", c.counts);
    assert!(got.len() as i64 >= c.counts.sent);
    assert!(got.len() as i64 <= c.counts.sent + c.counts.unknown);
    // At most two started batches (of 100 rows, the engine's batch cap) were in flight at
    // each kill: the one being sent and the one before, whose results were being written.
    // The batch claimed ahead went back to the queue.
    assert!(c.counts.unknown <= kills * 200, "{:?}", c.counts);
    assert!(c.counts.sent > 0);
    eprintln!("after {kills} kills: {:?}", c.counts);
}

/// The console's preview: the message as the first subscribers of the list get it.
#[tokio::test]
async fn the_preview_shows_the_message_per_subscriber() {
    let _serial = SERIAL.lock().await;
    let w = workspace(&phones(5)).await;
    account(&w.store, "WA", "http://127.0.0.1:9", "EAAG", "4001").await;
    let id = text_draft(
        &w.store,
        "Hello",
        "{{ name }} из {{ attributes.city }}: скидка 20%",
    )
    .await;
    // The first subscriber cannot be sent to: the preview shows those who can.
    let mut tx = w.store.begin().await.unwrap();
    cleverplatform::store::subscribers::suppress(
        &mut tx,
        Channel::WhatsApp,
        &phones(5)[0],
        "asked",
        "t",
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let preview = campaigns::preview(&w.store, id, 3).await.unwrap();
    let names: Vec<&str> = preview.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["Клиент 1", "Клиент 2", "Клиент 3"]);
    assert_eq!(
        preview[0].1.as_deref().unwrap(),
        "Клиент 1 из Алматы: скидка 20%"
    );
    // Once started, the preview is of the outbox's first rows (a template needs no open
    // 24-hour window), whatever happens to the list after.
    let id = template_draft(&w.store, "Template", "promo").await;
    let started = campaigns::start(&w.store, id, "t").await.unwrap();
    assert_eq!(started.queued, 4, "{started:?}");
    set(&w.store, "DELETE FROM suppressions").await;
    let preview = campaigns::preview(&w.store, id, 3).await.unwrap();
    assert_eq!(preview[0].0, "Клиент 1");
    assert_eq!(preview[0].1.as_deref().unwrap(), "template promo: Клиент 1");
}

/// WhatsApp's unique-recipients-per-24-hours tier: the engine sends to exactly as many
/// people as the tier allows, then waits with the rest queued.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_whatsapp_tier_caps_recipients_per_day() {
    let _serial = SERIAL.lock().await;
    let w = workspace(&phones(250)).await;
    let sb = emulators().await;
    account(&w.store, "WA", &sb.base_url(), "EAAG", "1005").await;
    set(&w.store, "UPDATE accounts SET wa_daily_tier = 100").await;
    let id = campaign(&w.store, "Tier", "WA").await;
    let engine = start_engine(&w.store, fast());
    wait_sent(&w.store, id, 100, Duration::from_secs(60)).await;
    // Batches in flight have landed; nothing more goes out.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    engine.stop().await;
    let c = w.store.campaign(id).await.unwrap().unwrap();
    assert_eq!(c.counts.sent, 100, "{:?}", c.counts);
    assert_eq!(c.counts.queued, 150, "the rest wait: {:?}", c.counts);
    assert_eq!(c.status, CampaignStatus::Running);
    assert_eq!(received(&sb.base_url()).await.len(), 100);
}

/// The tier the platform reports at the health check caps the budget when it is below the
/// account's own setting (a number new to WhatsApp starts at 250, whatever was typed).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_platforms_lower_tier_caps_recipients_per_day() {
    let _serial = SERIAL.lock().await;
    let w = workspace(&phones(260)).await;
    // The platform's 80 a second lifted: this is about the day, not the second.
    let sb = sandbox::start(
        "127.0.0.1:0".parse().unwrap(),
        SandboxOptions {
            whatsapp_per_second: 1_000_000,
            ..SandboxOptions::default()
        },
    )
    .await
    .unwrap();
    account(&w.store, "WA", &sb.base_url(), "EAAG", "1000250").await;
    set(&w.store, "UPDATE accounts SET wa_daily_tier = 10000").await;
    let a = account_named(&w.store, "WA").await;
    let client = Client::new(Duration::from_secs(5)).unwrap();
    let (_, health) = cleverplatform::engine::check_account(&w.store, &client, a.id)
        .await
        .unwrap()
        .unwrap();
    assert!(
        health.ok && health.detail.contains("TIER_250"),
        "{health:?}"
    );
    let a = account_named(&w.store, "WA").await;
    assert_eq!((a.wa_platform_tier, a.wa_budget()), (Some(250), Some(250)));
    let id = campaign(&w.store, "Tier", "WA").await;
    let engine = start_engine(&w.store, fast());
    wait_sent(&w.store, id, 250, Duration::from_secs(60)).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    engine.stop().await;
    let c = w.store.campaign(id).await.unwrap().unwrap();
    assert_eq!(
        (c.counts.sent, c.counts.queued),
        (250, 10),
        "{:?}",
        c.counts
    );
    assert_eq!(received(&sb.base_url()).await.len(), 250);
    // A failed check keeps the tier last reported.
    set(&w.store, "UPDATE accounts SET secret = 'revoked'").await;
    let (_, health) = cleverplatform::engine::check_account(&w.store, &client, a.id)
        .await
        .unwrap()
        .unwrap();
    assert!(!health.ok);
    assert_eq!(
        account_named(&w.store, "WA").await.wa_platform_tier,
        Some(250)
    );
}

/// The licence gates real accounts: a suspended licence pauses the campaign with the reason
/// and sends nothing; once active again the campaign resumes by itself and sends no more
/// than the tariff's messages a day.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_licence_pauses_resumes_and_caps_real_accounts() {
    let _serial = SERIAL.lock().await;
    let w = workspace(&phones(60)).await;
    let sb = emulators().await;
    account(&w.store, "WA", &sb.base_url(), "EAAG", "1006").await;
    // A real account (the emulator stands in for the platform).
    set(&w.store, "UPDATE accounts SET sandbox = 0").await;
    let id = campaign(&w.store, "Licensed", "WA").await;
    let licence = |state: LicenseState, per_day: Option<u64>| licence_with(state, per_day, None);
    let (state, engine) = licensed_engine(&w.store, licence(LicenseState::Suspended, Some(25)));
    wait_for(
        &w.store,
        id,
        CampaignStatus::Paused,
        Duration::from_secs(30),
    )
    .await;
    let c = w.store.campaign(id).await.unwrap().unwrap();
    assert_eq!(c.status_reason.as_deref(), Some("licence: suspended"));
    assert_eq!(c.counts.sent, 0);
    assert!(received(&sb.base_url()).await.is_empty());

    state.send_replace(licence(LicenseState::Active, Some(25)));
    wait_sent(&w.store, id, 25, Duration::from_secs(30)).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    engine.stop().await;
    let c = w.store.campaign(id).await.unwrap().unwrap();
    assert_eq!(c.status, CampaignStatus::Running, "resumed by itself");
    assert_eq!(c.counts.sent, 25, "the day's messages: {:?}", c.counts);
    assert_eq!(received(&sb.base_url()).await.len(), 25);
}

/// An engine under a licence the test changes through the returned sender.
fn licensed_engine(
    store: &Store,
    licence: cleverplatform::license::sync::Licence,
) -> (
    tokio::sync::watch::Sender<cleverplatform::license::sync::Licence>,
    Engine,
) {
    let (state, rx) = tokio::sync::watch::channel(licence);
    let engine = start_engine(
        store,
        EngineOptions {
            licence: Some(rx),
            ..fast()
        },
    );
    (state, engine)
}

/// A licence in `state` with these messages a day and accounts.
fn licence_with(
    state: LicenseState,
    per_day: Option<u64>,
    accounts: Option<u32>,
) -> cleverplatform::license::sync::Licence {
    vendor::licence(
        state,
        vendor::Limits {
            accounts,
            messages_per_day: per_day,
            lookups_per_day: None,
        },
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accounts_beyond_the_tariff_are_held_back_until_it_allows_them() {
    let _serial = SERIAL.lock().await;
    let w = workspace(&phones(20)).await;
    let sb = emulators().await;
    // Two real accounts, connected while the tariff allowed two; the tariff now allows one.
    account(&w.store, "First", &sb.base_url(), "EAAG", "1006").await;
    account(&w.store, "Second", &sb.base_url(), "EAAG", "1007").await;
    set(&w.store, "UPDATE accounts SET sandbox = 0").await;
    let first = campaign(&w.store, "On the first", "First").await;
    let second = campaign(&w.store, "On the second", "Second").await;
    let (state, engine) =
        licensed_engine(&w.store, licence_with(LicenseState::Active, None, Some(1)));
    wait_for(
        &w.store,
        second,
        CampaignStatus::Paused,
        Duration::from_secs(30),
    )
    .await;
    wait_for(
        &w.store,
        first,
        CampaignStatus::Completed,
        Duration::from_secs(30),
    )
    .await;
    let c = w.store.campaign(second).await.unwrap().unwrap();
    assert!(
        c.status_reason.as_deref().is_some_and(
            |r| r.starts_with("licence: the tariff allows 1 real account; this is number 2")
        ),
        "{:?}",
        c.status_reason
    );
    assert_eq!(c.counts.sent, 0);
    // Still held back a while later: not resumed and paused again in a loop.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let c = w.store.campaign(second).await.unwrap().unwrap();
    assert_eq!(c.status, CampaignStatus::Paused);

    // A larger tariff: it resumes by itself and sends.
    state.send_replace(licence_with(LicenseState::Active, None, Some(2)));
    wait_for(
        &w.store,
        second,
        CampaignStatus::Completed,
        Duration::from_secs(30),
    )
    .await;
    engine.stop().await;
    let got = received(&sb.base_url()).await;
    assert_eq!(got.len(), 20);
    assert!(
        got.values().all(|n| *n == 2),
        "once from each account: {got:?}"
    );
}

/// The vendor's decisions reach a running campaign through the real licence server and the
/// background sync: a suspension pauses it with the reason, reinstating resumes it, an
/// expired paid period pauses it again, a payment resumes it; nobody gets a message twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_vendors_suspension_and_expiry_pause_a_running_campaign() {
    let _serial = SERIAL.lock().await;
    let v = vendor::vendor(None, Default::default()).await;
    let (server_store, licence) = (v.store.clone(), v.licence.clone());
    let w = workspace(&phones(300)).await;
    let machine = tempfile::tempdir().unwrap();
    std::fs::write(
        machine.path().join("machine-id"),
        "4c4c4544003910808033b4c04f4e4d32\n",
    )
    .unwrap();
    let local = cleverplatform::license::local::Local {
        folder: machine.path().join("license"),
        trusted: vec![cleverplatform::license::parse_public_key(&v.public).unwrap()],
        machine_id_file: Some(machine.path().join("machine-id")),
        server_url: v.server.base_url(),
    };
    local.activate(&licence.key).await.unwrap();

    let sb = emulators().await;
    account(&w.store, "WA", &sb.base_url(), "EAAG", "1006").await;
    set(&w.store, "UPDATE accounts SET sandbox = 0").await;
    let id = campaign(&w.store, "Paid for", "WA").await;
    let sync = cleverplatform::license::sync::spawn(w.store.clone(), local);
    let engine = start_engine(
        &w.store,
        EngineOptions {
            licence: Some(sync.state.clone()),
            rate_override: Some(25.0),
            batch: 10,
            ..fast()
        },
    );
    wait_sent(&w.store, id, 20, Duration::from_secs(30)).await;
    server_store
        .set_status(&licence.id, "suspended", Some("payment failed"))
        .await
        .unwrap();
    after_sync(
        &sync,
        &w.store,
        id,
        CampaignStatus::Paused,
        Some("licence: suspended"),
    )
    .await;
    server_store
        .set_status(&licence.id, "active", None)
        .await
        .unwrap();
    after_sync(&sync, &w.store, id, CampaignStatus::Running, None).await;
    let before = w.store.campaign(id).await.unwrap().unwrap().counts.sent;
    wait_sent(&w.store, id, before + 10, Duration::from_secs(30)).await;
    let now = chrono::Utc::now();
    server_store
        .set_paid_until(&licence.id, now - chrono::Duration::days(1))
        .await
        .unwrap();
    after_sync(
        &sync,
        &w.store,
        id,
        CampaignStatus::Paused,
        Some("licence: expired"),
    )
    .await;
    server_store
        .set_paid_until(&licence.id, now + chrono::Duration::days(30))
        .await
        .unwrap();
    after_sync(&sync, &w.store, id, CampaignStatus::Completed, None).await;
    engine.stop().await;
    let got = received(&sb.base_url()).await;
    assert_eq!(got.len(), 300);
    assert!(got.values().all(|n| *n == 1), "nobody twice");
}

/// Asks the sync for a fresh lease, then waits (bounded) for the campaign's status and
/// checks its reason.
async fn after_sync(
    sync: &cleverplatform::license::sync::LicenceSync,
    store: &Store,
    id: CampaignId,
    status: CampaignStatus,
    reason: Option<&str>,
) {
    sync.sync_now();
    wait_for(store, id, status, Duration::from_secs(60)).await;
    if let Some(r) = reason {
        let c = store.campaign(id).await.unwrap().unwrap();
        assert_eq!(c.status_reason.as_deref(), Some(r));
    }
}

/// The batch claimed ahead while another is sent goes back to the queue when the engine
/// stops, so a clean stop leaves no row of unknown fate; and a campaign cancelled while rows
/// are out keeps none of them queued.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopping_or_cancelling_mid_send_leaves_nothing_out() {
    let _serial = SERIAL.lock().await;
    let n = 6000;
    let w = workspace(&phones(n)).await;
    let sb = unpaced_emulators().await;
    // 1 000 messages a second, 400 a batch: the campaign takes seconds.
    account_at(&w.store, "WA", &sb.base_url(), "EAAG", "1001", Some(1000.0)).await;
    let id = campaign(&w.store, "Slow", "WA").await;
    let options = EngineOptions {
        rate_override: None,
        ..fast()
    };
    let sent_at_least = |k: i64| {
        let store = w.store.clone();
        async move {
            let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
            loop {
                let c = store.campaign(id).await.unwrap().unwrap();
                if c.counts.sent >= k {
                    return;
                }
                assert!(tokio::time::Instant::now() < deadline, "{:?}", c.counts);
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    };

    let client = Client::new(Duration::from_secs(5)).unwrap();
    let engine = Engine::start(w.store.clone(), client.clone(), options.clone());
    sent_at_least(1000).await;
    engine.stop().await;
    let c = w.store.campaign(id).await.unwrap().unwrap();
    assert_eq!(c.counts.sending + c.counts.unknown, 0, "{:?}", c.counts);
    assert_eq!(c.counts.sent + c.counts.queued, n as i64, "{:?}", c.counts);
    assert!(
        c.counts.queued > 0,
        "stopped before the end: {:?}",
        c.counts
    );
    assert_eq!(received(&sb.base_url()).await.len() as i64, c.counts.sent);

    let engine = Engine::start(w.store.clone(), client, options);
    sent_at_least(c.counts.sent + 1000).await;
    campaigns::step(&w.store, id, campaigns::Step::Cancel, "t")
        .await
        .unwrap();
    // Rows out at the cancel come back as sent (the platform took them) or skipped.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let c = w.store.campaign(id).await.unwrap().unwrap();
        if c.counts.sending == 0 {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{:?}", c.counts);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    engine.stop().await;
    let c = w.store.campaign(id).await.unwrap().unwrap();
    assert_eq!(c.status, CampaignStatus::Cancelled);
    assert_eq!(
        c.counts.queued + c.counts.sending + c.counts.unknown,
        0,
        "{:?}",
        c.counts
    );
    assert_eq!(c.counts.sent + c.counts.skipped, n as i64, "{:?}", c.counts);
    let got = received(&sb.base_url()).await;
    assert!(got.values().all(|&k| k == 1), "someone got it twice");
    assert_eq!(got.len() as i64, c.counts.sent);
}

/// A permanent failure keeps the platform's own words with its code, whether the answer to
/// the send or a status webhook later said it: the status groups by them (WhatsApp's two
/// wordings of 131026 are one cause), and the report has them for each row.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_permanent_failure_keeps_the_platforms_words() {
    let _serial = SERIAL.lock().await;
    let mut numbers = phones(20);
    // The emulator's magic endings: 1026 undeliverable, 1047 outside the 24-hour window,
    // 0500 accepted and then failed by a status webhook.
    numbers.extend([
        "+77010001026".to_string(),
        "+77010011026".into(),
        "+77010001047".into(),
        "+77010000500".into(),
    ]);
    let w = workspace(&numbers).await;
    let (sb, _server) = sandbox_with_webhooks(&w.store).await;
    account(&w.store, "WA", &sb.base_url(), "EAAG", "1001").await;
    let id = campaign(&w.store, "Words", "WA").await;
    let engine = start_engine(&w.store, fast());
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let status = loop {
        let s = campaigns::status(&w.store, id).await.unwrap().unwrap();
        if s.counts["failed"] == 4 || tokio::time::Instant::now() > deadline {
            break s;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    engine.stop().await;
    let causes: Vec<_> = status
        .failed_by_cause
        .iter()
        .map(|f| {
            (
                f.class.as_str(),
                f.code.as_str(),
                f.detail.as_deref(),
                f.count,
            )
        })
        .collect();
    assert_eq!(
        causes,
        [
            ("permanent", "131026", Some("Message Undeliverable"), 3),
            ("permanent", "131047", Some("Re-engagement message"), 1),
        ]
    );
    assert_eq!(
        status.failed_by_cause[0].describe(),
        "code 131026 (Message Undeliverable)"
    );
    // Every row behind a cause is found under it.
    let rows = w.store.campaign_failure_rows(id, 10).await.unwrap();
    for cause in &status.failed_by_cause {
        let n = rows.iter().filter(|r| cause.covers(r)).count() as i64;
        assert_eq!(n, cause.count, "{cause:?}");
    }
    let mut conn = w.store.read().await.unwrap();
    let mut details = Vec::new();
    cleverplatform::store::campaigns::report(&mut conn, id, |row| {
        details.push((row.fail_code, row.fail_detail));
        Ok(())
    })
    .await
    .unwrap();
    let mut words: Vec<_> = details.iter().filter_map(|(_, d)| d.clone()).collect();
    words.sort();
    assert_eq!(
        words,
        [
            "Message Undeliverable",
            "Message Undeliverable",
            "Message undeliverable",
            "Re-engagement message"
        ]
    );
}

/// The engine that sends also checks each account's token on a schedule, as `c` does by hand:
/// a working token and an expired one get their health recorded, and an account checked
/// within the interval is left alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sending_engine_checks_tokens_on_a_schedule() {
    let _serial = SERIAL.lock().await;
    let w = workspace(&phones(1)).await;
    let sb = emulators().await;
    account(&w.store, "Good", &sb.base_url(), "EAAG", "2001").await;
    account(&w.store, "Expired", &sb.base_url(), "revoked-token", "2002").await;
    account(&w.store, "Fresh", &sb.base_url(), "revoked-token", "2003").await;
    set(
        &w.store,
        "UPDATE accounts SET health = 'ok: checked by hand', \
         health_checked_at = strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now') WHERE name = 'Fresh'",
    )
    .await;
    let engine = start_engine(
        &w.store,
        EngineOptions {
            health_every: Some(Duration::from_secs(3600)),
            ..fast()
        },
    );
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while account_named(&w.store, "Good").await.health.is_none()
        || account_named(&w.store, "Expired").await.health.is_none()
    {
        assert!(tokio::time::Instant::now() < deadline, "never checked");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    engine.stop().await;
    let good = account_named(&w.store, "Good").await;
    assert!(
        good.health.as_deref().unwrap().starts_with("ok: +7 701"),
        "{:?}",
        good.health
    );
    assert!(good.health_checked_at.is_some());
    let expired = account_named(&w.store, "Expired").await;
    assert_eq!(
        expired.health.as_deref(),
        Some("failed: HTTP 401: (190) Error validating access token")
    );
    // Checked a moment ago by hand: its (stale on purpose) line stays until the interval ends.
    assert_eq!(
        account_named(&w.store, "Fresh").await.health.as_deref(),
        Some("ok: checked by hand")
    );
}

/// A free text on WhatsApp reaches only those who wrote in the last 24 hours. A recipient
/// whose window was open at the start but has closed by the time the row goes (a paused
/// campaign resumed days later) is skipped before any request: the platform would refuse it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_24_hour_window_skips_the_row_without_sending() {
    let _serial = SERIAL.lock().await;
    let numbers = phones(2);
    let w = workspace(&numbers).await;
    let sb = emulators().await;
    account(&w.store, "WA", &sb.base_url(), "EAAG", "2001").await;
    let wa = cleverplatform::store::accounts::id_by_name(&mut w.store.read().await.unwrap(), "WA")
        .await
        .unwrap()
        .unwrap();
    let mut tx = w.store.begin().await.unwrap();
    for n in &numbers {
        cleverplatform::store::inbound::record_inbound(
            &mut tx,
            wa,
            Channel::WhatsApp,
            n,
            chrono::Utc::now() - chrono::Duration::hours(1),
        )
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
    let id = text_draft(&w.store, "Free text", "Привет, {{ name }}!").await;
    let started = campaigns::start(&w.store, id, "t").await.unwrap();
    assert_eq!(started.queued, 2, "both wrote within the day");
    // The second recipient's last message is now two days old.
    set(
        &w.store,
        "UPDATE inbound SET last_at = strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now', '-2 days') \
         WHERE identity_id = (SELECT max(identity_id) FROM inbound)",
    )
    .await;
    let engine = start_engine(&w.store, fast());
    wait_for(
        &w.store,
        id,
        CampaignStatus::Completed,
        Duration::from_secs(30),
    )
    .await;
    engine.stop().await;
    let c = w.store.campaign(id).await.unwrap().unwrap();
    assert_eq!((c.counts.sent, c.counts.skipped), (1, 1), "{:?}", c.counts);
    assert_eq!(
        w.store.campaign_skips(id).await.unwrap(),
        vec![("24-hour window closed".to_string(), 1)]
    );
    let got = received(&sb.base_url()).await;
    assert_eq!(got.values().sum::<usize>(), 1, "{got:?}");
}

/// An opt-out keyword gets one reply that says it worked, from the account it was written
/// to, sent by the engine; the same keyword written again gets none, and the address stays
/// suppressed for everything else.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_opt_out_keyword_gets_one_reply() {
    use cleverplatform::channels::webhooks::Inbound;
    let _serial = SERIAL.lock().await;
    let phones = phones(1);
    let w = workspace(&phones).await;
    let sb = emulators().await;
    account(&w.store, "WA", &sb.base_url(), "EAAG", "4001").await;
    let wa = account_named(&w.store, "WA").await;
    let stop = |id: &str, text: &str| {
        vec![Inbound::Message {
            from: phones[0].trim_start_matches('+').to_string(),
            id: id.into(),
            text: text.into(),
            at: chrono::Utc::now().timestamp(),
        }]
    };
    let applied = cleverplatform::inbound::apply(
        &w.store,
        wa.id,
        Channel::WhatsApp,
        &stop("m1", "СТОП"),
        &[],
    )
    .await
    .unwrap();
    assert_eq!(applied.opt_outs, 1);
    let engine = start_engine(
        &w.store,
        EngineOptions {
            opt_out_reply: Some("Вы отписались.".into()),
            ..fast()
        },
    );
    let pending = "SELECT count(*) FROM opt_out_replies WHERE sent_at IS NULL";
    let count = |sql: &'static str| {
        let store = w.store.clone();
        async move {
            let mut conn = store.read().await.unwrap();
            let n: i64 = sqlx::query_scalar(sql).fetch_one(&mut *conn).await.unwrap();
            conn.commit().await.unwrap();
            n
        }
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while count(pending).await > 0 {
        assert!(tokio::time::Instant::now() < deadline, "never replied");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Written again (a new message): suppressed already, so no second reply is queued.
    cleverplatform::inbound::apply(&w.store, wa.id, Channel::WhatsApp, &stop("m2", "stop"), &[])
        .await
        .unwrap();
    assert_eq!(count("SELECT count(*) FROM opt_out_replies").await, 1);
    // A reply the platform asks to hold (WhatsApp's one message per person every 6 s, here
    // right after the first) waits for the time it gives, without using up an attempt.
    set(
        &w.store,
        "INSERT INTO opt_out_replies (account_id, channel, address, created_at, due_at) \
         SELECT account_id, channel, address, created_at, created_at FROM opt_out_replies",
    )
    .await;
    let waiting = "SELECT count(*) FROM opt_out_replies WHERE sent_at IS NULL AND attempts = 0 \
         AND error LIKE 'this person can be written to again in %' AND due_at > created_at";
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while count(waiting).await == 0 {
        assert!(tokio::time::Instant::now() < deadline, "never held");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    engine.stop().await;
    let sent = recorded(&sb.base_url()).await;
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0]["text"], "Вы отписались.");
    let to = sent[0]["recipient"].as_str().unwrap();
    assert!(phones[0].ends_with(to.trim_start_matches('+')), "{sent:?}");
    // The Accounts pane's count: one sent, one waiting, and why it waits.
    let mut conn = w.store.read().await.unwrap();
    let day = chrono::Utc::now() - chrono::Duration::hours(1);
    let replies = cleverplatform::store::inbound::replies_since(&mut conn, day)
        .await
        .unwrap();
    assert_eq!(replies.len(), 1, "{replies:?}");
    let r = &replies[0].1;
    assert_eq!((r.sent, r.waiting, r.not_sent), (1, 1, 0), "{r:?}");
    let why = r.last_error.as_deref().unwrap_or_default();
    assert!(
        why.starts_with("this person can be written to again in "),
        "{r:?}"
    );
}

/// Another writer holding the database past the busy timeout (a large import) loses no
/// answers: the results that could not be written go with the next batch's, so no row the
/// platform answered turns `unknown`, and nobody gets the message twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_database_loses_no_answers() {
    use sqlx::Connection;
    let _serial = SERIAL.lock().await;
    let w = workspace(&phones(300)).await;
    let sb = emulators().await;
    account(&w.store, "WA", &sb.base_url(), "EAAG", "1002").await;
    let id = campaign(&w.store, "Busy", "WA").await;
    let engine = start_engine(
        &w.store,
        EngineOptions {
            rate_override: Some(25.0),
            ..fast()
        },
    );
    wait_sent(&w.store, id, 25, Duration::from_secs(60)).await;
    // Hold the write lock well past the store's busy timeout: every write the engine tries
    // meanwhile fails with "database is locked".
    let path = w._dir.path().join("clever.db");
    let mut other = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut other)
        .await
        .unwrap();
    // The sender writes at least every batch (1 s at this rate), so a write starts within
    // the first few seconds and gives up while the lock is still held.
    tokio::time::sleep(cleverplatform::store::BUSY_TIMEOUT * 2 + Duration::from_secs(3)).await;
    let held = w.store.campaign(id).await.unwrap().unwrap();
    assert!(held.counts.queued > 0, "still sending: {:?}", held.counts);
    sqlx::query("COMMIT").execute(&mut other).await.unwrap();
    drop(other);
    wait_for(
        &w.store,
        id,
        CampaignStatus::Completed,
        Duration::from_secs(120),
    )
    .await;
    engine.stop().await;
    let c = w.store.campaign(id).await.unwrap().unwrap();
    assert_eq!(
        (c.counts.sent, c.counts.unknown, c.counts.failed),
        (300, 0, 0),
        "{:?}",
        c.counts
    );
    let got = received(&sb.base_url()).await;
    assert_eq!(got.len(), 300);
    assert!(got.values().all(|n| *n == 1), "someone got it twice");
}

/// A row whose lease ran out while its answer waited to be written (another writer held the
/// database longer than the lease) is `unknown`; a final answer still settles it, a retry
/// leaves it for the operator, and a row the operator queued again is left alone.
#[tokio::test]
async fn a_late_answer_settles_a_row_whose_lease_ran_out() {
    use cleverplatform::domain::ConsentScope;
    use cleverplatform::store::outbox::{self, Outcome};
    let w = workspace(&phones(4)).await;
    account(&w.store, "WA", "http://127.0.0.1:9", "EAAG", "1002").await;
    let id = campaign(&w.store, "Late", "WA").await;
    let mut tx = w.store.begin().await.unwrap();
    let past = chrono::Utc::now() - chrono::Duration::seconds(1);
    let rows = outbox::claim(&mut tx, id, ConsentScope::Marketing, false, 10, past, 0)
        .await
        .unwrap();
    assert_eq!(rows.len(), 4);
    assert_eq!(outbox::expire_leases(&mut tx).await.unwrap().unknown, 4);
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    outbox::record(
        &mut tx,
        &[
            (
                ids[0],
                Outcome::Sent {
                    provider_id: "wamid.late".into(),
                },
            ),
            (
                ids[1],
                Outcome::Failed {
                    class: "permanent".into(),
                    code: "131026".into(),
                    detail: None,
                },
            ),
            (
                ids[2],
                Outcome::Skipped {
                    reason: "opted out".into(),
                },
            ),
            (
                ids[3],
                Outcome::Requeue {
                    at: chrono::Utc::now(),
                    counts: true,
                },
            ),
        ],
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let c = w.store.campaign(id).await.unwrap().unwrap().counts;
    assert_eq!(
        (c.sent, c.failed, c.skipped, c.unknown, c.queued),
        (1, 1, 1, 1, 0),
        "{c:?}"
    );
    // The operator sends the unknown one again; a stale answer for it changes nothing.
    let mut tx = w.store.begin().await.unwrap();
    assert_eq!(outbox::requeue_unknown(&mut tx, id).await.unwrap(), 1);
    outbox::record(
        &mut tx,
        &[(
            ids[3],
            Outcome::Failed {
                class: "permanent".into(),
                code: "131026".into(),
                detail: None,
            },
        )],
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let c = w.store.campaign(id).await.unwrap().unwrap().counts;
    assert_eq!((c.failed, c.queued), (1, 1), "{c:?}");
}

/// A batch claimed ahead (while another is being sent) whose engine dies before starting it
/// goes back to the queue when its lease runs out, the attempt not counted: none of its
/// requests went out. A started batch turns `unknown` as before (once the lease it was
/// started with runs out), a cancelled campaign's rows are skipped, and a claim given back
/// cannot be started by the engine that claimed it.
#[tokio::test]
async fn a_batch_claimed_ahead_and_never_started_goes_back_to_the_queue() {
    use cleverplatform::domain::ConsentScope;
    use cleverplatform::store::outbox;
    let w = workspace(&phones(12)).await;
    account(&w.store, "WA", "http://127.0.0.1:9", "EAAG", "1002").await;
    let id = campaign(&w.store, "Ahead", "WA").await;
    let past = chrono::Utc::now() - chrono::Duration::seconds(1);
    let later = chrono::Utc::now() + chrono::Duration::seconds(120);
    let claim = |limit: i64, until, ahead| {
        let store = w.store.clone();
        async move {
            let mut tx = store.begin().await.unwrap();
            let rows = outbox::claim(
                &mut tx,
                id,
                ConsentScope::Marketing,
                false,
                limit,
                until,
                ahead,
            )
            .await
            .unwrap();
            tx.commit().await.unwrap();
            rows.iter().map(|r| r.id).collect::<Vec<i64>>()
        }
    };
    // Three sent at once, three claimed ahead (token 11) and started, three claimed ahead
    // (token 12) only; every lease already run out, as after a crash.
    let now_sent = claim(3, past, 0).await;
    let started = claim(3, past, 11).await;
    let waiting = claim(3, past, 12).await;
    assert_eq!((now_sent.len(), started.len(), waiting.len()), (3, 3, 3));
    let start = |token: i64, until| {
        let store = w.store.clone();
        async move {
            let mut tx = store.begin().await.unwrap();
            let ours = outbox::start_claim(&mut tx, token, until).await.unwrap();
            tx.commit().await.unwrap();
            ours
        }
    };
    // A claim is started once, and a token no claim has starts nothing.
    assert!(!start(99, past).await);
    assert!(start(11, past).await);
    assert!(!start(11, past).await);
    let mut tx = w.store.begin().await.unwrap();
    let lost = outbox::expire_leases(&mut tx).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!((lost.unknown, lost.requeued), (6, 3), "{lost:?}");
    let c = w.store.campaign(id).await.unwrap().unwrap().counts;
    assert_eq!((c.unknown, c.queued, c.sending), (6, 6, 0), "{c:?}");
    let mut conn = w.store.read().await.unwrap();
    let attempts: Vec<(i64, String, i64)> =
        sqlx::query_as("SELECT id, state, attempts FROM outbox WHERE campaign_id = ? ORDER BY id")
            .bind(id)
            .fetch_all(&mut *conn)
            .await
            .unwrap();
    drop(conn);
    for (row, state, tries) in &attempts {
        let expected = if now_sent.contains(row) || started.contains(row) {
            ("unknown", 1)
        } else {
            ("queued", 0)
        };
        assert_eq!((state.as_str(), *tries), expected, "row {row}");
    }
    // The engine that claimed them comes back late: they are no longer its to send, not
    // even once another engine has claimed them ahead again.
    assert!(!start(12, later).await);
    let again = claim(3, past, 13).await;
    assert_eq!(again, waiting);
    assert!(!start(12, later).await);
    // Started, a claim's rows count from the lease taken then, not the one they were
    // claimed with.
    assert!(start(13, later).await);
    let mut tx = w.store.begin().await.unwrap();
    let lost = outbox::expire_leases(&mut tx).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!((lost.unknown, lost.requeued), (0, 0), "{lost:?}");
    let last = claim(3, past, 14).await;
    assert_eq!(last.len(), 3);
    // Claimed ahead in a campaign cancelled meanwhile, they are skipped, not queued.
    let mut tx = w.store.begin().await.unwrap();
    outbox::transition(
        &mut tx,
        id,
        &[CampaignStatus::Running],
        CampaignStatus::Cancelled,
        None,
    )
    .await
    .unwrap();
    assert_eq!(outbox::expire_leases(&mut tx).await.unwrap().requeued, 3);
    tx.commit().await.unwrap();
    let c = w.store.campaign(id).await.unwrap().unwrap().counts;
    assert_eq!(
        (c.unknown, c.queued, c.skipped, c.sending),
        (6, 0, 3, 3),
        "{c:?}"
    );
}

/// A WhatsApp template that is not on the account fails every message the same way: the
/// campaign's first message goes out alone, and its template error pauses the campaign
/// before anything more is claimed. Another template campaign on the account then goes on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_template_that_does_not_exist_costs_one_message() {
    let _serial = SERIAL.lock().await;
    let w = workspace(&phones(60)).await;
    let sb = emulators().await;
    account(&w.store, "WA", &sb.base_url(), "EAAG", "1002").await;
    let typo = template_draft(&w.store, "Typo", "missing_promo").await;
    campaigns::start(&w.store, typo, "t").await.unwrap();
    // At a pace, as accounts send.
    let engine = start_engine(
        &w.store,
        EngineOptions {
            rate_override: Some(6.0),
            ..fast()
        },
    );
    wait_for(
        &w.store,
        typo,
        CampaignStatus::Paused,
        Duration::from_secs(60),
    )
    .await;
    engine.stop().await;
    let t = w.store.campaign(typo).await.unwrap().unwrap();
    assert_eq!(
        (t.counts.failed, t.counts.queued, t.counts.sent),
        (1, 59, 0),
        "{:?}",
        t.counts
    );
    let why = t.status_reason.unwrap_or_default();
    assert!(
        why.contains("template error 132001") && why.contains("nothing else was sent"),
        "{why}"
    );
    // Another template campaign on the account goes on.
    let good = campaign(&w.store, "Good", "WA").await;
    let engine = start_engine(&w.store, fast());
    wait_for(
        &w.store,
        good,
        CampaignStatus::Completed,
        Duration::from_secs(60),
    )
    .await;
    engine.stop().await;
    let g = w.store.campaign(good).await.unwrap().unwrap();
    assert_eq!(g.counts.sent, 60, "{:?}", g.counts);
    assert_eq!(recorded(&sb.base_url()).await.len(), 60);
    let t = w.store.campaign(typo).await.unwrap().unwrap();
    assert_eq!(t.status, CampaignStatus::Paused);
}

/// Quiet hours are kept in each recipient's time zone: the subscriber's own, else their
/// list's, else the operator's. A recipient whose window is closed waits, unsent and with no
/// attempt counted, until it opens in their zone; the others are sent at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quiet_hours_follow_the_subscriber_then_the_list_then_the_operator() {
    use cleverplatform::domain::quiet::{SendWindow, parse_zone};
    let _serial = SERIAL.lock().await;
    // Whole-hour offsets that put 15:00 (open) and 03:00 (closed) of a 09:00-21:00 window
    // on the local clock now, whatever the hour the test runs at.
    let hour = chrono::Timelike::hour(&chrono::Utc::now()) as i32;
    let offset = |local: i32| {
        let o = (local - hour).rem_euclid(24);
        format!("UTC{:+}", if o > 14 { o - 24 } else { o })
    };
    let (open, closed) = (offset(15), offset(3));
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&Location::File(dir.path().join("clever.db")))
        .await
        .unwrap();
    let import = |file: &str, list: &str, text: String| {
        let path = dir.path().join(file);
        std::fs::write(&path, text).unwrap();
        let store = store.clone();
        let list = list.to_string();
        async move {
            let s = import_file(&store, &path, &ImportOptions::new(&list, "t"), |_| {})
                .await
                .unwrap();
            assert_eq!(s.rejected, 0, "{:?}", s.first_rejected);
        }
    };
    let own_closed = "+77020000015";
    let own_open = "+77020000025";
    let lists_open = "+77020000035";
    let operators_closed = "+77020000045";
    import(
        "l.csv",
        "L",
        format!(
            "phone,name,consent,timezone\n{own_closed},A,yes,{closed}\n\
             {own_open},B,yes,{open}\n{lists_open},C,yes,\n"
        ),
    )
    .await;
    import(
        "m.csv",
        "M",
        format!("phone,name,consent\n{operators_closed},D,yes\n"),
    )
    .await;
    let open_zone = parse_zone(&open).unwrap();
    let closed_zone = parse_zone(&closed).unwrap();
    {
        let mut tx = store.begin().await.unwrap();
        let l = cleverplatform::store::lists::by_name(&mut tx, "L")
            .await
            .unwrap()
            .unwrap();
        cleverplatform::store::lists::update(&mut tx, &l, "L", "", Some(open_zone.name()), "t")
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }
    let sb = emulators().await;
    account(&store, "WA", &sb.base_url(), "EAAG", "2001").await;
    let mut ids = Vec::new();
    for list in ["L", "M"] {
        let id = campaigns::create(
            &store,
            &Spec {
                name: format!("To {list}"),
                list: list.into(),
                account: "WA".into(),
                wa_template: Some("promo".into()),
                wa_lang: Some("ru".into()),
                wa_params: vec!["{{ name }}".into()],
                quiet_hours: Some("09:00-21:00".into()),
                ..Spec::default()
            },
            "t",
        )
        .await
        .unwrap();
        campaigns::start(&store, id, "t").await.unwrap();
        ids.push(id);
    }
    let engine = start_engine(
        &store,
        EngineOptions {
            operator_tz: closed_zone,
            ..fast()
        },
    );
    // Until both waiting rows have been looked at and put back for their window.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let waiting = loop {
        let rows: Vec<(String, String, Option<chrono::DateTime<chrono::Utc>>, i64)> =
            sqlx::query_as(
                "SELECT i.address, o.state, o.next_attempt_at, o.attempts FROM outbox o \
                 JOIN identities i ON i.id = o.identity_id ORDER BY i.address",
            )
            .fetch_all(&mut *store.read().await.unwrap())
            .await
            .unwrap();
        let later = chrono::Utc::now() + chrono::Duration::hours(1);
        let sent = rows.iter().filter(|r| r.1 == "sent").count();
        let waiting: Vec<_> = rows
            .iter()
            .filter(|r| r.1 == "queued" && r.2.is_some_and(|at| at > later))
            .cloned()
            .collect();
        if sent == 2 && waiting.len() == 2 {
            break waiting;
        }
        assert!(tokio::time::Instant::now() < deadline, "{rows:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    engine.stop().await;
    let got = received(&sb.base_url()).await;
    let mut sent_to: Vec<&str> = got.keys().map(String::as_str).collect();
    sent_to.sort();
    assert_eq!(sent_to, [own_open, lists_open], "{got:?}");
    // Each waits for 09:00 in its own zone, no attempt spent.
    let window = SendWindow::parse("09:00-21:00").unwrap();
    let opens = window.next_open(chrono::Utc::now(), closed_zone).unwrap();
    assert_eq!(
        waiting,
        [
            (own_closed.to_string(), "queued".to_string(), Some(opens), 0),
            (
                operators_closed.to_string(),
                "queued".to_string(),
                Some(opens),
                0
            ),
        ]
    );
    for id in ids {
        let c = store.campaign(id).await.unwrap().unwrap();
        assert_eq!(c.status, CampaignStatus::Running, "it waits, not ends");
        // The status says who waits, and until when.
        let s = campaigns::status(&store, id).await.unwrap().unwrap();
        assert_eq!(
            (s.waiting, s.next_due, s.quiet_hours.as_deref()),
            (1, Some(opens), Some("09:00-21:00"))
        );
    }
}

/// Campaigns on one account share its rate: two started one after the other both move from
/// the first batches on, instead of the second waiting for the first to finish.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn campaigns_on_one_account_share_it_fairly() {
    let _serial = SERIAL.lock().await;
    let numbers = phones(800);
    let w = workspace(&numbers[..400]).await;
    let csv = w._dir.path().join("m.csv");
    let mut text = String::from("phone,name,consent\n");
    for p in &numbers[400..] {
        text.push_str(&format!("{p},M,yes\n"));
    }
    std::fs::write(&csv, text).unwrap();
    import_file(&w.store, &csv, &ImportOptions::new("M", "t"), |_| {})
        .await
        .unwrap();
    let sb = unpaced_emulators().await;
    // 100 messages a second: 800 take eight seconds at the least.
    account_at(&w.store, "WA", &sb.base_url(), "EAAG", "2001", Some(100.0)).await;
    let first = campaign(&w.store, "First", "WA").await;
    let second = campaigns::create(
        &w.store,
        &Spec {
            name: "Second".into(),
            list: "M".into(),
            account: "WA".into(),
            wa_template: Some("promo".into()),
            wa_lang: Some("ru".into()),
            wa_params: vec!["{{ name }}".into()],
            ..Spec::default()
        },
        "t",
    )
    .await
    .unwrap();
    campaigns::start(&w.store, second, "t").await.unwrap();
    let engine = start_engine(
        &w.store,
        EngineOptions {
            rate_override: None,
            ..fast()
        },
    );
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let (a, b) = loop {
        let a = w.store.campaign(first).await.unwrap().unwrap().counts.sent;
        let b = w.store.campaign(second).await.unwrap().unwrap().counts.sent;
        if a + b >= 200 {
            break (a, b);
        }
        assert!(tokio::time::Instant::now() < deadline, "{a} + {b}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    engine.stop().await;
    // Taking turns, each has about half; one after the other, the second would have none.
    assert!(a >= 50 && b >= 50, "first {a}, second {b}");
    assert!(
        a < 400 && b < 400,
        "neither is done yet: first {a}, second {b}"
    );
}

/// A message that cannot be made for one subscriber (their attributes changed after the
/// start, and the template names one they no longer have) fails that row with class
/// `template`, with no request; the others go.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_that_cannot_be_made_fails_its_row_alone() {
    let _serial = SERIAL.lock().await;
    let list = phones(30);
    let w = workspace(&list).await;
    let sb = emulators().await;
    account(&w.store, "WA", &sb.base_url(), "EAAG", "1002").await;
    let id = campaign(&w.store, "Cities", "WA").await;
    // The campaign's parameters name `attributes.city`; one subscriber loses theirs.
    set(
        &w.store,
        "UPDATE subscribers SET attributes = '{}' \
         WHERE id = (SELECT subscriber_id FROM identities ORDER BY id LIMIT 1 OFFSET 7)",
    )
    .await;
    let engine = start_engine(&w.store, fast());
    wait_for(
        &w.store,
        id,
        CampaignStatus::Completed,
        Duration::from_secs(60),
    )
    .await;
    engine.stop().await;
    let c = w.store.campaign(id).await.unwrap().unwrap();
    assert_eq!((c.counts.sent, c.counts.failed), (29, 1), "{:?}", c.counts);
    let mut conn = w.store.read().await.unwrap();
    let (class, code, address): (String, String, String) = sqlx::query_as(
        "SELECT o.fail_class, o.fail_code, i.address FROM outbox o \
         JOIN identities i ON i.id = o.identity_id WHERE o.campaign_id = ? AND o.state = 'failed'",
    )
    .bind(id)
    .fetch_one(&mut *conn)
    .await
    .unwrap();
    drop(conn);
    assert_eq!(class, "template");
    assert!(code.contains("undefined value"), "{code}");
    // No request went out for them.
    let got = received(&sb.base_url()).await;
    assert_eq!(got.len(), 29);
    assert!(!got.contains_key(&address), "{address}");
}
