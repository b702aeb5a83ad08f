//! Loopback emulators of the WhatsApp Cloud, Telegram Bot and Instagram Messaging APIs, for
//! the demo, the tests and the benchmarks; `clever sandbox serve` runs them standalone.
//!
//! They check the token and the body like the real APIs, answer with the platforms' real
//! success and error bodies, pace Telegram at one message a second per chat and 30 a second
//! per bot and WhatsApp at 80 a second per number and one message per recipient every six
//! seconds (error 131056), and record every
//! accepted message (`GET /_sandbox/messages`, JSON lines; `GET /_sandbox/stats`) so a test
//! can prove that nothing was sent twice and nothing was lost.
//!
//! Magic values, like payment test cards (the ending of the recipient decides):
//!
//! | channel | recipient ends in | answer |
//! |---|---|---|
//! | WhatsApp | `0429` | 429, error 130429 (throughput) |
//! | WhatsApp | `1056` | 400, error 131056 (pair rate limit) |
//! | WhatsApp | `1026` | 400, error 131026 (undeliverable) |
//! | WhatsApp | `1047` | 400, error 131047 (outside the 24 h window) |
//! | WhatsApp | `1048` | 400, error 131048 (spam rate limit: halts the account) |
//! | WhatsApp | `1050` | 400, error 131050 (the user stopped marketing) |
//! | WhatsApp | `0368` | 400, error 368 (policy block) |
//! | WhatsApp | `1000` | 500, error 131000 |
//! | Telegram | `403` | 403, bot was blocked by the user |
//! | Telegram | `404` | 400, chat not found |
//! | Telegram | `777` | 403, user is deactivated |
//! | Instagram | `022` | 400, error 10 / 2534022 (outside the window) |
//! | Instagram | `551` | 400, error 551 |
//! | WhatsApp | `0500` | accepted, then a `failed` status webhook with error 131026 |
//! | WhatsApp | `0700` | accepted, then the recipient answers "STOP" |
//! | Instagram | `700` | accepted, then the recipient answers "STOP" |
//! | Telegram | `700` | accepted, then the chat sends `/stop` (an update) |
//! | Telegram | `701` | accepted, then the user blocks the bot (`my_chat_member` kicked) |
//! | any | `9999` | accepted and recorded, then no answer (for ambiguity tests) |
//!
//! A WhatsApp phone number id ending in `0250` reports the messaging tier `TIER_250` to the
//! health check; every other one `TIER_10K`.
//!
//! With a webhook target set, every accepted WhatsApp message gets its status webhooks
//! (`sent`, `delivered`, `read`, or `failed`), shuffled and sometimes repeated, signed with
//! `X-Hub-Signature-256`; inbound messages go to `{url}/whatsapp` and `{url}/instagram`.
//! Telegram updates wait for `getUpdates` (long poll with `offset`, `limit`, `timeout`).
//! `POST /_sandbox/inbound {"channel","account","from","text"}` makes a subscriber write in
//! (`account` is the phone number id, the Instagram account id or the bot id); with
//! `instagram_strict_window`, Instagram answers only those who wrote in the last 24 hours.
//!
//! A token starting with `revoked` is refused as the real API refuses an expired one.
//!
//! The same server emulates the registries counterparty checks ask ([`registry`]).

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use rand::RngExt;
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

mod emit;
pub mod registry;
pub use emit::WebhookTarget;

/// How the emulators behave.
#[derive(Debug, Clone)]
pub struct SandboxOptions {
    /// Added to every answer.
    pub latency: Duration,
    /// Share of sends answered with a transient server error (0.0–1.0).
    pub fault_rate: f64,
    /// Share of sends accepted and recorded but never answered (0.0–1.0).
    pub drop_response_rate: f64,
    /// WhatsApp messages a second per phone number before error 130429.
    pub whatsapp_per_second: u32,
    /// The least time between two WhatsApp messages to one recipient before error 131056.
    pub whatsapp_pair_spacing: Duration,
    /// Where status webhooks and inbound messages go; none are sent without one.
    pub webhook: Option<WebhookTarget>,
    /// Instagram answers only people who wrote in the last 24 hours (`/_sandbox/inbound`);
    /// off, everyone but the magic `022` endings counts as having written.
    pub instagram_strict_window: bool,
}

