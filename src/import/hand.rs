//! One subscriber entered by hand (`clever subscribers add`, the console's `N`): read as one
//! row of an import, so every rule of the import holds for them (normalised phones, time
//! zones, suppressions win, someone known by an address is updated, not doubled) and the
//! consent is recorded with the source and proof given.

use super::{ImportError, ImportOptions, ImportSummary, Source};
use crate::domain::{Channel, ConsentScope, ConsentStatus, SubscriberId};
use crate::store::{self, Store};

/// What was entered. Empty texts count as not given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Entry {
    pub phone: String,
    pub telegram: String,
    pub instagram: String,
    pub name: String,
    pub locale: String,
    pub time_zone: String,
    /// A consent given or refused, on every address entered; `None` records none.
    pub consent: Option<ConsentStatus>,
    /// What the consent covers.
    pub scope: ConsentScope,
    pub source: String,
    pub proof: String,
    /// When the consent was given, as the import reads `consent_at`; empty is now.
    pub at: String,
}

/// How the entry landed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// A new subscriber.
    New,
    /// Someone known by one of the addresses, changed.
    Updated,
    /// Someone known by one of the addresses, already as entered.
    Unchanged,
}

/// An entry taken in.
#[derive(Debug, Clone, PartialEq)]
pub struct Added {
    pub outcome: Outcome,
    /// Who they are now.
    pub subscriber: Option<SubscriberId>,
    pub summary: ImportSummary,
}

impl Entry {
    /// The addresses entered, by channel.
    pub fn addresses(&self) -> Vec<(Channel, &str)> {
        [
            (Channel::WhatsApp, &self.phone),
            (Channel::Telegram, &self.telegram),
            (Channel::Instagram, &self.instagram),
        ]
        .into_iter()
        .map(|(c, a)| (c, a.trim()))
        .filter(|(_, a)| !a.is_empty())
        .collect()
    }

    /// The entry as a CSV file of one row, with only the columns given.
    fn csv(&self) -> Result<String, ImportError> {
        let consent = self.consent.map(|s| match s {
            ConsentStatus::Granted => "yes".to_string(),
            ConsentStatus::Withdrawn => "no".to_string(),
        });
        let name = crate::domain::one_line(self.name.trim()).into_owned();
        // Marketing consent for every address in one column; service consent in each
        // address's own (the import reads service consent per channel only).
        let (marketing, service) = match self.scope {
            ConsentScope::Marketing => (consent, None),
            ConsentScope::Service => (None, consent),
        };
        let service_on = |address: &str| service.clone().filter(|_| !address.trim().is_empty());
        let columns: Vec<(&str, String)> = [
            ("phone", Some(self.phone.clone())),
            ("telegram_chat_id", Some(self.telegram.clone())),
            ("instagram_id", Some(self.instagram.clone())),
            ("name", Some(name)),
            ("locale", Some(self.locale.clone())),
            ("timezone", Some(self.time_zone.clone())),
            ("consent", marketing),
            ("service_consent_whatsapp", service_on(&self.phone)),
            ("service_consent_telegram", service_on(&self.telegram)),
            ("service_consent_instagram", service_on(&self.instagram)),
            ("consent_source", Some(self.source.clone())),
            ("consent_proof", Some(self.proof.clone())),
            ("consent_at", Some(self.at.clone())),
        ]
        .into_iter()
        .filter_map(|(h, v)| Some((h, v?.trim().to_string())).filter(|(_, v)| !v.is_empty()))
        .collect();
        let failed = |e: String| ImportError::NotCsv {
            path: "the entry".into(),
            reason: e,
        };
        let mut csv = csv::Writer::from_writer(Vec::new());
        csv.write_record(columns.iter().map(|(h, _)| *h))
            .and_then(|()| csv.write_record(columns.iter().map(|(_, v)| v.as_str())))
            .map_err(|e| failed(e.to_string()))?;
        let bytes = csv.into_inner().map_err(|e| failed(e.to_string()))?;
        String::from_utf8(bytes).map_err(|e| failed(e.to_string()))
    }
}

/// Takes the entry into `opts.list` (which the caller has checked exists). `Ok(Err(why))`:
/// the row was refused, as an import would refuse it, and nothing changed.
pub async fn add(
    store: &Store,
    entry: &Entry,
    opts: &ImportOptions,
) -> Result<Result<Added, String>, ImportError> {
    if entry.addresses().is_empty() {
        return Ok(Err(
            "give an address: a phone, a Telegram chat id or an Instagram id".into(),
        ));
    }
    let source = Source::Text {
        name: "entered by hand".into(),
        csv: entry.csv()?,
    };
    let summary = super::import(store, &source, opts, |_| {}).await?;
    if let Some(r) = summary.first_rejected.first() {
        return Ok(Err(r.reason.clone()));
    }
    let outcome = if summary.imported > 0 {
        Outcome::New
    } else if summary.updated > 0 {
        Outcome::Updated
    } else {
        Outcome::Unchanged
    };
    let mut subscriber = None;
    let mut conn = store.read().await?;
    for (channel, address) in entry.addresses() {
        if let Ok(address) = channel.normalize_address(address, opts.region)
            && let Some(id) = store::subscribers::by_address(&mut conn, channel, &address).await?
        {
            subscriber = Some(id);
            break;
        }
    }
    Ok(Ok(Added {
        outcome,
        subscriber,
        summary,
    }))
}
