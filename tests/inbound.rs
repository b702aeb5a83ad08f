//! Webhooks applied to a real database: opt-outs take effect at once and once, windows open,
//! statuses are kept without repeats.

use cleverplatform::channels::webhooks::{self, Inbound};
use cleverplatform::domain::{AccountId, Channel, ConsentScope, ConsentStatus, SubscriberId};
use cleverplatform::import::{ImportOptions, import_file};
use cleverplatform::inbound::apply;
use cleverplatform::store::{Location, Store};

fn import_options() -> ImportOptions {
    ImportOptions::new("L", "t")
}

/// A sandbox account of a channel with its settings.
async fn add_account(store: &Store, channel: Channel, settings: serde_json::Value) -> AccountId {
    let mut tx = store.begin().await.unwrap();
    let id = cleverplatform::store::accounts::insert(
        &mut tx,
        &cleverplatform::store::accounts::NewAccount {
            channel,
            name: channel.label(),
            settings,
            secret: "t",
            base_url: None,
            api_version: None,
            sandbox: true,
            rate_per_sec: None,
            wa_daily_tier: None,
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    id
}

async fn workspace() -> (tempfile::TempDir, Store, AccountId) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&Location::File(dir.path().join("c.db")))
        .await
        .unwrap();
    let csv = dir.path().join("s.csv");
    std::fs::write(
        &csv,
        "phone,telegram_chat_id,name,consent\n+77011234567,4242,Айгерим,yes\n",
    )
    .unwrap();
    let opts = import_options();
    import_file(&store, &csv, &opts, |_| {}).await.unwrap();
    let account = add_account(&store, Channel::WhatsApp, serde_json::json!({})).await;
    (dir, store, account)
}

async fn sendable(store: &Store, channel: Channel) -> i64 {
    store
        .sendable_counts(None, ConsentScope::Marketing)
        .await
        .unwrap()
        .into_iter()
        .find(|(c, _)| *c == channel)
        .unwrap()
        .1
}

#[tokio::test]
async fn a_stop_message_suppresses_and_withdraws_once() {
    let (_d, store, account) = workspace().await;
    assert_eq!(sendable(&store, Channel::WhatsApp).await, 1);
    let body = r#"{"entry":[{"changes":[{"value":{"messages":[{"from":"77011234567","id":"wamid.in1","timestamp":"1764000000","type":"text","text":{"body":" стоп "}}]}}]}]}"#.as_bytes();
    let secret = b"app-secret";
    let sig = webhooks::meta_signature(secret, body);
    webhooks::verify_meta_signature(secret, Some(&sig), body).unwrap();
    let events = webhooks::parse_whatsapp(body).unwrap();
    let first = apply(&store, account, Channel::WhatsApp, &events, &[])
        .await
        .unwrap();
    assert_eq!((first.messages, first.opt_outs), (1, 1));
    assert_eq!(
        sendable(&store, Channel::WhatsApp).await,
        0,
        "no longer sendable at once"
    );
    assert_eq!(
        sendable(&store, Channel::Telegram).await,
        1,
        "other channels keep their consent"
    );
    // Meta repeats webhooks: the replay changes nothing.
    let again = apply(&store, account, Channel::WhatsApp, &events, &[])
        .await
        .unwrap();
    assert_eq!((again.messages, again.opt_outs, again.repeats), (0, 0, 1));
    let d = store
        .subscriber_detail(SubscriberId(1))
        .await
        .unwrap()
        .unwrap();
    let withdrawals = d
        .consents
        .iter()
        .filter(|c| c.status == ConsentStatus::Withdrawn)
        .count();
    assert_eq!(withdrawals, 1);
    assert!(d.consents[0].proof.contains("стоп"));
    assert!(
        d.identities
            .iter()
            .any(|i| i.channel == Channel::WhatsApp && i.suppressed.is_some())
    );
}

