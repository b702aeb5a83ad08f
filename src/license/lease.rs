//! Leases: what the licence server signs about one licence on one machine: its status, the
//! tariff and its limits, the paid period, auto-renewal, and how long the console may go on
//! without hearing from the server (`valid_until`). The console keeps the last lease (0600,
//! in its data folder) and checks it at start and before every send batch.
//!
//! On the wire and on disk a lease is `{"lease": base64url(JSON), "signature":
//! base64url(ed25519 over the base64url text)}`: the bytes signed are the bytes stored, so
//! no JSON canonicalisation is needed.

use super::codec::{b64_decode, b64_encode};
use super::fingerprint::Fingerprint;
use chrono::{DateTime, Duration, Utc};
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};

/// A server answer older than this (by its `issued_at`) is refused: a replay.
pub const MAX_RESPONSE_AGE: Duration = Duration::minutes(5);
/// How far the clock may run behind a time already seen before it counts as rolled back
/// (clock adjustments by NTP and the like stay well inside this).
pub const CLOCK_SLACK: Duration = Duration::minutes(5);
/// Longest lease file accepted.
pub const MAX_LEASE_LEN: usize = 64 * 1024;

/// The licence's status on the vendor's server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LeaseStatus {
    Active,
    /// An automatic payment failed.
    Suspended,
    /// A violation (spam, tampering): no refund, no sending.
    Blocked,
    /// The paid period is over.
    Expired,
}

/// A tariff and its limits; `None` is unlimited.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tariff {
    pub name: String,
    pub accounts: Option<u32>,
    pub messages_per_day: Option<u64>,
    pub lookups_per_day: Option<u64>,
    pub machines: u32,
}

/// What the server signs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lease {
    pub license_id: String,
    pub fingerprint: Fingerprint,
    pub status: LeaseStatus,
    pub tariff: Tariff,
    pub paid_until: DateTime<Utc>,
    pub auto_renew: bool,
    pub issued_at: DateTime<Utc>,
    /// Until when the console may work on this lease without a fresh one (offline grace).
    pub valid_until: DateTime<Utc>,
    /// The console's nonce of the request this lease answers.
    pub nonce: String,
}

/// A lease as stored and sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedLease {
    pub lease: String,
    pub signature: String,
}

/// Why a lease is not trusted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LeaseError {
    #[error("the lease file is not one the licence server wrote ({0})")]
    Malformed(String),
    #[error(
        "the lease's signature does not match a trusted licence server: it was changed or comes from elsewhere"
    )]
    BadSignature,
    #[error(
        "the lease is for another machine (fingerprint {0}); activate this machine with its own request"
    )]
    OtherMachine(String),
    #[error(
        "the server's answer does not carry this request's nonce: it answers another request (a replay?)"
    )]
    NonceMismatch,
    #[error(
        "the server's answer was issued at {0}, more than 5 minutes ago: refused as a replay. Check this machine's clock"
    )]
    Stale(DateTime<Utc>),
}

/// Signs a lease (the server's side, the demo and tests).
pub fn sign(lease: &Lease, key: &SigningKey) -> SignedLease {
    let text = b64_encode(&serde_json::to_vec(lease).unwrap_or_default());
    let signature = key.sign(text.as_bytes());
    SignedLease {
        lease: text,
        signature: b64_encode(&signature.to_bytes()),
    }
}

/// Reads a stored or received lease (JSON text) and checks its signature.
pub fn parse(text: &str, trusted: &[VerifyingKey]) -> Result<Lease, LeaseError> {
    if text.len() > MAX_LEASE_LEN {
        return Err(LeaseError::Malformed(format!(
            "{} bytes, larger than any lease",
            text.len()
        )));
    }
    let signed: SignedLease =
        serde_json::from_str(text).map_err(|e| LeaseError::Malformed(e.to_string()))?;
    verify(&signed, trusted)
}

