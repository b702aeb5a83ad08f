//! One counterparty check, whole: the offline validation, then the registry sources (from
//! the cache while it is fresh), the risk lists, and the flags that follow, recorded in the
//! history and the audit log. The CLI (`clever check`) and the Counterparty pane both call
//! [`Checker::check`]. The licence decides whether registries may be asked and how many
//! times a day (the tariff's lookups a day count checks that asked a source over the network;
//! answers from the cache are free).

use super::risk::{self, Level};
use super::sources::{Answer, Company, SourceSettings, SourceStatus, egov, stat};
use super::{Country, Kind, Validation, validate};
use crate::license::sync::Licence;
use crate::store::{self, Store, StoreError, counterparty as cache};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

/// Where the sources are and how they are asked.
#[derive(Debug, Clone)]
pub struct CheckSettings {
    /// How a 12-digit number is read first.
    pub country: Country,
    pub stat_url: String,
    /// Language of the bureau's answers: ru, kk or en.
    pub stat_lang: String,
    pub egov_url: String,
    pub egov_api_key: Option<String>,
    pub sources: SourceSettings,
    /// How long a found company is kept.
    pub cache_ttl: Duration,
    /// How long a "not found" is kept.
    pub not_found_ttl: Duration,
}

impl Default for CheckSettings {
    fn default() -> Self {
        CheckSettings {
            country: Country::Kz,
            stat_url: stat::DEFAULT_BASE.into(),
            stat_lang: "ru".into(),
            egov_url: egov::DEFAULT_BASE.into(),
            egov_api_key: None,
            sources: SourceSettings::default(),
            cache_ttl: Duration::hours(24),
            not_found_ttl: Duration::hours(6),
        }
    }
}

/// What one source said, as shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceReport {
    pub source: String,
    pub status: SourceStatus,
    /// When the source's data is from: the fetch time (RFC 3339), or for the risk lists the
    /// date the oldest list is as of.
    pub as_of: Option<String>,
    /// Answered from this console's cache.
    #[serde(default)]
    pub cached: bool,
    pub message: Option<String>,
}

/// One risk fact, with where it comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Flag {
    pub code: String,
    pub level: Level,
    pub title: String,
    pub source: String,
    /// The decision's or order's number, for risk lists.
    pub decision: Option<String>,
    /// The decision's date, or the registration date.
    pub date: Option<NaiveDate>,
    /// The date the source's data is from.
    pub as_of: Option<NaiveDate>,
}

/// The whole result, as printed by `clever check --json` and kept in the history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckResult {
    pub input: String,
    pub normalized: String,
    pub kind: String,
    pub valid: bool,
    pub errors: Vec<String>,
    pub warnings: Vec<String>,
    pub decoded: serde_json::Value,
    /// What the registries say, merged (the bureau first, the register's status).
    pub company: Option<Company>,
    pub sources: Vec<SourceReport>,
    pub flags: Vec<Flag>,
    pub offline: bool,
    pub checked_at: DateTime<Utc>,
    /// One line for lists.
    pub summary: String,
}

impl CheckResult {
    /// What the number is and what it encodes, then what the registries say, as label and
    /// value: the same facts for `clever check` and the Counterparty pane.
    pub fn facts(&self) -> Vec<(&'static str, String)> {
        let mut out = vec![("Kind", kind_label(&self.kind).to_string())];
        if let serde_json::Value::Object(d) = &self.decoded {
            for (k, v) in d {
                let v = match v {
                    serde_json::Value::Null => continue,
                    serde_json::Value::String(s) => s.clone(),
                    v => v.to_string(),
                };
                let label = match k.as_str() {
                    "probable_birth_date" => "Born (probably)",
                    "probable_sex" => "Sex (probably)",
                    "registered" => "BIN month",
                    "entity" => "Entity",
                    "unit" => "Unit",
                    "bank_code" => "Bank code",
                    "bank" => "Bank",
                    "bic" => "BIC",
                    _ => "Decoded",
                };
                out.push((label, v));
            }
        }
        if let Some(c) = &self.company {
            let mut push = |label, v: &Option<String>| {
                if let Some(v) = v {
                    out.push((label, v.clone()));
                }
            };
            push("Name", &c.name);
            push(
                "Registered",
                &c.registered.map(|d| d.format("%d.%m.%Y").to_string()),
            );
            push("Status", &c.status);
            push("Director", &c.director);
            push(
                "Activity",
                &match (&c.activity_code, &c.activity) {
                    (Some(code), Some(a)) => Some(format!("{code} {a}")),
                    (a, b) => a.clone().or(b.clone()),
                },
            );
            push("Size", &c.size);
            push("Ownership", &c.ownership);
            push("Address", &c.address);
            if c.entrepreneur {
                out.push(("Form", "individual entrepreneur".into()));
            }
        }
        out
    }

