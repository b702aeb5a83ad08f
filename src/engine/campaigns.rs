//! The campaign lifecycle (specs/campaigns.md) as the command line and the console use it:
//! create (the message checked against the list's subscribers), start (the content policy,
//! then the outbox made in one transaction), pause, resume, cancel, requeue the unknown, and
//! the status report. Every change is audited.

use crate::domain::policy;
use crate::domain::quiet::SendWindow;
use crate::domain::template::{MessageTemplate, Recipient};
use crate::domain::{CampaignId, CampaignStatus};
use crate::store::campaigns::{self, CampaignRow, NewCampaign};
use crate::store::outbox::{self, LeftOut};
use crate::store::{self, Store, StoreError};
use chrono::{DateTime, Utc};

/// What a new campaign says.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Spec {
    pub name: String,
    pub list: String,
    pub account: String,
    pub text: Option<String>,
    pub wa_template: Option<String>,
    pub wa_lang: Option<String>,
    pub wa_params: Vec<String>,
    pub schedule: Option<DateTime<Utc>>,
    pub quiet_hours: Option<String>,
}

/// A lifecycle step that cannot be taken, in the operator's words.
#[derive(Debug, thiserror::Error)]
pub enum LifecycleError {
    #[error("{0}")]
    Refused(String),
    /// A campaign's spec refused for one of its fields (a form shows it under that field).
    #[error("{1}")]
    Invalid(SpecField, String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for LifecycleError {
    fn from(e: sqlx::Error) -> LifecycleError {
        LifecycleError::Store(e.into())
    }
}

fn refuse<T>(why: impl Into<String>) -> Result<T, LifecycleError> {
    Err(LifecycleError::Refused(why.into()))
}

/// The part of a [`Spec`] a refusal is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpecField {
    Name,
    List,
    Account,
    Message,
    QuietHours,
}

fn invalid<T>(field: SpecField, why: impl Into<String>) -> Result<T, LifecycleError> {
    Err(LifecycleError::Invalid(field, why.into()))
}

/// How many sample subscribers a message is checked against.
const SAMPLE: i64 = 500;
/// How many of the list's first subscribers lead the samples, for previews.
pub const PREVIEWED: i64 = 3;

/// Creates a draft campaign after checking everything that can be checked before start.
pub async fn create(store: &Store, spec: &Spec, actor: &str) -> Result<CampaignId, LifecycleError> {
    let name = spec.name.trim();
    if name.is_empty() {
        return invalid(SpecField::Name, "a campaign needs a name (--name)");
    }
    if name.parse::<i64>().is_ok() {
        // Commands take a number as a campaign's id.
        return invalid(
            SpecField::Name,
            format!(
                "`{name}` cannot be a campaign's name: a number names a campaign by its id; add a word, e.g. `Digest {name}`"
            ),
        );
    }
    let window = spec
        .quiet_hours
        .as_deref()
        .map(SendWindow::parse)
        .transpose()
        .map_err(|e| LifecycleError::Invalid(SpecField::QuietHours, e))?;
    let mut tx = store.begin().await?;
    if let Some((id, status)) = campaigns::named(&mut tx, name).await?.first() {
        // Commands and the audit log name a campaign by its name: one name, one campaign.
        return invalid(
            SpecField::Name,
            format!(
                "a campaign named `{name}` exists already (campaign {id}, {status}); give this one another name, e.g. `{name} {}`",
                Utc::now().format("%Y-%m-%d")
            ),
        );
    }
    let Some(list) = store::lists::id_by_name(&mut tx, &spec.list).await? else {
        return invalid(
            SpecField::List,
            format!(
                "no list named `{}`; `clever lists list` shows them",
                spec.list
            ),
        );
    };
    let Some(account) = store::accounts::id_by_name(&mut tx, &spec.account).await? else {
        return invalid(
            SpecField::Account,
            format!(
                "no account named `{}`; `clever accounts list` shows them",
                spec.account
            ),
        );
    };
    let channel = store
        .account(account)
        .await?
        .map(|a| a.channel)
        .ok_or_else(|| LifecycleError::Refused("the account was removed".into()))?;
    match (&spec.text, &spec.wa_template) {
        (None, None) => return refuse("give the message: --text, --text-file or --wa-template"),
        (Some(_), Some(_)) => return refuse("give either a text or a WhatsApp template, not both"),
        (None, Some(_)) if channel != crate::domain::Channel::WhatsApp => {
            return refuse("templates are a WhatsApp feature; give --text for this account");
        }
        (None, Some(_)) if spec.wa_lang.is_none() => {
            return refuse("a WhatsApp template needs its language (--wa-lang ru)");
        }
        _ => {}
    }
    let samples = samples_of(&mut tx, list, SAMPLE).await?;
    check_message(spec.text.as_deref(), &spec.wa_params, &samples)
        .map_err(|e| LifecycleError::Invalid(SpecField::Message, e))?;
    let (quiet_start, quiet_end) = match &window {
        Some(w) => (
            Some(w.start.format("%H:%M").to_string()),
            Some(w.end.format("%H:%M").to_string()),
        ),
        None => (None, None),
    };
    let id = campaigns::insert(
        &mut tx,
        &NewCampaign {
            name,
            list,
            account,
            message_text: spec.text.as_deref(),
            wa_template_name: spec.wa_template.as_deref(),
            wa_template_lang: spec.wa_lang.as_deref(),
            wa_template_params: spec.wa_params.clone(),
            schedule_at: spec.schedule,
            quiet_hours: quiet_start.as_deref().zip(quiet_end.as_deref()),
            status: CampaignStatus::Draft,
            status_reason: None,
            created_at: Utc::now(),
            started_at: None,
            finished_at: None,
        },
    )
    .await?;
    store::audit::record(
        &mut tx,
        actor,
        "campaign.create",
        "campaign",
        Some(&id.to_string()),
        &serde_json::json!({ "name": spec.name, "list": spec.list, "account": spec.account }),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// A subscriber of a list a message is tried on before a campaign is made.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub name: String,
    pub locale: Option<String>,
    pub attributes: serde_json::Value,
}

impl Sample {
    /// The template's view of this subscriber.
    pub fn recipient(&self) -> Recipient<'_> {
        Recipient {
            name: &self.name,
            locale: self.locale.as_deref(),
            attributes: &self.attributes,
        }
    }

    /// How the subscriber is named in a message to the operator.
    pub fn who(&self) -> String {
        if self.name.is_empty() {
            "a subscriber with no name".to_string()
        } else {
            format!("“{}”", self.name)
        }
    }
}

/// Up to `limit` subscribers of a list: its first few (whom previews show), then one per
/// distinct set of attributes.
pub async fn samples_of(
    conn: &mut sqlx::SqliteConnection,
    list: crate::domain::ListId,
    limit: i64,
) -> Result<Vec<Sample>, StoreError> {
    Ok(campaigns::sample_members(conn, list, PREVIEWED, limit)
        .await?
        .into_iter()
        .map(|(name, locale, attributes)| Sample {
            name,
            locale,
            attributes: serde_json::from_str(&attributes).unwrap_or_default(),
        })
        .collect())
}

/// The same for the console's form, which asks the worker.
pub async fn samples(
    store: &Store,
    list: crate::domain::ListId,
) -> Result<Vec<Sample>, StoreError> {
    let mut conn = store.read().await?;
    let out = samples_of(&mut conn, list, SAMPLE).await?;
    conn.commit().await?;
    Ok(out)
}

/// Checks a message (a text, or a WhatsApp template's parameters) before a campaign is
/// made: each piece compiles, is rendered for every sample (a subscriber lacking a value
/// shows up now, not at send time), and the whole passes the content policy.
pub fn check_message(
    text: Option<&str>,
    params: &[String],
    samples: &[Sample],
) -> Result<(), String> {
    let mut pieces: Vec<(&str, MessageTemplate)> = Vec::new();
    if let Some(text) = text {
        pieces.push((
            "the text",
            MessageTemplate::compile(text).map_err(|e| format!("the text: {e}"))?,
        ));
    }
    for p in params {
        pieces.push((
            "a template parameter",
            MessageTemplate::compile(p).map_err(|e| format!("template parameter `{p}`: {e}"))?,
        ));
    }
    for sample in samples {
        for (what, t) in &pieces {
            if let Err(e) = t.render(&sample.recipient()) {
                return Err(format!(
                    "{what} cannot be written for {}: {e}",
                    sample.who()
                ));
            }
        }
    }
    // The content policy is checked again at start; saying so now saves a round trip.
    let mut all_text = text.unwrap_or_default().to_string();
    for p in params {
        all_text.push('\n');
        all_text.push_str(p);
    }
    let hits = policy::check(&all_text);
    if !hits.is_empty() {
        let lines: Vec<String> = hits.iter().map(ToString::to_string).collect();
        return Err(format!(
            "the message breaks the content policy (offer 3.2.2) and could not be started:\n  {}",
            lines.join("\n  ")
        ));
    }
    Ok(())
}

/// A schedule as the operator types it: RFC 3339 (`2026-12-01T10:00:00+05:00`), or a date and
/// time in the operator's zone, as the console shows times (`2026-12-01 10:00`; the zone is
/// the machine's, or `TZ`). A time that has passed is refused: a draft scheduled for it would
/// start sending the moment it is started, which is what an empty schedule is for.
pub fn parse_schedule(text: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
    parse_schedule_in(text, &chrono::Local, now)
}

/// [`parse_schedule`] with the zone given.
pub fn parse_schedule_in<Z: chrono::TimeZone>(
    text: &str,
    zone: &Z,
    now: DateTime<Utc>,
) -> Result<DateTime<Utc>, String>
where
    Z::Offset: std::fmt::Display,
{
    let text = text.trim();
    let at = match DateTime::parse_from_rfc3339(text) {
        Ok(at) => at.with_timezone(&Utc),
        Err(_) => {
            let naive = [
                "%Y-%m-%d %H:%M",
                "%Y-%m-%dT%H:%M",
                "%Y-%m-%d %H:%M:%S",
                "%Y-%m-%dT%H:%M:%S",
            ]
            .iter()
            .find_map(|f| chrono::NaiveDateTime::parse_from_str(text, f).ok())
            .ok_or_else(|| {
                format!(
                    "`{text}` is not a time like 2026-12-01 10:00 (this machine's zone) \
                         or 2026-12-01T10:00:00+05:00"
                )
            })?;
            zone.from_local_datetime(&naive)
                .earliest()
                .ok_or_else(|| {
                    format!(
                        "`{text}` does not exist in this machine's zone (a clock change skips it)"
                    )
                })?
                .with_timezone(&Utc)
        }
    };
    if at <= now {
        let shown = now.with_timezone(zone).format("%Y-%m-%d %H:%M %:z");
        return Err(format!(
            "`{text}` has passed (it is {shown} now); leave it empty to send on start"
        ));
    }
    Ok(at)
}

/// What a start did.
#[derive(Debug, Clone, PartialEq)]
pub struct Started {
    pub queued: i64,
    pub left_out: LeftOut,
    pub status: CampaignStatus,
}

/// The policy hits of a campaign's message, as one line each.
pub fn policy_problems(c: &CampaignRow, params: &[String]) -> Vec<String> {
    let mut text = c.message_text.clone().unwrap_or_default();
    for p in params {
        text.push('\n');
        text.push_str(p);
    }
    policy::check(&text)
        .iter()
        .map(ToString::to_string)
        .collect()
}

/// Whom a draft would reach if started now, and what would stop it from starting.
#[derive(Debug, Clone, PartialEq)]
pub struct Reach {
    /// Messages its outbox would get.
    pub reaches: i64,
    /// The list's other members, by reason.
    pub left_out: LeftOut,
    /// Content policy hits; a campaign with any cannot start.
    pub policy: Vec<String>,
}

/// The campaign, when it is a draft; otherwise refused with what it is and `why_not`.
async fn draft(
    store: &Store,
    id: CampaignId,
    why_not: &str,
) -> Result<CampaignRow, LifecycleError> {
    match store.campaign(id).await? {
        None => refuse(format!("no campaign {id}")),
        Some(c) if c.status != CampaignStatus::Draft => {
            refuse(format!("campaign {id} is {}; {why_not}", c.status))
        }
        Some(c) => Ok(c),
    }
}

/// Counts whom a draft would reach, reading only: the same rule as the start's outbox.
pub async fn reach(store: &Store, id: CampaignId) -> Result<Reach, LifecycleError> {
    let c = draft(store, id, "its outbox is made (see its status)").await?;
    let mut conn = store.read().await?;
    let params = campaigns::template_params(&mut conn, id).await?;
    let (reaches, left_out) = outbox::reach(&mut conn, id, Utc::now()).await?;
    conn.commit().await?;
    Ok(Reach {
        reaches,
        left_out,
        policy: policy_problems(&c, &params),
    })
}

/// Starts a draft: the content policy first, then the outbox from the sendable subscribers
/// only, in one transaction. Running at once, or scheduled when its time is ahead.
pub async fn start(store: &Store, id: CampaignId, actor: &str) -> Result<Started, LifecycleError> {
    let c = draft(store, id, "only a draft can be started").await?;
    // Every reference the outbox's rows hold is read in this transaction (the campaign, its
    // account, the list's members and their identities): checking each again is two fifths
    // of the rows' insert.
    store
        .without_reference_checks(async |s| start_draft(s, id, &c, actor).await)
        .await
}

async fn start_draft(
    store: &Store,
    id: CampaignId,
    c: &CampaignRow,
    actor: &str,
) -> Result<Started, LifecycleError> {
    let mut tx = store.begin().await?;
    let params: Vec<String> = campaigns::template_params(&mut tx, id).await?;
    let problems = policy_problems(c, &params);
    if !problems.is_empty() {
        return refuse(format!(
            "the message breaks the content policy (offer 3.2.2), so the campaign cannot start:\n  {}\nChange the text and create the campaign again",
            problems.join("\n  ")
        ));
    }
    let now = Utc::now();
    let (queued, left_out) = outbox::materialise(&mut tx, id, now).await?;
    let status = if c.schedule_at.is_some_and(|s| s > now) {
        CampaignStatus::Scheduled
    } else {
        CampaignStatus::Running
    };
    outbox::transition(&mut tx, id, &[CampaignStatus::Draft], status, None).await?;
    store::audit::record(
        &mut tx,
        actor,
        "campaign.start",
        "campaign",
        Some(&id.to_string()),
        &serde_json::json!({ "queued": queued, "left_out": left_out }),
    )
    .await?;
    store::debug_check_references(&mut tx).await?;
    tx.commit().await?;
    Ok(Started {
        queued,
        left_out,
        status,
    })
}

/// Pause, resume or cancel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Pause,
    Resume,
    Cancel,
}

