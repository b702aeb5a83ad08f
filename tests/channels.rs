//! The channel clients against the loopback emulators over real HTTP: every class of
//! outcome, health checks, ambiguity, and answers that are not the platform's.

use cleverplatform::channels::Outcome;
use cleverplatform::channels::client::{Client, Message, Target};
use cleverplatform::domain::Channel;
use cleverplatform::sandbox::{self, SandboxOptions};
use std::time::Duration;

async fn sandbox() -> sandbox::Running {
    sandbox::start("127.0.0.1:0".parse().unwrap(), SandboxOptions::default())
        .await
        .unwrap()
}

fn target(channel: Channel, base: &str, token: &str) -> Target {
    Target {
        channel,
        base_url: base.to_string(),
        api_version: "v23.0".into(),
        token: token.into(),
        phone_number_id: "106540352242922".into(),
    }
}

/// Serves `app` on a local port, with each request's peer address (`ConnectInfo`); its base
/// URL.
async fn serve(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    base
}

fn client() -> Client {
    Client::new(Duration::from_secs(5)).unwrap()
}

fn text(t: &str) -> Message {
    Message::Text(t.into())
}

#[tokio::test]
async fn whatsapp_outcomes_follow_the_magic_recipients() {
    let sb = sandbox().await;
    let wa = target(Channel::WhatsApp, &sb.base_url(), "EAAGsandbox");
    let c = client();
    match c
        .send(&wa, "+77011234567", &text("Сәлеметсіз бе! 🎉"))
        .await
    {
        Outcome::Sent { provider_id } => assert!(provider_id.starts_with("wamid.")),
        other => panic!("{other:?}"),
    }
    let template = Message::Template {
        name: "promo".into(),
        language: "ru".into(),
        params: vec!["Айгерим".into()],
    };
    assert!(matches!(
        c.send(&wa, "+77011234568", &template).await,
        Outcome::Sent { .. }
    ));
    // WhatsApp paces each recipient: a second message within six seconds is refused.
    assert_eq!(
        c.send(&wa, "+77011234567", &text("again")).await.class(),
        "retry_recipient"
    );
    for (to, class) in [
        ("+77010000429", "retry_account"),
        ("+77010001056", "retry_recipient"),
        ("+77010001026", "permanent"),
        ("+77010001047", "permanent"),
        ("+77010001048", "account_halt"),
        ("+77010001050", "opt_out"),
        ("+77010000368", "account_halt"),
        ("+77010001000", "retry_account"),
    ] {
        assert_eq!(c.send(&wa, to, &text("x")).await.class(), class, "{to}");
    }
    let revoked = target(Channel::WhatsApp, &sb.base_url(), "revoked-token");
    assert_eq!(
        c.send(&revoked, "+77011234567", &text("x")).await.class(),
        "account_halt"
    );
    let h = c.health(&wa).await;
    assert!(
        h.ok && h.detail.contains("TIER_10K") && h.wa_tier == Some(10_000),
        "{h:?}"
    );
    assert!(!c.health(&revoked).await.ok);
}