impl Default for SandboxOptions {
    fn default() -> SandboxOptions {
        SandboxOptions {
            latency: Duration::ZERO,
            fault_rate: 0.0,
            drop_response_rate: 0.0,
            whatsapp_per_second: WHATSAPP_PER_SECOND,
            whatsapp_pair_spacing: WHATSAPP_PAIR_SPACING,
            webhook: None,
            instagram_strict_window: false,
        }
    }
}

/// WhatsApp's default throughput per phone number.
pub const WHATSAPP_PER_SECOND: u32 = 80;
/// WhatsApp's pacing per recipient (about one message every six seconds).
pub const WHATSAPP_PAIR_SPACING: Duration = Duration::from_secs(6);
/// The Instagram professional account id the sandbox answers `me` with.
pub const INSTAGRAM_ACCOUNT_ID: &str = "17841405822304914";

/// One accepted message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Recorded {
    pub id: String,
    pub channel: &'static str,
    pub account: String,
    pub recipient: String,
    pub text: String,
    pub at_ms: u128,
}

#[derive(Default)]
struct Shared {
    messages: Vec<Recorded>,
    last_per_chat: HashMap<String, Instant>,
    /// Per bot: sends in the current one-second window.
    per_bot: HashMap<String, Window>,
    /// Per WhatsApp phone number: sends in the current one-second window.
    per_number: HashMap<String, Window>,
    /// Per (phone number, recipient): the last accepted send.
    last_per_pair: HashMap<(String, String), Instant>,
    /// Per Instagram user: when they last wrote (opens the 24-hour window).
    instagram_wrote: HashMap<String, Instant>,
}

/// A fixed one-second window admitting at most `limit` events.
#[derive(Debug, Clone, Copy)]
struct Window {
    start: Instant,
    count: u32,
}

impl Window {
    fn new(now: Instant) -> Window {
        Window {
            start: now,
            count: 0,
        }
    }

    /// Admits an event at `now` unless `limit` were admitted in this second already.
    fn admit(&mut self, now: Instant, limit: u32) -> bool {
        if now.saturating_duration_since(self.start) >= Duration::from_secs(1) {
            *self = Window::new(now);
        }
        if self.count >= limit {
            return false;
        }
        self.count += 1;
        true
    }
}

/// Telegram's limit of messages a second per bot, over all chats.
pub const TELEGRAM_PER_BOT_PER_SECOND: u32 = 30;

#[derive(Clone)]
struct Sandbox {
    options: SandboxOptions,
    shared: Arc<Mutex<Shared>>,
    started: Instant,
    emitter: Option<emit::Emitter>,
    updates: Arc<emit::Updates>,
}

/// A running sandbox.
pub struct Running {
    pub addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    /// The base URL to give accounts, e.g. `http://127.0.0.1:39157`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts the emulators on `listen` (port 0 picks a free one).
pub async fn start(listen: SocketAddr, options: SandboxOptions) -> std::io::Result<Running> {
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let addr = listener.local_addr()?;
    let app = router(options);
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(Running { addr, task })
}

/// The emulators' routes.
pub fn router(options: SandboxOptions) -> Router {
    let state = Sandbox {
        emitter: options.webhook.clone().map(emit::Emitter::new),
        options,
        shared: Arc::new(Mutex::new(Shared::default())),
        started: Instant::now(),
        updates: Arc::default(),
    };
    // Paths share their shape across platforms, so one route per shape dispatches.
    Router::new()
        .route("/{first}/{second}/messages", post(send_three))
        .route("/{first}/{second}", get(get_two).post(telegram))
        .route("/_sandbox/messages", get(messages))
        .route("/_sandbox/stats", get(stats))
        .route("/_sandbox/inbound", post(inbound))
        .with_state(state)
        .merge(registry::routes())
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get("authorization")?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .filter(|t| !t.is_empty())
}

fn meta_error(status: StatusCode, code: i64, subcode: Option<i64>, message: &str) -> Response {
    let mut error = json!({
        "message": format!("({code}) {message}"),
        "type": "OAuthException",
        "code": code,
        "fbtrace_id": "Sandbox",
    });
    if let Some(s) = subcode {
        error["error_subcode"] = json!(s);
    }
    (status, axum::Json(json!({ "error": error }))).into_response()
}

impl Sandbox {
    async fn pause(&self) {
        if !self.options.latency.is_zero() {
            tokio::time::sleep(self.options.latency).await;
        }
    }

