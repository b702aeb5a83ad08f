//! A vendor for the licence tests: a licence server in a folder of its own with its signing
//! key, one tariff and one issued licence, serving on loopback; and a licence as the console's
//! sync would publish it, for tests that set its state by hand. Included with
//! `#[path = "common/vendor.rs"] mod vendor;`.

#![allow(dead_code)]

use cleverplatform::license::fingerprint::Fingerprint;
use cleverplatform::license::lease::{Lease, LeaseStatus, Tariff};
use cleverplatform::license::local::Standing;
use cleverplatform::license::state::LicenseState;
use cleverplatform::license::sync::Licence;
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

/// The limits of a tariff (`None`: unlimited).
#[derive(Debug, Clone, Copy, Default)]
pub struct Limits {
    pub accounts: Option<u32>,
    pub messages_per_day: Option<u64>,
    pub lookups_per_day: Option<u64>,
}

/// A licence in `state` on a tariff with these limits, as the sync publishes it.
pub fn licence(state: LicenseState, limits: Limits) -> Licence {
    let now = chrono::Utc::now();
    Licence {
        standing: Some(Standing {
            fingerprint: Ok(Fingerprint("ab".repeat(32))),
            lease: Some(Lease {
                license_id: "lic".into(),
                fingerprint: Fingerprint("ab".repeat(32)),
                status: LeaseStatus::Active,
                tariff: Tariff {
                    name: "Start".into(),
                    accounts: limits.accounts,
                    messages_per_day: limits.messages_per_day,
                    lookups_per_day: limits.lookups_per_day,
                    machines: 1,
                },
                paid_until: now + chrono::Duration::days(1),
                auto_renew: false,
                issued_at: now,
                valid_until: now + chrono::Duration::days(1),
                nonce: String::new(),
            }),
            state,
        }),
        ..Default::default()
    }
}
