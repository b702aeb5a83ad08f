//! Bulk import of subscribers, set-based: each chunk of validated rows goes into a temporary
//! staging table (bound row by row on the connection's handle, [`super::direct`]), then a
//! fixed sequence of statements resolves existing subscribers by identity, rejects
//! suppressed addresses and conflicting identities, inserts what is new and updates what
//! changed; a statement that could find nothing in the chunk (no one suppressed, no address
//! known, no address on a channel) is skipped. A consent value is recorded only when it
//! changes the latest consent on record and is dated no earlier than it. The caller holds one
//! transaction for the whole file, so an import lands whole or not at all.

use super::{StoreError, now};
use crate::domain::{Channel, ConsentStatus, ListId};
use chrono::{DateTime, Utc};
use sqlx::SqliteConnection;

/// One validated row of an import file.
#[derive(Debug, Clone, PartialEq)]
pub struct StagedRow {
    /// Line of the file the row starts on.
    pub line: i64,
    pub name: Option<String>,
    pub locale: Option<String>,
    pub time_zone: Option<String>,
    /// JSON object of the extra columns that had a value.
    pub attributes: Option<String>,
    /// The row's first address on each channel.
    pub whatsapp: Option<String>,
    pub telegram: Option<String>,
    pub instagram: Option<String>,
    /// Its further addresses (a CRM's second phone, `subscribers export`'s `phone_2`), in
    /// the file's order, none repeated; empty for most rows.
    pub more: Vec<(Channel, String)>,
    /// Consent on every channel the row has an address on.
    pub consent: Option<ConsentStatus>,
    /// Consent on one channel, in [`crate::domain::Channel::ALL`]'s order; it wins over
    /// `consent` on its channel.
    pub consent_on: [Option<ConsentStatus>; 3],
    pub consent_source: String,
    pub consent_proof: String,
    pub consent_at: DateTime<Utc>,
    /// When, from where and with what proof the consent on a channel (in
    /// [`crate::domain::Channel::ALL`]'s order) was given, where the file says so for that
    /// channel (`subscribers export` does); the row's own otherwise.
    /// Boxed, and `None` for the usual row that says nothing of the kind: a chunk of rows
    /// waits in memory.
    pub given_on: Option<Box<[ConsentGiven; 3]>>,
    /// The grant in `consent` was declared for the whole file (`--consent-source`), not
    /// given on the row: it never overrides a withdrawal on record.
    pub declared: bool,
    /// Service consent the row gives, per channel (only a file's per-channel columns give
    /// it, as `subscribers export` writes them); empty for most rows.
    pub service: Vec<ServiceConsent>,
}

impl StagedRow {
    /// A row of the file's line that says nothing yet, its consent dated `consent_at`.
    pub fn empty(line: i64, consent_at: DateTime<Utc>) -> StagedRow {
        StagedRow {
            line,
            name: None,
            locale: None,
            time_zone: None,
            attributes: None,
            whatsapp: None,
            telegram: None,
            instagram: None,
            more: Vec::new(),
            consent: None,
            consent_on: [None; 3],
            consent_source: String::new(),
            consent_proof: String::new(),
            consent_at,
            given_on: None,
            declared: false,
            service: Vec::new(),
        }
    }

    /// The row's address on a channel if it is its first there, else one more (kept once).
    pub fn add_address(&mut self, channel: Channel, address: String) {
        let first = match channel {
            Channel::WhatsApp => &mut self.whatsapp,
            Channel::Telegram => &mut self.telegram,
            Channel::Instagram => &mut self.instagram,
        };
        match first {
            None => *first = Some(address),
            Some(a) if *a == address => {}
            Some(_) => {
                if !self
                    .more
                    .iter()
                    .any(|(c, a)| *c == channel && *a == address)
                {
                    self.more.push((channel, address));
                }
            }
        }
    }

    /// Every address of the row, the first on each channel first.
    pub fn addresses(&self) -> impl Iterator<Item = (Channel, &str)> {
        [
            (Channel::WhatsApp, &self.whatsapp),
            (Channel::Telegram, &self.telegram),
            (Channel::Instagram, &self.instagram),
        ]
        .into_iter()
        .filter_map(|(c, a)| Some((c, a.as_deref()?)))
        .chain(self.more.iter().map(|(c, a)| (*c, a.as_str())))
    }
}

/// A service consent one row gives on one channel, with when, from where and with what
/// proof (the file's for that channel, else the row's).
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceConsent {
    pub channel: Channel,
    pub status: ConsentStatus,
    pub at: DateTime<Utc>,
    pub source: String,
    pub proof: String,
}

/// What a file says of the consent on one channel, beyond its value.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConsentGiven {
    pub at: Option<DateTime<Utc>>,
    pub source: Option<String>,
    pub proof: Option<String>,
}

impl ConsentGiven {
    pub fn is_empty(&self) -> bool {
        self.at.is_none() && self.source.is_none() && self.proof.is_none()
    }
}

/// What a row that says nothing of its channels' consents stages for them.
static NOTHING_GIVEN: [ConsentGiven; 3] = [const {
    ConsentGiven {
        at: None,
        source: None,
        proof: None,
    }
}; 3];

