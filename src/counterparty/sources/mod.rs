//! Registry sources, each an adapter that answers with an explicit status: `ok`,
//! `not_found`, `no_key`, `rate_limited`, `unavailable` or `error`. A source that did not
//! answer is "not checked", never clean. Timeouts, retries and the cache are the caller's
//! settings ([`SourceSettings`]); the cache itself is kept by [`super::check`].

pub mod egov;
pub mod stat;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// How a source answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceStatus {
    Ok,
    NotFound,
    NoKey,
    RateLimited,
    Unavailable,
    Error,
    /// Not asked: `--offline`, a number no source covers, or the licence does not allow it.
    Skipped,
}

impl SourceStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SourceStatus::Ok => "ok",
            SourceStatus::NotFound => "not_found",
            SourceStatus::NoKey => "no_key",
            SourceStatus::RateLimited => "rate_limited",
            SourceStatus::Unavailable => "unavailable",
            SourceStatus::Error => "error",
            SourceStatus::Skipped => "skipped",
        }
    }

    pub fn parse(s: &str) -> Option<SourceStatus> {
        [
            SourceStatus::Ok,
            SourceStatus::NotFound,
            SourceStatus::NoKey,
            SourceStatus::RateLimited,
            SourceStatus::Unavailable,
            SourceStatus::Error,
            SourceStatus::Skipped,
        ]
        .into_iter()
        .find(|v| v.as_str() == s)
    }

    /// Whether the source said something about the number (found or not found).
    pub fn answered(self) -> bool {
        matches!(self, SourceStatus::Ok | SourceStatus::NotFound)
    }
}

/// What a registry says of a company or an entrepreneur; every field may be missing.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Company {
    pub bin: Option<String>,
    pub name: Option<String>,
    /// Registration date, in Kazakhstan's calendar (converted through Asia/Almaty).
    pub registered: Option<NaiveDate>,
    /// The register's status (active, liquidated…), where the source has one.
    pub status: Option<String>,
    pub director: Option<String>,
    pub activity_code: Option<String>,
    pub activity: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub secondary_activities: Vec<String>,
    /// Size class (КРП).
    pub size: Option<String>,
    /// Sector (КСЭ).
    pub sector: Option<String>,
    /// Form of ownership (КФС).
    pub ownership: Option<String>,
    pub kato_code: Option<String>,
    pub address: Option<String>,
    /// An individual entrepreneur rather than a legal entity.
    #[serde(default)]
    pub entrepreneur: bool,
}

impl Company {
    /// Fills what this one lacks from `other`; the status, which only the register has,
    /// comes from `other` when it has one.
    pub fn merge(&mut self, other: &Company) {
        fn fill<T: Clone>(a: &mut Option<T>, b: &Option<T>) {
            if a.is_none() {
                a.clone_from(b);
            }
        }
        fill(&mut self.bin, &other.bin);
        fill(&mut self.name, &other.name);
        fill(&mut self.registered, &other.registered);
        if other.status.is_some() {
            self.status.clone_from(&other.status);
        }
        fill(&mut self.director, &other.director);
        fill(&mut self.activity_code, &other.activity_code);
        fill(&mut self.activity, &other.activity);
        fill(&mut self.size, &other.size);
        fill(&mut self.sector, &other.sector);
        fill(&mut self.ownership, &other.ownership);
        fill(&mut self.kato_code, &other.kato_code);
        fill(&mut self.address, &other.address);
        self.entrepreneur |= other.entrepreneur;
    }
}

/// One source's answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub status: SourceStatus,
    pub company: Option<Company>,
    /// Why, for anything but `ok` and `not_found`.
    pub message: Option<String>,
}

impl Answer {
    pub fn found(company: Company) -> Answer {
        Answer {
            status: SourceStatus::Ok,
            company: Some(company),
            message: None,
        }
    }

    pub fn not_found() -> Answer {
        Answer {
            status: SourceStatus::NotFound,
            company: None,
            message: None,
        }
    }

    pub fn failed(status: SourceStatus, message: impl Into<String>) -> Answer {
        Answer {
            status,
            company: None,
            message: Some(message.into()),
        }
    }
}

/// How sources are asked.
#[derive(Debug, Clone)]
pub struct SourceSettings {
    /// One request's limit.
    pub timeout: Duration,
    /// Further tries after a timeout, a refused connection or a 5xx.
    pub retries: u32,
    /// The first wait between tries; doubled each time.
    pub backoff: Duration,
}

impl Default for SourceSettings {
    fn default() -> Self {
        SourceSettings {
            timeout: Duration::from_secs(10),
            retries: 2,
            backoff: Duration::from_millis(300),
        }
    }
}

/// GETs `url` with the settings' timeout and retries. `Ok((status, body))` for any answer
/// but a 5xx (retried, then `unavailable`); a timeout or a refused connection is retried,
/// then `unavailable`.
pub(crate) async fn get(
    http: &reqwest::Client,
    settings: &SourceSettings,
    url: &str,
    query: &[(&str, &str)],
) -> Result<(reqwest::StatusCode, String), Answer> {
    let mut wait = settings.backoff;
    let mut last = String::new();
    for attempt in 0..=settings.retries {
        if attempt > 0 {
            tokio::time::sleep(wait).await;
            wait *= 2;
        }
        let sent = http
            .get(url)
            .query(query)
            .timeout(settings.timeout)
            .send()
            .await;
        match sent {
            Ok(r) if r.status().is_server_error() => {
                last = format!("the server answered {}", r.status());
            }
            Ok(r) => {
                let status = r.status();
                match r.text().await {
                    Ok(body) => return Ok((status, body)),
                    // Without the URL: data.egov.kz's holds the API key.
                    Err(e) => last = format!("the answer broke off: {}", e.without_url()),
                }
            }
            Err(e) if e.is_timeout() => {
                last = format!("no answer within {} s", settings.timeout.as_secs_f32());
            }
            Err(e) if e.is_connect() => last = "cannot connect".to_string(),
            Err(e) => {
                return Err(Answer::failed(
                    SourceStatus::Error,
                    e.without_url().to_string(),
                ));
            }
        }
    }
    Err(Answer::failed(
        SourceStatus::Unavailable,
        format!("{last} ({} tries)", settings.retries + 1),
    ))
}

/// An empty or blank string as none.
pub(crate) fn text(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}
