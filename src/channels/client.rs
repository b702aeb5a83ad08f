//! The HTTP clients of the three APIs (reqwest with rustls, one connection pool with
//! keep-alive for all accounts): the [`Channel`] trait says what differs per platform and
//! [`WhatsApp`], [`Telegram`] and [`Instagram`] implement it; [`Client`] does the rest. A send returns a classified [`Outcome`]; a health check says
//! whether the token works and what the platform says about the account.
//!
//! Answers are read up to [`MAX_BODY`]; anything longer is treated as not the platform's.
//! A timeout or a broken connection after the request may have been written is `Ambiguous`
//! (never resent blindly); a connection that could not be made is retried later; a TLS
//! failure halts the account with a message saying so.

use super::Outcome;
use super::classify::{Classified, DEFAULT_BACKOFF};
pub use super::instagram::Instagram;
pub use super::telegram::Telegram;
pub use super::whatsapp::WhatsApp;
use crate::domain::{Channel as DomainChannel, mask};
use serde_json::json;
use std::time::Duration;

/// The most of an answer that is read.
pub const MAX_BODY: usize = 1 << 20;

/// Where and as whom to send: what an account row holds.
#[derive(Debug, Clone)]
pub struct Target {
    pub channel: DomainChannel,
    /// e.g. `https://graph.facebook.com`, `https://api.telegram.org`, or the sandbox's URL.
    pub base_url: String,
    pub api_version: String,
    pub token: String,
    /// WhatsApp phone number id; unused for the others.
    pub phone_number_id: String,
}

impl Target {
    /// A target from what an account row holds: its base URL and API version (the platform's
    /// own when unset), its channel settings (JSON) and its token.
    pub fn from_parts(
        channel: DomainChannel,
        base_url: Option<&str>,
        api_version: Option<&str>,
        settings_json: &str,
        token: String,
    ) -> Target {
        let settings: serde_json::Value = serde_json::from_str(settings_json).unwrap_or_default();
        Target {
            channel,
            base_url: base_url
                .unwrap_or(Target::default_base_url(channel))
                .to_string(),
            api_version: api_version.unwrap_or("v23.0").to_string(),
            token,
            phone_number_id: settings["phone_number_id"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        }
    }

    /// The real host of each platform.
    pub fn default_base_url(channel: DomainChannel) -> &'static str {
        match channel {
            DomainChannel::WhatsApp => "https://graph.facebook.com",
            DomainChannel::Telegram => "https://api.telegram.org",
            DomainChannel::Instagram => "https://graph.instagram.com",
        }
    }
}

/// What to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    Text(String),
    /// A WhatsApp template with its body parameters.
    Template {
        name: String,
        language: String,
        params: Vec<String>,
    },
}

/// What a health check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Health {
    pub ok: bool,
    /// One line for the operator: who the token belongs to, or what is wrong.
    pub detail: String,
    /// WhatsApp's messaging tier as the platform reports it: unique recipients a day, `None`
    /// when unlimited or not reported.
    pub wa_tier: Option<i64>,
}

impl Health {
    /// The line stored as the account's health and shown to operators.
    pub fn line(&self) -> String {
        format!("{}: {}", if self.ok { "ok" } else { "failed" }, self.detail)
    }
}

/// What differs between the three platforms: where a send and a health check go, how the
/// request is authorised, and how an answer is classified. [`Client`] drives the common part
/// (the request, the capped read, transport failures, logging unknown answers) for each.
pub trait Channel {
    /// The URL and JSON body of a send, or why this message cannot go to this platform.
    fn send_request(
        &self,
        target: &Target,
        to: &str,
        message: &Message,
    ) -> Result<(String, serde_json::Value), Outcome>;

    /// Adds the credentials to a request (Telegram carries the token in the URL instead).
    fn authorise(
        &self,
        request: reqwest::RequestBuilder,
        target: &Target,
    ) -> reqwest::RequestBuilder {
        request.bearer_auth(&target.token)
    }

    /// The outcome of an answer to a send to `to`.
    fn classify(&self, status: u16, body: &[u8], to: &str) -> Classified;

    /// The URL that checks the token.
    fn health_url(&self, target: &Target) -> String;

    /// One line about the account from a successful health answer.
    fn health_detail(&self, body: &serde_json::Value) -> String;
}

pub(super) fn base(target: &Target) -> &str {
    target.base_url.trim_end_matches('/')
}

pub(super) fn refuse(why: &str) -> Outcome {
    Outcome::Permanent {
        code: "client".into(),
        message: why.to_string(),
    }
}

