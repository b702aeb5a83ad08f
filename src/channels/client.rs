//! The HTTP clients of the three APIs (hyper's HTTP/1.1 connections over rustls with the
//! platform's certificate verifier, kept alive in one pool for all accounts: `pool.rs`): the
//! [`Channel`] trait says what differs per platform and [`WhatsApp`], [`Telegram`] and
//! [`Instagram`] implement it; [`Client`] does the rest. A send returns a classified
//! [`Outcome`]; a health check says whether the token works and what the platform says about
//! the account.
//!
//! Answers are read up to [`MAX_BODY`]; anything longer is treated as not the platform's.
//! A timeout or a broken connection after the request may have been written is `Ambiguous`
//! (never resent blindly); a connection that could not be made is retried later; a TLS
//! failure halts the account with a message saying so.
//!
//! Not reqwest, which the rest of the project uses: on the send path its layers cost about as
//! much CPU again as hyper under it (BENCHMARKS.md, "The channels' HTTP client"), and a send
//! needs none of them (no redirects, cookies, proxies or compression). Requests through a
//! proxy do go through reqwest, which reads the proxy variables as curl does.

use super::Outcome;
use super::classify::{Classified, DEFAULT_BACKOFF};
pub use super::instagram::Instagram;
use super::pool::{Pool, PoolError};
pub use super::telegram::Telegram;
pub use super::whatsapp::WhatsApp;
use crate::domain::{Channel as DomainChannel, mask};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
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
    ) -> Result<(String, Vec<u8>), Outcome>;

    /// Adds the credentials to a request (Telegram carries the token in the URL instead).
    fn authorise(
        &self,
        request: http::request::Builder,
        target: &Target,
    ) -> http::request::Builder {
        request.header(
            http::header::AUTHORIZATION,
            format!("Bearer {}", target.token),
        )
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

/// `value` as a JSON request body.
pub(super) fn json_body(value: &impl serde::Serialize) -> Vec<u8> {
    // Only a map with non-string keys or a failing `Serialize` can fail: no request has one.
    serde_json::to_vec(value).unwrap_or_default()
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
    transport: Transport,
    timeout: Duration,
}

/// How requests go out.
#[derive(Debug, Clone)]
enum Transport {
    /// Straight to the platform: kept-alive connections of our own.
    Direct(Pool),
    /// Through the proxy the environment names (`HTTPS_PROXY` and the rest, with `NO_PROXY`)
    /// or one given: reqwest, which reads those variables as curl does.
    Proxied(reqwest::Client),
}

/// The variables that name a proxy for outgoing requests.
const PROXY_VARIABLES: [&str; 6] = [
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "ALL_PROXY",
    "all_proxy",
];

/// An answer read whole: its status and body.
struct Answer {
    status: u16,
    body: Vec<u8>,
}

impl Client {
    /// A client whose requests give up after `timeout`, through the proxy the environment
    /// names if it names one.
    pub fn new(timeout: Duration) -> Result<Client, String> {
        if names_a_proxy(|v| std::env::var_os(v)) {
            return Client::proxied(timeout, reqwest::Client::builder());
        }
        Client::direct(timeout)
    }

    /// A client whose every request goes through the HTTP proxy at `proxy`.
    pub fn with_proxy(timeout: Duration, proxy: &str) -> Result<Client, String> {
        let proxy = reqwest::Proxy::all(proxy).map_err(|e| format!("the proxy {proxy}: {e}"))?;
        Client::proxied(timeout, reqwest::Client::builder().proxy(proxy))
    }

    fn proxied(timeout: Duration, builder: reqwest::ClientBuilder) -> Result<Client, String> {
        builder
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .pool_idle_timeout(Duration::from_secs(90))
            .http1_only()
            .build()
            .map(|http| Client {
                transport: Transport::Proxied(http),
                timeout,
            })
            .map_err(|e| format!("cannot start the HTTP client: {e}"))
    }

    fn direct(timeout: Duration) -> Result<Client, String> {
        use rustls_platform_verifier::ConfigVerifierExt;
        let tls = rustls::ClientConfig::with_platform_verifier()
            .map_err(|e| format!("cannot start the HTTP client: {e}"))?;
        let mut tcp = HttpConnector::new();
        tcp.enforce_http(false);
        tcp.set_nodelay(true);
        tcp.set_connect_timeout(Some(timeout.min(Duration::from_secs(10))));
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(tcp);
        Ok(Client {
            transport: Transport::Direct(Pool::new(https)),
            timeout,
        })
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
        let request = api.authorise(http::Request::post(&url), target);
        let Answer { status, body } = match self.exchange(request, Some(body), self.timeout).await {
            Ok(answer) => answer,
            Err(failure) => return failure.outcome(),
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
        let Answer { status, body } = self
            .exchange(
                http::Request::post(&url),
                Some(json_body(&body)),
                wait + Duration::from_secs(15),
            )
            .await
            .map_err(|failure| match failure {
                Failure::TooLong { .. } => UpdatesError::Transport("the answer broke off".into()),
                other => UpdatesError::Transport(other.text()),
            })?;
        let answer: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
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
        let request = api.authorise(http::Request::get(api.health_url(target)), target);
        let (status, body): (u16, serde_json::Value) =
            match self.exchange(request, None, self.timeout).await {
                Ok(Answer { status, body }) => {
                    (status, serde_json::from_slice(&body).unwrap_or_default())
                }
                // No answer, or one over a megabyte (whatever its status): no working token.
                Err(failure) => {
                    return Health {
                        ok: false,
                        detail: failure.text(),
                        wa_tier: None,
                    };
                }
            };
        if !(200..300).contains(&status) {
            let why = body["error"]["message"]
                .as_str()
                .or(body["description"].as_str())
                .unwrap_or("no details");
            return Health {
                ok: false,
                detail: format!("HTTP {status}: {why}"),
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

    /// Makes one request (with `json` as its body, if any) and reads its answer up to
    /// [`MAX_BODY`], all within `timeout`.
    async fn exchange(
        &self,
        request: http::request::Builder,
        json: Option<Vec<u8>>,
        timeout: Duration,
    ) -> Result<Answer, Failure> {
        // The URL fit to show is written only when a failure names it.
        let uri = request.uri_ref().cloned().unwrap_or_default();
        let url = || without_secrets(&uri);
        let mut request = request
            .header(http::header::USER_AGENT, USER_AGENT)
            .header(http::header::ACCEPT, "*/*");
        let body = match json {
            Some(json) => {
                request = request.header(http::header::CONTENT_TYPE, "application/json");
                Bytes::from(json)
            }
            None => Bytes::new(),
        };
        let request = request.body(body).map_err(|e| Failure::Refused {
            text: format!("{}: {e}", url()),
        })?;
        let exchange = async {
            match &self.transport {
                Transport::Direct(pool) => {
                    let (response, lease) = pool
                        .send(request.map(Full::new))
                        .await
                        .map_err(|e| Failure::from_transport(&e, &url()))?;
                    let answer = read_capped(response, &url).await?;
                    // Read whole: the connection can carry the next request.
                    lease.release();
                    Ok(answer)
                }
                Transport::Proxied(http) => {
                    let request =
                        reqwest::Request::try_from(request).map_err(|e| Failure::Refused {
                            text: format!("{}: {}", url(), e.without_url()),
                        })?;
                    let response = http
                        .execute(request)
                        .await
                        .map_err(|e| Failure::from_transport(&e.without_url(), &url()))?;
                    read_capped(http::Response::from(response), &url).await
                }
            }
        };
        tokio::time::timeout(timeout, exchange)
            .await
            .unwrap_or_else(|_| {
                Err(Failure::Timeout {
                    text: format!("no answer in time ({}, {} s)", url(), timeout.as_secs()),
                })
            })
    }
}

/// Whether the environment (`var`) names a proxy for outgoing requests.
fn names_a_proxy(var: impl Fn(&str) -> Option<std::ffi::OsString>) -> bool {
    PROXY_VARIABLES
        .iter()
        .any(|v| var(v).is_some_and(|value| !value.is_empty()))
}

/// What every request says it is.
const USER_AGENT: &str = concat!("CleverPlatform/", env!("CARGO_PKG_VERSION"));

/// Why a request got no answer to classify.
#[derive(Debug)]
enum Failure {
    /// The request could not be built from the account's settings (a base URL that is no
    /// URL, a token that cannot be a header): nothing was sent, and nothing will be until
    /// they are fixed.
    Refused { text: String },
    /// No connection could be made: nothing was sent.
    Connect { text: String },
    /// TLS failed: the base URL or the machine's certificates are wrong.
    Tls { text: String },
    /// The connection broke, or the answer, after the request may have been written.
    Broken { text: String },
    /// No whole answer within the time allowed.
    Timeout { text: String },
    /// An answer over [`MAX_BODY`], with its status.
    TooLong { status: u16 },
}

impl Failure {
    fn from_transport(e: &(dyn std::error::Error + 'static), url: &str) -> Failure {
        let own = e.downcast_ref::<PoolError>();
        let mut text = format!("{url}: {}", chain(e));
        if let Some(PoolError::Unsupported(_)) = own {
            return Failure::Refused { text };
        }
        // reqwest's words name the URL, and a Telegram URL holds the bot's token.
        if let Some(full) = e.downcast_ref::<reqwest::Error>().and_then(|e| e.url()) {
            text = text.replace(full.as_str(), url);
        }
        if is_tls(e) {
            Failure::Tls {
                text: format!(
                    "TLS failed, check the base URL and the machine's certificates ({text})"
                ),
            }
        } else if matches!(own, Some(PoolError::Connect(_)))
            || e.downcast_ref::<reqwest::Error>()
                .is_some_and(|e| e.is_connect())
        {
            Failure::Connect { text }
        } else {
            Failure::Broken { text }
        }
    }

    /// The outcome of a send that failed so.
    fn outcome(self) -> Outcome {
        match self {
            Failure::Refused { text } => Outcome::AccountHalt {
                code: "settings".into(),
                reason: format!(
                    "the account's base URL or token cannot make a request ({text}): replace the token with `e` or `clever accounts set-token`, or add the account again with a valid base URL"
                ),
            },
            Failure::Connect { .. } => Outcome::RetryAfter(DEFAULT_BACKOFF),
            Failure::Tls { text } => Outcome::AccountHalt {
                code: "tls".into(),
                reason: text,
            },
            Failure::Broken { text } | Failure::Timeout { text } => {
                Outcome::Ambiguous { reason: text }
            }
            // A runaway answer: the request was received, its fate is unclear.
            Failure::TooLong { status } if (200..300).contains(&status) => Outcome::Ambiguous {
                reason: format!("HTTP {status} with an answer over {} KiB", MAX_BODY / 1024),
            },
            Failure::TooLong { .. } => Outcome::RetryAfter(DEFAULT_BACKOFF),
        }
    }

    /// The words for an operator.
    fn text(self) -> String {
        match self {
            Failure::Refused { text }
            | Failure::Connect { text }
            | Failure::Tls { text }
            | Failure::Broken { text }
            | Failure::Timeout { text } => text,
            Failure::TooLong { status } => format!(
                "HTTP {status} with an answer over {} KiB, not the platform's: check the account's base URL",
                MAX_BODY / 1024
            ),
        }
    }
}

/// Reads an answer, giving up past [`MAX_BODY`].
async fn read_capped<B>(
    response: http::Response<B>,
    url: &impl Fn() -> String,
) -> Result<Answer, Failure>
where
    B: http_body::Body<Data = Bytes> + Unpin,
    B::Error: std::error::Error + 'static,
{
    let status = response.status().as_u16();
    let mut incoming = response.into_body();
    let mut body = Vec::new();
    while let Some(frame) = incoming.frame().await {
        let frame = frame.map_err(|e| Failure::from_transport(&e, &url()))?;
        if let Ok(chunk) = frame.into_data() {
            if body.len() + chunk.len() > MAX_BODY {
                return Err(Failure::TooLong { status });
            }
            body.extend_from_slice(&chunk);
        }
    }
    Ok(Answer { status, body })
}

/// `uri` fit to show: a Telegram `bot<token>` path segment masked, the query left out.
fn without_secrets(uri: &http::Uri) -> String {
    let path: Vec<String> = uri
        .path()
        .split('/')
        .map(|s| match s.strip_prefix("bot") {
            Some(token) if token.contains(':') => "bot••••••••".to_string(),
            _ => s.to_string(),
        })
        .collect();
    let origin = match (uri.scheme_str(), uri.authority()) {
        (Some(scheme), Some(authority)) => format!("{scheme}://{authority}"),
        _ => String::new(),
    };
    format!("{origin}{}", path.join("/"))
}

/// An error and its causes, in one line.
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let s_text = s.to_string();
        // hyper's errors repeat their cause's words in their own.
        if !text.contains(&s_text) {
            text.push_str(": ");
            text.push_str(&s_text);
        }
        source = s.source();
    }
    text
}

/// Whether a failure happened in the TLS layer (rustls's messages, through the error chain).
fn is_tls(e: &(dyn std::error::Error + 'static)) -> bool {
    const SIGNS: [&str; 7] = [
        "certificate",
        "tls",
        "handshake",
        "corrupt message",
        "fatal alert",
        "peer is incompatible",
        "peer misbehaved",
    ];
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        let t = s.to_string().to_ascii_lowercase();
        if SIGNS.iter().any(|sign| t.contains(sign)) {
            return true;
        }
        source = s.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A Telegram request that fails below HTTP (nothing listens on the port): its words name
    /// the request but never the bot's token, and the send is tried again later.
    #[tokio::test]
    async fn a_transport_failure_never_shows_the_bots_token() {
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = closed.local_addr().unwrap().port();
        drop(closed);
        let token = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw";
        let target = Target {
            channel: DomainChannel::Telegram,
            base_url: format!("http://127.0.0.1:{port}"),
            api_version: String::new(),
            token: token.into(),
            phone_number_id: String::new(),
        };
        let client = Client::new(Duration::from_secs(5)).unwrap();
        let health = client.health(&target).await;
        let text = health.detail;
        assert!(!health.ok);
        assert!(
            !text.contains("AAHdqTcv") && !text.contains("123456789"),
            "{text}"
        );
        assert!(
            text.contains(&format!("http://127.0.0.1:{port}/bot••••••••/getMe")),
            "{text}"
        );
        assert!(text.contains("refused"), "{text}");
        let Outcome::RetryAfter(_) = client
            .send(&target, "42", &Message::Text("hi".into()))
            .await
        else {
            panic!("a refused connection slows the account");
        };
    }

    #[test]
    fn a_proxy_is_used_when_the_environment_names_one() {
        let env = |set: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                set.iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, v)| std::ffi::OsString::from(v))
            }
        };
        assert!(!names_a_proxy(env(&[])));
        assert!(!names_a_proxy(env(&[
            ("HTTPS_PROXY", ""),
            ("NO_PROXY", "*")
        ])));
        assert!(names_a_proxy(env(&[(
            "https_proxy",
            "http://10.0.0.1:3128"
        )])));
        assert!(names_a_proxy(env(&[("ALL_PROXY", "socks5://10.0.0.1")])));
    }

    /// Settings no request can be made from halt the account: every message would fail alike.
    #[tokio::test]
    async fn settings_that_cannot_make_a_request_halt_the_account() {
        let client = Client::new(Duration::from_secs(5)).unwrap();
        let target = |base: &str, token: &str| Target {
            channel: DomainChannel::WhatsApp,
            base_url: base.into(),
            api_version: "v23.0".into(),
            token: token.into(),
            phone_number_id: "1".into(),
        };
        for t in [
            target("https://graph facebook.com", "EAAG"),
            target("https://graph.facebook.com", "EAAG\n1"),
            target("ftp://graph.facebook.com", "EAAG"),
        ] {
            match client
                .send(&t, "+77011234567", &Message::Text("x".into()))
                .await
            {
                Outcome::AccountHalt { code, reason } => {
                    assert_eq!(code, "settings");
                    assert!(reason.contains("set-token"), "{reason}");
                }
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn a_url_is_shown_without_its_token_or_query() {
        let uri: http::Uri = "https://api.telegram.org/bot1:abc/getUpdates?offset=5"
            .parse()
            .unwrap();
        assert_eq!(
            without_secrets(&uri),
            "https://api.telegram.org/bot••••••••/getUpdates"
        );
    }
}