    /// Sources that could not say anything (shown as "not checked").
    pub fn not_checked(&self) -> impl Iterator<Item = &SourceReport> {
        self.sources.iter().filter(|s| !s.status.answered())
    }
}

/// A check to run.
#[derive(Debug, Clone)]
pub struct CheckRequest<'a> {
    pub input: &'a str,
    /// Validate only; ask no registry (the risk lists, being local, are still read).
    pub offline: bool,
    /// Overrides the configured country.
    pub country: Option<Country>,
    /// Who asks, for the history and the audit log.
    pub actor: &'a str,
}

/// A source's answer, when it was fetched, and whether it came from the cache.
type Asked = (Answer, Option<DateTime<Utc>>, bool);

/// Name of the risk lists as a source.
pub const RISK_SOURCE: &str = "kgd.gov.kz risk lists";

/// Runs checks.
#[derive(Clone, Debug)]
pub struct Checker {
    store: Store,
    http: reqwest::Client,
    pub settings: std::sync::Arc<CheckSettings>,
    licence: Option<watch::Receiver<Licence>>,
}

impl Checker {
    /// `licence`: the licence's state and tariff; `None` asks no licence (tools and tests).
    pub fn new(
        store: Store,
        settings: CheckSettings,
        licence: Option<watch::Receiver<Licence>>,
    ) -> Result<Checker, reqwest::Error> {
        let http = reqwest::Client::builder()
            .user_agent(concat!("CleverPlatform/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(settings.sources.timeout)
            .build()?;
        Ok(Checker {
            store,
            http,
            settings: std::sync::Arc::new(settings),
            licence,
        })
    }

    /// Runs one check and records it.
    pub async fn check(&self, req: &CheckRequest<'_>) -> Result<CheckResult, StoreError> {
        let now = Utc::now();
        let v = validate(req.input, req.country.unwrap_or(self.settings.country));
        let mut result = base(&v, req.offline, now);
        let kazakh = v.valid && matches!(v.kind, Kind::KzBin | Kind::KzIin);
        let mut online = false;
        if kazakh {
            online = self.registries(&mut result, req.offline, now).await?;
            self.risk_lists(&mut result).await?;
            registry_flags(&mut result, now);
        } else if v.valid && matches!(v.kind, Kind::RuInn | Kind::RuOgrn | Kind::RuOgrnip) {
            result.sources.push(SourceReport {
                source: "egrul.nalog.ru".into(),
                status: SourceStatus::Skipped,
                as_of: None,
                cached: false,
                message: Some(
                    "Russian registries are not connected in this release: validation only".into(),
                ),
            });
        }
        result.flags.sort_by_key(|f| f.level);
        result.summary = summary(&result);
        self.record(&result, req.actor, online).await?;
        Ok(result)
    }

    /// Asks the bureau and the register (cache first). Returns whether any was asked over
    /// the network.
    async fn registries(
        &self,
        result: &mut CheckResult,
        offline: bool,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let number = result.normalized.clone();
        let names = [stat::NAME, egov::NAME];
        let mut answers: [Option<Asked>; 2] = [None, None];
        for (i, name) in names.iter().enumerate() {
            let keyless = *name == egov::NAME
                && self
                    .settings
                    .egov_api_key
                    .as_deref()
                    .is_none_or(|k| k.trim().is_empty());
            if offline {
                answers[i] = Some((
                    Answer::failed(SourceStatus::Skipped, "not asked: offline check"),
                    None,
                    false,
                ));
            } else if keyless {
                answers[i] = Some((egov::no_key(), None, false));
            } else if let Some(c) = cache::cached(&self.store, name, &number, now).await? {
                let status = SourceStatus::parse(&c.status).unwrap_or(SourceStatus::Error);
                let company = serde_json::from_str::<Company>(&c.body).ok();
                answers[i] = Some((
                    Answer {
                        status,
                        company,
                        message: None,
                    },
                    Some(c.fetched_at),
                    true,
                ));
            }
        }
        let to_ask: Vec<usize> = (0..2).filter(|i| answers[*i].is_none()).collect();
        let mut online = false;
        if !to_ask.is_empty() {
            match self.may_look_up().await? {
                Err(why) => {
                    for i in &to_ask {
                        answers[*i] = Some((why.clone(), None, false));
                    }
                }
                Ok(()) => {
                    let s = &self.settings;
                    let ask_stat = to_ask.contains(&0);
                    let ask_egov = to_ask.contains(&1);
                    let (a, b) = tokio::join!(
                        async {
                            if ask_stat {
                                Some(
                                    stat::lookup(
                                        &self.http,
                                        &s.sources,
                                        &s.stat_url,
                                        &s.stat_lang,
                                        &number,
                                    )
                                    .await,
                                )
                            } else {
                                None
                            }
                        },
                        async {
                            if ask_egov {
                                Some(
                                    egov::lookup(
                                        &self.http,
                                        &s.sources,
                                        &s.egov_url,
                                        s.egov_api_key.as_deref(),
                                        &number,
                                    )
                                    .await,
                                )
                            } else {
                                None
                            }
                        }
                    );
                    for (i, answer) in [(0, a), (1, b)] {
                        let Some(answer) = answer else { continue };
                        online |= answer.status != SourceStatus::NoKey;
                        if answer.status.answered() {
                            let ttl = if answer.status == SourceStatus::Ok {
                                s.cache_ttl
                            } else {
                                s.not_found_ttl
                            };
                            let body = serde_json::to_value(&answer.company)
                                .unwrap_or(serde_json::Value::Null);
                            cache::keep(
                                &self.store,
                                names[i],
                                &number,
                                answer.status.as_str(),
                                &body,
                                now,
                                now + ttl,
                            )
                            .await?;
                        }
                        let as_of = answer.status.answered().then_some(now);
                        answers[i] = Some((answer, as_of, false));
                    }
                }
            }
        }
        for (i, a) in answers.into_iter().enumerate() {
            let Some((answer, as_of, cached)) = a else {
                continue;
            };
            if let Some(c) = &answer.company {
                match &mut result.company {
                    Some(have) => have.merge(c),
                    None => result.company = Some(c.clone()),
                }
            }
            result.sources.push(SourceReport {
                source: names[i].to_string(),
                status: answer.status,
                as_of: as_of.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
                cached,
                message: answer.message,
            });
        }
        Ok(online)
    }

    /// Whether the licence lets this check ask a registry now; if not, the answer to show.
    async fn may_look_up(&self) -> Result<Result<(), Answer>, StoreError> {
        let Some(licence) = &self.licence else {
            return Ok(Ok(()));
        };
        let (allows, label, per_day) = {
            let l = licence.borrow();
            (l.allows(), l.state().label(), l.lookups_per_day())
        };
        if !allows.lookups {
            return Ok(Err(Answer::failed(
                SourceStatus::Skipped,
                format!(
                    "not asked: the licence ({label}) does not allow registry lookups; see the License pane"
                ),
            )));
        }
        if let Some(limit) = per_day {
            let since = crate::domain::quiet::start_of_day(chrono::Local::now());
            let used = cache::online_lookups_since(&self.store, since).await?;
            if used >= limit as i64 {
                return Ok(Err(Answer::failed(
                    SourceStatus::RateLimited,
                    format!(
                        "not asked: the tariff's {limit} lookups a day are used up (they renew at midnight); answers already kept still show"
                    ),
                )));
            }
        }
        Ok(Ok(()))
    }

    /// Flags from the imported risk lists, and the lists' standing as a source.
    async fn risk_lists(&self, result: &mut CheckResult) -> Result<(), StoreError> {
        let status = cache::risk_status(&self.store).await?;
        let hits = cache::risk_hits(&self.store, &result.normalized).await?;
        for h in &hits {
            let (level, title) = risk::list(&h.list)
                .map(|l| (l.level, l.title.to_string()))
                .unwrap_or((Level::Amber, h.list.clone()));
            result.flags.push(Flag {
                code: h.list.clone(),
                level,
                title,
                source: format!("kgd.gov.kz {}", h.list),
                decision: Some(h.decision.clone()).filter(|d| !d.is_empty()),
                date: h.decided_on,
                as_of: Some(h.as_of),
            });
        }
        let missing: Vec<&str> = risk::LISTS
            .iter()
            .map(|l| l.code)
            .filter(|c| !status.iter().any(|s| s.list == *c))
            .collect();
        let oldest = status.iter().map(|s| s.as_of).min();
        result.sources.push(SourceReport {
            source: RISK_SOURCE.into(),
            status: if status.is_empty() {
                SourceStatus::Skipped
            } else if hits.is_empty() {
                SourceStatus::NotFound
            } else {
                SourceStatus::Ok
            },
            as_of: oldest.map(|d| d.to_string()),
            cached: false,
            message: if status.is_empty() {
                Some("no risk list imported: run `clever risk-lists import FILE…`".into())
            } else if !missing.is_empty() {
                Some(format!(
                    "not checked against {} (not imported)",
                    missing.join(", ")
                ))
            } else {
                None
            },
        });
        Ok(())
    }

    async fn record(&self, r: &CheckResult, actor: &str, online: bool) -> Result<(), StoreError> {
        let mut tx = self.store.begin().await?;
        let id = keep(&mut tx, r, actor, online).await?;
        store::audit::record(
            &mut tx,
            actor,
            "counterparty.check",
            "lookup",
            Some(&id.to_string()),
            &serde_json::json!({
                "number": masked(&r.kind, &r.normalized),
                "kind": r.kind,
                "valid": r.valid,
                "online": online,
                "flags": r.flags.iter().map(|f| f.code.as_str()).collect::<Vec<_>>(),
            }),
        )
        .await?;
        tx.commit().await?;
        tracing::info!(
            number = %masked(&r.kind, &r.normalized),
            kind = %r.kind,
            valid = r.valid,
            online,
            "counterparty checked"
        );
        Ok(())
    }
}

/// Keeps a result in the history of checks; returns its id.
pub async fn keep(
    conn: &mut sqlx::SqliteConnection,
    r: &CheckResult,
    actor: &str,
    online: bool,
) -> Result<i64, StoreError> {
    store::lookups::insert(
        conn,
        &store::lookups::NewLookup {
            input: &r.input,
            normalized: &r.normalized,
            kind: &r.kind,
            valid: r.valid,
            summary: &r.summary,
            detail: &serde_json::to_value(r).unwrap_or_default(),
            checked_at: r.checked_at,
            checked_by: actor,
            online,
        },
    )
    .await
}

/// A number as logs may show it: an IIN (a person's) keeps only its last 4 digits.
pub fn masked(kind: &str, number: &str) -> String {
    if kind == "kz_iin" || (kind == "ru_inn" && number.len() == 12) || kind == "ru_ogrnip" {
        let keep = number.len().saturating_sub(4);
        format!("{}{}", "*".repeat(keep), &number[keep..])
    } else {
        number.to_string()
    }
}

/// The kind in words.
pub fn kind_label(kind: &str) -> &'static str {
    match kind {
        "kz_iin" => "KZ IIN (individual)",
        "kz_bin" => "KZ BIN (legal entity)",
        "ru_inn" => "RU INN",
        "ru_ogrn" => "RU OGRN",
        "ru_ogrnip" => "RU OGRNIP",
        "iban" => "IBAN",
        "bic" => "BIC",
        _ => "unknown",
    }
}

/// A source's status in words: "not checked" for anything but an answer.
pub fn status_label(r: &SourceReport) -> String {
    let base = match r.status {
        SourceStatus::Ok => "found",
        SourceStatus::NotFound => "not found",
        SourceStatus::NoKey => "not checked: no API key",
        SourceStatus::RateLimited => "not checked: rate limited",
        SourceStatus::Unavailable => "not checked: unavailable",
        SourceStatus::Error => "not checked: error",
        SourceStatus::Skipped => "not checked",
    };
    let mut s = base.to_string();
    if let Some(at) = &r.as_of {
        let at = DateTime::parse_from_rfc3339(at)
            .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
            .unwrap_or_else(|_| at.clone());
        s.push_str(&format!(
            " · as of {at}{}",
            if r.cached { " (kept)" } else { "" }
        ));
    }
    s
}

/// A flag in one line: level, what, where from, decision, dates.
pub fn flag_line(f: &Flag) -> String {
    let mut s = format!("{} — {}", f.title, f.source);
    if let Some(d) = &f.decision {
        s.push_str(&format!(", decision {d}"));
    }
    if let Some(d) = f.date {
        s.push_str(&format!(" of {}", d.format("%d.%m.%Y")));
    }
    if let Some(a) = f.as_of {
        s.push_str(&format!(" (as of {})", a.format("%Y-%m-%d")));
    }
    s
}

/// A result with the validation alone.
fn base(v: &Validation, offline: bool, now: DateTime<Utc>) -> CheckResult {
    CheckResult {
        input: v.input.clone(),
        normalized: v.normalized.clone(),
        kind: serde_json::to_value(v.kind)
            .ok()
            .and_then(|k| k.as_str().map(str::to_string))
            .unwrap_or_default(),
        valid: v.valid,
        errors: v.errors.clone(),
        warnings: v.warnings.clone(),
        decoded: v.decoded.clone(),
        company: None,
        sources: Vec::new(),
        flags: Vec::new(),
        offline,
        checked_at: now,
        summary: String::new(),
    }
}

/// The result of an offline check that asks nothing, not even the risk lists (the demo's
/// history is seeded with these).
pub fn offline(input: &str, country: Country, now: DateTime<Utc>) -> CheckResult {
    let mut r = base(&validate(input, country), true, now);
    r.summary = summary(&r);
    r
}

/// Flags that follow from the registry's facts.
fn registry_flags(r: &mut CheckResult, now: DateTime<Utc>) {
    let Some(c) = &r.company else { return };
    let as_of = r
        .sources
        .iter()
        .filter(|s| s.status == SourceStatus::Ok)
        .filter_map(|s| s.as_of.as_deref())
        .filter_map(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.date_naive())
        .max();
    let source = r
        .sources
        .iter()
        .find(|s| s.status == SourceStatus::Ok)
        .map(|s| s.source.clone())
        .unwrap_or_default();
    if let Some(reg) = c.registered
        && reg > (now - Duration::days(183)).date_naive()
    {
        r.flags.push(Flag {
            code: "RECENTLY_REGISTERED".into(),
            level: Level::Amber,
            title: "registered less than 6 months ago".into(),
            source: source.clone(),
            decision: None,
            date: Some(reg),
            as_of,
        });
    }
    if let Some(status) = &c.status {
        let s = status.to_lowercase();
        if ["ликвид", "прекращ", "liquidat", "terminat", "таратыл"]
            .iter()
            .any(|w| s.contains(w))
        {
            r.flags.push(Flag {
                code: "LIQUIDATED".into(),
                level: Level::Red,
                title: format!("register status: {status}"),
                source: egov::NAME.into(),
                decision: None,
                date: None,
                as_of,
            });
        }
    }
}

/// One line for lists and the history.
fn summary(r: &CheckResult) -> String {
    if !r.valid {
        return r
            .errors
            .first()
            .cloned()
            .unwrap_or_else(|| "invalid".into());
    }
    let mut parts = Vec::new();
    match &r.company {
        Some(c) => parts.push(c.name.clone().unwrap_or_else(|| "(no name given)".into())),
        None => {
            if r.sources
                .iter()
                .any(|s| s.status == SourceStatus::NotFound && s.source != RISK_SOURCE)
            {
                parts.push("not in the registries".into());
            }
        }
    }
    let red = r.flags.iter().filter(|f| f.level == Level::Red).count();
    let amber = r.flags.len() - red;
    if red > 0 {
        parts.push(format!("{red} red"));
    }
    if amber > 0 {
        parts.push(format!("{amber} amber"));
    }
    let not_checked: Vec<&str> = r.not_checked().map(|s| s.source.as_str()).collect();
    if !not_checked.is_empty() {
        parts.push(format!("not checked: {}", not_checked.join(", ")));
    }
    if parts.is_empty() {
        parts.push("valid".into());
    }
    parts.join(" · ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iins_are_masked_and_bins_are_not() {
        assert_eq!(masked("kz_iin", "911105302575"), "********2575");
        assert_eq!(masked("kz_bin", "940140000385"), "940140000385");
        assert_eq!(masked("ru_inn", "526317984689"), "********4689");
        assert_eq!(masked("ru_inn", "7707083893"), "7707083893");
    }
}
