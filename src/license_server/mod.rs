//! The vendor's licence server (`clever-license-server`): issues keys, binds machines to
//! licences within the tariff's seats, and signs leases (specs/licensing.md, "Server").
//! HTTP (axum, JSON; a TLS terminator in front in production): `POST /v1/activate`,
//! `/v1/heartbeat`, `/v1/deactivate`. Activation attempts are rate-limited per licence and
//! per address (governor), and deactivations per licence over 30 days, against seat
//! cycling. Renewal through the payment gateway is a later phase.

pub mod store;

use crate::license::fingerprint::Fingerprint;
use crate::license::key;
use crate::license::lease::{self, Lease, LeaseStatus, SignedLease, Tariff};
use crate::license::protocol::{ApiError, MachineRequest, codes};
use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use chrono::{Duration, Utc};
use ed25519_dalek::SigningKey;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use store::{LicenseRow, ServerStore};

/// Settings of a running server.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// How long a console may work on a lease without hearing from the server.
    pub grace: Duration,
    /// Activation attempts an hour, per licence and per address.
    pub activations_per_hour: u32,
    /// Deactivations a licence may make in 30 days.
    pub deactivations_per_30_days: i64,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            grace: Duration::hours(72),
            activations_per_hour: 20,
            deactivations_per_30_days: 3,
        }
    }
}

#[derive(Clone)]
struct Server {
    store: ServerStore,
    signing: Arc<SigningKey>,
    options: ServerOptions,
    per_license: Arc<DefaultKeyedRateLimiter<String>>,
    per_address: Arc<DefaultKeyedRateLimiter<std::net::IpAddr>>,
}

type Answer = Result<Json<SignedLease>, (StatusCode, Json<ApiError>)>;

fn refuse(
    status: StatusCode,
    code: &str,
    message: impl Into<String>,
) -> (StatusCode, Json<ApiError>) {
    (
        status,
        Json(ApiError {
            error: code.into(),
            message: message.into(),
        }),
    )
}

fn internal(e: impl std::fmt::Display) -> (StatusCode, Json<ApiError>) {
    tracing::error!(error = %e, "licence server error");
    refuse(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "the licence server failed; try again later",
    )
}

/// A running server.
pub struct Running {
    pub addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts the server on `listen` (port 0 picks a free one).
pub async fn start(
    store: ServerStore,
    listen: SocketAddr,
    options: ServerOptions,
) -> anyhow::Result<Running> {
    let app = router(store, options)?;
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let addr = listener.local_addr()?;
    let task = tokio::spawn(async move {
        let _ = axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await;
    });
    Ok(Running { addr, task })
}

/// The API's routes.
pub fn router(store: ServerStore, options: ServerOptions) -> anyhow::Result<Router> {
    let quota = Quota::per_hour(
        NonZeroU32::new(options.activations_per_hour.max(1)).unwrap_or(NonZeroU32::MIN),
    );
    let state = Server {
        signing: Arc::new(store.signing_key()?),
        store,
        options,
        per_license: Arc::new(RateLimiter::keyed(quota)),
        per_address: Arc::new(RateLimiter::keyed(quota.allow_burst(
            NonZeroU32::new(quota.burst_size().get().saturating_mul(3)).unwrap_or(NonZeroU32::MIN),
        ))),
    };
    Ok(Router::new()
        .route("/v1/activate", post(activate))
        .route("/v1/heartbeat", post(heartbeat))
        .route("/v1/deactivate", post(deactivate))
        .with_state(state))
}

impl Server {
    /// The licence a request's key names, after checking the key is ours.
    async fn licence_of(
        &self,
        req: &MachineRequest,
    ) -> Result<LicenseRow, (StatusCode, Json<ApiError>)> {
        let key = key::parse(&req.key, &[self.signing.verifying_key()])
            .map_err(|e| refuse(StatusCode::BAD_REQUEST, codes::KEY_INVALID, e.to_string()))?;
        let licence = self
            .store
            .license(&key.payload.license_id)
            .await
            .map_err(internal)?;
        match licence {
            Some(l) if l.key == key.text => Ok(l),
            _ => Err(refuse(
                StatusCode::NOT_FOUND,
                codes::NOT_FOUND,
                "no licence has this key; check it against the e-mail, or ask the vendor",
            )),
        }
    }

    /// Signs a lease for a licence on a machine, echoing the request's nonce.
    async fn lease(&self, l: &LicenseRow, req: &MachineRequest) -> Answer {
        let t = self
            .store
            .tariff(&l.tariff)
            .await
            .map_err(internal)?
            .ok_or_else(|| internal("a licence's tariff is missing"))?;
        let now = Utc::now();
        let status = match l.status.as_str() {
            "blocked" => LeaseStatus::Blocked,
            "suspended" => LeaseStatus::Suspended,
            _ if l.paid_until <= now => LeaseStatus::Expired,
            _ => LeaseStatus::Active,
        };
        let lease = Lease {
            license_id: l.id.clone(),
            fingerprint: req.fingerprint.clone(),
            status,
            tariff: Tariff {
                name: t.name,
                accounts: t.accounts.map(|n| n as u32),
                messages_per_day: t.messages_per_day.map(|n| n as u64),
                lookups_per_day: t.lookups_per_day.map(|n| n as u64),
                machines: t.machines as u32,
            },
            paid_until: l.paid_until,
            auto_renew: l.auto_renew,
            issued_at: now,
            valid_until: now + self.options.grace,
            nonce: req.nonce.clone(),
        };
        Ok(Json(lease::sign(&lease, &self.signing)))
    }