/// Checks a signed lease's signature and reads it.
pub fn verify(signed: &SignedLease, trusted: &[VerifyingKey]) -> Result<Lease, LeaseError> {
    let signature = b64_decode(&signed.signature).map_err(|_| LeaseError::BadSignature)?;
    let signature = Signature::from_slice(&signature).map_err(|_| LeaseError::BadSignature)?;
    if !trusted
        .iter()
        .any(|k| k.verify_strict(signed.lease.as_bytes(), &signature).is_ok())
    {
        return Err(LeaseError::BadSignature);
    }
    let json = b64_decode(&signed.lease).map_err(|e| LeaseError::Malformed(e.to_string()))?;
    serde_json::from_slice(&json).map_err(|e| LeaseError::Malformed(e.to_string()))
}

/// Checks a lease that just came from the server in answer to a request carrying `nonce`:
/// it must be for this machine, echo the nonce, and be fresh.
pub fn check_answer(
    lease: &Lease,
    fingerprint: &Fingerprint,
    nonce: &str,
    now: DateTime<Utc>,
) -> Result<(), LeaseError> {
    if &lease.fingerprint != fingerprint {
        return Err(LeaseError::OtherMachine(lease.fingerprint.short()));
    }
    if !bool::from(subtle::ConstantTimeEq::ct_eq(
        lease.nonce.as_bytes(),
        nonce.as_bytes(),
    )) {
        return Err(LeaseError::NonceMismatch);
    }
    if now - lease.issued_at > MAX_RESPONSE_AGE {
        return Err(LeaseError::Stale(lease.issued_at));
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub fn key(seed: u8) -> SigningKey {
        SigningKey::from_bytes(&[seed; 32])
    }

    pub fn lease(now: DateTime<Utc>) -> Lease {
        Lease {
            license_id: "lic_01".into(),
            fingerprint: Fingerprint("ab".repeat(32)),
            status: LeaseStatus::Active,
            tariff: Tariff {
                name: "Business".into(),
                accounts: Some(5),
                messages_per_day: Some(50_000),
                lookups_per_day: Some(500),
                machines: 1,
            },
            paid_until: now + Duration::days(30),
            auto_renew: true,
            issued_at: now,
            valid_until: now + Duration::hours(72),
            nonce: "n-1".into(),
        }
    }

    #[test]
    fn a_signed_lease_round_trips_and_any_change_breaks_it() {
        let now = Utc::now();
        let signed = sign(&lease(now), &key(1));
        let text = serde_json::to_string(&signed).unwrap();
        assert_eq!(parse(&text, &[key(1).verifying_key()]).unwrap(), lease(now));
        assert_eq!(
            parse(&text, &[key(2).verifying_key()]),
            Err(LeaseError::BadSignature)
        );
        // A licensee who edits the status or the limits.
        let mut edited = lease(now);
        edited.tariff.messages_per_day = None;
        let forged = SignedLease {
            lease: sign(&edited, &key(2)).lease,
            signature: signed.signature.clone(),
        };
        assert_eq!(
            verify(&forged, &[key(1).verifying_key()]),
            Err(LeaseError::BadSignature)
        );
        assert!(matches!(
            parse("{", &[key(1).verifying_key()]),
            Err(LeaseError::Malformed(_))
        ));
        assert!(matches!(
            parse(&" ".repeat(MAX_LEASE_LEN + 1), &[key(1).verifying_key()]),
            Err(LeaseError::Malformed(_))
        ));
    }

    #[test]
    fn an_answer_must_be_for_this_machine_this_request_and_fresh() {
        let now = Utc::now();
        let l = lease(now);
        let mine = l.fingerprint.clone();
        assert_eq!(check_answer(&l, &mine, "n-1", now), Ok(()));
        assert!(matches!(
            check_answer(&l, &Fingerprint("cd".repeat(32)), "n-1", now),
            Err(LeaseError::OtherMachine(_))
        ));
        assert_eq!(
            check_answer(&l, &mine, "n-2", now),
            Err(LeaseError::NonceMismatch)
        );
        assert_eq!(
            check_answer(&l, &mine, "n-1", now + Duration::minutes(6)),
            Err(LeaseError::Stale(now))
        );
    }
}