#[tokio::test]
async fn ordinary_messages_open_the_window_and_statuses_are_kept_once() {
    let (_d, store, account) = workspace().await;
    let events = vec![
        Inbound::Message {
            from: "77011234567".into(),
            id: "m1".into(),
            text: "Сколько стоит доставка? 🚚".into(),
            at: 1_764_000_000,
        },
        Inbound::Status {
            provider_id: "wamid.X".into(),
            status: webhooks::DeliveryStatus::Read,
            recipient: "77011234567".into(),
            at: 1,
            error_code: None,
            error_title: None,
        },
        Inbound::Status {
            provider_id: "wamid.X".into(),
            status: webhooks::DeliveryStatus::Read,
            recipient: "77011234567".into(),
            at: 2,
            error_code: None,
            error_title: None,
        },
    ];
    let a = apply(&store, account, Channel::WhatsApp, &events, &[])
        .await
        .unwrap();
    assert_eq!(
        (a.messages, a.opt_outs, a.statuses, a.repeats),
        (1, 0, 1, 1)
    );
    assert_eq!(sendable(&store, Channel::WhatsApp).await, 1);
}

#[tokio::test]
async fn a_telegram_block_is_an_opt_out() {
    let (_d, store, account) = workspace().await;
    let (_, events) = webhooks::parse_telegram(br#"{"update_id":1,"my_chat_member":{"chat":{"id":4242},"date":5,"new_chat_member":{"status":"kicked"}}}"#).unwrap();
    let a = apply(&store, account, Channel::Telegram, &events, &[])
        .await
        .unwrap();
    assert_eq!(a.opt_outs, 1);
    assert_eq!(sendable(&store, Channel::Telegram).await, 0);
    assert_eq!(sendable(&store, Channel::WhatsApp).await, 1);
}

/// The webhook endpoints over real HTTP: the handshake, signatures, replays.
#[tokio::test]
async fn webhook_endpoints_check_signatures_and_apply_once() {
    use cleverplatform::inbound::server::{WebhookSettings, router};
    let (_d, store, account) = workspace().await;
    // Give the account the phone number id the webhook names.
    let mut tx = store.begin().await.unwrap();
    sqlx::query("UPDATE accounts SET settings = '{\"phone_number_id\":\"1065\"}' WHERE id = ?")
        .bind(account)
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let app = router(
        store.clone(),
        WebhookSettings {
            verify_token: "verify-me".into(),
            app_secret: b"app-secret".to_vec(),
            telegram_secret: "tg-secret".into(),
            extra_keywords: vec![],
        },
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let http = reqwest::Client::new();

    let ok = http
        .get(format!(
            "{base}/webhooks/meta?hub.mode=subscribe&hub.verify_token=verify-me&hub.challenge=42"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(
        (ok.status().as_u16(), ok.text().await.unwrap()),
        (200, "42".to_string())
    );
    let bad = http
        .get(format!(
            "{base}/webhooks/meta?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=42"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status().as_u16(), 403);

    let body = r#"{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"metadata":{"phone_number_id":"1065"},"messages":[{"from":"77011234567","id":"wamid.stop","timestamp":"1764000000","type":"text","text":{"body":"STOP"}}]}}]}]}"#;
    let post = |sig: Option<String>| {
        let mut r = http
            .post(format!("{base}/webhooks/whatsapp"))
            .body(body.to_string());
        if let Some(s) = sig {
            r = r.header("X-Hub-Signature-256", s);
        }
        r.send()
    };
    assert_eq!(post(None).await.unwrap().status().as_u16(), 401);
    assert_eq!(
        post(Some(webhooks::meta_signature(b"forged", body.as_bytes())))
            .await
            .unwrap()
            .status()
            .as_u16(),
        401
    );
    assert_eq!(
        sendable(&store, Channel::WhatsApp).await,
        1,
        "refused webhooks change nothing"
    );
    let sig = webhooks::meta_signature(b"app-secret", body.as_bytes());
    assert_eq!(
        post(Some(sig.clone())).await.unwrap().status().as_u16(),
        200
    );
    assert_eq!(sendable(&store, Channel::WhatsApp).await, 0);
    assert_eq!(
        post(Some(sig)).await.unwrap().status().as_u16(),
        200,
        "a replay is acknowledged"
    );
    let d = store
        .subscriber_detail(SubscriberId(1))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        d.consents
            .iter()
            .filter(|c| c.status == ConsentStatus::Withdrawn)
            .count(),
        1
    );

    let tg = r#"{"update_id":7,"message":{"message_id":3,"chat":{"id":4242,"type":"private"},"date":9,"text":"/stop"}}"#;
    let wrong = http
        .post(format!("{base}/webhooks/telegram/{account}"))
        .header("X-Telegram-Bot-Api-Secret-Token", "tg-secret")
        .body(tg)
        .send()
        .await
        .unwrap();
    assert_eq!(
        wrong.status().as_u16(),
        404,
        "the account is WhatsApp, not Telegram"
    );
    let unsigned = http
        .post(format!("{base}/webhooks/telegram/{account}"))
        .body(tg)
        .send()
        .await
        .unwrap();
    assert_eq!(unsigned.status().as_u16(), 401);
}

#[tokio::test]
async fn instagram_webhooks_open_the_window_and_honour_stop() {
    use cleverplatform::inbound::server::{WebhookSettings, router};
    let (dir, store, _) = workspace().await;
    let csv = dir.path().join("ig.csv");
    std::fs::write(
        &csv,
        "instagram_id,name,consent\n17841400000000005,Ig person,yes\n",
    )
    .unwrap();
    let opts = import_options();
    import_file(&store, &csv, &opts, |_| {}).await.unwrap();
    add_account(
        &store,
        Channel::Instagram,
        serde_json::json!({ "ig_user_id": "1784" }),
    )
    .await;
    assert_eq!(sendable(&store, Channel::Instagram).await, 1);
    let app = router(
        store.clone(),
        WebhookSettings {
            verify_token: "v".into(),
            app_secret: b"app-secret".to_vec(),
            telegram_secret: "t".into(),
            extra_keywords: vec![],
        },
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let body = r#"{"object":"instagram","entry":[{"id":"1784","time":1,"messaging":[{"sender":{"id":"17841400000000005"},"recipient":{"id":"1784"},"timestamp":1764000000000,"message":{"mid":"m1","text":"stop"}}]}]}"#;
    let res = reqwest::Client::new()
        .post(format!("{base}/webhooks/instagram"))
        .header(
            "X-Hub-Signature-256",
            webhooks::meta_signature(b"app-secret", body.as_bytes()),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(sendable(&store, Channel::Instagram).await, 0);
}

/// Waits for a condition the emulators bring about asynchronously (webhooks in flight);
/// bounded so a broken path fails instead of hanging.
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..400 {
        if check().await {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("never happened: {what}");
}

/// The emulators' own webhooks reach the console's endpoints, signed: statuses arrive
/// shuffled and repeated and are kept once each; a subscriber's STOP suppresses them.
#[tokio::test]
async fn sandbox_statuses_and_stop_replies_flow_back() {
    use cleverplatform::channels::Outcome;
    use cleverplatform::channels::client::{Client, Message, Target};
    use cleverplatform::inbound::server::{WebhookSettings, serve};
    use cleverplatform::sandbox::{self, SandboxOptions, WebhookTarget};

    let (dir, store, _) = workspace().await;
    let csv = dir.path().join("more.csv");
    std::fs::write(&csv, "phone,name,consent\n+77011230700,Ерлан,yes\n").unwrap();
    import_file(&store, &csv, &import_options(), |_| {})
        .await
        .unwrap();
    let mut tx = store.begin().await.unwrap();
    sqlx::query("UPDATE accounts SET settings = '{\"phone_number_id\":\"555000111\"}'")
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let settings = WebhookSettings::one_time(vec![]);
    let secret = settings.app_secret.clone();
    let (addr, _server) = serve(store.clone(), settings, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let sb = sandbox::start(
        "127.0.0.1:0".parse().unwrap(),
        SandboxOptions {
            webhook: Some(WebhookTarget {
                url: format!("http://{addr}/webhooks"),
                app_secret: secret,
            }),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let target = Target {
        channel: Channel::WhatsApp,
        base_url: sb.base_url(),
        api_version: "v23.0".into(),
        token: "t".into(),
        phone_number_id: "555000111".into(),
    };
    let client = Client::new(std::time::Duration::from_secs(5)).unwrap();
    let id = |o: Outcome| match o {
        Outcome::Sent { provider_id } => provider_id,
        other => panic!("not sent: {other:?}"),
    };
    let read = id(client
        .send(&target, "+77011234567", &Message::Text("Привет".into()))
        .await);
    let failed = id(client
        .send(&target, "+77011230500", &Message::Text("x".into()))
        .await);
    let before = sendable(&store, Channel::WhatsApp).await;
    assert_eq!(before, 2);
    id(client
        .send(&target, "+77011230700", &Message::Text("Акция".into()))
        .await);

    eventually("the first message read", || async {
        let s = store
            .delivery_statuses(Channel::WhatsApp, &read)
            .await
            .unwrap();
        s.len() == 3
    })
    .await;
    let mut got: Vec<String> = store
        .delivery_statuses(Channel::WhatsApp, &read)
        .await
        .unwrap()
        .into_iter()
        .map(|(s, _)| s)
        .collect();
    got.sort();
    assert_eq!(got, ["delivered", "read", "sent"], "each status kept once");
    eventually("the failed status", || async {
        store
            .delivery_statuses(Channel::WhatsApp, &failed)
            .await
            .unwrap()
            .contains(&("failed".to_string(), Some(131026)))
    })
    .await;
    eventually("the STOP reply suppresses", || async {
        sendable(&store, Channel::WhatsApp).await == 1
    })
    .await;

    // The same recipient again within six seconds: the pair limit.
    assert!(matches!(
        client
            .send(&target, "+77011234567", &Message::Text("again".into()))
            .await,
        Outcome::RetryRecipient(_)
    ));
}

/// Telegram updates by long poll: `/stop` and a block both suppress, each once, and the
/// offset is kept so nothing is read twice.
#[tokio::test]
async fn telegram_updates_by_long_poll_honour_stop_and_blocks() {
    use cleverplatform::channels::client::{Client, Message};
    use cleverplatform::inbound::telegram::{Polled, poll_once};
    use cleverplatform::sandbox::{self, SandboxOptions};
    use std::time::Duration;

    let (dir, store, _) = workspace().await;
    let csv = dir.path().join("tg.csv");
    std::fs::write(
        &csv,
        "telegram_chat_id,name,consent\n100200700,Асель,yes\n100200701,Данияр,yes\n",
    )
    .unwrap();
    import_file(&store, &csv, &import_options(), |_| {})
        .await
        .unwrap();
    assert_eq!(sendable(&store, Channel::Telegram).await, 3);
    let sb = sandbox::start("127.0.0.1:0".parse().unwrap(), SandboxOptions::default())
        .await
        .unwrap();
    let bot = {
        let mut tx = store.begin().await.unwrap();
        let id = cleverplatform::store::accounts::insert(
            &mut tx,
            &cleverplatform::store::accounts::NewAccount {
                channel: Channel::Telegram,
                name: "bot",
                settings: serde_json::json!({}),
                secret: "7000001:AAsandbox",
                base_url: Some(&sb.base_url()),
                api_version: None,
                sandbox: true,
                rate_per_sec: None,
                wa_daily_tier: None,
            },
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        id
    };
    let client = Client::new(Duration::from_secs(5)).unwrap();
    let (_, target) = cleverplatform::engine::target(&store, bot)
        .await
        .unwrap()
        .unwrap();
    for chat in ["100200700", "100200701"] {
        let o = client
            .send(&target, chat, &Message::Text("Акция".into()))
            .await;
        assert_eq!(o.class(), "sent");
    }
    let polled = poll_once(&store, &client, bot, Duration::from_secs(5), &[])
        .await
        .unwrap();
    assert_eq!(polled, Polled::Applied(2));
    assert_eq!(sendable(&store, Channel::Telegram).await, 1);
    // Nothing new: an empty poll, and the offset means the two are not read again.
    let polled = poll_once(&store, &client, bot, Duration::ZERO, &[])
        .await
        .unwrap();
    assert_eq!(polled, Polled::Applied(0));
    // A subscriber writes in (not an opt-out): applied once, nothing suppressed.
    reqwest::Client::new()
        .post(format!("{}/_sandbox/inbound", sb.base_url()))
        .json(&serde_json::json!({ "channel": "telegram", "account": "7000001", "from": "4242", "text": "Когда доставка?" }))
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap();
    let polled = poll_once(&store, &client, bot, Duration::from_secs(5), &[])
        .await
        .unwrap();
    assert_eq!(polled, Polled::Applied(1));
    assert_eq!(sendable(&store, Channel::Telegram).await, 1);
}

/// A reply to an opt-out is marked as going out before its request: if its answer is never
/// recorded (the engine dies, the database stays busy) it is not sent a second time, and
/// the Accounts pane's count says why.
#[tokio::test]
async fn an_opt_out_reply_whose_answer_is_lost_is_not_sent_twice() {
    use cleverplatform::store::inbound::{
        REPLY_UNRECORDED, ReplyResult, pending_replies, queue_reply, replies_since, reply_done,
        reply_sending,
    };
    let (_dir, store, account) = workspace().await;
    let since = chrono::Utc::now() - chrono::Duration::hours(1);
    let mut tx = store.begin().await.unwrap();
    queue_reply(&mut tx, account, Channel::WhatsApp, "+77011234567")
        .await
        .unwrap();
    queue_reply(&mut tx, account, Channel::WhatsApp, "+77011234568")
        .await
        .unwrap();
    let pending = pending_replies(&mut tx, 20).await.unwrap();
    assert_eq!(pending.len(), 2);
    let (lost, failed) = (&pending[0], &pending[1]);
    assert!(
        reply_sending(&mut tx, lost.id, lost.attempts)
            .await
            .unwrap()
    );
    // A second engine reading the same row before the mark cannot take it too.
    assert!(
        !reply_sending(&mut tx, lost.id, lost.attempts)
            .await
            .unwrap()
    );
    // The second goes out and fails: one attempt counted, tried again.
    assert!(
        reply_sending(&mut tx, failed.id, failed.attempts)
            .await
            .unwrap()
    );
    reply_done(
        &mut tx,
        failed.id,
        failed.attempts,
        ReplyResult::Failed("refused"),
    )
    .await
    .unwrap();
    // The first one's answer never came back: it is not pending any more.
    let pending = pending_replies(&mut tx, 20).await.unwrap();
    assert_eq!(
        pending
            .iter()
            .map(|p| (p.id, p.attempts))
            .collect::<Vec<_>>(),
        [(failed.id, 1)]
    );
    let counts = replies_since(&mut tx, since).await.unwrap();
    let (_, r) = &counts[0];
    assert_eq!((r.sent, r.waiting, r.not_sent), (0, 1, 1), "{r:?}");
    // The newest not sent is the failed one, waiting; the lost one is named on its own.
    assert_eq!(r.last_error.as_deref(), Some("refused"));
    let lost_error: Option<String> =
        sqlx::query_scalar("SELECT error FROM opt_out_replies WHERE id = ?")
            .bind(lost.id)
            .fetch_one(&mut *tx)
            .await
            .unwrap();
    assert_eq!(lost_error.as_deref(), Some(REPLY_UNRECORDED));
    // The retry goes through: sent, its error cleared.
    reply_done(&mut tx, failed.id, 1, ReplyResult::Sent)
        .await
        .unwrap();
    let counts = replies_since(&mut tx, since).await.unwrap();
    assert_eq!(
        (counts[0].1.sent, counts[0].1.waiting, counts[0].1.not_sent),
        (1, 0, 1)
    );
    tx.commit().await.unwrap();
}