    /// Binds a machine (or finds it bound) and signs its lease: activation, online or from
    /// an offline request file.
    async fn bind(&self, req: &MachineRequest, address: Option<&str>) -> Answer {
        if req.nonce.trim().is_empty() || req.fingerprint.0.len() != 64 {
            return Err(refuse(
                StatusCode::BAD_REQUEST,
                codes::BAD_REQUEST,
                "a request needs the machine's fingerprint and a nonce",
            ));
        }
        let l = self.licence_of(req).await?;
        let now = Utc::now();
        match l.status.as_str() {
            "blocked" => {
                return Err(refuse(
                    StatusCode::FORBIDDEN,
                    codes::BLOCKED,
                    "this licence is blocked for a violation of the offer; contact the vendor",
                ));
            }
            "suspended" => {
                return Err(refuse(
                    StatusCode::PAYMENT_REQUIRED,
                    codes::SUSPENDED,
                    "the automatic payment failed, so the licence is suspended; pay in the personal cabinet",
                ));
            }
            _ if l.paid_until <= now => {
                return Err(refuse(
                    StatusCode::PAYMENT_REQUIRED,
                    codes::EXPIRED,
                    format!(
                        "the paid period ended on {}; renew in the personal cabinet",
                        l.paid_until.format("%Y-%m-%d")
                    ),
                ));
            }
            _ => {}
        }
        let mut tx = self
            .store
            .pool()
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(internal)?;
        let bound: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM machines WHERE license_id = ? AND fingerprint = ? AND deactivated_at IS NULL",
        )
        .bind(&l.id)
        .bind(&req.fingerprint.0)
        .fetch_optional(&mut *tx)
        .await
        .map_err(internal)?;
        if bound.is_none() {
            let seats = self
                .store
                .tariff(&l.tariff)
                .await
                .map_err(internal)?
                .map_or(1, |t| t.machines);
            if l.machines >= seats {
                return Err(refuse(
                    StatusCode::CONFLICT,
                    codes::TOO_MANY_MACHINES,
                    format!(
                        "the licence is in use on {} {}, all its tariff allows; deactivate one (`clever license deactivate` there) or ask the vendor",
                        l.machines,
                        crate::domain::noun(l.machines, "machine", "machines")
                    ),
                ));
            }
            sqlx::query(
                "INSERT INTO machines (license_id, fingerprint, hostname, address, activated_at, last_seen) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
            )
            .bind(&l.id)
            .bind(&req.fingerprint.0)
            .bind(req.hostname.chars().take(200).collect::<String>())
            .bind(address)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(internal)?;
            sqlx::query(
                "INSERT INTO audit (license_id, kind, detail, at) VALUES (?, 'activated', ?, ?)",
            )
            .bind(&l.id)
            .bind(&req.fingerprint.0)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(internal)?;
        }
        tx.commit().await.map_err(internal)?;
        self.lease(&l, req).await
    }
}

async fn activate(
    State(s): State<Server>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Json(req): Json<MachineRequest>,
) -> Answer {
    let licence = key::parse(&req.key, &[s.signing.verifying_key()])
        .map(|k| k.payload.license_id)
        .unwrap_or_default();
    if s.per_address.check_key(&peer.ip()).is_err() || s.per_license.check_key(&licence).is_err() {
        return Err(refuse(
            StatusCode::TOO_MANY_REQUESTS,
            codes::RATE_LIMITED,
            "too many activation attempts; wait an hour and try again",
        ));
    }
    s.bind(&req, Some(&peer.ip().to_string())).await
}

async fn heartbeat(State(s): State<Server>, Json(req): Json<MachineRequest>) -> Answer {
    let l = s.licence_of(&req).await?;
    let now = Utc::now();
    let seen: Option<chrono::DateTime<Utc>> = sqlx::query_scalar(
        "SELECT last_seen FROM machines WHERE license_id = ? AND fingerprint = ? AND deactivated_at IS NULL",
    )
    .bind(&l.id)
    .bind(&req.fingerprint.0)
    .fetch_optional(s.store.pool())
    .await
    .map_err(internal)?;
    let Some(seen) = seen else {
        return Err(refuse(
            StatusCode::NOT_FOUND,
            codes::NOT_ACTIVATED,
            "this machine is not activated on this licence (it was deactivated); activate it again",
        ));
    };
    // "Last seen" to the minute is enough, and spares a write for most heartbeats.
    if now - seen > Duration::minutes(1) {
        sqlx::query(
            "UPDATE machines SET last_seen = ? WHERE license_id = ? AND fingerprint = ? AND deactivated_at IS NULL",
        )
        .bind(now)
        .bind(&l.id)
        .bind(&req.fingerprint.0)
        .execute(s.store.pool())
        .await
        .map_err(internal)?;
    }
    // A suspended, blocked or expired licence gets its lease too: that is how the console
    // learns it.
    s.lease(&l, &req).await
}

