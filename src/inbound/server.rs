//! The webhook endpoints, as an axum router that `clever run` and the console's runtime
//! mount on the configured address:
//!
//! - `GET /webhooks/meta` — the `hub.challenge` handshake with the verify token;
//! - `POST /webhooks/whatsapp` — signed with `X-Hub-Signature-256` over the raw body; events
//!   go to the account whose phone number id they name;
//! - `POST /webhooks/instagram` — signed like WhatsApp; events go to the account whose
//!   professional account id they name;
//! - `POST /webhooks/telegram/{account_id}` — with the `X-Telegram-Bot-Api-Secret-Token`.
//!
//! A forged or unsigned request gets 401 and changes nothing. Accepted webhooks are answered
//! 200 once applied; events already applied are skipped, so the platforms' retries are safe.

use super::apply;
use crate::channels::webhooks::{self, WebhookError};
use crate::domain::{AccountId, Channel};
use crate::store::{self, Store};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use std::collections::HashMap;
use std::sync::Arc;

/// Secrets and options of the webhook endpoints.
#[derive(Debug, Clone)]
pub struct WebhookSettings {
    /// The token Meta sends back in the verification handshake.
    pub verify_token: String,
    /// The Meta app secret the signatures are made with.
    pub app_secret: Vec<u8>,
    /// The secret token set with Telegram's `setWebhook`.
    pub telegram_secret: String,
    /// Opt-out keywords besides the built-in ones.
    pub extra_keywords: Vec<String>,
}

#[derive(Clone)]
struct Ctx {
    store: Store,
    settings: Arc<WebhookSettings>,
}

impl WebhookSettings {
    /// Reads the secrets named in `[webhooks]`; a missing or empty file is an error that
    /// names it.
    pub fn from_config(c: &crate::config::WebhooksConfig) -> Result<WebhookSettings, String> {
        let read = |what: &str, path: &Option<std::path::PathBuf>| -> Result<String, String> {
            let Some(path) = path else {
                return Err(format!(
                    "[webhooks] needs {what} (a file holding it) when `listen` is set"
                ));
            };
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read the {what} from {}: {e}", path.display()))?;
            let text = text.trim().to_string();
            if text.is_empty() {
                return Err(format!("the {what} file {} is empty", path.display()));
            }
            Ok(text)
        };
        Ok(WebhookSettings {
            verify_token: read("verify_token_file", &c.verify_token_file)?,
            app_secret: read("app_secret_file", &c.app_secret_file)?.into_bytes(),
            telegram_secret: read("telegram_secret_file", &c.telegram_secret_file)?,
            extra_keywords: c.opt_out_keywords.clone(),
        })
    }
}

impl WebhookSettings {
    /// Fresh random secrets, for a receiver only this process talks to (the demo's).
    pub fn one_time(extra_keywords: Vec<String>) -> WebhookSettings {
        let random = || {
            use rand::RngExt;
            hex::encode(rand::rng().random::<[u8; 16]>())
        };
        WebhookSettings {
            verify_token: random(),
            app_secret: random().into_bytes(),
            telegram_secret: random(),
            extra_keywords,
        }
    }
}

/// Serves the webhook routes on `listen` in the current runtime; returns the bound address.
pub async fn serve(
    store: Store,
    settings: WebhookSettings,
    listen: std::net::SocketAddr,
) -> std::io::Result<(std::net::SocketAddr, tokio::task::JoinHandle<()>)> {
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let addr = listener.local_addr()?;
    let app = router(store, settings);
    let task = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "webhook server stopped");
        }
    });
    Ok((addr, task))
}

/// The webhook routes.
pub fn router(store: Store, settings: WebhookSettings) -> Router {
    Router::new()
        .route("/webhooks/meta", get(handshake))
        .route("/webhooks/whatsapp", post(whatsapp))
        .route("/webhooks/instagram", post(instagram))
        .route("/webhooks/telegram/{account}", post(telegram))
        .with_state(Ctx {
            store,
            settings: Arc::new(settings),
        })
}

async fn handshake(
    State(ctx): State<Ctx>,
    Query(q): Query<HashMap<String, String>>,
) -> (StatusCode, String) {
    let mode = q.get("hub.mode").map(String::as_str);
    let token = q.get("hub.verify_token").map(String::as_str);
    match (mode, token, q.get("hub.challenge")) {
        (Some("subscribe"), Some(t), Some(challenge)) if t == ctx.settings.verify_token => {
            (StatusCode::OK, challenge.clone())
        }
        _ => (StatusCode::FORBIDDEN, "verification failed".into()),
    }
}