/// Takes a step; the campaign's new status.
pub async fn step(
    store: &Store,
    id: CampaignId,
    step: Step,
    actor: &str,
) -> Result<CampaignStatus, LifecycleError> {
    use CampaignStatus as S;
    let (from, to, action): (&[S], S, &str) = match step {
        Step::Pause => (&[S::Running, S::Scheduled], S::Paused, "campaign.pause"),
        Step::Resume => (&[S::Paused], S::Running, "campaign.resume"),
        Step::Cancel => (
            &[S::Draft, S::Scheduled, S::Running, S::Paused],
            S::Cancelled,
            "campaign.cancel",
        ),
    };
    let mut tx = store.begin().await?;
    if !outbox::transition(&mut tx, id, from, to, None).await? {
        let now: Option<CampaignStatus> = store.campaign(id).await?.map(|c| c.status);
        return refuse(match now {
            None => format!("no campaign {id}"),
            Some(s) => format!(
                "campaign {id} is {s}; it cannot be {}",
                match step {
                    Step::Pause => "paused",
                    Step::Resume => "resumed",
                    Step::Cancel => "cancelled",
                }
            ),
        });
    }
    let skipped = if step == Step::Cancel {
        outbox::skip_queued(&mut tx, id, "cancelled").await?
    } else {
        0
    };
    store::audit::record(
        &mut tx,
        actor,
        action,
        "campaign",
        Some(&id.to_string()),
        &serde_json::json!({ "skipped": skipped }),
    )
    .await?;
    tx.commit().await?;
    Ok(to)
}