async fn deactivate(
    State(s): State<Server>,
    Json(req): Json<MachineRequest>,
) -> Result<Json<serde_json::Value>, (StatusCode, Json<ApiError>)> {
    let l = s.licence_of(&req).await?;
    let since = Utc::now() - Duration::days(30);
    let recent: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit WHERE license_id = ? AND kind = 'deactivated' AND at >= ?",
    )
    .bind(&l.id)
    .bind(since)
    .fetch_one(s.store.pool())
    .await
    .map_err(internal)?;
    if recent >= s.options.deactivations_per_30_days {
        return Err(refuse(
            StatusCode::TOO_MANY_REQUESTS,
            codes::TOO_MANY_DEACTIVATIONS,
            format!(
                "this licence moved between machines {recent} times in 30 days, the most allowed; ask the vendor"
            ),
        ));
    }
    let now = Utc::now();
    let n = sqlx::query(
        "UPDATE machines SET deactivated_at = ? WHERE license_id = ? AND fingerprint = ? AND deactivated_at IS NULL",
    )
    .bind(now)
    .bind(&l.id)
    .bind(&req.fingerprint.0)
    .execute(s.store.pool())
    .await
    .map_err(internal)?
    .rows_affected();
    if n == 0 {
        return Err(refuse(
            StatusCode::NOT_FOUND,
            codes::NOT_ACTIVATED,
            "this machine is not activated on this licence",
        ));
    }
    s.store
        .event(Some(&l.id), "deactivated", &req.fingerprint.0)
        .await
        .map_err(internal)?;
    Ok(Json(
        serde_json::json!({ "deactivated": true, "license_id": l.id }),
    ))
}

/// Answers an offline activation request file the way `/v1/activate` would.
pub async fn activate_offline(store: ServerStore, request: &str) -> anyhow::Result<SignedLease> {
    let req: MachineRequest = serde_json::from_str(request).map_err(|e| {
        anyhow::anyhow!("not an activation request made by `clever license request`: {e}")
    })?;
    let s = Server {
        signing: Arc::new(store.signing_key()?),
        store,
        options: ServerOptions::default(),
        per_license: Arc::new(RateLimiter::keyed(Quota::per_hour(NonZeroU32::MIN))),
        per_address: Arc::new(RateLimiter::keyed(Quota::per_hour(NonZeroU32::MIN))),
    };
    match s.bind(&req, None).await {
        Ok(Json(lease)) => Ok(lease),
        Err((_, Json(e))) => anyhow::bail!("{} ({})", e.message, e.error),
    }
}

/// The machines bound to a licence: (fingerprint, host name, activated, last seen).
pub async fn machines(
    store: &ServerStore,
    license: &str,
) -> anyhow::Result<
    Vec<(
        Fingerprint,
        String,
        chrono::DateTime<Utc>,
        chrono::DateTime<Utc>,
    )>,
> {
    let rows: Vec<(String, String, chrono::DateTime<Utc>, chrono::DateTime<Utc>)> = sqlx::query_as(
        "SELECT fingerprint, hostname, activated_at, last_seen FROM machines \
         WHERE license_id = ? AND deactivated_at IS NULL ORDER BY activated_at",
    )
    .bind(license)
    .fetch_all(store.pool())
    .await?;
    Ok(rows
        .into_iter()
        .map(|(f, h, a, l)| (Fingerprint(f), h, a, l))
        .collect())
}

/// The demo's licence server: in process on loopback, with a signing key of its own in the
/// demo folder (trusted by the demo workspace only), a "Demo" tariff and one licence. Returns
/// the running server, its public key and the demo licence's key.
pub async fn start_demo(
    dir: &std::path::Path,
) -> anyhow::Result<(Running, ed25519_dalek::VerifyingKey, String)> {
    let store = ServerStore::open(dir).await?;
    if !dir.join(store::KEY_FILE).exists() {
        store.create_signing_key()?;
    }
    if store.tariff("Demo").await?.is_none() {
        store
            .put_tariff(&store::TariffRow {
                code: "Demo".into(),
                name: "Demo".into(),
                accounts: Some(10),
                messages_per_day: Some(20_000),
                lookups_per_day: Some(500),
                machines: 1,
                period_days: 365,
                price: 0,
            })
            .await?;
    }
    let key = match store.licenses().await?.into_iter().next() {
        Some(l) => l.key,
        None => {
            store
                .issue("Demo", "demo@cleverplatform.kz", None)
                .await?
                .0
                .key
        }
    };
    let public = store.signing_key()?.verifying_key();
    let running = start(store, "127.0.0.1:0".parse()?, ServerOptions::default()).await?;
    Ok((running, public, key))
}
