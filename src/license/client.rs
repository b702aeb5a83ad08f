//! The console's side of the licence server's API: activate, heartbeat (sync) and
//! deactivate over HTTPS (reqwest with rustls), each answer checked before it is trusted:
//! the lease's signature, that it is for this machine, that it echoes this request's nonce
//! and that it is fresh.

use super::fingerprint::Fingerprint;
use super::lease::{self, Lease, LeaseError, SignedLease};
use super::protocol::{ApiError, MachineRequest};
use chrono::Utc;
use ed25519_dalek::VerifyingKey;
use std::time::Duration;

/// Why a call to the licence server did not give a lease.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error(
        "the licence server at {url} cannot be reached ({reason}); check the network, or CLEVER_LICENSE_SERVER"
    )]
    Unreachable { url: String, reason: String },
    #[error("{message}")]
    Refused { code: String, message: String },
    #[error("the licence server's answer was refused: {0}")]
    BadLease(#[from] LeaseError),
    #[error("the licence server answered {status}, not as its API does: {body}")]
    Unexpected { status: u16, body: String },
}

/// Talks to one licence server.
#[derive(Clone)]
pub struct LicenseClient {
    http: reqwest::Client,
    base: String,
}

impl LicenseClient {
    pub fn new(base: &str) -> Result<LicenseClient, String> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(20))
            .connect_timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| e.to_string())?;
        Ok(LicenseClient {
            http,
            base: base.trim_end_matches('/').to_string(),
        })
    }

    async fn post(&self, path: &str, req: &MachineRequest) -> Result<String, ClientError> {
        let url = format!("{}{path}", self.base);
        let answer =
            self.http
                .post(&url)
                .json(req)
                .send()
                .await
                .map_err(|e| ClientError::Unreachable {
                    url: self.base.clone(),
                    reason: e.to_string(),
                })?;
        let status = answer.status();
        let body = answer.text().await.map_err(|e| ClientError::Unreachable {
            url: self.base.clone(),
            reason: e.to_string(),
        })?;
        if status.is_success() {
            return Ok(body);
        }
        match serde_json::from_str::<ApiError>(&body) {
            Ok(e) => Err(ClientError::Refused {
                code: e.error,
                message: e.message,
            }),
            Err(_) => Err(ClientError::Unexpected {
                status: status.as_u16(),
                body: body.chars().take(200).collect(),
            }),
        }
    }

    /// Asks for a lease (`/v1/activate` or `/v1/heartbeat`) and checks it.
    pub async fn lease(
        &self,
        path: &str,
        key: &str,
        fingerprint: &Fingerprint,
        hostname: &str,
        trusted: &[VerifyingKey],
    ) -> Result<(Lease, SignedLease), ClientError> {
        let nonce = hex::encode(rand::random::<[u8; 16]>());
        let body = self
            .post(
                path,
                &MachineRequest {
                    key: key.to_string(),
                    fingerprint: fingerprint.clone(),
                    hostname: hostname.to_string(),
                    nonce: nonce.clone(),
                },
            )
            .await?;
        let signed: SignedLease =
            serde_json::from_str(&body).map_err(|e| ClientError::Unexpected {
                status: 200,
                body: e.to_string(),
            })?;
        let lease = lease::verify(&signed, trusted)?;
        lease::check_answer(&lease, fingerprint, &nonce, Utc::now())?;
        Ok((lease, signed))
    }

    /// Frees this machine's seat.
    pub async fn deactivate(
        &self,
        key: &str,
        fingerprint: &Fingerprint,
    ) -> Result<(), ClientError> {
        self.post(
            "/v1/deactivate",
            &MachineRequest {
                key: key.to_string(),
                fingerprint: fingerprint.clone(),
                hostname: String::new(),
                nonce: hex::encode(rand::random::<[u8; 16]>()),
            },
        )
        .await
        .map(|_| ())
    }
}