/// Puts the `unknown` rows back in the queue; how many.
pub async fn requeue_unknown(
    store: &Store,
    id: CampaignId,
    actor: &str,
) -> Result<u64, LifecycleError> {
    let mut tx = store.begin().await?;
    let n = outbox::requeue_unknown(&mut tx, id).await?;
    if n > 0 {
        // A completed campaign with rows to send again runs again.
        outbox::transition(
            &mut tx,
            id,
            &[CampaignStatus::Completed],
            CampaignStatus::Running,
            None,
        )
        .await?;
    }
    store::audit::record(
        &mut tx,
        actor,
        "campaign.requeue_unknown",
        "campaign",
        Some(&id.to_string()),
        &serde_json::json!({ "rows": n }),
    )
    .await?;
    tx.commit().await?;
    Ok(n)
}

/// A campaign's state in full, for `status` and the detail view.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Status {
    pub id: CampaignId,
    pub name: String,
    pub status: CampaignStatus,
    pub reason: Option<String>,
    /// The account it sends from, and that account's state: nothing is sent while it is
    /// paused or halted (the reason says which and why).
    pub account: String,
    pub account_status: crate::domain::AccountStatus,
    pub account_reason: Option<String>,
    /// When it sends from, if it was given a time (a scheduled campaign waits for it).
    pub schedule_at: Option<DateTime<Utc>>,
    pub counts: serde_json::Value,
    /// Each with `class`, `code`, `detail` (the platform's words, or null) and `count`.
    pub failed_by_cause: Vec<campaigns::FailureCause>,
    pub skipped_by_reason: Vec<serde_json::Value>,
    pub left_out: serde_json::Value,
    /// Messages accepted a second over the last minute.
    pub rate_per_sec: f64,
    /// Seconds until the queue is empty at that rate.
    pub eta_seconds: Option<i64>,
    /// Queued rows due only later: outside their send window, waiting to be retried, or
    /// paced; and when the first of them is due.
    pub waiting: i64,
    pub next_due: Option<DateTime<Utc>>,
    /// The campaign's send window (`09:00-21:00`), if it has one.
    pub quiet_hours: Option<String>,
    /// The process that sends for this database now (`HOST:PID`), if one does.
    pub engine: Option<String>,
}