/// Why `getUpdates` gave nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpdatesError {
    /// The token is refused: the bot was revoked or the token mistyped.
    Unauthorised,
    /// A webhook is set for the bot, so Telegram refuses `getUpdates` (409).
    WebhookSet,
    /// The network or the server failed; try again later.
    Transport(String),
}

/// The shared HTTP client.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
}

impl Client {
    /// A client whose requests give up after `timeout`.
    pub fn new(timeout: Duration) -> Result<Client, String> {
        reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .pool_idle_timeout(Duration::from_secs(90))
            .user_agent(concat!("CleverPlatform/", env!("CARGO_PKG_VERSION")))
            .build()
            .map(|http| Client { http })
            .map_err(|e| format!("cannot start the HTTP client: {e}"))
    }

    /// Sends one message to one recipient through the target's platform.
    pub async fn send(&self, target: &Target, to: &str, message: &Message) -> Outcome {
        match target.channel {
            DomainChannel::WhatsApp => self.send_with(&WhatsApp, target, to, message).await,
            DomainChannel::Telegram => self.send_with(&Telegram, target, to, message).await,
            DomainChannel::Instagram => self.send_with(&Instagram, target, to, message).await,
        }
    }

    /// Checks the token: WhatsApp phone number lookup, Telegram `getMe`, Instagram `me`.
    pub async fn health(&self, target: &Target) -> Health {
        match target.channel {
            DomainChannel::WhatsApp => self.health_with(&WhatsApp, target).await,
            DomainChannel::Telegram => self.health_with(&Telegram, target).await,
            DomainChannel::Instagram => self.health_with(&Instagram, target).await,
        }
    }

    /// Sends one message with a given platform's rules.
    pub async fn send_with(
        &self,
        api: &impl Channel,
        target: &Target,
        to: &str,
        message: &Message,
    ) -> Outcome {
        let (url, body) = match api.send_request(target, to, message) {
            Ok(r) => r,
            Err(o) => return o,
        };
        let response = match api
            .authorise(self.http.post(&url).json(&body), target)
            .send()
            .await
        {
            Ok(r) => r,
            Err(e) => return transport(&e),
        };
        let status = response.status().as_u16();
        let body = match read_capped(response).await {
            Ok(b) => b,
            Err(outcome) => return outcome,
        };
        let Classified { outcome, fallback } = api.classify(status, &body, to);
        if fallback {
            tracing::warn!(
                channel = target.channel.as_str(),
                to = %mask::address(to, 4),
                status,
                body = %String::from_utf8_lossy(&body[..body.len().min(2000)]),
                "unrecognised answer, classified as {}", outcome.class()
            );
        }
        outcome
    }

    /// Telegram `getUpdates`: the updates after `offset` (the last `update_id` seen plus one),
    /// waiting up to `wait` for one to arrive (long poll). Each update is returned as its JSON
    /// bytes, for `channels::webhooks::parse_telegram`.
    pub async fn telegram_updates(
        &self,
        target: &Target,
        offset: i64,
        wait: Duration,
    ) -> Result<Vec<Vec<u8>>, UpdatesError> {
        let url = format!("{}/bot{}/getUpdates", base(target), target.token);
        let body = json!({
            "offset": offset, "timeout": wait.as_secs(), "limit": 100,
            "allowed_updates": ["message", "my_chat_member"],
        });
        let response = self
            .http
            .post(&url)
            .json(&body)
            .timeout(wait + Duration::from_secs(15))
            .send()
            .await
            .map_err(|e| UpdatesError::Transport(transport_text(&e)))?;
        let status = response.status().as_u16();
        let bytes = read_capped(response)
            .await
            .map_err(|_| UpdatesError::Transport("the answer broke off".into()))?;
        let answer: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
        match status {
            200 => Ok(answer["result"]
                .as_array()
                .map(|updates| {
                    updates
                        .iter()
                        .map(|u| serde_json::to_vec(u).unwrap_or_default())
                        .collect()
                })
                .unwrap_or_default()),
            401 | 404 => Err(UpdatesError::Unauthorised),
            // 409 also answers a second poller of the same bot (the console and `clever run`
            // at once): only the webhook case is final.
            409 if answer["description"]
                .as_str()
                .is_some_and(|d| d.contains("webhook")) =>
            {
                Err(UpdatesError::WebhookSet)
            }
            _ => Err(UpdatesError::Transport(format!(
                "HTTP {status}: {}",
                answer["description"].as_str().unwrap_or("no details")
            ))),
        }
    }