    fn roll(&self, share: f64) -> bool {
        share > 0.0 && rand::rng().random_bool(share.min(1.0))
    }

    fn record(&self, channel: &'static str, account: &str, recipient: &str, text: &str) -> String {
        let id = match channel {
            "whatsapp" => format!("wamid.{:024x}", rand::rng().random::<u128>() >> 32),
            "telegram" => format!("{}", rand::rng().random_range(1..i32::MAX)),
            _ => format!("aWdf{:020x}", rand::rng().random::<u128>() >> 48),
        };
        let mut shared = self.shared.lock().unwrap_or_else(|e| e.into_inner());
        shared.messages.push(Recorded {
            id: id.clone(),
            channel,
            account: account.to_string(),
            recipient: recipient.to_string(),
            text: text.to_string(),
            at_ms: self.started.elapsed().as_millis(),
        });
        id
    }

    /// Accepted, recorded, and then never answered.
    async fn hang(&self) -> Response {
        tokio::time::sleep(Duration::from_secs(3600)).await;
        StatusCode::GATEWAY_TIMEOUT.into_response()
    }
}

/// `POST /{version}/me/messages` (Instagram) or `/{version}/{phone_number_id}/messages`.
async fn send_three(
    state: State<Sandbox>,
    Path((version, second)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if second == "me" {
        instagram_send(state, headers, body).await
    } else {
        whatsapp_send(state, Path((version, second)), headers, body).await
    }
}

/// `GET /bot{token}/getMe`, `/{version}/me` or `/{version}/{phone_number_id}`.
async fn get_two(
    state: State<Sandbox>,
    Path((first, second)): Path<(String, String)>,
    query: Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if first.starts_with("bot") {
        telegram(state, Path((first, second)), query, body).await
    } else if second == "me" {
        instagram_me(state, headers).await
    } else {
        whatsapp_phone(state, Path((first, second)), headers).await
    }
}

async fn whatsapp_send(
    State(s): State<Sandbox>,
    Path((_version, phone_number_id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    s.pause().await;
    let Some(token) = bearer(&headers) else {
        return meta_error(
            StatusCode::UNAUTHORIZED,
            190,
            None,
            "An access token is required",
        );
    };
    if token.starts_with("revoked") {
        return meta_error(
            StatusCode::UNAUTHORIZED,
            190,
            Some(463),
            "Error validating access token: Session has expired",
        );
    }
    let Ok(req) = serde_json::from_slice::<Value>(&body) else {
        return meta_error(
            StatusCode::BAD_REQUEST,
            100,
            None,
            "Invalid parameter: the body is not JSON",
        );
    };
    let to = req["to"]
        .as_str()
        .unwrap_or_default()
        .trim_start_matches('+')
        .to_string();
    if req["messaging_product"] != "whatsapp"
        || to.is_empty()
        || !to.bytes().all(|b| b.is_ascii_digit())
    {
        return meta_error(
            StatusCode::BAD_REQUEST,
            100,
            None,
            "Invalid parameter: messaging_product and to are required",
        );
    }
    let text = match req["type"].as_str() {
        Some("text") => match req["text"]["body"].as_str() {
            Some(b) if !b.is_empty() && b.chars().count() <= 4096 => b.to_string(),
            _ => {
                return meta_error(
                    StatusCode::BAD_REQUEST,
                    100,
                    None,
                    "Invalid parameter: text.body",
                );
            }
        },
        Some("template") => match req["template"]["name"].as_str() {
            // A template that is not on the account, as a typo in its name gets.
            Some(n) if n.starts_with("missing") => {
                return meta_error(
                    StatusCode::BAD_REQUEST,
                    132001,
                    None,
                    "Template name does not exist in the translation",
                );
            }
            Some(n) if req["template"]["language"]["code"].is_string() => format!("template:{n}"),
            _ => {
                return meta_error(
                    StatusCode::BAD_REQUEST,
                    132000,
                    None,
                    "Template name or language missing",
                );
            }
        },
        _ => {
            return meta_error(
                StatusCode::BAD_REQUEST,
                100,
                None,
                "Invalid parameter: type",
            );
        }
    };
    let magic = [
        (
            "0429",
            StatusCode::TOO_MANY_REQUESTS,
            130429,
            "Rate limit hit",
        ),
        (
            "1056",
            StatusCode::BAD_REQUEST,
            131056,
            "(Business Account, Consumer Account) pair rate limit hit",
        ),
        (
            "1026",
            StatusCode::BAD_REQUEST,
            131026,
            "Message Undeliverable",
        ),
        (
            "1047",
            StatusCode::BAD_REQUEST,
            131047,
            "Re-engagement message",
        ),
        (
            "1048",
            StatusCode::BAD_REQUEST,
            131048,
            "Spam rate limit hit",
        ),
        (
            "1050",
            StatusCode::BAD_REQUEST,
            131050,
            "User has stopped marketing messages",
        ),
        (
            "0368",
            StatusCode::BAD_REQUEST,
            368,
            "Temporarily blocked for policies violations",
        ),
        (
            "1000",
            StatusCode::INTERNAL_SERVER_ERROR,
            131000,
            "Something went wrong",
        ),
    ];
    if let Some((_, status, code, msg)) = magic.iter().find(|(end, ..)| to.ends_with(end)) {
        return meta_error(*status, *code, None, msg);
    }
    {
        let mut shared = s.shared.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        let window = shared
            .per_number
            .entry(phone_number_id.clone())
            .or_insert(Window::new(now));
        if !window.admit(now, s.options.whatsapp_per_second) {
            return meta_error(
                StatusCode::TOO_MANY_REQUESTS,
                130429,
                None,
                "Rate limit hit",
            );
        }
        let pair = (phone_number_id.clone(), to.clone());
        if let Some(last) = shared.last_per_pair.get(&pair)
            && now.duration_since(*last) < s.options.whatsapp_pair_spacing
        {
            return meta_error(
                StatusCode::BAD_REQUEST,
                131056,
                None,
                "(Business Account, Consumer Account) pair rate limit hit",
            );
        }
        shared.last_per_pair.insert(pair, now);
        // Only pairs still inside their spacing matter; the rest are dropped now and then so
        // a long load test does not fill the memory.
        if shared.last_per_pair.len() > 100_000 {
            let spacing = s.options.whatsapp_pair_spacing;
            shared
                .last_per_pair
                .retain(|_, at| now.duration_since(*at) < spacing);
        }
    }
    if s.roll(s.options.fault_rate) {
        return meta_error(
            StatusCode::SERVICE_UNAVAILABLE,
            2,
            None,
            "Service temporarily unavailable",
        );
    }
    let id = s.record("whatsapp", &phone_number_id, &format!("+{to}"), &text);
    if let Some(emitter) = &s.emitter {
        let fate = if to.ends_with("0500") {
            emit::Fate::Failed {
                code: 131026,
                title: "Message undeliverable",
            }
        } else {
            emit::Fate::Read
        };
        emitter.whatsapp_statuses(&phone_number_id, &id, &to, fate);
        if to.ends_with("0700") {
            emitter.whatsapp_inbound(&phone_number_id, &to, "STOP");
        }
    }
    if to.ends_with("9999") || s.roll(s.options.drop_response_rate) {
        return s.hang().await;
    }
    axum::Json(json!({
        "messaging_product": "whatsapp",
        "contacts": [{ "input": to, "wa_id": to }],
        "messages": [{ "id": id, "message_status": "accepted" }],
    }))
    .into_response()
}

async fn whatsapp_phone(
    State(s): State<Sandbox>,
    Path((_version, phone_number_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    s.pause().await;
    match bearer(&headers) {
        Some(t) if !t.starts_with("revoked") => axum::Json(json!({
            "id": phone_number_id,
            "display_phone_number": "+7 701 000 0001",
            "verified_name": "Sandbox Business",
            "quality_rating": "GREEN",
            // A number whose id ends in 0250 is a new one, on the lowest tier.
            "messaging_limit_tier": if phone_number_id.ends_with("0250") { "TIER_250" } else { "TIER_10K" },
        }))
        .into_response(),
        _ => meta_error(
            StatusCode::UNAUTHORIZED,
            190,
            None,
            "Error validating access token",
        ),
    }
}

async fn instagram_send(State(s): State<Sandbox>, headers: HeaderMap, body: Bytes) -> Response {
    s.pause().await;
    match bearer(&headers) {
        Some(t) if !t.starts_with("revoked") => {}
        _ => {
            return meta_error(
                StatusCode::UNAUTHORIZED,
                190,
                None,
                "Invalid OAuth access token",
            );
        }
    }
    let Ok(req) = serde_json::from_slice::<Value>(&body) else {
        return meta_error(StatusCode::BAD_REQUEST, 100, None, "Invalid parameter");
    };
    let (Some(to), Some(text)) = (
        req["recipient"]["id"].as_str(),
        req["message"]["text"].as_str(),
    ) else {
        return meta_error(
            StatusCode::BAD_REQUEST,
            100,
            None,
            "recipient.id and message.text are required",
        );
    };
    let window_open = {
        let shared = s.shared.lock().unwrap_or_else(|e| e.into_inner());
        let wrote = shared
            .instagram_wrote
            .get(to)
            .is_some_and(|at| at.elapsed() < Duration::from_secs(24 * 3600));
        wrote || !s.options.instagram_strict_window
    };
    if to.ends_with("022") || !window_open {
        return meta_error(
            StatusCode::BAD_REQUEST,
            10,
            Some(2534022),
            "This message is sent outside of allowed window",
        );
    }
    if to.ends_with("551") {
        return meta_error(
            StatusCode::BAD_REQUEST,
            551,
            None,
            "This person isn't available right now",
        );
    }
    if s.roll(s.options.fault_rate) {
        return meta_error(
            StatusCode::SERVICE_UNAVAILABLE,
            2,
            None,
            "Service temporarily unavailable",
        );
    }
    let id = s.record("instagram", "me", to, text);
    if let Some(emitter) = &s.emitter
        && to.ends_with("700")
    {
        emitter.instagram_inbound(INSTAGRAM_ACCOUNT_ID, to, "STOP");
    }
    if to.ends_with("9999") || s.roll(s.options.drop_response_rate) {
        return s.hang().await;
    }
    axum::Json(json!({ "recipient_id": to, "message_id": id })).into_response()
}

async fn instagram_me(State(s): State<Sandbox>, headers: HeaderMap) -> Response {
    s.pause().await;
    match bearer(&headers) {
        Some(t) if !t.starts_with("revoked") => {
            axum::Json(json!({ "id": INSTAGRAM_ACCOUNT_ID, "username": "sandbox.shop" }))
                .into_response()
        }
        _ => meta_error(
            StatusCode::UNAUTHORIZED,
            190,
            None,
            "Invalid OAuth access token",
        ),
    }
}

fn tg_error(status: StatusCode, description: &str, retry_after: Option<u64>) -> Response {
    let mut body =
        json!({ "ok": false, "error_code": status.as_u16(), "description": description });
    if let Some(r) = retry_after {
        body["parameters"] = json!({ "retry_after": r });
    }
    (status, axum::Json(body)).into_response()
}

async fn telegram(
    State(s): State<Sandbox>,
    Path((bot, method)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
    body: Bytes,
) -> Response {
    s.pause().await;
    let Some(token) = bot.strip_prefix("bot") else {
        return tg_error(StatusCode::NOT_FOUND, "Not Found", None);
    };
    let bot_id = token.split(':').next().unwrap_or_default().to_string();
    if token.starts_with("revoked") || !token.contains(':') {
        return tg_error(StatusCode::UNAUTHORIZED, "Unauthorized", None);
    }
    match method.as_str() {
        "getMe" => axum::Json(json!({
            "ok": true,
            "result": { "id": bot_id.parse::<i64>().unwrap_or(1), "is_bot": true, "first_name": "Sandbox", "username": "sandbox_bot" },
        }))
        .into_response(),
        "sendMessage" => {
            let Ok(req) = serde_json::from_slice::<Value>(&body) else {
                return tg_error(StatusCode::BAD_REQUEST, "Bad Request: invalid JSON", None);
            };
            let chat = match &req["chat_id"] {
                Value::Number(n) => n.to_string(),
                Value::String(s) => s.clone(),
                _ => return tg_error(StatusCode::BAD_REQUEST, "Bad Request: chat_id is empty", None),
            };
            let Some(text) = req["text"].as_str().filter(|t| !t.is_empty()) else {
                return tg_error(StatusCode::BAD_REQUEST, "Bad Request: message text is empty", None);
            };
            if text.chars().count() > 4096 {
                return tg_error(StatusCode::BAD_REQUEST, "Bad Request: message is too long", None);
            }
            if chat.ends_with("403") {
                return tg_error(StatusCode::FORBIDDEN, "Forbidden: bot was blocked by the user", None);
            }
            if chat.ends_with("404") {
                return tg_error(StatusCode::BAD_REQUEST, "Bad Request: chat not found", None);
            }
            if chat.ends_with("777") {
                return tg_error(StatusCode::FORBIDDEN, "Forbidden: user is deactivated", None);
            }
            {
                let mut shared = s.shared.lock().unwrap_or_else(|e| e.into_inner());
                let now = Instant::now();
                if let Some(last) = shared.last_per_chat.get(&chat)
                    && now.duration_since(*last) < Duration::from_secs(1)
                {
                    return tg_error(StatusCode::TOO_MANY_REQUESTS, "Too Many Requests: retry after 1", Some(1));
                }
                let window = shared.per_bot.entry(bot_id.clone()).or_insert(Window::new(now));
                if !window.admit(now, TELEGRAM_PER_BOT_PER_SECOND) {
                    return tg_error(StatusCode::TOO_MANY_REQUESTS, "Too Many Requests: retry after 1", Some(1));
                }
                shared.last_per_chat.insert(chat.clone(), now);
                if shared.last_per_chat.len() > 100_000 {
                    shared
                        .last_per_chat
                        .retain(|_, at| now.duration_since(*at) < Duration::from_secs(1));
                }
            }
            if s.roll(s.options.fault_rate) {
                return tg_error(StatusCode::BAD_GATEWAY, "Bad Gateway", None);
            }
            let id = s.record("telegram", &bot_id, &chat, text);
            if let Ok(chat_id) = chat.parse::<i64>() {
                if chat.ends_with("700") {
                    s.updates.message(&bot_id, chat_id, "/stop");
                } else if chat.ends_with("701") {
                    s.updates.kicked(&bot_id, chat_id);
                }
            }
            if chat.ends_with("9999") || s.roll(s.options.drop_response_rate) {
                return s.hang().await;
            }
            axum::Json(json!({
                "ok": true,
                "result": { "message_id": id.parse::<i64>().unwrap_or(1), "chat": { "id": chat.parse::<i64>().unwrap_or(0), "type": "private" }, "date": 0, "text": text },
            }))
            .into_response()
        }
        "getUpdates" => {
            let req: Value = serde_json::from_slice(&body).unwrap_or_default();
            let number = |key: &str| {
                req[key]
                    .as_i64()
                    .or_else(|| query.get(key).and_then(|v| v.parse().ok()))
                    .unwrap_or(0)
            };
            let limit = number("limit").clamp(0, 100);
            let limit = if limit == 0 { 100 } else { limit as usize };
            let timeout = Duration::from_secs(number("timeout").clamp(0, 50) as u64);
            let updates = s.updates.get(&bot_id, number("offset"), limit, timeout).await;
            axum::Json(json!({ "ok": true, "result": updates })).into_response()
        }
        _ => tg_error(StatusCode::NOT_FOUND, "Not Found: method not found", None),
    }
}

/// `POST /_sandbox/inbound`: a subscriber writes to an account.
async fn inbound(State(s): State<Sandbox>, body: Bytes) -> Response {
    let req: Value = serde_json::from_slice(&body).unwrap_or_default();
    let (Some(channel), Some(account), Some(from), Some(text)) = (
        req["channel"].as_str(),
        req["account"].as_str(),
        req["from"].as_str(),
        req["text"].as_str(),
    ) else {
        return (
            StatusCode::BAD_REQUEST,
            "give channel, account, from and text as JSON strings",
        )
            .into_response();
    };
    match (channel, &s.emitter) {
        ("telegram", _) => match from.parse::<i64>() {
            Ok(chat) => s.updates.message(account, chat, text),
            Err(_) => return (StatusCode::BAD_REQUEST, "a chat id is a number").into_response(),
        },
        ("instagram", emitter) => {
            s.shared
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .instagram_wrote
                .insert(from.to_string(), Instant::now());
            if let Some(e) = emitter {
                e.instagram_inbound(account, from, text);
            }
        }
        ("whatsapp", Some(e)) => e.whatsapp_inbound(account, from, text),
        ("whatsapp", None) => {
            return (
                StatusCode::CONFLICT,
                "no webhook target: start the sandbox with --webhook-url",
            )
                .into_response();
        }
        _ => return (StatusCode::BAD_REQUEST, "unknown channel").into_response(),
    }
    StatusCode::ACCEPTED.into_response()
}

async fn messages(State(s): State<Sandbox>) -> Response {
    let shared = s.shared.lock().unwrap_or_else(|e| e.into_inner());
    let mut out = String::new();
    for m in &shared.messages {
        out.push_str(&serde_json::to_string(m).unwrap_or_default());
        out.push('\n');
    }
    ([("content-type", "application/x-ndjson")], out).into_response()
}

async fn stats(State(s): State<Sandbox>) -> Response {
    let shared = s.shared.lock().unwrap_or_else(|e| e.into_inner());
    let mut by_channel: HashMap<&str, u64> = HashMap::new();
    let mut seen = std::collections::HashSet::new();
    let mut repeated = 0u64;
    for m in &shared.messages {
        *by_channel.entry(m.channel).or_default() += 1;
        if !seen.insert((
            m.channel,
            m.account.as_str(),
            m.recipient.as_str(),
            m.text.as_str(),
        )) {
            repeated += 1;
        }
    }
    axum::Json(json!({
        "total": shared.messages.len(),
        "by_channel": by_channel,
        "same_text_to_same_recipient_again": repeated,
    }))
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_admits_its_limit_per_second() {
        let t0 = Instant::now();
        let mut w = Window::new(t0);
        let at = |ms| t0 + Duration::from_millis(ms);
        assert!((0..30).all(|i| w.admit(at(i * 10), 30)));
        assert!(!w.admit(at(500), 30), "the 31st in the same second waits");
        assert!(!w.admit(at(999), 30));
        assert!(w.admit(at(1000), 30), "a new second admits again");
        assert_eq!(w.count, 1);
    }
}
