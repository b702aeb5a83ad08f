//! Licensing, the console's side (specs/licensing.md; offer sections 1.3, 1.4, 3.3, 4, 5):
//! keys the vendor signs ([`key`]), the machine they bind to ([`fingerprint`]), the leases
//! the licence server signs ([`lease`]), the states with what each allows ([`state`]), and
//! the calls to the licence server ([`client`], [`protocol`]). All but `client` is pure and
//! checked offline.
//!
//! Trust: the vendor's public key is compiled in ([`VENDOR_KEY`]); `[license]
//! trusted_keys` in config.toml and `CLEVER_LICENSE_TRUSTED_KEYS` add keys for a
//! self-hosted licence server, the demo and tests.

pub mod client;
mod codec;
pub mod fingerprint;
pub mod key;
pub mod lease;
pub mod local;
pub mod protocol;
pub mod state;
pub mod sync;

use ed25519_dalek::VerifyingKey;

/// The vendor's licence-signing public key (hex). Its private half lives only on the
/// vendor's licence server. Release builds compile in the production key by setting
/// `CLEVER_VENDOR_KEY` at build time; without it, a development key whose private half no
/// one holds is used, so such a build trusts only the keys given in its configuration.
pub const VENDOR_KEY: &str = match option_env!("CLEVER_VENDOR_KEY") {
    Some(key) => key,
    None => "f76012d0dfaa8fcf0a3da09693b346183a0512d05b39bf13b3267c8bc5ee0942",
};

/// Why a configured trusted key cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "trusted licence key `{key}` is not an ed25519 public key ({why}): give 64 hexadecimal digits"
)]
pub struct TrustedKeyError {
    pub key: String,
    pub why: &'static str,
}

/// Reads a public key written as 64 hex digits.
pub fn parse_public_key(text: &str) -> Result<VerifyingKey, TrustedKeyError> {
    let text = text.trim();
    let fail = |why| TrustedKeyError {
        key: text.chars().take(80).collect(),
        why,
    };
    let bytes = hex::decode(text).map_err(|_| fail("not hexadecimal"))?;
    let bytes: [u8; 32] = bytes.try_into().map_err(|_| fail("not 32 bytes"))?;
    VerifyingKey::from_bytes(&bytes).map_err(|_| fail("not a point on the curve"))
}

/// The keys leases and licence keys are checked against: the vendor's, then `extra`.
pub fn trusted_keys(extra: &[String]) -> Result<Vec<VerifyingKey>, TrustedKeyError> {
    let mut keys = vec![parse_public_key(VENDOR_KEY).expect("the compiled-in vendor key is valid")];
    for k in extra {
        keys.push(parse_public_key(k)?);
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_vendor_key_and_configured_keys_are_trusted() {
        let extra = hex::encode(
            ed25519_dalek::SigningKey::from_bytes(&[7; 32])
                .verifying_key()
                .to_bytes(),
        );
        let keys = trusted_keys(&[extra]).unwrap();
        assert_eq!(keys.len(), 2);
        let e = trusted_keys(&["abc".into()]).unwrap_err();
        assert!(e.to_string().contains("64 hexadecimal digits"), "{e}");
        assert!(trusted_keys(&["zz".repeat(32)]).is_err());
    }
}