    /// Checks a token with a given platform's rules.
    pub async fn health_with(&self, api: &impl Channel, target: &Target) -> Health {
        let request = api.authorise(self.http.get(api.health_url(target)), target);
        let response = match request.send().await {
            Ok(r) => r,
            Err(e) => {
                return Health {
                    ok: false,
                    detail: transport_text(&e),
                    wa_tier: None,
                };
            }
        };
        let status = response.status();
        let body: serde_json::Value = match read_capped(response).await {
            Ok(b) => serde_json::from_slice(&b).unwrap_or_default(),
            Err(_) => serde_json::Value::Null,
        };
        if !status.is_success() {
            let why = body["error"]["message"]
                .as_str()
                .or(body["description"].as_str())
                .unwrap_or("no details");
            return Health {
                ok: false,
                detail: format!("HTTP {}: {why}", status.as_u16()),
                wa_tier: None,
            };
        }
        Health {
            ok: true,
            detail: api.health_detail(&body),
            wa_tier: body["messaging_limit_tier"]
                .as_str()
                .and_then(crate::domain::account::wa_tier_limit),
        }
    }
}

/// Reads an answer, giving up past [`MAX_BODY`].
async fn read_capped(mut response: reqwest::Response) -> Result<Vec<u8>, Outcome> {
    let status = response.status().as_u16();
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > MAX_BODY {
                    // A runaway answer: the request was received, its fate is unclear.
                    return Err(if (200..300).contains(&status) {
                        Outcome::Ambiguous {
                            reason: format!(
                                "HTTP {status} with an answer over {} KiB",
                                MAX_BODY / 1024
                            ),
                        }
                    } else {
                        Outcome::RetryAfter(DEFAULT_BACKOFF)
                    });
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(body),
            Err(e) => return Err(transport(&e)),
        }
    }
}

/// `url` fit to show: a Telegram `bot<token>` path segment masked, the query left out.
fn without_secrets(url: &reqwest::Url) -> String {
    let path: Vec<String> = url
        .path_segments()
        .map(|segments| {
            segments
                .map(|s| match s.strip_prefix("bot") {
                    Some(token) if token.contains(':') => "bot••••••••".to_string(),
                    _ => s.to_string(),
                })
                .collect()
        })
        .unwrap_or_default();
    format!("{}/{}", url.origin().ascii_serialization(), path.join("/"))
}

/// A failure below HTTP, classified by whether the request may have reached the platform.
fn transport(e: &reqwest::Error) -> Outcome {
    let text = transport_text(e);
    if is_tls(e) {
        Outcome::AccountHalt {
            code: "tls".into(),
            reason: text,
        }
    } else if e.is_connect() {
        Outcome::RetryAfter(DEFAULT_BACKOFF)
    } else {
        Outcome::Ambiguous { reason: text }
    }
}

/// Whether a failure happened in the TLS layer (rustls's messages, through the error chain).
fn is_tls(e: &reqwest::Error) -> bool {
    const SIGNS: [&str; 7] = [
        "certificate",
        "tls",
        "handshake",
        "corrupt message",
        "fatal alert",
        "peer is incompatible",
        "peer misbehaved",
    ];
    let mut source: Option<&dyn std::error::Error> = Some(e);
    while let Some(s) = source {
        let t = s.to_string().to_ascii_lowercase();
        if SIGNS.iter().any(|sign| t.contains(sign)) {
            return true;
        }
        source = s.source();
    }
    false
}

fn transport_text(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    // reqwest names the URL, and a Telegram URL holds the bot's token: these words are stored
    // as health and failure details and logged, so the token goes.
    if let Some(url) = e.url() {
        text = text.replace(url.as_str(), &without_secrets(url));
    }
    if e.is_timeout() {
        format!("no answer in time ({text})")
    } else if is_tls(e) {
        format!("TLS failed, check the base URL and the machine's certificates ({text})")
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A Telegram request that fails below HTTP (nothing listens on the port): its words name
    /// the request but never the bot's token.
    #[tokio::test]
    async fn a_transport_failure_never_shows_the_bots_token() {
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = closed.local_addr().unwrap().port();
        drop(closed);
        let token = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw";
        let e = reqwest::Client::new()
            .get(format!("http://127.0.0.1:{port}/bot{token}/getMe?offset=5"))
            .send()
            .await
            .unwrap_err();
        assert!(e.to_string().contains(token), "reqwest names the URL: {e}");
        let text = transport_text(&e);
        assert!(
            !text.contains("AAHdqTcv") && !text.contains("123456789"),
            "{text}"
        );
        assert!(
            text.contains(&format!("http://127.0.0.1:{port}/bot••••••••/getMe")),
            "{text}"
        );
        let Outcome::RetryAfter(_) = transport(&e) else {
            panic!("a refused connection slows the account");
        };
    }
}
