//! The licence states of the offer and what each allows, decided in one place from the
//! stored lease, this machine's fingerprint and the clock (specs/licensing.md, "Console
//! states"). The engine asks [`LicenseState::allows`] before every batch; the status bar,
//! the License pane and `clever license status` show [`LicenseState::label`] and
//! [`LicenseState::advice`].

use super::fingerprint::Fingerprint;
use super::lease::{CLOCK_SLACK, Lease, LeaseStatus};
use chrono::{DateTime, Duration, Utc};

/// How often the lease is refreshed; a lease older than this (plus some slack) means the
/// server has not been reached lately: the console works on in grace.
pub const REFRESH_EVERY: Duration = Duration::hours(4);

/// Where the licence stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LicenseState {
    /// No key activated yet.
    Unlicensed,
    /// A fresh lease, status active, for this machine.
    Active,
    /// The server has not been reached lately; the lease still holds until `until`.
    Grace { until: DateTime<Utc> },
    /// The paid period is over.
    Expired { since: DateTime<Utc> },
    /// An automatic payment failed.
    Suspended,
    /// Blocked for a violation.
    Blocked,
    /// The lease cannot be trusted: the reason says why.
    Invalid { reason: String },
}

/// What a state allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Allows {
    /// Send campaigns through real platform accounts.
    pub send: bool,
    /// Send through sandbox (emulator) accounts: trying things out.
    pub send_sandbox: bool,
    /// Counterparty lookups against registries.
    pub lookups: bool,
    /// Change data: imports, lists, accounts, campaigns. Reading and exporting are always
    /// allowed: a stopped licence never holds the operator's data hostage.
    pub change: bool,
}

/// A change to the workspace the licence decides on. Reading, exporting, pausing,
/// cancelling and suppressing are always allowed: they never need a licence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Importing subscribers.
    Import,
    /// Changing a subscriber's name, language or time zone.
    Subscriber,
    /// Creating or deleting a list.
    List,
    /// Lifting a suppression.
    Unsuppress,
    /// Recording a consent grant by hand.
    Consent,
    /// Adding, changing, resuming or removing an account.
    Account { sandbox: bool },
    /// Creating, starting, resuming or re-queueing a campaign.
    Campaign { sandbox: bool },
}

impl Change {
    fn what(self) -> &'static str {
        match self {
            Change::Import => "importing subscribers",
            Change::Subscriber => "changing subscribers",
            Change::List => "changing lists",
            Change::Unsuppress => "lifting a suppression",
            Change::Consent => "recording a consent",
            Change::Account { .. } => "changing accounts",
            Change::Campaign { .. } => "creating, starting or resuming campaigns",
        }
    }
}

impl LicenseState {
    /// Whether the state permits a change; if not, what to tell the operator. Read-only
    /// states (expired, suspended, invalid) still permit sandbox accounts and campaigns,
    /// for trying things out; a blocked licence permits no change at all.
    pub fn permits(&self, change: Change, now: DateTime<Utc>) -> Result<(), String> {
        let a = self.allows();
        let ok = match change {
            Change::Account { sandbox: true } | Change::Campaign { sandbox: true } => {
                a.change || a.send_sandbox
            }
            _ => a.change,
        };
        if ok {
            return Ok(());
        }
        Err(format!(
            "the licence is {}: {} is not allowed until it is put right (reading, exporting, \
             pausing and suppressing still work). {}",
            self.label(),
            change.what(),
            self.advice(now)
        ))
    }

    /// Decides the state. `lease` is the stored lease with its signature already checked
    /// (`None` when there is none); `highest_seen` the latest time this workspace has seen.
    pub fn evaluate(
        lease: Option<&Lease>,
        fingerprint: &Fingerprint,
        now: DateTime<Utc>,
        highest_seen: Option<DateTime<Utc>>,
    ) -> LicenseState {
        let Some(lease) = lease else {
            return LicenseState::Unlicensed;
        };
        if &lease.fingerprint != fingerprint {
            return LicenseState::Invalid {
                reason: "the lease belongs to another machine".into(),
            };
        }
        if highest_seen.is_some_and(|h| now < h - CLOCK_SLACK)
            || now < lease.issued_at - CLOCK_SLACK
        {
            return LicenseState::Invalid {
                reason: "this machine's clock is behind a time it has already seen (was it turned back?)"
                    .into(),
            };
        }
        match lease.status {
            LeaseStatus::Blocked => return LicenseState::Blocked,
            LeaseStatus::Suspended => return LicenseState::Suspended,
            LeaseStatus::Expired => {
                return LicenseState::Expired {
                    since: lease.paid_until,
                };
            }
            LeaseStatus::Active => {}
        }
        if now >= lease.paid_until {
            return LicenseState::Expired {
                since: lease.paid_until,
            };
        }
        if now >= lease.valid_until {
            return LicenseState::Invalid {
                reason: format!(
                    "the licence server has not been reached since {}, longer than the offline grace",
                    lease.issued_at.format("%Y-%m-%d %H:%M UTC")
                ),
            };
        }
        if now - lease.issued_at > REFRESH_EVERY + Duration::minutes(30) {
            return LicenseState::Grace {
                until: lease.valid_until,
            };
        }
        LicenseState::Active
    }