/// The status report.
pub async fn status(store: &Store, id: CampaignId) -> Result<Option<Status>, StoreError> {
    let Some(c) = store.campaign(id).await? else {
        return Ok(None);
    };
    let failures = store.campaign_failures(id).await?;
    let skips = store.campaign_skips(id).await?;
    let mut conn = store.read().await?;
    let minute =
        outbox::sent_since(&mut conn, id, Utc::now() - chrono::Duration::seconds(60)).await?;
    let engine = outbox::engine_holder(&mut conn).await?;
    let (waiting, next_due) = outbox::waiting(&mut conn, id, Utc::now()).await?;
    conn.commit().await?;
    let rate = minute as f64 / 60.0;
    let left = c.counts.queued + c.counts.sending;
    let n = &c.counts;
    Ok(Some(Status {
        id,
        name: c.name.clone(),
        status: c.status,
        reason: c.status_reason.clone(),
        account: c.account_name.clone(),
        account_status: c.account_status,
        account_reason: c.account_reason.clone(),
        schedule_at: c.schedule_at,
        counts: serde_json::json!({
            "total": n.total, "queued": n.queued, "sending": n.sending, "sent": n.sent,
            "delivered": n.delivered, "read": n.read, "failed": n.failed, "skipped": n.skipped,
            "unknown": n.unknown,
        }),
        failed_by_cause: failures,
        skipped_by_reason: skips
            .into_iter()
            .map(|(reason, n)| serde_json::json!({ "reason": reason, "count": n }))
            .collect(),
        left_out: serde_json::from_str(&c.left_out).unwrap_or_default(),
        rate_per_sec: (rate * 100.0).round() / 100.0,
        eta_seconds: (rate > 0.0 && left > 0).then(|| (left as f64 / rate).ceil() as i64),
        waiting,
        next_due,
        quiet_hours: c
            .quiet_start
            .as_ref()
            .zip(c.quiet_end.as_ref())
            .map(|(a, b)| format!("{a}-{b}")),
        engine,
    }))
}