/// WhatsApp's throughput per number: with a limit of 3 a second, the fourth send within one
/// second is slowed (130429); checked strictly only when the sends fell within a second.
#[tokio::test]
async fn whatsapp_throughput_per_number_is_enforced() {
    let sb = sandbox::start(
        "127.0.0.1:0".parse().unwrap(),
        SandboxOptions {
            whatsapp_per_second: 3,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let wa = target(Channel::WhatsApp, &sb.base_url(), "EAAGsandbox");
    let c = client();
    let started = std::time::Instant::now();
    let mut classes = Vec::new();
    for i in 0..6 {
        classes.push(
            c.send(&wa, &format!("+7701555000{i}"), &text("x"))
                .await
                .class(),
        );
    }
    if started.elapsed() < std::time::Duration::from_millis(900) {
        assert_eq!(
            classes.iter().filter(|c| **c == "sent").count(),
            3,
            "{classes:?}"
        );
        assert!(
            classes[3..].iter().all(|c| *c == "retry_account"),
            "{classes:?}"
        );
    }
    assert!(
        classes
            .iter()
            .all(|c| *c == "sent" || *c == "retry_account"),
        "{classes:?}"
    );
}

#[tokio::test]
async fn telegram_paces_chats_and_reports_blocks() {
    let sb = sandbox().await;
    let tg = target(
        Channel::Telegram,
        &sb.base_url(),
        "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw",
    );
    let c = client();
    assert!(matches!(
        c.send(&tg, "100200300", &text("Привет 👋")).await,
        Outcome::Sent { .. }
    ));
    assert_eq!(
        c.send(&tg, "100200300", &text("again")).await,
        Outcome::RetryRecipient(Duration::from_secs(1)),
        "one message a second per chat"
    );
    assert_eq!(
        c.send(&tg, "100200403", &text("x")).await.class(),
        "opt_out"
    );
    assert_eq!(
        c.send(&tg, "100200404", &text("x")).await.class(),
        "permanent"
    );
    assert_eq!(
        c.send(&tg, "100200777", &text("x")).await.class(),
        "permanent"
    );
    assert_eq!(
        c.send(&tg, "not-a-chat", &text("x")).await.class(),
        "permanent"
    );
    let h = c.health(&tg).await;
    assert!(h.ok && h.detail == "@sandbox_bot", "{h:?}");
    let bad = target(Channel::Telegram, &sb.base_url(), "revoked:x");
    assert_eq!(
        c.send(&bad, "100200300", &text("x")).await.class(),
        "account_halt"
    );
    assert!(!c.health(&bad).await.ok);
}

#[tokio::test]
async fn instagram_window_rule() {
    let sb = sandbox().await;
    let ig = target(Channel::Instagram, &sb.base_url(), "IGQVJsandbox");
    let c = client();
    assert!(matches!(
        c.send(&ig, "17841400000000001", &text("Hi")).await,
        Outcome::Sent { .. }
    ));
    match c.send(&ig, "17841400000000022", &text("Hi")).await {
        Outcome::Permanent { code, .. } => assert_eq!(code, "10/2534022"),
        other => panic!("{other:?}"),
    }
    assert!(c.health(&ig).await.ok);
}

/// With the strict window, only people who wrote in the last 24 hours can be answered.
#[tokio::test]
async fn instagram_strict_window_opens_when_the_user_writes() {
    let sb = sandbox::start(
        "127.0.0.1:0".parse().unwrap(),
        SandboxOptions {
            instagram_strict_window: true,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let ig = target(Channel::Instagram, &sb.base_url(), "IGQVJsandbox");
    let c = client();
    let user = "17841400000000005";
    assert_eq!(c.send(&ig, user, &text("Hi")).await.class(), "permanent");
    reqwest::Client::new()
        .post(format!("{}/_sandbox/inbound", sb.base_url()))
        .json(&serde_json::json!({ "channel": "instagram", "account": "17841405822304914", "from": user, "text": "Здравствуйте! 👋" }))
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap();
    assert_eq!(c.send(&ig, user, &text("Ответ")).await.class(), "sent");
}

#[tokio::test]
async fn accepted_but_unanswered_is_ambiguous_and_recorded() {
    let sb = sandbox().await;
    let wa = target(Channel::WhatsApp, &sb.base_url(), "EAAGsandbox");
    let c = Client::new(Duration::from_millis(500)).unwrap();
    assert_eq!(
        c.send(&wa, "+77019999999", &text("maybe")).await.class(),
        "ambiguous"
    );
    let lines = reqwest::get(format!("{}/_sandbox/messages", sb.base_url()))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        lines.contains("\"recipient\":\"+77019999999\""),
        "the platform has it: {lines}"
    );
    let stats: serde_json::Value = reqwest::get(format!("{}/_sandbox/stats", sb.base_url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stats["total"], 1);
}

#[tokio::test]
async fn nothing_listening_is_retried_later() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let wa = target(
        Channel::WhatsApp,
        &format!("http://127.0.0.1:{port}"),
        "EAAG",
    );
    assert_eq!(
        client().send(&wa, "+77011234567", &text("x")).await.class(),
        "retry_account"
    );
}

/// A proxy in front of the API: HTML error pages, an empty 200, a 50 MB answer.
#[tokio::test]
async fn answers_that_are_not_the_platforms() {
    use axum::routing::{get, post};
    let app = axum::Router::new()
        .route(
            "/v23.0/{id}/messages",
            post(
                |axum::extract::Path(id): axum::extract::Path<String>| async move {
                    match id.as_str() {
                        "html502" => (
                            axum::http::StatusCode::BAD_GATEWAY,
                            "<html><body>502 Bad Gateway</body></html>".to_string(),
                        ),
                        "html200" => (
                            axum::http::StatusCode::OK,
                            "<!DOCTYPE html><p>Portal</p>".to_string(),
                        ),
                        "huge" => (axum::http::StatusCode::OK, "x".repeat(50 << 20)),
                        _ => (
                            axum::http::StatusCode::OK,
                            "{\"unexpected\":true}".to_string(),
                        ),
                    }
                },
            ),
        )
        .route("/v23.0/{id}", get(|| async { "x".repeat(50 << 20) }));
    let base = serve(app).await;
    let c = client();
    let mut t = target(Channel::WhatsApp, &base, "EAAG");
    for (id, class) in [
        ("html502", "retry_account"),
        ("html200", "ambiguous"),
        ("huge", "ambiguous"),
        ("odd", "ambiguous"),
    ] {
        t.phone_number_id = id.into();
        assert_eq!(
            c.send(&t, "+77011234567", &text("x")).await.class(),
            class,
            "{id}"
        );
    }
    // A health check answered with 50 MB and a 200 is no working token.
    t.phone_number_id = "huge".into();
    let health = c.health(&t).await;
    assert!(!health.ok, "{health:?}");
    assert!(
        health
            .detail
            .contains("HTTP 200 with an answer over 1024 KiB, not the platform's: check the account's base URL"),
        "{}",
        health.detail
    );
}

/// Answers with heads of kilobytes (Meta's can pass one) and long bodies are read whole,
/// again and again on one kept-alive connection.
#[tokio::test]
async fn long_answers_are_read_whole() {
    use axum::routing::{get, post};
    let long_head = || {
        [
            ("x-fb-debug", "d".repeat(3000)),
            ("x-business-use-case-usage", "u".repeat(9000)),
        ]
    };
    let name = "Ақжол ".repeat(40_000);
    let id = format!("wamid.{}", "x".repeat(30_000));
    let app = axum::Router::new()
        .route(
            "/v23.0/{id}",
            get({
                let name = name.clone();
                move || async move {
                    (
                        long_head(),
                        serde_json::json!({
                            "display_phone_number": "+7 701 000", "verified_name": name,
                            "quality_rating": "GREEN", "messaging_limit_tier": "TIER_1K",
                        })
                        .to_string(),
                    )
                }
            }),
        )
        .route(
            "/v23.0/{id}/messages",
            post({
                let id = id.clone();
                move || async move {
                    (
                        long_head(),
                        serde_json::json!({ "messages": [{ "id": id }] }).to_string(),
                    )
                }
            }),
        );
    let base = serve(app).await;
    let (c, wa) = (client(), target(Channel::WhatsApp, &base, "EAAG"));
    for _ in 0..3 {
        let health = c.health(&wa).await;
        assert!(health.ok, "{}", health.detail);
        assert!(health.detail.contains(&name), "{}", health.detail.len());
        assert_eq!(health.wa_tier, Some(1000));
        assert_eq!(
            c.send(&wa, "+77011234567", &text("x")).await,
            Outcome::Sent {
                provider_id: id.clone()
            }
        );
    }
}

/// Sends reuse kept-alive connections, concurrent ones open more, and a connection the server
/// closes after its answer (`Connection: close`) is never used again: every send goes through.
#[tokio::test]
async fn connections_are_kept_alive_and_closed_ones_never_reused() {
    use axum::extract::{ConnectInfo, Path, State};
    use std::collections::HashSet;
    use std::net::SocketAddr;
    use std::sync::{Arc, Mutex};
    type Peers = Arc<Mutex<HashSet<SocketAddr>>>;
    let peers = Peers::default();
    let app = axum::Router::new()
        .route(
            "/v23.0/{id}/messages",
            axum::routing::post(
                |State(peers): State<Peers>,
                 ConnectInfo(peer): ConnectInfo<SocketAddr>,
                 Path(id): Path<String>| async move {
                    peers.lock().unwrap().insert(peer);
                    let close = if id == "close" { "close" } else { "keep-alive" };
                    (
                        [(axum::http::header::CONNECTION, close)],
                        "{\"messages\":[{\"id\":\"wamid.1\"}]}",
                    )
                },
            ),
        )
        .with_state(peers.clone());
    let base = serve(app).await;
    let c = client();
    let connections = || peers.lock().unwrap().len();
    let sent = |o: Outcome| assert_eq!(o.class(), "sent", "{o:?}");
    let mut t = target(Channel::WhatsApp, &base, "EAAG");
    t.phone_number_id = "keep".into();
    for _ in 0..20 {
        sent(c.send(&t, "+77011234567", &text("x")).await);
    }
    assert_eq!(
        connections(),
        1,
        "one connection carries sends one after another"
    );
    t.phone_number_id = "close".into();
    for _ in 0..5 {
        sent(c.send(&t, "+77011234567", &text("x")).await);
    }
    // The first went on the kept-alive connection, which the server then closed; each next
    // one needed a new connection.
    assert_eq!(connections(), 5);
    t.phone_number_id = "keep".into();
    let m = text("x");
    let at_once = (0..8).map(|_| c.send(&t, "+77011234567", &m));
    futures::future::join_all(at_once)
        .await
        .into_iter()
        .for_each(sent);
    assert_eq!(connections(), 13, "sends at once, a connection each");
    for _ in 0..20 {
        sent(c.send(&t, "+77011234567", &text("x")).await);
    }
    assert_eq!(connections(), 13, "the connections opened stay open");
}

/// `https://` to something that does not speak TLS: the account halts with a clear reason.
#[tokio::test]
async fn tls_failures_halt_the_account_with_a_clear_message() {
    let sb = sandbox().await;
    let wa = target(
        Channel::WhatsApp,
        &sb.base_url().replace("http://", "https://"),
        "EAAG",
    );
    match client().send(&wa, "+77011234567", &text("x")).await {
        Outcome::AccountHalt { code, reason } => {
            assert_eq!(code, "tls");
            assert!(reason.contains("TLS failed"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    let h = client().health(&wa).await;
    assert!(!h.ok && h.detail.contains("TLS failed"), "{h:?}");
}

/// Telegram's 30 messages a second per bot, over many chats.
#[tokio::test]
async fn telegram_limits_a_bot_to_thirty_a_second() {
    let sb = sandbox().await;
    let tg = target(
        Channel::Telegram,
        &sb.base_url(),
        "987654321:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw",
    );
    let c = client();
    let mut sent = 0;
    let mut slowed = 0;
    let started = std::time::Instant::now();
    for chat in 0..40 {
        match c.send(&tg, &format!("5000{chat:03}1"), &text("x")).await {
            Outcome::Sent { .. } => sent += 1,
            Outcome::RetryRecipient(_) | Outcome::RetryAfter(_) => slowed += 1,
            other => panic!("{other:?}"),
        }
    }
    // Every send is answered, as sent or as "slow down". The window itself is tested without
    // a clock in the sandbox's unit tests; here, forty sends that all fell in one second must
    // have been held to thirty.
    assert_eq!(sent + slowed, 40);
    assert!(sent >= 30, "sent {sent}");
    if started.elapsed() < Duration::from_millis(900) {
        assert_eq!(sent, 30, "the limit holds within one second");
    }
}

/// With a proxy, requests go to it and it reaches the platform: here the emulator is the
/// proxy (it answers a request for another host by its path), and the platform's host does
/// not exist. A proxy that cannot be reached leaves the send to be tried later, and its
/// words never name a bot's token.
#[tokio::test]
async fn requests_go_through_a_proxy_when_one_is_set() {
    let sb = sandbox().await;
    let proxied = Client::with_proxy(Duration::from_secs(5), &sb.base_url()).unwrap();
    let wa = target(Channel::WhatsApp, "http://graph.platform.invalid", "EAAG");
    match proxied
        .send(&wa, "+77011234567", &text("через прокси"))
        .await
    {
        Outcome::Sent { provider_id } => {
            assert!(provider_id.starts_with("wamid."), "{provider_id}")
        }
        other => panic!("{other:?}"),
    }
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let unreachable =
        Client::with_proxy(Duration::from_secs(5), &format!("http://127.0.0.1:{port}")).unwrap();
    let token = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw";
    let tg = target(Channel::Telegram, "http://api.platform.invalid", token);
    let Outcome::RetryAfter(_) = unreachable.send(&tg, "42", &text("x")).await else {
        panic!("an unreachable proxy slows the account");
    };
    let health = unreachable.health(&tg).await;
    assert!(!health.ok);
    assert!(
        !health.detail.contains("AAHdqTcv") && health.detail.contains("bot••••••••/getMe"),
        "{}",
        health.detail
    );
}