    /// What the state allows (the table of specs/licensing.md).
    pub fn allows(&self) -> Allows {
        let all = Allows {
            send: true,
            send_sandbox: true,
            lookups: true,
            change: true,
        };
        let read_only_sandbox = Allows {
            send: false,
            send_sandbox: true,
            lookups: false,
            change: false,
        };
        match self {
            LicenseState::Active | LicenseState::Grace { .. } => all,
            // Setting up before buying is expected: lists, accounts and drafts can be made,
            // and the sandbox tried; nothing reaches a real platform.
            LicenseState::Unlicensed => Allows {
                send: false,
                send_sandbox: true,
                lookups: false,
                change: true,
            },
            LicenseState::Expired { .. }
            | LicenseState::Suspended
            | LicenseState::Invalid { .. } => read_only_sandbox,
            LicenseState::Blocked => Allows {
                send: false,
                send_sandbox: false,
                lookups: false,
                change: false,
            },
        }
    }

    /// One word or two, for the status bar and JSON.
    pub fn label(&self) -> &'static str {
        match self {
            LicenseState::Unlicensed => "not activated",
            LicenseState::Active => "active",
            LicenseState::Grace { .. } => "grace",
            LicenseState::Expired { .. } => "expired",
            LicenseState::Suspended => "suspended",
            LicenseState::Blocked => "blocked",
            LicenseState::Invalid { .. } => "invalid",
        }
    }

    /// The label with the hours left in grace (`grace, 41 h left`), for the status bar and
    /// the License pane.
    pub fn short(&self, now: DateTime<Utc>) -> String {
        match self {
            LicenseState::Grace { until } => {
                format!("grace, {} h left", (*until - now).num_hours().max(0))
            }
            s => s.label().to_string(),
        }
    }

    /// Why, in plain words, and what to do next.
    pub fn advice(&self, now: DateTime<Utc>) -> String {
        match self {
            LicenseState::Unlicensed => {
                "No licence yet: the sandbox and the demo work, nothing is sent to real platforms. \
                 Activate with `clever license activate KEY` or in the License pane."
                    .into()
            }
            LicenseState::Active => "The licence is active on this machine.".into(),
            LicenseState::Grace { until } => format!(
                "The licence server has not answered lately; everything works for {} more hours. \
                 Check this machine's connection to the licence server.",
                (*until - now).num_hours().max(0)
            ),
            LicenseState::Expired { since } => format!(
                "The paid period ended on {}. Sending has stopped; your data is kept and can be \
                 viewed and exported. Renew in the personal cabinet, then `clever license sync`.",
                since.format("%Y-%m-%d")
            ),
            LicenseState::Suspended => {
                "The automatic payment failed, so the licence is suspended. Sending has stopped; \
                 your data is kept. Pay in the personal cabinet (the card on file or another), \
                 then `clever license sync`."
                    .into()
            }
            LicenseState::Blocked => {
                "The vendor blocked this licence for a violation of the offer (spam, tampering). \
                 Data can be viewed and exported; contact the vendor."
                    .into()
            }
            LicenseState::Invalid { reason } => format!(
                "The licence cannot be trusted: {reason}. Sending has stopped. Run \
                 `clever license sync`; if this machine changed, activate it again."
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::license::lease::tests::lease;
    use proptest::prelude::*;

    fn fp() -> Fingerprint {
        Fingerprint("ab".repeat(32))
    }

    #[test]
    fn the_states_of_the_offer() {
        let t0: DateTime<Utc> = "2026-11-20T10:00:00Z".parse().unwrap();
        let l = lease(t0);
        let at = |h: i64| t0 + Duration::hours(h);
        assert_eq!(
            LicenseState::evaluate(None, &fp(), t0, None),
            LicenseState::Unlicensed
        );
        assert_eq!(
            LicenseState::evaluate(Some(&l), &fp(), at(1), None),
            LicenseState::Active
        );
        assert_eq!(
            LicenseState::evaluate(Some(&l), &fp(), at(10), Some(at(9))),
            LicenseState::Grace {
                until: l.valid_until
            }
        );
        assert!(matches!(
            LicenseState::evaluate(Some(&l), &fp(), at(73), None),
            LicenseState::Invalid { .. }
        ));
        let mut paid_out = l.clone();
        paid_out.paid_until = at(2);
        assert_eq!(
            LicenseState::evaluate(Some(&paid_out), &fp(), at(3), None),
            LicenseState::Expired { since: at(2) }
        );
        for (status, state) in [
            (LeaseStatus::Suspended, LicenseState::Suspended),
            (LeaseStatus::Blocked, LicenseState::Blocked),
        ] {
            let mut s = l.clone();
            s.status = status;
            assert_eq!(LicenseState::evaluate(Some(&s), &fp(), at(1), None), state);
        }
        // Another machine; a clock turned back behind what was seen or behind the lease.
        assert!(matches!(
            LicenseState::evaluate(Some(&l), &Fingerprint("cd".repeat(32)), at(1), None),
            LicenseState::Invalid { .. }
        ));
        let back = LicenseState::evaluate(Some(&l), &fp(), at(1), Some(at(2)));
        assert!(matches!(&back, LicenseState::Invalid { reason } if reason.contains("clock")));
        assert!(matches!(
            LicenseState::evaluate(Some(&l), &fp(), t0 - Duration::hours(1), None),
            LicenseState::Invalid { .. }
        ));
        // A few minutes of clock drift is no tampering.
        assert_eq!(
            LicenseState::evaluate(Some(&l), &fp(), at(1), Some(at(1) + Duration::minutes(3))),
            LicenseState::Active
        );
    }

    #[test]
    fn what_each_state_allows() {
        let now = Utc::now();
        let send = |s: LicenseState| s.allows().send;
        assert!(send(LicenseState::Active));
        assert!(send(LicenseState::Grace { until: now }));
        for s in [
            LicenseState::Unlicensed,
            LicenseState::Expired { since: now },
            LicenseState::Suspended,
            LicenseState::Blocked,
            LicenseState::Invalid { reason: "x".into() },
        ] {
            assert!(!s.allows().send, "{s:?}");
            assert!(!s.allows().lookups, "{s:?}");
            assert!(!s.advice(now).is_empty());
        }
        assert!(LicenseState::Unlicensed.allows().send_sandbox);
        assert!(LicenseState::Suspended.allows().send_sandbox);
        assert!(!LicenseState::Blocked.allows().send_sandbox);
        assert!(!LicenseState::Expired { since: now }.allows().change);
        assert!(
            LicenseState::Suspended
                .advice(now)
                .contains("personal cabinet")
        );
    }

    #[test]
    fn read_only_states_refuse_changes_but_keep_the_sandbox() {
        let now = Utc::now();
        let real = Change::Campaign { sandbox: false };
        let sandbox = Change::Campaign { sandbox: true };
        for s in [LicenseState::Active, LicenseState::Unlicensed] {
            for c in [
                Change::Import,
                Change::Subscriber,
                Change::List,
                Change::Unsuppress,
                real,
                sandbox,
            ] {
                assert!(s.permits(c, now).is_ok(), "{s:?} {c:?}");
            }
        }
        let e = LicenseState::Suspended
            .permits(Change::Import, now)
            .unwrap_err();
        assert!(e.contains("suspended") && e.contains("importing"), "{e}");
        assert!(LicenseState::Suspended.permits(real, now).is_err());
        assert!(LicenseState::Suspended.permits(sandbox, now).is_ok());
        assert!(
            LicenseState::Expired { since: now }
                .permits(Change::Account { sandbox: true }, now)
                .is_ok()
        );
        assert!(LicenseState::Blocked.permits(sandbox, now).is_err());
    }

    proptest! {
        /// Whatever the clock and the lease, sending is allowed only on an active lease for
        /// this machine, within its paid period and its offline grace.
        #[test]
        fn sending_needs_an_active_lease_in_time(
            offset_h in -200i64..200,
            paid_h in -100i64..100,
            valid_h in -100i64..100,
            status in 0usize..4,
            same_machine: bool,
        ) {
            let t0: DateTime<Utc> = "2026-11-20T10:00:00Z".parse().unwrap();
            let mut l = lease(t0);
            l.paid_until = t0 + Duration::hours(paid_h);
            l.valid_until = t0 + Duration::hours(valid_h);
            l.status = [LeaseStatus::Active, LeaseStatus::Suspended, LeaseStatus::Blocked, LeaseStatus::Expired][status];
            let now = t0 + Duration::hours(offset_h);
            let mine = if same_machine { fp() } else { Fingerprint("cd".repeat(32)) };
            let state = LicenseState::evaluate(Some(&l), &mine, now, None);
            if state.allows().send {
                prop_assert!(same_machine);
                prop_assert_eq!(l.status, LeaseStatus::Active);
                prop_assert!(now < l.paid_until && now < l.valid_until);
                prop_assert!(now >= l.issued_at - CLOCK_SLACK);
            }
        }
    }
}