/// Seconds in words, for an ETA: "45 s", "12 min", "3 h 5 min".
pub fn duration_words(seconds: i64) -> String {
    match seconds {
        s if s < 120 => format!("{s} s"),
        s if s < 7200 => format!("{} min", s / 60),
        s => format!("{} h {} min", s / 3600, s % 3600 / 60),
    }
}

/// The message as the first few recipients get it (before the start, the list's first members
/// who could be sent to): (name, text or why it cannot be written).
pub async fn preview(
    store: &Store,
    id: CampaignId,
    how_many: i64,
) -> Result<Vec<(String, Result<String, String>)>, StoreError> {
    let Some(c) = store.campaign(id).await? else {
        return Ok(Vec::new());
    };
    let mut conn = store.read().await?;
    let params = campaigns::template_params(&mut conn, id).await?;
    let members = campaigns::preview_members(&mut conn, id, how_many).await?;
    conn.commit().await?;
    let text = c.message_text.as_deref().map(MessageTemplate::compile);
    let params: Vec<Result<MessageTemplate, String>> =
        params.iter().map(|p| MessageTemplate::compile(p)).collect();
    Ok(members
        .into_iter()
        .map(|(name, locale, attributes)| {
            let attributes: serde_json::Value =
                serde_json::from_str(&attributes).unwrap_or_default();
            let r = Recipient {
                name: &name,
                locale: locale.as_deref(),
                attributes: &attributes,
            };
            let rendered = if c.wa_template_name.is_some() {
                params
                    .iter()
                    .map(|p| p.as_ref().map_err(Clone::clone).and_then(|t| t.render(&r)))
                    .collect::<Result<Vec<_>, _>>()
                    .map(|values| {
                        let name = c.wa_template_name.as_deref().unwrap_or_default();
                        if values.is_empty() {
                            format!("template {name}, no parameters")
                        } else {
                            format!("template {name}: {}", values.join(" · "))
                        }
                    })
            } else {
                match &text {
                    Some(Ok(t)) => t.render(&r),
                    Some(Err(e)) => Err(e.clone()),
                    None => Err("no message".into()),
                }
            };
            (
                if name.is_empty() {
                    "(no name)".into()
                } else {
                    name
                },
                rendered,
            )
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn a_schedule_is_read_in_the_operators_zone_unless_it_names_one() {
        let almaty = chrono_tz::Asia::Almaty;
        let now = utc("2026-11-26T12:00:00Z");
        for text in [
            "2026-12-01 10:00",
            " 2026-12-01T10:00 ",
            "2026-12-01 10:00:00",
            "2026-12-01T10:00:00+05:00",
            "2026-12-01T05:00:00Z",
        ] {
            assert_eq!(
                parse_schedule_in(text, &almaty, now),
                Ok(utc("2026-12-01T05:00:00Z")),
                "{text}"
            );
        }
        let e = parse_schedule_in("tomorrow", &almaty, now).unwrap_err();
        assert!(e.contains("2026-12-01 10:00"), "{e}");
        // 17:00 in Almaty is 12:00 UTC: not after now.
        let e = parse_schedule_in("2026-11-26 17:00", &almaty, now).unwrap_err();
        assert!(
            e.contains("has passed (it is 2026-11-26 17:00 +05:00 now)"),
            "{e}"
        );
        assert!(parse_schedule_in("2026-11-26 17:01", &almaty, now).is_ok());
        // A local time a clock change skips is named, not moved.
        let berlin = chrono_tz::Europe::Berlin;
        let e = parse_schedule_in("2027-03-28 02:30", &berlin, now).unwrap_err();
        assert!(e.contains("does not exist"), "{e}");
    }
}
