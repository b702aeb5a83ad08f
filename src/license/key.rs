//! Licence keys: `<prefix>/<base64url(JSON payload)>.<base64url(ed25519 signature)>`, the
//! signature over the bytes before the dot (the layout of Keygen's ED25519_SIGN keys). A key
//! proves the vendor issued it; its expiry and status come later, from signed leases.

use super::codec::{b64_decode, b64_encode};
use chrono::{DateTime, Utc};
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};

/// The prefix of keys this product issues.
pub const PREFIX: &str = "clever1";
/// Longest key text accepted, after whitespace is removed: a key is a few hundred bytes, so
/// anything longer is a wrong paste, refused before any decoding.
pub const MAX_KEY_LEN: usize = 2048;

/// What the vendor signed into a key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyPayload {
    /// The licence's id on the vendor's server.
    pub license_id: String,
    /// The tariff's code (its limits come with the lease).
    pub tariff: String,
    pub issued_at: DateTime<Utc>,
    /// The licensee's e-mail, as written on the offer.
    pub email: String,
}

/// A key whose signature checked out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LicenseKey {
    /// The key as it should be stored and sent: whitespace from the paste removed.
    pub text: String,
    pub payload: KeyPayload,
}

/// Why a pasted key was refused, in words that say what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("the key is empty: paste the whole key from the e-mail or the personal cabinet")]
    Empty,
    #[error(
        "the key is {0} characters long, longer than any key: paste only the key, from `{PREFIX}/` to its end"
    )]
    TooLong(usize),
    #[error("this is not a CleverPlatform licence key ({0}); it starts with `{PREFIX}/`")]
    Malformed(&'static str),
    #[error(
        "the key's signature does not match: it was changed or cut short. Paste it again, whole, from the e-mail"
    )]
    BadSignature,
    #[error("the key's contents cannot be read ({0}); ask the vendor for a new key")]
    BadPayload(String),
}

/// The key text with every whitespace character (spaces, tabs, line breaks from a wrapped
/// e-mail) removed.
pub fn normalise(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace()).collect()
}

/// Parses and verifies a key against the trusted vendor keys (strict ed25519 verification:
/// no malleable or small-order signatures).
pub fn parse(text: &str, trusted: &[VerifyingKey]) -> Result<LicenseKey, KeyError> {
    let text = normalise(text);
    if text.is_empty() {
        return Err(KeyError::Empty);
    }
    if text.len() > MAX_KEY_LEN {
        return Err(KeyError::TooLong(text.len()));
    }
    let (prefix, rest) = text
        .split_once('/')
        .ok_or(KeyError::Malformed("no `/` after the prefix"))?;
    if prefix != PREFIX {
        return Err(KeyError::Malformed("unknown prefix"));
    }
    let (payload_b64, signature_b64) = rest
        .rsplit_once('.')
        .ok_or(KeyError::Malformed("no `.` before the signature"))?;
    let signature = b64_decode(signature_b64).map_err(|_| KeyError::BadSignature)?;
    let signature = Signature::from_slice(&signature).map_err(|_| KeyError::BadSignature)?;
    let signed = &text[..prefix.len() + 1 + payload_b64.len()];
    if !trusted
        .iter()
        .any(|k| k.verify_strict(signed.as_bytes(), &signature).is_ok())
    {
        return Err(KeyError::BadSignature);
    }
    let payload = b64_decode(payload_b64).map_err(|e| KeyError::BadPayload(e.to_string()))?;
    let payload: KeyPayload =
        serde_json::from_slice(&payload).map_err(|e| KeyError::BadPayload(e.to_string()))?;
    Ok(LicenseKey { text, payload })
}

/// Issues a key (the vendor's side, the demo and tests).
pub fn issue(payload: &KeyPayload, signing: &SigningKey) -> String {
    let json = serde_json::to_vec(payload).unwrap_or_default();
    let signed = format!("{PREFIX}/{}", b64_encode(&json));
    let signature = signing.sign(signed.as_bytes());
    format!("{signed}.{}", b64_encode(&signature.to_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn signing(seed: u8) -> SigningKey {
        SigningKey::from_bytes(&[seed; 32])
    }

    fn payload() -> KeyPayload {
        KeyPayload {
            license_id: "lic_01".into(),
            tariff: "business".into(),
            issued_at: "2026-11-20T10:00:00Z".parse().unwrap(),
            email: "ops@example.kz".into(),
        }
    }

    #[test]
    fn an_issued_key_verifies_even_wrapped_and_indented() {
        let key = issue(&payload(), &signing(1));
        let trusted = [signing(9).verifying_key(), signing(1).verifying_key()];
        assert_eq!(parse(&key, &trusted).unwrap().payload, payload());
        // A paste from a wrapped e-mail: line breaks, spaces, a tab.
        let (a, b) = key.split_at(30);
        let pasted = format!("  {a}\r\n\t{b}\n");
        let k = parse(&pasted, &trusted).unwrap();
        assert_eq!(k.text, key);
    }

    #[test]
    fn padded_base64_is_accepted() {
        let key = issue(&payload(), &signing(1));
        let (signed, sig) = key.rsplit_once('.').unwrap();
        // 64 signature bytes are 86 characters unpadded, 88 padded.
        let padded = format!("{signed}.{sig}==");
        assert!(parse(&padded, &[signing(1).verifying_key()]).is_ok());
    }

    #[test]
    fn bad_keys_are_refused_with_what_to_do() {
        let trusted = [signing(1).verifying_key()];
        let key = issue(&payload(), &signing(1));
        assert_eq!(parse(" \n", &trusted), Err(KeyError::Empty));
        assert_eq!(
            parse(&"a".repeat(MAX_KEY_LEN + 1), &trusted),
            Err(KeyError::TooLong(MAX_KEY_LEN + 1))
        );
        assert!(matches!(
            parse("hello", &trusted),
            Err(KeyError::Malformed(_))
        ));
        assert!(matches!(
            parse(&key.replacen(PREFIX, "other1", 1), &trusted),
            Err(KeyError::Malformed(_))
        ));
        // Another vendor's key, a cut-short key, a changed payload.
        let foreign = issue(&payload(), &signing(2));
        assert_eq!(parse(&foreign, &trusted), Err(KeyError::BadSignature));
        assert_eq!(
            parse(&key[..key.len() - 3], &trusted),
            Err(KeyError::BadSignature)
        );
        let mut p = payload();
        p.tariff = "unlimited".into();
        let (_, sig) = key.rsplit_once('.').unwrap();
        let forged = format!(
            "{PREFIX}/{}.{sig}",
            b64_encode(&serde_json::to_vec(&p).unwrap())
        );
        assert_eq!(parse(&forged, &trusted), Err(KeyError::BadSignature));
        assert!(
            KeyError::BadSignature
                .to_string()
                .contains("Paste it again")
        );
    }

    proptest! {
        #[test]
        fn nothing_pasted_panics(text in ".{0,300}") {
            let _ = parse(&text, &[signing(1).verifying_key()]);
        }

        #[test]
        fn any_changed_character_is_caught(i in 0usize..200, c in "[A-Za-z0-9_-]") {
            let key = issue(&payload(), &signing(1));
            let i = i % key.len();
            let mut changed: Vec<char> = key.chars().collect();
            let c = c.chars().next().unwrap();
            prop_assume!(changed[i] != c && changed[i] != '/' && changed[i] != '.');
            changed[i] = c;
            let changed: String = changed.into_iter().collect();
            prop_assert!(parse(&changed, &[signing(1).verifying_key()]).is_err());
        }
    }
}