fn refused(e: WebhookError) -> (StatusCode, String) {
    tracing::warn!(error = %e, "webhook refused");
    match e {
        WebhookError::Malformed(_) => (StatusCode::BAD_REQUEST, e.to_string()),
        _ => (StatusCode::UNAUTHORIZED, e.to_string()),
    }
}

fn failed(e: store::StoreError) -> (StatusCode, String) {
    if e.is_busy() {
        tracing::warn!(error = %e, "webhook not applied: the database is busy with another writer (a large import?); the platform sends it again");
    } else {
        tracing::error!(error = %e, "webhook not applied");
    }
    // 5xx: the platform retries later, and applying twice is safe.
    (StatusCode::SERVICE_UNAVAILABLE, "try again".into())
}

async fn whatsapp(State(ctx): State<Ctx>, headers: HeaderMap, body: Bytes) -> (StatusCode, String) {
    let signature = headers
        .get("x-hub-signature-256")
        .and_then(|v| v.to_str().ok());
    if let Err(e) = webhooks::verify_meta_signature(&ctx.settings.app_secret, signature, &body) {
        return refused(e);
    }
    let groups = match webhooks::parse_whatsapp_by_number(&body) {
        Ok(g) => g,
        Err(e) => return refused(e),
    };
    for (number, events) in groups {
        let account = {
            let mut conn = match ctx.store.read().await {
                Ok(c) => c,
                Err(e) => return failed(e),
            };
            match store::accounts::by_phone_number_id(&mut conn, &number).await {
                Ok(a) => a,
                Err(e) => return failed(e),
            }
        };
        let Some(account) = account else {
            tracing::warn!(phone_number_id = %number, "webhook for a number no account has; ignored");
            continue;
        };
        if let Err(e) = apply(
            &ctx.store,
            account,
            Channel::WhatsApp,
            &events,
            &ctx.settings.extra_keywords,
        )
        .await
        {
            return failed(e);
        }
    }
    (StatusCode::OK, "ok".into())
}

async fn instagram(
    State(ctx): State<Ctx>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, String) {
    let signature = headers
        .get("x-hub-signature-256")
        .and_then(|v| v.to_str().ok());
    if let Err(e) = webhooks::verify_meta_signature(&ctx.settings.app_secret, signature, &body) {
        return refused(e);
    }
    let groups = match webhooks::parse_instagram(&body) {
        Ok(g) => g,
        Err(e) => return refused(e),
    };
    for (ig_user_id, events) in groups {
        let account = match ctx.store.read().await {
            Ok(mut conn) => store::accounts::by_ig_user_id(&mut conn, &ig_user_id).await,
            Err(e) => Err(e),
        };
        let account = match account {
            Ok(Some(a)) => a,
            Ok(None) => {
                tracing::warn!(%ig_user_id, "webhook for an Instagram account not connected here; ignored");
                continue;
            }
            Err(e) => return failed(e),
        };
        if let Err(e) = apply(
            &ctx.store,
            account,
            Channel::Instagram,
            &events,
            &ctx.settings.extra_keywords,
        )
        .await
        {
            return failed(e);
        }
    }
    (StatusCode::OK, "ok".into())
}

async fn telegram(
    State(ctx): State<Ctx>,
    Path(account): Path<i64>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, String) {
    let secret = headers
        .get("x-telegram-bot-api-secret-token")
        .and_then(|v| v.to_str().ok());
    if let Err(e) = webhooks::verify_telegram_secret(&ctx.settings.telegram_secret, secret) {
        return refused(e);
    }
    let (update_id, events) = match webhooks::parse_telegram(&body) {
        Ok(u) => u,
        Err(e) => return refused(e),
    };
    let account = AccountId(account);
    match ctx.store.account(account).await {
        Ok(Some(a)) if a.channel == Channel::Telegram => {}
        Ok(_) => return (StatusCode::NOT_FOUND, "no such Telegram account".into()),
        Err(e) => return failed(e),
    }
    // A repeated update repeats its message (or block): `apply` skips what it has seen, in
    // the same transaction that applies it, so nothing is lost if applying fails.
    let _ = update_id;
    match apply(
        &ctx.store,
        account,
        Channel::Telegram,
        &events,
        &ctx.settings.extra_keywords,
    )
    .await
    {
        Ok(_) => (StatusCode::OK, "ok".into()),
        Err(e) => failed(e),
    }
}
