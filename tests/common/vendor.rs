//! A vendor for the licence tests: a licence server in a folder of its own with its signing
//! key, one tariff and one issued licence, serving on loopback. Included with
//! `#[path = "common/vendor.rs"] mod vendor;`.

#![allow(dead_code)]

use cleverplatform::license_server::store::{LicenseRow, ServerStore, TariffRow};
use cleverplatform::license_server::{self, ServerOptions};

pub struct Vendor {
    pub _dir: tempfile::TempDir,
    /// The signing key's public half, in hex.
    pub public: String,
    pub licence: LicenseRow,
    pub store: ServerStore,
    pub server: license_server::Running,
}

/// A vendor whose tariff allows `accounts` real accounts (`None`: any number).
pub async fn vendor(accounts: Option<i64>, options: ServerOptions) -> Vendor {
    let dir = tempfile::tempdir().unwrap();
    let store = ServerStore::open(dir.path()).await.unwrap();
    let public = store.create_signing_key().unwrap();
    store
        .put_tariff(&TariffRow {
            code: "t".into(),
            name: "T".into(),
            accounts,
            messages_per_day: None,
            lookups_per_day: None,
            machines: 1,
            period_days: 30,
            price: 0,
        })
        .await
        .unwrap();
    let (licence, _) = store.issue("t", "a@example.kz", None).await.unwrap();
    let server = license_server::start(store.clone(), "127.0.0.1:0".parse().unwrap(), options)
        .await
        .unwrap();
    Vendor {
        _dir: dir,
        public,
        licence,
        store,
        server,
    }
}