/// What one chunk did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChunkOutcome {
    pub imported: u64,
    pub updated: u64,
    pub unchanged: u64,
    /// (line, reason) of rows the database refused.
    pub rejected: Vec<(i64, String)>,
    /// Queued campaign rows skipped because the chunk withdrew their consent.
    pub queued_skipped: u64,
    /// Rows whose consent value would have changed the consent on record but was given
    /// before it (`consent_at` earlier than the latest event): not applied.
    pub consent_outdated: u64,
    /// Rows whose consent declared for the file (`--consent-source`) met a withdrawal on
    /// record: not applied.
    pub withdrawn_kept: u64,
}

/// Reason for a row whose address is on the do-not-contact list.
pub const SUPPRESSED: &str = "suppressed";

/// Creates the staging table for this connection (dropped with the connection).
pub async fn prepare(conn: &mut SqliteConnection) -> Result<(), StoreError> {
    // A bulk write touches every index: a larger page cache (16 MiB) keeps it off the disk.
    // Temporary tables go to a temporary file (`Store::open` sets it for every connection:
    // it cannot change inside a transaction), so what the import remembers about the rows
    // it has seen never grows memory, whatever the file's size.
    sqlx::query("PRAGMA cache_size = -16384")
        .execute(&mut *conn)
        .await?;
    drop_staging(conn).await?;
    // Every subscriber known before this import that it has written, with the line that did
    // it (one it made is told by its number, see `made_at` below).
    sqlx::query(
        "CREATE TEMP TABLE import_touched (subscriber_id INTEGER PRIMARY KEY, line INTEGER NOT NULL)",
    )
    .execute(&mut *conn)
    .await?;
    // A row's subscriber is the one its addresses belong to (`sub_wa`, …, read per chunk),
    // else a new one numbered by its line, after the highest id before the import: the
    // import holds the one writer, so no one else numbers a subscriber meanwhile. Ids so
    // follow the file's lines, and a line that makes no new subscriber (rejected, or someone
    // known) leaves its number unused. Computed, not stored: numbering the new rows of a
    // chunk was a pass over them.
    let highest: i64 = sqlx::query_scalar("SELECT coalesce(max(id), 0) FROM subscribers")
        .fetch_one(&mut *conn)
        .await?;
    // The first row is on line 2 at the earliest (under the header).
    let before_line_2 = highest - 1;
    // Only a number is formatted into it.
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "CREATE TEMP TABLE import_rows (
            line INTEGER PRIMARY KEY, name TEXT, locale TEXT, time_zone TEXT, attributes TEXT,
            wa TEXT, tg TEXT, ig TEXT, consent TEXT, consent_wa TEXT, consent_tg TEXT,
            consent_ig TEXT, consent_source TEXT, consent_proof TEXT,
            consent_at TEXT, sub_wa INTEGER, sub_tg INTEGER, sub_ig INTEGER, sub_more INTEGER,
            subscriber_id INTEGER GENERATED ALWAYS AS
                (coalesce(sub_wa, sub_tg, sub_ig, sub_more, {before_line_2} + max(line, 2))) VIRTUAL,
            is_new INTEGER GENERATED ALWAYS AS
                (coalesce(sub_wa, sub_tg, sub_ig, sub_more) IS NULL) VIRTUAL,
            made_at INTEGER GENERATED ALWAYS AS
                (CASE WHEN coalesce(sub_wa, sub_tg, sub_ig, sub_more) > {highest}
                 THEN coalesce(sub_wa, sub_tg, sub_ig, sub_more) - {before_line_2} END) VIRTUAL,
            changed INTEGER NOT NULL DEFAULT 0, reject TEXT,
            st_wa TEXT, at_wa TEXT, st_tg TEXT, at_tg TEXT, st_ig TEXT, at_ig TEXT,
            outdated INTEGER NOT NULL DEFAULT 0, declared INTEGER NOT NULL DEFAULT 0,
            kept_withdrawn INTEGER NOT NULL DEFAULT 0,
            c_at_wa TEXT, c_src_wa TEXT, c_proof_wa TEXT, c_at_tg TEXT, c_src_tg TEXT,
            c_proof_tg TEXT, c_at_ig TEXT, c_src_ig TEXT, c_proof_ig TEXT)"
    )))
    .execute(&mut *conn)
    .await?;
    // The service consents of a chunk's rows (few files have any), with the row's subscriber
    // and the latest service consent on record there (`st`, `st_at`), read per chunk.
    sqlx::query(
        "CREATE TEMP TABLE import_service (line INTEGER NOT NULL, channel TEXT NOT NULL, \
         status TEXT NOT NULL, source TEXT NOT NULL, proof TEXT NOT NULL, at TEXT NOT NULL, \
         subscriber_id INTEGER, is_new INTEGER, st TEXT, st_at TEXT, \
         PRIMARY KEY (line, channel))",
    )
    .execute(&mut *conn)
    .await?;
    // A chunk's further addresses (past the first on a channel; few files have any), with
    // the subscriber each belongs to (`sub`), read per chunk.
    sqlx::query(
        "CREATE TEMP TABLE import_more (line INTEGER NOT NULL, channel TEXT NOT NULL, \
         address TEXT NOT NULL, sub INTEGER)",
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

async fn drop_staging(conn: &mut SqliteConnection) -> Result<(), StoreError> {
    for sql in [
        "DROP TABLE IF EXISTS temp.import_rows",
        "DROP TABLE IF EXISTS temp.import_touched",
        "DROP TABLE IF EXISTS temp.import_service",
        "DROP TABLE IF EXISTS temp.import_more",
    ] {
        sqlx::query(sql).execute(&mut *conn).await?;
    }
    Ok(())
}

/// Drops the staging table and gives the connection its usual page cache back.
pub async fn finish(conn: &mut SqliteConnection) -> Result<(), StoreError> {
    drop_staging(conn).await?;
    sqlx::query("PRAGMA cache_size = -2000")
        .execute(&mut *conn)
        .await?;
    Ok(())
}

// The statements below are written once for the three channels: `$s` is a channel's short
// name in the staging table (`wa`, `tg`, `ig`), which names its address column (`wa`), its
// consent value (`consent_wa`), the latest marketing consent on record read into the table
// (`st_wa`, `at_wa`; none for a new subscriber), the subscriber the address belongs to
// (`sub_wa`) and what the file says of the consent there (`c_at_wa`, `c_src_wa`, `c_proof_wa`).

/// The row's consent value on a channel: its own column's, else the one for every channel.
macro_rules! consent_on {
    ($s:literal) => {
        concat!("coalesce(consent_", $s, ", consent)")
    };
}

/// When the row's consent on a channel was given: the file's date for that channel, else
/// the row's (`consent_at`, or the import's time when the file gave none).
///
/// What the file says of one channel's consent (`c_at_wa`, …) sits at the end of a staging
/// row, and reading it there costs a chunk of rows without any of it about 4 % of a first
/// import: such a chunk is applied with `row`, which reads the row's own only.
macro_rules! consent_time {
    ($s:literal) => {
        concat!("coalesce(c_at_", $s, ", consent_at)")
    };
    ($s:literal, row) => {
        "consent_at"
    };
}

/// Where and with what proof the row's consent on a channel was given (`row`: as above).
macro_rules! consent_given {
    ($s:literal) => {
        concat!(
            "coalesce(c_src_",
            $s,
            ", consent_source), coalesce(c_proof_",
            $s,
            ", consent_proof)"
        )
    };
    ($s:literal, row) => {
        "consent_source, consent_proof"
    };
}

/// Whether the row's consent value on a channel differs from what is on record. A `no` for
/// someone with nothing on record is a refusal and is recorded too (as the console and
/// `subscribers consent --withdraw` record it), so a consent later declared for a whole file
/// does not override it.
macro_rules! changes_consent {
    ($s:literal) => {
        concat!(
            "(",
            $s,
            " IS NOT NULL AND ",
            consent_on!($s),
            " IS NOT NULL AND coalesce(st_",
            $s,
            ", '') <> ",
            consent_on!($s),
            ")"
        )
    };
}

/// Whether the row's consent is a grant declared for the whole file (`--consent-source`)
/// over a withdrawal on record: it is not applied (the subscriber said no to someone; a
/// blanket statement about the file does not undo that), and is counted.
macro_rules! declared_over_withdrawal {
    ($s:literal) => {
        concat!("(declared = 1 AND st_", $s, " = 'withdrawn')")
    };
}

/// Whether the row's consent value changes what is on record and may (a declared grant over
/// a withdrawal may not); whether it is applied then depends on its date (`needs_event!`,
/// `outdated_consent!`).
macro_rules! may_change_consent {
    ($s:literal) => {
        concat!(
            changes_consent!($s),
            " AND NOT coalesce(",
            declared_over_withdrawal!($s),
            ", 0)"
        )
    };
}

/// Whether the row's consent value calls for a new event on a channel: it may change what is
/// on record, and it was given no earlier than the latest event on record. An older
/// statement (a stale export imported after the subscriber withdrew by phone) does not
/// override a newer one; it is counted as outdated.
macro_rules! needs_event {
    ($s:literal $(, $row:ident)?) => {
        concat!(
            "(",
            may_change_consent!($s),
            " AND ",
            consent_time!($s $(, $row)?),
            " >= coalesce(at_",
            $s,
            ", ''))"
        )
    };
}

/// Whether the row's consent value may change what is on record but is older than it.
macro_rules! outdated_consent {
    ($s:literal) => {
        concat!(
            "(",
            may_change_consent!($s),
            " AND ",
            consent_time!($s),
            " < at_",
            $s,
            ")"
        )
    };
}

/// Reads the latest marketing consent on record (status and time) on a channel into the
/// staging table, for the known subscribers of the chunk whose row has an address and a
/// consent value there: the statements that compare the file with it read it from there.
macro_rules! read_latest_consent {
    ($channel:literal, $s:literal) => {
        concat!(
            "UPDATE import_rows SET (st_", $s, ", at_", $s, ") = \
             (SELECT c.status, c.at FROM consents c WHERE c.subscriber_id = import_rows.subscriber_id \
              AND c.channel = '", $channel, "' AND c.scope = 'marketing' ORDER BY c.id DESC LIMIT 1) \
             WHERE reject IS NULL AND is_new = 0 AND ", $s, " IS NOT NULL AND ",
            consent_on!($s), " IS NOT NULL"
        )
    };
}

macro_rules! add_identity {
    ($channel:literal, $s:literal) => {
        concat!(
            "INSERT INTO identities (subscriber_id, channel, address, created_at) \
             SELECT subscriber_id, '",
            $channel,
            "', ",
            $s,
            ", ?1 FROM import_rows \
             WHERE reject IS NULL AND ",
            $s,
            " IS NOT NULL AND sub_",
            $s,
            " IS NULL \
             ON CONFLICT DO NOTHING"
        )
    };
}

/// A consent the file dated (any time but the import's own, `?2`) keeps when it was entered
/// (`?3`) beside it.
macro_rules! add_consent {
    ($channel:literal, $s:literal $(, $row:ident)?) => {
        concat!(
            "INSERT INTO consents (subscriber_id, channel, scope, status, source, proof, at, recorded_by, \
             recorded_at) \
             SELECT subscriber_id, '", $channel, "', 'marketing', ", consent_on!($s), ", ",
            consent_given!($s $(, $row)?), ", ", consent_time!($s $(, $row)?),
            ", ?1, CASE WHEN ", consent_time!($s $(, $row)?), " <> ?2 THEN ?3 END \
             FROM import_rows WHERE reject IS NULL AND ",
            needs_event!($s $(, $row)?)
        )
    };
}

/// The statements, one per channel in `Channel::ALL`'s order, of the channels `present`
/// marks.
fn on_present(sqls: [&'static str; 3], present: [bool; 3]) -> impl Iterator<Item = &'static str> {
    sqls.into_iter()
        .zip(present)
        .filter_map(|(sql, here)| here.then_some(sql))
}

/// A consent time as text the way sqlx writes a `DateTime<Utc>`, so that SQL compares it
/// with the times on record as text.
fn consent_time_text(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false)
}

/// Applies one chunk of rows, adding every accepted subscriber to `list`. `undated` is the
/// time the rows whose file gave no `consent_at` carry.
pub async fn apply_chunk(
    conn: &mut SqliteConnection,
    list: ListId,
    rows: &[StagedRow],
    recorded_by: &str,
    undated: DateTime<Utc>,
) -> Result<ChunkOutcome, StoreError> {
    let at = now();
    sqlx::query("DELETE FROM import_rows")
        .execute(&mut *conn)
        .await?;
    // Consent times as text the way sqlx writes a `DateTime<Utc>`, formatted once for the
    // rows that share one (most rows of a file do).
    let mut last: Option<(DateTime<Utc>, std::sync::Arc<str>)> = None;
    let times: Vec<std::sync::Arc<str>> = rows
        .iter()
        .map(|r| match &last {
            Some((at, text)) if *at == r.consent_at => text.clone(),
            _ => {
                let text: std::sync::Arc<str> = consent_time_text(r.consent_at).into();
                last = Some((r.consent_at, text.clone()));
                text
            }
        })
        .collect();
    let rows: Vec<(&StagedRow, &str)> = rows.iter().zip(times.iter().map(|t| &**t)).collect();
    // A chunk that says when, from where or with what proof a channel's consent was given
    // (an export read back) is applied with the statements that read that (see
    // `consent_time!`); its rows stage it, others leave it empty.
    let given = rows.iter().any(|(r, _)| r.given_on.is_some());
    // The rows are bound one by one into one prepared statement on the handle itself: sqlx's
    // multi-row inserts took about a third of an import (`super::direct`).
    super::direct::run(conn, |db| {
        let mut stage = db.prepare(
            "INSERT INTO import_rows (line, name, locale, time_zone, attributes, wa, tg, ig, \
             consent, consent_wa, consent_tg, consent_ig, consent_source, consent_proof, \
             consent_at, declared, c_at_wa, c_src_wa, c_proof_wa, c_at_tg, c_src_tg, c_proof_tg, \
             c_at_ig, c_src_ig, c_proof_ig) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, \
             ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25)",
        )?;
        let status = |c: Option<ConsentStatus>| c.map(ConsentStatus::as_str);
        for (r, consent_at) in &rows {
            let g = r.given_on.as_deref().unwrap_or(&NOTHING_GIVEN);
            let at: [Option<String>; 3] = std::array::from_fn(|i| g[i].at.map(consent_time_text));
            stage.execute(rusqlite::params![
                r.line,
                r.name.as_deref(),
                r.locale.as_deref(),
                r.time_zone.as_deref(),
                r.attributes.as_deref(),
                r.whatsapp.as_deref(),
                r.telegram.as_deref(),
                r.instagram.as_deref(),
                status(r.consent),
                status(r.consent_on[0]),
                status(r.consent_on[1]),
                status(r.consent_on[2]),
                r.consent_source.as_str(),
                r.consent_proof.as_str(),
                *consent_at,
                r.declared,
                at[0],
                g[0].source.as_deref(),
                g[0].proof.as_deref(),
                at[1],
                g[1].source.as_deref(),
                g[1].proof.as_deref(),
                at[2],
                g[2].source.as_deref(),
                g[2].proof.as_deref(),
            ])?;
        }
        Ok(())
    })
    .await?;

    let steps: [&str; 5] = [
        concat!(
            "UPDATE import_rows SET reject = '",
            "suppressed",
            "' WHERE ",
            "EXISTS (SELECT 1 FROM suppressions s WHERE s.channel = 'whatsapp' AND s.address = wa) ",
            "OR EXISTS (SELECT 1 FROM suppressions s WHERE s.channel = 'telegram' AND s.address = tg) ",
            "OR EXISTS (SELECT 1 FROM suppressions s WHERE s.channel = 'instagram' AND s.address = ig)"
        ),
        // Only rows with a known address are rewritten (a first import has none).
        "UPDATE import_rows SET \
           sub_wa = (SELECT subscriber_id FROM identities WHERE channel = 'whatsapp' AND address = wa), \
           sub_tg = (SELECT subscriber_id FROM identities WHERE channel = 'telegram' AND address = tg), \
           sub_ig = (SELECT subscriber_id FROM identities WHERE channel = 'instagram' AND address = ig) \
         WHERE reject IS NULL AND ( \
           EXISTS (SELECT 1 FROM identities WHERE channel = 'whatsapp' AND address = wa) \
           OR EXISTS (SELECT 1 FROM identities WHERE channel = 'telegram' AND address = tg) \
           OR EXISTS (SELECT 1 FROM identities WHERE channel = 'instagram' AND address = ig))",
        concat!(
            "UPDATE import_rows SET reject = '",
            "identities belong to different subscribers",
            "' WHERE reject IS NULL AND ((sub_wa <> sub_tg) OR (sub_wa <> sub_ig) OR (sub_tg <> sub_ig))"
        ),
        // A subscriber an earlier row of the file already wrote: a duplicate within the file.
        // (A new row's number is its own line's, so only known subscribers can repeat.) One
        // this import made is numbered after everyone before it, from the line that made it
        // (`made_at`); one known before is looked up among those the import touched.
        "UPDATE import_rows SET reject = 'duplicate within file (first at line ' || \
           coalesce(made_at, (SELECT t.line FROM import_touched t \
                              WHERE t.subscriber_id = import_rows.subscriber_id)) || ')' \
         WHERE reject IS NULL AND is_new = 0 \
           AND (made_at IS NOT NULL OR subscriber_id IN (SELECT subscriber_id FROM import_touched))",
        "UPDATE import_rows SET reject = 'duplicate within file (first at line ' || m.first || ')' \
         FROM (SELECT subscriber_id, min(line) AS first FROM import_rows \
               WHERE reject IS NULL AND is_new = 0 \
               GROUP BY subscriber_id HAVING count(*) > 1) AS m \
         WHERE import_rows.subscriber_id = m.subscriber_id AND import_rows.line > m.first \
           AND import_rows.reject IS NULL",
    ];
    // Each step is skipped where it could find nothing: the suppression check when nobody is
    // suppressed (the import holds the one writer, so no one is meanwhile), the checks of
    // known subscribers when no address of the chunk is known (a first import's case).
    let [suppressed, resolve, known_checks @ ..] = steps;
    let more = rows.iter().any(|(r, _)| !r.more.is_empty());
    if more {
        stage_more(conn, &rows).await?;
    }
    let any_suppressed: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM suppressions)")
        .fetch_one(&mut *conn)
        .await?;
    if any_suppressed {
        sqlx::query(suppressed).execute(&mut *conn).await?;
        if more {
            sqlx::query(
                "UPDATE import_rows SET reject = 'suppressed' WHERE reject IS NULL AND line IN \
                 (SELECT m.line FROM import_more m JOIN suppressions s \
                  ON s.channel = m.channel AND s.address = m.address)",
            )
            .execute(&mut *conn)
            .await?;
        }
    }
    let known = sqlx::query(resolve)
        .execute(&mut *conn)
        .await?
        .rows_affected()
        > 0;
    let more_known = more && resolve_more(conn).await?;
    if known || more_known {
        for sql in known_checks {
            sqlx::query(sql).execute(&mut *conn).await?;
        }
    }
    // The channels some row of the chunk has an address on, in `Channel::ALL`'s order: a
    // channel's statements below find nothing on the others.
    let present = [
        rows.iter().any(|(r, _)| r.whatsapp.is_some()),
        rows.iter().any(|(r, _)| r.telegram.is_some()),
        rows.iter().any(|(r, _)| r.instagram.is_some()),
    ];

    // Every row the chunk rejects is known by now.
    let rejected: Vec<(i64, String)> = sqlx::query_as(
        "SELECT line, reject FROM import_rows WHERE reject IS NOT NULL ORDER BY line",
    )
    .fetch_all(&mut *conn)
    .await?;
    let imported = sqlx::query(
        "INSERT INTO subscribers (id, name, locale, time_zone, attributes, created_at, updated_at) \
         SELECT subscriber_id, coalesce(name, ''), locale, time_zone, coalesce(attributes, '{}'), ?1, ?1 \
         FROM import_rows WHERE reject IS NULL AND is_new = 1",
    )
    .bind(at)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    // The rows neither rejected nor new are of subscribers that existed.
    let existing = (rows.len() as u64).saturating_sub(rejected.len() as u64 + imported);

    // What changes for subscribers that existed: fields, identities, list, consent (a first
    // import has none of them).
    if existing > 0 {
        for sql in on_present(
            [
                read_latest_consent!("whatsapp", "wa"),
                read_latest_consent!("telegram", "tg"),
                read_latest_consent!("instagram", "ig"),
            ],
            present,
        ) {
            sqlx::query(sql).execute(&mut *conn).await?;
        }
        sqlx::query(concat!(
            // `st_*` is read only where the row has that address and a consent value.
            "UPDATE import_rows SET kept_withdrawn = 1 WHERE reject IS NULL AND is_new = 0 AND (",
            declared_over_withdrawal!("wa"),
            " OR ",
            declared_over_withdrawal!("tg"),
            " OR ",
            declared_over_withdrawal!("ig"),
            ")"
        ))
        .execute(&mut *conn)
        .await?;
        sqlx::query(concat!(
            "UPDATE import_rows SET outdated = 1 WHERE reject IS NULL AND is_new = 0 AND (",
            outdated_consent!("wa"),
            " OR ",
            outdated_consent!("tg"),
            " OR ",
            outdated_consent!("ig"),
            ")"
        ))
        .execute(&mut *conn)
        .await?;
        sqlx::query(concat!(
            "UPDATE import_rows SET changed = 1 WHERE reject IS NULL AND is_new = 0 AND (",
            "EXISTS (SELECT 1 FROM subscribers s WHERE s.id = import_rows.subscriber_id AND (",
            "(import_rows.name IS NOT NULL AND s.name IS NOT import_rows.name) ",
            "OR (import_rows.locale IS NOT NULL AND s.locale IS NOT import_rows.locale) ",
            "OR (import_rows.time_zone IS NOT NULL AND s.time_zone IS NOT import_rows.time_zone) ",
            "OR (import_rows.attributes IS NOT NULL AND ",
            "json(json_patch(s.attributes, import_rows.attributes)) IS NOT json(s.attributes)))) ",
            "OR (wa IS NOT NULL AND sub_wa IS NULL) OR (tg IS NOT NULL AND sub_tg IS NULL) ",
            "OR (ig IS NOT NULL AND sub_ig IS NULL) ",
            "OR NOT EXISTS (SELECT 1 FROM list_members m WHERE m.list_id = ?1 ",
            "AND m.subscriber_id = import_rows.subscriber_id) ",
            "OR ",
            needs_event!("wa"),
            " OR ",
            needs_event!("tg"),
            " OR ",
            needs_event!("ig"),
            ")"
        ))
        .bind(list)
        .execute(&mut *conn)
        .await?;
        if more {
            // A new address past the first on a channel changes a known subscriber too.
            sqlx::query(
                "UPDATE import_rows SET changed = 1 WHERE reject IS NULL AND is_new = 0 \
                 AND line IN (SELECT line FROM import_more WHERE sub IS NULL)",
            )
            .execute(&mut *conn)
            .await?;
        }
        sqlx::query(
            "UPDATE subscribers SET name = coalesce(r.name, subscribers.name), \
               locale = coalesce(r.locale, subscribers.locale), \
               time_zone = coalesce(r.time_zone, subscribers.time_zone), \
               attributes = CASE WHEN r.attributes IS NULL THEN subscribers.attributes \
                            ELSE json_patch(subscribers.attributes, r.attributes) END, \
               updated_at = ?1 \
             FROM import_rows r WHERE r.subscriber_id = subscribers.id AND r.changed = 1",
        )
        .bind(at)
        .execute(&mut *conn)
        .await?;
    }

    for sql in on_present(
        [
            add_identity!("whatsapp", "wa"),
            add_identity!("telegram", "tg"),
            add_identity!("instagram", "ig"),
        ],
        present,
    ) {
        sqlx::query(sql).bind(at).execute(&mut *conn).await?;
    }
    if more {
        // After the first addresses, so that a subscriber's first address on a channel
        // stays the one `subscribers export` writes first.
        sqlx::query(
            "INSERT INTO identities (subscriber_id, channel, address, created_at) \
             SELECT r.subscriber_id, m.channel, m.address, ?1 FROM import_more m \
             JOIN import_rows r ON r.line = m.line \
             WHERE r.reject IS NULL AND m.sub IS NULL ORDER BY m.rowid \
             ON CONFLICT DO NOTHING",
        )
        .bind(at)
        .execute(&mut *conn)
        .await?;
    }
    // A withdrawal skips the subscriber's queued marketing rows at once, as everywhere else.
    // Only a chunk that withdraws anything, while a marketing campaign can have queued rows,
    // looks (a campaign cannot start during an import: the import holds the one writer).
    let withdrawn = Some(ConsentStatus::Withdrawn);
    let look = rows
        .iter()
        .any(|(r, _)| r.consent == withdrawn || r.consent_on.contains(&withdrawn))
        && sqlx::query_scalar::<_, bool>(
            "SELECT EXISTS (SELECT 1 FROM campaigns WHERE scope = 'marketing' \
             AND status IN ('scheduled', 'running', 'paused'))",
        )
        .fetch_one(&mut *conn)
        .await?;
    let add_consents = if given {
        [
            add_consent!("whatsapp", "wa"),
            add_consent!("telegram", "tg"),
            add_consent!("instagram", "ig"),
        ]
    } else {
        [
            add_consent!("whatsapp", "wa", row),
            add_consent!("telegram", "tg", row),
            add_consent!("instagram", "ig", row),
        ]
    };
    for sql in on_present(add_consents, present) {
        sqlx::query(sql)
            .bind(recorded_by)
            .bind(undated)
            .bind(at)
            .execute(&mut *conn)
            .await?;
    }
    let queued_skipped = if look {
        sqlx::query(concat!(
            "UPDATE outbox SET state = 'skipped', skip_reason = 'consent withdrawn', updated_at = ?1 \
             WHERE state = 'queued' AND identity_id IN (SELECT i.id FROM import_rows \
               JOIN identities i ON i.subscriber_id = import_rows.subscriber_id \
               WHERE reject IS NULL AND is_new = 0 AND CASE i.channel \
                 WHEN 'whatsapp' THEN ",
            consent_on!("wa"),
            " WHEN 'telegram' THEN ",
            consent_on!("tg"),
            " WHEN 'instagram' THEN ",
            consent_on!("ig"),
            " END = 'withdrawn' \
               AND (SELECT c.status FROM consents c WHERE c.subscriber_id = i.subscriber_id \
                    AND c.channel = i.channel AND c.scope = 'marketing' ORDER BY c.id DESC LIMIT 1) \
                   IS NOT 'granted') \
             AND campaign_id IN (SELECT id FROM campaigns WHERE scope = 'marketing')"
        ))
        .bind(at)
        .execute(&mut *conn)
        .await?
        .rows_affected()
    } else {
        0
    };
    let queued_skipped = queued_skipped
        + if rows.iter().any(|(r, _)| !r.service.is_empty()) {
            apply_service(conn, &rows, recorded_by, undated, at).await?
        } else {
            0
        };
    sqlx::query(
        "INSERT INTO list_members (list_id, subscriber_id, added_at) \
         SELECT ?1, subscriber_id, ?2 FROM import_rows WHERE reject IS NULL ON CONFLICT DO NOTHING",
    )
    .bind(list)
    .bind(at)
    .execute(&mut *conn)
    .await?;

    // Only rows of subscribers that existed are remembered as touched, and can be changed,
    // outdated or kept withdrawn.
    let (updated, outdated, kept_withdrawn): (i64, i64, i64) = if existing > 0 {
        sqlx::query(
            "INSERT OR IGNORE INTO import_touched (subscriber_id, line) \
             SELECT subscriber_id, line FROM import_rows WHERE reject IS NULL AND is_new = 0",
        )
        .execute(&mut *conn)
        .await?;
        sqlx::query_as(
            "SELECT coalesce(sum(reject IS NULL AND is_new = 0 AND changed = 1), 0), \
                coalesce(sum(outdated), 0), coalesce(sum(kept_withdrawn), 0) FROM import_rows",
        )
        .fetch_one(&mut *conn)
        .await?
    } else {
        (0, 0, 0)
    };
    Ok(ChunkOutcome {
        imported,
        updated: updated as u64,
        unchanged: existing - updated as u64,
        rejected,
        queued_skipped,
        consent_outdated: outdated as u64,
        withdrawn_kept: kept_withdrawn as u64,
    })
}

/// Stages a chunk's further addresses (past the first on a channel).
async fn stage_more(
    conn: &mut SqliteConnection,
    rows: &[(&StagedRow, &str)],
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM import_more")
        .execute(&mut *conn)
        .await?;
    super::direct::run(conn, |db| {
        let mut stage =
            db.prepare("INSERT INTO import_more (line, channel, address) VALUES (?1, ?2, ?3)")?;
        for (r, _) in rows {
            for (channel, address) in &r.more {
                stage.execute(rusqlite::params![r.line, channel.as_str(), address])?;
            }
        }
        Ok(())
    })
    .await
}

/// Resolves a chunk's further addresses as its first ones are: a row whose addresses belong
/// to two subscribers is rejected, and one whose first addresses are all new belongs to the
/// subscriber a further one names. Says whether any further address is known.
async fn resolve_more(conn: &mut SqliteConnection) -> Result<bool, StoreError> {
    let known = sqlx::query(
        "UPDATE import_more SET sub = (SELECT i.subscriber_id FROM identities i \
           WHERE i.channel = import_more.channel AND i.address = import_more.address) \
         WHERE EXISTS (SELECT 1 FROM identities i \
           WHERE i.channel = import_more.channel AND i.address = import_more.address)",
    )
    .execute(&mut *conn)
    .await?
    .rows_affected()
        > 0;
    if known {
        for sql in [
            "UPDATE import_rows SET reject = 'identities belong to different subscribers' \
             WHERE reject IS NULL AND EXISTS (SELECT 1 FROM import_more m \
               WHERE m.line = import_rows.line AND m.sub IS NOT NULL \
               AND (m.sub <> coalesce(import_rows.sub_wa, import_rows.sub_tg, \
                                      import_rows.sub_ig, m.sub) \
                    OR EXISTS (SELECT 1 FROM import_more n WHERE n.line = m.line \
                               AND n.sub IS NOT NULL AND n.sub <> m.sub)))",
            "UPDATE import_rows SET sub_more = (SELECT m.sub FROM import_more m \
               WHERE m.line = import_rows.line AND m.sub IS NOT NULL LIMIT 1) \
             WHERE reject IS NULL AND line IN (SELECT line FROM import_more WHERE sub IS NOT NULL)",
        ] {
            sqlx::query(sql).execute(&mut *conn).await?;
        }
    }
    Ok(known)
}

/// Records the service consents of a chunk's rows (once its subscribers are known), by the
/// rules of marketing consent: an event only where it changes the latest service consent on
/// record on that channel and is dated no earlier than it (an older one is counted as
/// outdated); a row of a known subscriber that records one is updated. A withdrawal skips
/// the address's queued service rows at once. Returns how many it skipped.
async fn apply_service(
    conn: &mut SqliteConnection,
    rows: &[(&StagedRow, &str)],
    recorded_by: &str,
    undated: DateTime<Utc>,
    at: DateTime<Utc>,
) -> Result<u64, StoreError> {
    sqlx::query("DELETE FROM import_service")
        .execute(&mut *conn)
        .await?;
    super::direct::run(conn, |db| {
        let mut stage = db.prepare(
            "INSERT INTO import_service (line, channel, status, source, proof, at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?;
        for (r, _) in rows {
            for c in &r.service {
                stage.execute(rusqlite::params![
                    r.line,
                    c.channel.as_str(),
                    c.status.as_str(),
                    c.source,
                    c.proof,
                    consent_time_text(c.at),
                ])?;
            }
        }
        Ok(())
    })
    .await?;
    // Whether a row's service consent is new on record, or older than what is there.
    const CHANGES: &str = "subscriber_id IS NOT NULL AND coalesce(st, '') <> status";
    const NEEDS_EVENT: &str = "at >= coalesce(st_at, '')";
    let statements = [
        // The row's subscriber, where the row was not rejected.
        "UPDATE import_service SET subscriber_id = r.subscriber_id, is_new = r.is_new \
         FROM import_rows r WHERE r.line = import_service.line AND r.reject IS NULL"
            .to_string(),
        "UPDATE import_service SET (st, st_at) = (SELECT c.status, c.at FROM consents c \
           WHERE c.subscriber_id = import_service.subscriber_id \
           AND c.channel = import_service.channel AND c.scope = 'service' \
           ORDER BY c.id DESC LIMIT 1) \
         WHERE subscriber_id IS NOT NULL AND is_new = 0"
            .to_string(),
        format!(
            "UPDATE import_rows SET changed = 1 WHERE is_new = 0 AND line IN \
             (SELECT line FROM import_service WHERE {CHANGES} AND {NEEDS_EVENT})"
        ),
        format!(
            "UPDATE import_rows SET outdated = 1 WHERE is_new = 0 AND line IN \
             (SELECT line FROM import_service WHERE {CHANGES} AND NOT {NEEDS_EVENT})"
        ),
    ];
    for sql in statements {
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&mut *conn)
            .await?;
    }
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO consents (subscriber_id, channel, scope, status, source, proof, at, \
           recorded_by, recorded_at) \
         SELECT subscriber_id, channel, 'service', status, source, proof, at, ?1, \
           CASE WHEN at <> ?2 THEN ?3 END \
         FROM import_service WHERE {CHANGES} AND {NEEDS_EVENT} ORDER BY line, channel"
    )))
    .bind(recorded_by)
    .bind(undated)
    .bind(at)
    .execute(&mut *conn)
    .await?;
    // Queued rows of service campaigns to an address whose service consent is now withdrawn.
    let skipped = sqlx::query(
        "UPDATE outbox SET state = 'skipped', skip_reason = 'consent withdrawn', updated_at = ?1 \
         WHERE state = 'queued' \
         AND campaign_id IN (SELECT id FROM campaigns WHERE scope = 'service') \
         AND identity_id IN (SELECT i.id FROM import_service s \
           JOIN identities i ON i.subscriber_id = s.subscriber_id AND i.channel = s.channel \
           WHERE s.is_new = 0 AND s.status = 'withdrawn' \
           AND (SELECT c.status FROM consents c WHERE c.subscriber_id = s.subscriber_id \
                AND c.channel = s.channel AND c.scope = 'service' ORDER BY c.id DESC LIMIT 1) \
               IS NOT 'granted')",
    )
    .bind(at)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok(skipped)
}
