//! What the console and the licence server say to each other over HTTP (JSON):
//! `POST /v1/activate`, `/v1/heartbeat` and `/v1/deactivate`, each with the key, this
//! machine's fingerprint and a fresh nonce; a signed lease back, or an error with a stable
//! code. The offline request file has the activation request's shape.

use super::fingerprint::Fingerprint;
use serde::{Deserialize, Serialize};

/// Activation (also the offline request file, with `kind`), heartbeat and deactivation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MachineRequest {
    pub key: String,
    pub fingerprint: Fingerprint,
    #[serde(default)]
    pub hostname: String,
    pub nonce: String,
}

/// An error answer: `code` is one of [`codes`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    pub error: String,
    pub message: String,
}

/// The error codes of the API.
pub mod codes {
    pub const KEY_INVALID: &str = "key_invalid";
    pub const NOT_FOUND: &str = "not_found";
    pub const TOO_MANY_MACHINES: &str = "too_many_machines";
    pub const SUSPENDED: &str = "suspended";
    pub const BLOCKED: &str = "blocked";
    pub const EXPIRED: &str = "expired";
    pub const NOT_ACTIVATED: &str = "not_activated";
    pub const RATE_LIMITED: &str = "rate_limited";
    pub const TOO_MANY_DEACTIVATIONS: &str = "too_many_deactivations";
    pub const BAD_REQUEST: &str = "bad_request";
}
