//! This machine's licence files and the state they add up to. In the data folder's
//! `license/` (0700, each file 0600): `lease.json` (the last lease, as the server signed it),
//! `key` (the key it was activated with, for syncs) and `request.json` (a pending offline
//! request). The latest time this workspace has seen is kept in the database's settings, so
//! a clock turned back shows (this is why `license` reads the `store`).

use super::fingerprint::{Fingerprint, MachineId};
use super::lease::{self, Lease, SignedLease};
use super::state::LicenseState;
use crate::store::{Store, StoreError};
use chrono::{DateTime, Utc};
use ed25519_dalek::VerifyingKey;
use std::path::{Path, PathBuf};

/// The setting holding the latest time this workspace has seen.
const HIGHEST_SEEN: &str = "license.highest_seen";

/// Why an activation, sync or deactivation did not happen.
#[derive(Debug, thiserror::Error)]
pub enum ActionError {
    #[error(transparent)]
    Key(#[from] super::key::KeyError),
    #[error(transparent)]
    Machine(#[from] super::fingerprint::MachineIdError),
    #[error(transparent)]
    Server(#[from] super::client::ClientError),
    #[error(transparent)]
    Local(#[from] LocalError),
    #[error("this machine is not activated: activate it with its licence key first")]
    NotActivated,
    #[error("{0}")]
    Client(String),
}

/// Why the licence files could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum LocalError {
    #[error("cannot use {path}: {error}")]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Where this machine's licence lives and what it trusts.
#[derive(Debug, Clone)]
pub struct Local {
    pub folder: PathBuf,
    pub trusted: Vec<VerifyingKey>,
    pub machine_id_file: Option<PathBuf>,
    pub server_url: String,
}

/// What the licence looks like now.
#[derive(Debug, Clone, PartialEq)]
pub struct Standing {
    pub fingerprint: Result<Fingerprint, String>,
    pub lease: Option<Lease>,
    pub state: LicenseState,
}

impl Local {
    pub fn lease_path(&self) -> PathBuf {
        self.folder.join("lease.json")
    }

    pub fn key_path(&self) -> PathBuf {
        self.folder.join("key")
    }

    pub fn request_path(&self) -> PathBuf {
        self.folder.join("request.json")
    }

    /// This machine's fingerprint, or why it has none.
    pub fn fingerprint(&self) -> Result<Fingerprint, String> {
        MachineId::read(self.machine_id_file.as_deref())
            .map(|id| id.fingerprint())
            .map_err(|e| e.to_string())
    }

    /// The key this machine was activated with.
    pub fn stored_key(&self) -> Option<String> {
        std::fs::read_to_string(self.key_path())
            .ok()
            .map(|k| k.trim().to_string())
            .filter(|k| !k.is_empty())
    }

    /// Keeps a lease (and the key it belongs to).
    pub fn keep(&self, key: &str, signed: &SignedLease) -> Result<(), LocalError> {
        let text = serde_json::to_string_pretty(signed).unwrap_or_default();
        write_private(&self.lease_path(), &text)?;
        if !key.is_empty() {
            write_private(&self.key_path(), key)?;
        }
        Ok(())
    }

    /// Forgets the lease and key (after a deactivation).
    pub fn forget(&self) {
        let _ = std::fs::remove_file(self.lease_path());
        let _ = std::fs::remove_file(self.key_path());
    }

    fn client(&self) -> Result<super::client::LicenseClient, ActionError> {
        super::client::LicenseClient::new(&self.server_url).map_err(ActionError::Client)
    }

    /// Activates this machine with a key (as pasted): the lease is checked and kept.
    pub async fn activate(&self, key_text: &str) -> Result<Lease, ActionError> {
        let key = super::key::parse(key_text, &self.trusted)?;
        let fp = MachineId::read(self.machine_id_file.as_deref())?.fingerprint();
        let (lease, signed) = self
            .client()?
            .lease(
                "/v1/activate",
                &key.text,
                &fp,
                &crate::host::name(),
                &self.trusted,
            )
            .await?;
        self.keep(&key.text, &signed)?;
        Ok(lease)
    }

    /// Refreshes the lease from the server now.
    pub async fn sync(&self) -> Result<Lease, ActionError> {
        let key = self.stored_key().ok_or(ActionError::NotActivated)?;
        let fp = MachineId::read(self.machine_id_file.as_deref())?.fingerprint();
        let (lease, signed) = self
            .client()?
            .lease(
                "/v1/heartbeat",
                &key,
                &fp,
                &crate::host::name(),
                &self.trusted,
            )
            .await?;
        self.keep(&key, &signed)?;
        Ok(lease)
    }

    /// Frees this machine's seat on the server and forgets the lease.
    pub async fn deactivate(&self) -> Result<(), ActionError> {
        let key = self.stored_key().ok_or(ActionError::NotActivated)?;
        let fp = MachineId::read(self.machine_id_file.as_deref())?.fingerprint();
        self.client()?.deactivate(&key, &fp).await?;
        self.forget();
        Ok(())
    }

    /// Reads the stored lease and decides the state; remembers the time seen.
    pub async fn standing(&self, store: &Store) -> Result<Standing, LocalError> {
        self.standing_at(store, Utc::now()).await
    }

    /// The standing as of `now` (the clock is remembered as seen, as at any other time).
    pub async fn standing_at(
        &self,
        store: &Store,
        now: DateTime<Utc>,
    ) -> Result<Standing, LocalError> {
        let fingerprint = self.fingerprint();
        let highest: Option<DateTime<Utc>> = store
            .setting(HIGHEST_SEEN)
            .await?
            .and_then(|t| t.parse().ok());
        let path = self.lease_path();
        let lease = match std::fs::read_to_string(&path) {
            Ok(text) => Some(lease::parse(&text, &self.trusted)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(error) => return Err(LocalError::Io { path, error }),
        };
        let state = match (&fingerprint, &lease) {
            (_, None) => LicenseState::Unlicensed,
            (_, Some(Err(e))) => LicenseState::Invalid {
                reason: e.to_string(),
            },
            (Err(e), Some(Ok(_))) => LicenseState::Invalid {
                reason: format!("this machine cannot be identified: {e}"),
            },
            (Ok(fp), Some(Ok(l))) => LicenseState::evaluate(Some(l), fp, now, highest),
        };
        // The clock is remembered only while it looks right, so turning it back cannot hide.
        if highest.is_none_or(|h| now > h) {
            store.set_setting(HIGHEST_SEEN, &now.to_rfc3339()).await?;
        }
        Ok(Standing {
            fingerprint,
            lease: lease.and_then(Result::ok),
            state,
        })
    }
}

/// Writes a file only its owner can read (atomically: a temporary file renamed), in a
/// folder only its owner can enter.
pub fn write_private(path: &Path, text: &str) -> Result<(), LocalError> {
    use std::io::Write;
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
    let fail = |path: &Path| {
        let path = path.to_path_buf();
        move |error| LocalError::Io { path, error }
    };
    if let Some(dir) = path.parent() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(fail(dir))?;
    }
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(fail(&tmp))?;
    f.write_all(text.as_bytes()).map_err(fail(&tmp))?;
    f.sync_all().map_err(fail(&tmp))?;
    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600)).map_err(fail(&tmp))?;
    std::fs::rename(&tmp, path).map_err(fail(path))
}
