//! The machine a licence is bound to. The raw machine id never leaves the machine: the
//! fingerprint is hex(HMAC-SHA256(key = machine id, message = "cleverplatform/v1")), the way
//! systemd derives application-specific ids. The id is read by `machine-uid` (on Linux
//! `/var/lib/dbus/machine-id`, then `/etc/machine-id`), or from a file the operator names;
//! containers often ship an empty or all-zero id, which is refused with advice.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use std::path::{Path, PathBuf};

/// The message the machine id keys.
const CONTEXT: &[u8] = b"cleverplatform/v1";

/// Why the machine id cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MachineIdError {
    #[error(
        "cannot read the machine id ({reason}). On Linux it is /etc/machine-id \
         (`systemd-machine-id-setup` creates it); in a container, mount the host's file and \
         pass --machine-id-file /path/to/machine-id"
    )]
    Unreadable { reason: String },
    #[error(
        "the machine id in {file} is {what}, so it cannot tell this machine apart (a \
         container image often ships one like that). Run `systemd-machine-id-setup`, or mount \
         the host's /etc/machine-id and pass --machine-id-file"
    )]
    Unusable { file: String, what: &'static str },
}

/// A checked machine id: 32 lowercase hex digits, not all zero.
#[derive(Clone, PartialEq, Eq)]
pub struct MachineId(String);

impl std::fmt::Debug for MachineId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The raw id is not for logs.
        f.write_str("MachineId(…)")
    }
}

impl MachineId {
    /// Checks an id as read from `source` (named in the error).
    pub fn parse(text: &str, source: &str) -> Result<MachineId, MachineIdError> {
        let id = text.trim().to_ascii_lowercase();
        let unusable = |what| MachineIdError::Unusable {
            file: source.to_string(),
            what,
        };
        if id.is_empty() {
            return Err(unusable("empty"));
        }
        if id.len() != 32 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(unusable("not 32 hexadecimal digits"));
        }
        if id.bytes().all(|b| b == b'0') {
            return Err(unusable("all zeros"));
        }
        Ok(MachineId(id))
    }

    /// The id from `file`, or the system's.
    pub fn read(file: Option<&Path>) -> Result<MachineId, MachineIdError> {
        match file {
            Some(path) => {
                let text =
                    std::fs::read_to_string(path).map_err(|e| MachineIdError::Unreadable {
                        reason: format!("{}: {e}", path.display()),
                    })?;
                MachineId::parse(&text, &path.display().to_string())
            }
            None => {
                let text = machine_uid::get().map_err(|e| MachineIdError::Unreadable {
                    reason: e.to_string(),
                })?;
                MachineId::parse(&text, &system_source())
            }
        }
    }

    /// What the licence server sees of this machine.
    pub fn fingerprint(&self) -> Fingerprint {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(self.0.as_bytes())
            .expect("HMAC takes a key of any length");
        mac.update(CONTEXT);
        Fingerprint(hex::encode(mac.finalize().into_bytes()))
    }
}

/// Where `machine-uid` found the id, for error messages.
fn system_source() -> String {
    [
        PathBuf::from("/var/lib/dbus/machine-id"),
        PathBuf::from("/etc/machine-id"),
    ]
    .into_iter()
    .find(|p| p.exists())
    .map_or_else(|| "the system".into(), |p| p.display().to_string())
}

/// A machine's fingerprint: 64 lowercase hex digits.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct Fingerprint(pub String);

impl Fingerprint {
    /// The first 12 digits, grouped: enough to tell machines apart on screen.
    pub fn short(&self) -> String {
        let head: Vec<char> = self.0.chars().take(12).collect();
        head.chunks(4)
            .map(|c| c.iter().collect::<String>())
            .collect::<Vec<_>>()
            .join("-")
    }
}

impl std::fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const ID: &str = "4c4c4544003910808033b4c04f4e4d32";

    #[test]
    fn the_fingerprint_is_the_keyed_hash_of_the_id() {
        let id = MachineId::parse(&format!("{ID}\n"), "test").unwrap();
        let fp = id.fingerprint();
        assert_eq!(fp.0.len(), 64);
        assert!(!fp.0.contains(ID), "the raw id does not show");
        // Independent computation of the same HMAC.
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(ID.as_bytes()).unwrap();
        mac.update(b"cleverplatform/v1");
        assert_eq!(fp.0, hex::encode(mac.finalize().into_bytes()));
        assert_eq!(
            MachineId::parse(&ID.to_uppercase(), "t")
                .unwrap()
                .fingerprint(),
            fp,
            "case does not matter"
        );
        assert_eq!(fp.short().len(), 14);
        assert!(
            !format!("{id:?}").contains(ID),
            "not in debug output either"
        );
    }

    #[test]
    fn unusable_ids_are_refused_with_advice() {
        for (text, what) in [
            ("", "empty"),
            ("\n", "empty"),
            ("00000000000000000000000000000000", "all zeros"),
            ("uninitialized", "not 32 hexadecimal digits"),
            (
                "4c4c4544-0039-1080-8033-b4c04f4e4d32",
                "not 32 hexadecimal digits",
            ),
        ] {
            let e = MachineId::parse(text, "/etc/machine-id").unwrap_err();
            assert_eq!(
                e,
                MachineIdError::Unusable {
                    file: "/etc/machine-id".into(),
                    what
                }
            );
            assert!(e.to_string().contains("--machine-id-file"), "{e}");
        }
    }

    #[test]
    fn a_named_file_is_read_and_a_missing_one_explained() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("machine-id");
        std::fs::write(&path, format!("{ID}\n")).unwrap();
        assert!(MachineId::read(Some(&path)).is_ok());
        let e = MachineId::read(Some(&dir.path().join("nope"))).unwrap_err();
        assert!(matches!(e, MachineIdError::Unreadable { .. }), "{e}");
        assert!(e.to_string().contains("nope"), "{e}");
    }

    proptest! {
        #[test]
        fn anything_read_is_either_refused_or_fingerprinted(text in ".{0,64}") {
            if let Ok(id) = MachineId::parse(&text, "t") {
                prop_assert_eq!(id.fingerprint().0.len(), 64);
            }
        }
    }
}
