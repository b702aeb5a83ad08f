//! Importing subscribers from CSV, streaming.
//!
//! Owns: reading the file (sniffing encoding and delimiter, bounded line length), mapping
//! headers, validating each row (phones to E.164, chat and Instagram ids, consent values,
//! duplicates within the file) and reporting every rejected row with its line and reason.
//! The database side is `store::import`, set-based per chunk. Depends on `domain` and
//! `store`; used by the CLI and, through the TUI worker, by the console. Its counterpart,
//! writing subscribers out in the same columns, is `export`.
//!
//! Reading runs on a blocking thread and hands chunks to the writer over a small bounded
//! channel, so parsing and writing overlap and memory stays bounded. The whole file is one
//! transaction: an import lands whole or not at all (a failed one leaves nothing behind and
//! can simply be run again).

pub mod columns;
pub mod detect;
pub mod export;
pub mod hand;
pub mod limit;

use crate::domain::consent::{ConsentValue, given_at, parse_value};
use crate::domain::phone::Region;
use crate::domain::{Channel, ConsentScope, ConsentStatus, ListId};
use crate::store::import::{self as sql, ConsentGiven, ServiceConsent, StagedRow};
use crate::store::{self, Store, StoreError};
use chrono::{DateTime, Utc};
use columns::Column;
use detect::{Delimiter, Encoding};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::hash::{Hash, Hasher};
use std::io::Read;
use std::path::{Path, PathBuf};
use tokio::sync::mpsc;

/// Rows validated and written per chunk.
pub const CHUNK: usize = 5000;

/// Bytes of the file's rows per chunk, at most (a chunk ends at whichever comes first, this
/// or [`CHUNK`] rows). A few chunks are in memory at once (one read, two waiting, one
/// written), each held twice with a rejects file (the rows and their original fields), so
/// this is what keeps an import's memory bounded when rows are wide: a CRM export of 4 KB
/// rows took 200 MB in chunks of 5 000 rows (288 MB with `--rejects`). Usual rows (under
/// 400 bytes) fill [`CHUNK`] rows first.
pub const CHUNK_BYTES: usize = 2 * 1024 * 1024;

/// How to import.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// The list every imported subscriber joins (created when missing).
    pub list: String,
    pub encoding: Encoding,
    pub delimiter: Delimiter,
    pub region: Region,
    /// Declares consent for every row without a consent value, with this text as proof.
    pub consent_source: Option<String>,
    /// Where to write the rejected rows (CSV: the original columns plus line and reason).
    pub rejects: Option<PathBuf>,
    /// Check everything, change nothing.
    pub dry_run: bool,
    /// Who runs the import, for consent records and the audit log.
    pub actor: String,
}

impl ImportOptions {
    /// Into `list`, by `actor`: encoding and delimiter detected, the default region, no
    /// declared consent, no rejects file, for real.
    pub fn new(list: impl Into<String>, actor: impl Into<String>) -> ImportOptions {
        ImportOptions {
            list: list.into(),
            encoding: Encoding::Auto,
            delimiter: Delimiter::Auto,
            region: Region::default(),
            consent_source: None,
            rejects: None,
            dry_run: false,
            actor: actor.into(),
        }
    }
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportSummary {
    pub file: String,
    pub list: String,
    pub encoding: String,
    pub delimiter: String,
    /// Data rows read (not counting the header).
    pub rows: u64,
    pub imported: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub rejected: u64,
    pub rejected_by_reason: BTreeMap<String, u64>,
    /// The first rejected rows, in file order (at most [`FIRST_REJECTED`]), so a summary
    /// shows what went wrong without a rejects file.
    pub first_rejected: Vec<RejectedRow>,
    pub dry_run: bool,
    pub rejects_file: Option<String>,
    /// The list did not exist and this import made it (a dry run says it would).
    pub list_created: bool,
    /// Queued campaign messages skipped because the file withdrew their recipients'
    /// consent (`consent withdrawn`).
    pub queued_skipped: u64,
    /// Rows whose consent value was not applied: it would have changed the consent on
    /// record, but its `consent_at` is earlier than the latest event there (the rest of the
    /// row is imported).
    pub consent_outdated: u64,
    /// Rows whose consent declared for the file (`--consent-source`) was not applied: the
    /// subscriber's consent on record is withdrawn (the rest of the row is imported).
    pub withdrawn_kept: u64,
}

/// How many rejected rows a summary names one by one.
pub const FIRST_REJECTED: usize = 5;

/// A rejected row: its line in the file and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RejectedRow {
    pub line: i64,
    pub reason: String,
}

/// Where a running import is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Progress {
    pub bytes_read: u64,
    pub total_bytes: u64,
    pub rows: u64,
}

/// Why an import stopped. Nothing was written when it did, and every message says so.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read {path}: {}; nothing was imported", unreadable(error))]
    Open { path: String, error: std::io::Error },
    #[error("{path}: {reason}; nothing was imported")]
    NotCsv { path: String, reason: String },
    #[error("{path}: {reason}; nothing was imported")]
    Truncated { path: String, reason: String },
    #[error("cannot write the rejects file {path}: {error}; nothing was imported")]
    Rejects { path: String, error: String },
    #[error("{0}; nothing was imported")]
    Store(#[from] StoreError),
}

/// Why a file cannot be read, in words that say what to do for the usual cases.
fn unreadable(error: &std::io::Error) -> String {
    use std::io::ErrorKind;
    match error.kind() {
        ErrorKind::NotFound => "there is no such file; check the path".into(),
        ErrorKind::IsADirectory => "it is a folder; give the path of a CSV file in it".into(),
        ErrorKind::PermissionDenied => "this user may not read it; give it read access \
             (`ls -l` shows who may) or copy the file somewhere this user can read"
            .into(),
        _ => error.to_string(),
    }
}

/// One chunk from the reader: validated rows, rows rejected on the way, and the original
/// fields of every row by line when there is a rejects file to write them to (a row the
/// database refuses is known only once its chunk is applied).
struct Chunk {
    rows: Vec<StagedRow>,
    rejected: Vec<(i64, String)>,
    raw: HashMap<i64, csv::StringRecord>,
    read: u64,
    bytes: u64,
    /// The bytes of its rows' fields, as read.
    size: usize,
}

/// What the reader learnt about the file before the first row.
struct FileInfo {
    headers: Vec<String>,
    encoding: Encoding,
    delimiter: u8,
    total_bytes: u64,
    /// The time a row's consent is dated by when the file does not date it.
    undated: DateTime<Utc>,
}

enum FromReader {
    Info(FileInfo),
    Chunk(Chunk),
    Failed(ImportError),
}

/// What an import reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A CSV file.
    File(PathBuf),
    /// CSV text made in memory (a subscriber entered by hand), shown and kept in the audit
    /// log under `name`.
    Text { name: String, csv: String },
}

impl Source {
    /// The source as messages and the summary name it.
    fn shown(&self) -> String {
        match self {
            Source::File(path) => path.display().to_string(),
            Source::Text { name, .. } => name.clone(),
        }
    }

    /// The name a row's consent proof cites.
    fn file_name(&self) -> String {
        match self {
            Source::File(path) => path
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default(),
            Source::Text { name, .. } => name.clone(),
        }
    }

    /// The bytes to read, and how many there are (for the progress).
    fn open(&self) -> std::io::Result<(Box<dyn Read + Send>, u64)> {
        match self {
            Source::File(path) => {
                let file = std::fs::File::open(path)?;
                let len = file.metadata().map(|m| m.len()).unwrap_or(0);
                Ok((Box::new(file), len))
            }
            Source::Text { csv, .. } => Ok((
                Box::new(std::io::Cursor::new(csv.clone().into_bytes())),
                csv.len() as u64,
            )),
        }
    }
}

/// Imports a file. Calls `progress` after each chunk.
pub async fn import_file(
    store: &Store,
    path: &Path,
    opts: &ImportOptions,
    progress: impl FnMut(Progress),
) -> Result<ImportSummary, ImportError> {
    import(store, &Source::File(path.to_path_buf()), opts, progress).await
}

/// Imports what `source` holds, by the same rules whatever it is. Calls `progress` after
/// each chunk.
pub async fn import(
    store: &Store,
    source: &Source,
    opts: &ImportOptions,
    progress: impl FnMut(Progress),
) -> Result<ImportSummary, ImportError> {
    // Every reference the import writes is to a row it has just read or written in its own
    // transaction (a subscriber, the list): SQLite checking each again cost four look-ups a
    // row (an identity's subscriber, a consent's, a membership's list and subscriber), about
    // 8 % of the import (BENCHMARKS.md).
    store
        .without_reference_checks(async |s| import_on(s, source, opts, progress).await)
        .await
}

async fn import_on(
    store: &Store,
    source: &Source,
    opts: &ImportOptions,
    mut progress: impl FnMut(Progress),
) -> Result<ImportSummary, ImportError> {
    // The rejects file replaces what its path names once the import ends: named like the
    // file being imported, it would replace that file, every good row lost with it.
    if let (Source::File(input), Some(rejects)) = (source, &opts.rejects)
        && same_file(input, rejects)
    {
        return Err(ImportError::Rejects {
            path: rejects.display().to_string(),
            error: format!(
                "it is the file being imported, which it would replace; name another file \
                 (such as {})",
                rejects_beside(input).display()
            ),
        });
    }
    let (tx, mut rx) = mpsc::channel::<FromReader>(2);
    let reader_source = source.clone();
    let reader_opts = opts.clone();
    let reader = tokio::task::spawn_blocking(move || {
        if let Err(e) = read_file(&reader_source, &reader_opts, &tx) {
            let _ = tx.blocking_send(FromReader::Failed(e));
        }
    });

    let info = match rx.recv().await {
        Some(FromReader::Info(info)) => info,
        Some(FromReader::Failed(e)) => return Err(e),
        _ => {
            return Err(ImportError::NotCsv {
                path: source.shown(),
                reason: "the file could not be read".into(),
            });
        }
    };
    let mut summary = ImportSummary {
        file: source.shown(),
        list: opts.list.clone(),
        encoding: match info.encoding {
            Encoding::Windows1251 => Encoding::Windows1251,
            _ => Encoding::Utf8,
        }
        .name()
        .into(),
        delimiter: detect::delimiter_name(info.delimiter).into(),
        dry_run: opts.dry_run,
        ..Default::default()
    };
    let mut rejects = match &opts.rejects {
        Some(p) => Some(RejectsFile::create(p, &info.headers)?),
        None => None,
    };

    let mut tx_db = store.begin().await?;
    let conn = &mut *tx_db;
    sql::prepare(conn).await?;
    let (list, created) = ensure_list(conn, &opts.list).await?;
    summary.list_created = created;
    let mut done = Progress {
        total_bytes: info.total_bytes,
        ..Default::default()
    };
    while let Some(msg) = rx.recv().await {
        let chunk = match msg {
            FromReader::Chunk(c) => c,
            FromReader::Failed(e) => return Err(e),
            FromReader::Info(_) => continue,
        };
        let outcome = sql::apply_chunk(conn, list, &chunk.rows, &opts.actor, info.undated).await?;
        summary.rows += chunk.read;
        summary.imported += outcome.imported;
        summary.updated += outcome.updated;
        summary.unchanged += outcome.unchanged;
        summary.queued_skipped += outcome.queued_skipped;
        summary.consent_outdated += outcome.consent_outdated;
        summary.withdrawn_kept += outcome.withdrawn_kept;
        let mut all_rejected = chunk.rejected;
        all_rejected.extend(outcome.rejected);
        all_rejected.sort();
        for (line, reason) in &all_rejected {
            summary.rejected += 1;
            *summary
                .rejected_by_reason
                .entry(reason_kind(reason).to_string())
                .or_default() += 1;
            if summary.first_rejected.len() < FIRST_REJECTED {
                summary.first_rejected.push(RejectedRow {
                    line: *line,
                    reason: reason.clone(),
                });
            }
            if let Some(r) = rejects.as_mut() {
                r.write(*line, reason, chunk.raw.get(line))?;
            }
        }
        done.rows = summary.rows;
        done.bytes_read = chunk.bytes;
        progress(done);
    }
    let _ = reader.await;
    if summary.rows == 0 {
        // A header and nothing under it is a wrong export far more often than an intended
        // empty list: say so, and create no list.
        return Err(ImportError::NotCsv {
            path: source.shown(),
            reason: "the file has a header line but no rows under it".into(),
        });
    }
    sql::finish(&mut tx_db).await?;
    store::debug_check_references(&mut tx_db).await?;
    if let Some(r) = rejects.take() {
        summary.rejects_file = Some(r.finish()?);
    }
    if opts.dry_run {
        tx_db.rollback().await.map_err(StoreError::from)?;
    } else {
        store::audit::record(
            &mut tx_db,
            &opts.actor,
            "subscribers.import",
            "list",
            Some(&list.to_string()),
            &serde_json::to_value(&summary).unwrap_or_default(),
        )
        .await?;
        tx_db.commit().await.map_err(StoreError::from)?;
    }
    Ok(summary)
}

/// The list's id, and whether it had to be made.
async fn ensure_list(
    conn: &mut sqlx::SqliteConnection,
    name: &str,
) -> Result<(ListId, bool), StoreError> {
    match store::lists::id_by_name(conn, name).await? {
        Some(id) => Ok((id, false)),
        None => Ok((store::lists::insert(conn, name, "", None).await?, true)),
    }
}

/// The reason without its detail, for counting: "duplicate within file (first at line 3)"
/// counts as "duplicate within file".
pub fn reason_kind(reason: &str) -> &str {
    reason.split(" (").next().unwrap_or(reason)
}

/// Whether two paths name one file (through links and `..`); a path that names nothing
/// yet is no other file.
fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// The rejects file the console writes for an import of `path`, beside it: `crm.csv` has
/// `crm.rejects.csv`.
pub fn rejects_beside(path: &Path) -> PathBuf {
    let mut name = path.file_stem().unwrap_or_default().to_os_string();
    name.push(".rejects.csv");
    path.with_file_name(name)
}

/// Refuses to replace a SQLite database (a workspace's `clever.db`, mistyped as an output):
/// a file written to `path` replaces whatever is there whole. `Err` says why.
pub fn replaceable(path: &Path) -> Result<(), String> {
    let mut head = [0u8; 16];
    let is_database = std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok_and(|()| &head == b"SQLite format 3\0");
    if is_database {
        return Err(format!(
            "{} is a SQLite database, which the output would replace; name another file",
            path.display()
        ));
    }
    Ok(())
}

/// Where a file is written before it is renamed over `path` whole (`PATH.partial`): the
/// rejects file here, the command line's `-o` files, the console's check of a folder.
pub fn partial_path(path: &Path) -> PathBuf {
    let mut partial = path.as_os_str().to_owned();
    partial.push(".partial");
    PathBuf::from(partial)
}

/// The rejects CSV: written to `NAME.partial`, renamed when the import ends.
struct RejectsFile {
    path: PathBuf,
    partial: PathBuf,
    writer: csv::Writer<std::fs::File>,
    width: usize,
}

impl RejectsFile {
    fn create(path: &Path, headers: &[String]) -> Result<RejectsFile, ImportError> {
        let fail = |e: String| ImportError::Rejects {
            path: path.display().to_string(),
            error: e,
        };
        replaceable(path).map_err(fail)?;
        let partial = partial_path(path);
        let mut writer = csv::WriterBuilder::new()
            .flexible(true)
            .from_path(&partial)
            .map_err(|e| fail(e.to_string()))?;
        let mut head: Vec<&str> = vec!["line", "reason"];
        head.extend(headers.iter().map(String::as_str));
        writer
            .write_record(&head)
            .map_err(|e| fail(e.to_string()))?;
        Ok(RejectsFile {
            path: path.to_path_buf(),
            partial,
            writer,
            width: headers.len(),
        })
    }

    fn write(
        &mut self,
        line: i64,
        reason: &str,
        raw: Option<&csv::StringRecord>,
    ) -> Result<(), ImportError> {
        let mut rec = vec![line.to_string(), reason.to_string()];
        if let Some(raw) = raw {
            rec.extend(raw.iter().map(str::to_string));
        }
        rec.resize(self.width.max(rec.len() - 2) + 2, String::new());
        self.writer
            .write_record(&rec)
            .map_err(|e| ImportError::Rejects {
                path: self.path.display().to_string(),
                error: e.to_string(),
            })
    }

    fn finish(mut self) -> Result<String, ImportError> {
        let fail = |e: String| ImportError::Rejects {
            path: self.path.display().to_string(),
            error: e,
        };
        self.writer.flush().map_err(|e| fail(e.to_string()))?;
        std::fs::rename(&self.partial, &self.path).map_err(|e| fail(e.to_string()))?;
        Ok(self.path.display().to_string())
    }
}

/// Reads, validates and chunks the file (on a blocking thread).
fn read_file(
    source: &Source,
    opts: &ImportOptions,
    out: &mpsc::Sender<FromReader>,
) -> Result<(), ImportError> {
    let shown = source.shown();
    let not_csv = |reason: String| ImportError::NotCsv {
        path: shown.clone(),
        reason,
    };
    let open = |e| ImportError::Open {
        path: shown.clone(),
        error: e,
    };
    let (mut file, total_bytes) = source.open().map_err(open)?;
    let mut head = vec![0u8; 64 * 1024];
    let n = read_up_to(&mut file, &mut head).map_err(open)?;
    head.truncate(n);
    let (encoding, _bom) =
        detect::encoding(&head, opts.encoding).map_err(|e| not_csv(e.to_string()))?;
    let enc = match encoding {
        Encoding::Windows1251 => encoding_rs::WINDOWS_1251,
        _ => encoding_rs::UTF_8,
    };
    let head_text = enc.decode_with_bom_removal(&head).0.into_owned();
    let delimiter = match opts.delimiter {
        Delimiter::Byte(b) => b,
        Delimiter::Auto => detect::delimiter(&head_text),
    };
    // Whether lines end with CRLF, by the header's (a CRLF inside a quoted cell of a file
    // with LF endings says nothing of them).
    let crlf = head_text
        .split_once('\n')
        .is_some_and(|(header, _)| header.ends_with('\r'));
    let capped = limit::LineCap::new(
        std::io::Cursor::new(head).chain(file),
        limit::MAX_LINE,
        delimiter,
    );
    let seen = capped.seen();
    let decoded = encoding_rs_io::DecodeReaderBytesBuilder::new()
        .encoding(Some(enc))
        .bom_override(true)
        .build(capped);
    let mut csv = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .has_headers(true)
        .buffer_capacity(64 * 1024)
        .from_reader(decoded);
    let csv_err = |e: csv::Error| match e.kind() {
        csv::ErrorKind::Io(io) => not_csv(io.to_string()),
        _ => not_csv(e.to_string()),
    };
    let headers: Vec<String> = csv
        .headers()
        .map_err(csv_err)?
        .iter()
        .map(str::to_string)
        .collect();
    if headers.iter().all(|h| h.trim().is_empty()) {
        return Err(not_csv("the file has no header line".into()));
    }
    if headers.iter().any(|h| h.contains('\u{fffd}')) {
        return Err(not_csv(format!(
            "the header line is not valid {}: try --encoding auto (or the other encoding)",
            encoding.name()
        )));
    }
    let columns = columns::map(&headers).map_err(not_csv)?;
    let now = Utc::now();
    let _ = out.blocking_send(FromReader::Info(FileInfo {
        headers: headers.clone(),
        encoding,
        delimiter,
        total_bytes,
        undated: now,
    }));

    let file_name = source.file_name();
    let ctx = RowContext {
        columns: &columns,
        width: headers.len(),
        opts,
        file_name: &file_name,
        now,
    };
    // Duplicates inside one chunk are caught here; across chunks the store catches them
    // (a subscriber written twice), so memory does not grow with the file.
    let mut seen_ids: HashMap<u64, u32> = HashMap::with_capacity(3 * CHUNK);
    let mut chunk = Chunk::new();
    let mut record = csv::StringRecord::new();
    let mut last_len = headers.len();
    loop {
        match csv.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => return Err(csv_err(e)),
        }
        // The CSV reader marks a record's start before the `\n` of a `\r\n` ending, one
        // line early; count as a text editor does.
        let line = record.position().map_or(0, |p| p.line()) as i64 + i64::from(crlf);
        last_len = record.len();
        if record.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        chunk.read += 1;
        chunk.size += record.as_byte_record().as_slice().len();
        if opts.rejects.is_some() {
            chunk.raw.insert(line, record.clone());
        }
        match ctx.validate(line, &record) {
            Ok(row) => match duplicate_of(&mut seen_ids, &row) {
                Some(first) => chunk.rejected.push((
                    line,
                    format!("duplicate within file (first at line {first})"),
                )),
                None => chunk.rows.push(row),
            },
            Err(reason) => chunk.rejected.push((line, reason)),
        }
        if chunk.rows.len() + chunk.rejected.len() >= CHUNK || chunk.size >= CHUNK_BYTES {
            chunk.bytes = seen.bytes();
            seen_ids.clear();
            if out
                .blocking_send(FromReader::Chunk(std::mem::replace(
                    &mut chunk,
                    Chunk::new(),
                )))
                .is_err()
            {
                return Ok(());
            }
        }
    }
    if seen.inside_quotes() {
        return Err(ImportError::Truncated {
            path: shown,
            reason: "the file ends inside a quoted field: it looks cut off".into(),
        });
    }
    if !seen.ends_with_newline() && last_len < headers.len() && chunk.read > 0 {
        return Err(ImportError::Truncated {
            path: shown,
            reason: format!(
                "the last line has {last_len} of {} fields and no line break: it looks cut off",
                headers.len()
            ),
        });
    }
    chunk.bytes = seen.bytes();
    let _ = out.blocking_send(FromReader::Chunk(chunk));
    Ok(())
}

fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match r.read(&mut buf[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

impl Chunk {
    fn new() -> Chunk {
        Chunk {
            rows: Vec::with_capacity(CHUNK),
            rejected: Vec::new(),
            raw: HashMap::new(),
            read: 0,
            bytes: 0,
            size: 0,
        }
    }
}

/// Marks the row's identities as seen; returns the line that had one of them first.
fn duplicate_of(seen: &mut HashMap<u64, u32>, row: &StagedRow) -> Option<u32> {
    let keys: Vec<u64> = row.addresses().map(|(c, a)| identity_hash(c, a)).collect();
    if let Some(first) = keys.iter().find_map(|k| seen.get(k)) {
        return Some(*first);
    }
    for k in keys {
        seen.insert(k, u32::try_from(row.line).unwrap_or(u32::MAX));
    }
    None
}

/// Puts a row's mobile phones before its landlines (each kind in the file's order): a
/// campaign on WhatsApp sends to a subscriber's first phone there, and a CRM's work phone,
/// often a landline, tends to come first in its columns.
fn mobile_first(row: &mut StagedRow) {
    let Some(first) = row.whatsapp.take() else {
        return;
    };
    let (mut phones, others): (Vec<_>, Vec<_>) = std::mem::take(&mut row.more)
        .into_iter()
        .partition(|(c, _)| *c == Channel::WhatsApp);
    phones.insert(0, (Channel::WhatsApp, first));
    phones.sort_by_key(|(_, phone)| !crate::domain::phone::may_be_mobile(phone));
    let mut phones = phones.into_iter();
    row.whatsapp = phones.next().map(|(_, phone)| phone);
    row.more = phones.chain(others).collect();
}

/// The marketing or the service one of a pair, by a column's scope.
fn by_scope<'a, T>(scope: ConsentScope, marketing: &'a mut T, service: &'a mut T) -> &'a mut T {
    match scope {
        ConsentScope::Marketing => marketing,
        ConsentScope::Service => service,
    }
}

fn identity_hash(channel: Channel, address: &str) -> u64 {
    let mut h = std::hash::DefaultHasher::new();
    channel.hash(&mut h);
    address.hash(&mut h);
    h.finish()
}

/// What validating a row needs.
struct RowContext<'a> {
    columns: &'a [Column],
    width: usize,
    opts: &'a ImportOptions,
    file_name: &'a str,
    now: DateTime<Utc>,
}

impl RowContext<'_> {
    /// Turns one record into a staged row, or says why not.
    fn validate(&self, line: i64, record: &csv::StringRecord) -> Result<StagedRow, String> {
        if record.len() > self.width {
            return Err(format!(
                "too many fields ({} for {} columns)",
                record.len(),
                self.width
            ));
        }
        if record.len() < self.width {
            return Err(format!(
                "too few fields ({} for {} columns)",
                record.len(),
                self.width
            ));
        }
        let mut row = StagedRow::empty(line, self.now);
        let mut attributes = serde_json::Map::new();
        let mut consent: Option<(ConsentValue, String)> = None;
        let mut consent_on: [Option<(ConsentValue, String)>; 3] = Default::default();
        let mut source_column = None;
        let mut proof_column = None;
        let mut given_on: [ConsentGiven; 3] = Default::default();
        // The same for service consent, which only a file's per-channel columns give.
        let mut service_on: [Option<(ConsentValue, String)>; 3] = Default::default();
        let mut service_given: [ConsentGiven; 3] = Default::default();
        let date = |v: &str| {
            given_at(v, self.now).map_err(|e| format!("bad consent date ({})", e.explain(v)))
        };
        for (col, value) in self.columns.iter().zip(record.iter()) {
            let v = value.trim();
            if v.contains('\u{fffd}') {
                return Err("text is not valid in the file's encoding (try --encoding)".into());
            }
            if v.is_empty() {
                continue;
            }
            match col {
                Column::Phone | Column::TelegramChatId | Column::InstagramId => {
                    let channel = match col {
                        Column::Phone => Channel::WhatsApp,
                        Column::TelegramChatId => Channel::Telegram,
                        _ => Channel::Instagram,
                    };
                    // A CRM puts a contact's phones in one cell, one per line or after a
                    // comma or semicolon (no phone or id is written with them).
                    for part in v.split([',', ';', '\n']).map(str::trim) {
                        if !part.is_empty() {
                            row.add_address(
                                channel,
                                channel.normalize_address(part, self.opts.region)?,
                            );
                        }
                    }
                }
                Column::Name => row.name = Some(crate::domain::one_line(v).into_owned()),
                Column::Locale => row.locale = Some(v.to_lowercase()),
                Column::TimeZone => {
                    let zone = crate::domain::quiet::parse_zone(v)
                        .map_err(|e| format!("bad time zone ({e})"))?;
                    row.time_zone = Some(zone.name().to_string());
                }
                Column::Consent => {
                    consent = parse_value(v)
                        .map_err(|e| format!("bad consent value ({e})"))?
                        .map(|c| (c, v.to_string()));
                }
                Column::ConsentOn(scope, channel) => {
                    by_scope(*scope, &mut consent_on, &mut service_on)[channel.index()] =
                        parse_value(v)
                            .map_err(|e| format!("bad consent value ({e})"))?
                            .map(|c| (c, v.to_string()));
                }
                Column::ExportedId => {}
                Column::ConsentSource => source_column = Some(v.to_string()),
                Column::ConsentProof => proof_column = Some(v.to_string()),
                Column::ConsentAt => row.consent_at = date(v)?,
                Column::ConsentAtOn(scope, channel) => {
                    by_scope(*scope, &mut given_on, &mut service_given)[channel.index()].at =
                        Some(date(v)?)
                }
                Column::ConsentSourceOn(scope, channel) => {
                    by_scope(*scope, &mut given_on, &mut service_given)[channel.index()].source =
                        Some(v.to_string())
                }
                Column::ConsentProofOn(scope, channel) => {
                    by_scope(*scope, &mut given_on, &mut service_given)[channel.index()].proof =
                        Some(v.to_string())
                }
                Column::Attribute(name) => {
                    attributes.insert(name.clone(), serde_json::Value::String(v.to_string()));
                }
            }
        }
        if !row.more.is_empty() {
            mobile_first(&mut row);
        }
        if row.whatsapp.is_none() && row.telegram.is_none() && row.instagram.is_none() {
            return Err("no identity (no phone, telegram chat id or instagram id)".into());
        }
        // Consent on a channel is kept with the address it is for: without one, a withdrawal
        // would be lost and a grant would wait for whatever address comes later.
        let scoped_values = consent_on
            .iter()
            .map(|v| ("consent", v))
            .zip(Channel::ALL)
            .chain(
                service_on
                    .iter()
                    .map(|v| ("service consent", v))
                    .zip(Channel::ALL),
            );
        for ((said, value), channel) in scoped_values {
            let address = match channel {
                Channel::WhatsApp => &row.whatsapp,
                Channel::Telegram => &row.telegram,
                Channel::Instagram => &row.instagram,
            };
            if let (Some((_, raw)), None) = (value, address) {
                return Err(format!(
                    "consent without an address ({said} on {} `{raw}`, but the row has no {})",
                    channel.label(),
                    match channel {
                        Channel::WhatsApp => "phone",
                        Channel::Telegram => "telegram chat id",
                        Channel::Instagram => "instagram id",
                    }
                ));
            }
        }
        if !attributes.is_empty() {
            row.attributes = Some(serde_json::Value::Object(attributes).to_string());
        }
        let status = |value: ConsentValue| match value {
            ConsentValue::Yes => ConsentStatus::Granted,
            ConsentValue::No => ConsentStatus::Withdrawn,
        };
        row.service = Channel::ALL
            .into_iter()
            .zip(service_on)
            .zip(service_given)
            .filter_map(|((channel, value), given)| {
                let (value, raw) = value?;
                Some(ServiceConsent {
                    channel,
                    status: status(value),
                    at: given.at.unwrap_or(row.consent_at),
                    source: given
                        .source
                        .or_else(|| source_column.clone())
                        .unwrap_or_else(|| format!("import {}", self.file_name)),
                    proof: given
                        .proof
                        .or_else(|| proof_column.clone())
                        .unwrap_or_else(|| {
                            format!(
                                "{}, line {line}: service consent on {} `{raw}`",
                                self.file_name,
                                channel.label()
                            )
                        }),
                })
            })
            .collect();
        if consent.is_some() || consent_on.iter().any(Option::is_some) {
            row.consent = consent.as_ref().map(|(v, _)| status(*v));
            row.consent_on =
                std::array::from_fn(|i| consent_on[i].as_ref().map(|(v, _)| status(*v)));
            // What the file says of a channel's consent goes with a value on it.
            for (given, value) in given_on.iter_mut().zip(&row.consent_on) {
                if value.is_none() && row.consent.is_none() {
                    *given = Default::default();
                }
            }
            if given_on.iter().any(|g| !g.is_empty()) {
                row.given_on = Some(Box::new(given_on));
            }
            row.consent_source =
                source_column.unwrap_or_else(|| format!("import {}", self.file_name));
            let said: Vec<String> = consent
                .iter()
                .map(|(_, raw)| format!("consent `{raw}`"))
                .chain(Channel::ALL.iter().zip(&consent_on).filter_map(|(c, v)| {
                    v.as_ref()
                        .map(|(_, raw)| format!("consent on {} `{raw}`", c.label()))
                }))
                .collect();
            row.consent_proof = proof_column
                .unwrap_or_else(|| format!("{}, line {line}: {}", self.file_name, said.join(", ")));
        } else if let Some(declared) = &self.opts.consent_source {
            row.consent = Some(ConsentStatus::Granted);
            row.declared = true;
            row.consent_source = source_column.unwrap_or_else(|| declared.clone());
            row.consent_proof = format!(
                "{}, line {line}: consent declared for the whole file by {}: {declared}{}",
                self.file_name,
                self.opts.actor,
                proof_column
                    .map(|p| format!("; proof: {p}"))
                    .unwrap_or_default()
            );
        }
        Ok(row)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_count_by_kind() {
        assert_eq!(
            reason_kind("duplicate within file (first at line 3)"),
            "duplicate within file"
        );
        assert_eq!(reason_kind("suppressed"), "suppressed");
        assert_eq!(sql::SUPPRESSED, "suppressed");
    }

    #[test]
    fn an_unreadable_file_is_told_with_what_to_do() {
        use std::io::{Error, ErrorKind};
        let said = |kind| {
            ImportError::Open {
                path: "/srv/crm.csv".into(),
                error: Error::from(kind),
            }
            .to_string()
        };
        assert_eq!(
            said(ErrorKind::PermissionDenied),
            "cannot read /srv/crm.csv: this user may not read it; give it read access (`ls -l` \
             shows who may) or copy the file somewhere this user can read; nothing was imported"
        );
        assert!(said(ErrorKind::NotFound).contains("there is no such file; check the path"));
        assert!(said(ErrorKind::IsADirectory).contains("it is a folder"));
        // Anything else is given as the system says it.
        assert_eq!(
            said(ErrorKind::UnexpectedEof),
            format!(
                "cannot read /srv/crm.csv: {}; nothing was imported",
                Error::from(ErrorKind::UnexpectedEof)
            )
        );
    }

    proptest::proptest! {
        /// Whatever addresses a row is given, in any order and repeated: each distinct one is
        /// kept once, the first given on a channel is its first until mobiles are put first,
        /// and then the row keeps the same addresses, mobiles before landlines, each kind in
        /// the order given.
        #[test]
        fn a_rows_addresses_are_kept_once_and_mobiles_first(
            given in proptest::collection::vec((0usize..3, 0usize..6), 0..12)
        ) {
            const PHONES: [&str; 6] = [
                "+77011112233", "+77272500001", "+77021112233",
                "+77172500002", "+77051112233", "+74951234567",
            ];
            let given: Vec<(Channel, String)> = given
                .into_iter()
                .map(|(c, a)| {
                    let channel = Channel::ALL[c];
                    let address = match channel {
                        Channel::WhatsApp => PHONES[a].to_string(),
                        _ => format!("{}", 100 + a),
                    };
                    (channel, address)
                })
                .collect();
            let mut row = StagedRow::empty(2, Utc::now());
            for (channel, address) in &given {
                row.add_address(*channel, address.clone());
            }
            let mut distinct: Vec<(Channel, String)> = Vec::new();
            for g in &given {
                if !distinct.contains(g) {
                    distinct.push(g.clone());
                }
            }
            let kept = |row: &StagedRow| -> Vec<(Channel, String)> {
                row.addresses().map(|(c, a)| (c, a.to_string())).collect()
            };
            let on = |channel: Channel, v: &[(Channel, String)]| -> Vec<String> {
                v.iter().filter(|(c, _)| *c == channel).map(|(_, a)| a.clone()).collect()
            };
            for channel in Channel::ALL {
                proptest::prop_assert_eq!(on(channel, &kept(&row)), on(channel, &distinct));
            }
            mobile_first(&mut row);
            for channel in Channel::ALL {
                let mut expected = on(channel, &distinct);
                if channel == Channel::WhatsApp {
                    expected.sort_by_key(|p| !crate::domain::phone::may_be_mobile(p));
                }
                proptest::prop_assert_eq!(on(channel, &kept(&row)), expected);
            }
        }
    }

    /// A row's mobile phones go before its landlines, each kind in the file's order; its
    /// other channels' further addresses stay as they were.
    #[test]
    fn mobile_phones_come_first() {
        let mut row = StagedRow::empty(2, Utc::now());
        for (channel, address) in [
            (Channel::WhatsApp, "+77272500001"),
            (Channel::Telegram, "5"),
            (Channel::WhatsApp, "+77172500002"),
            (Channel::WhatsApp, "+77011112233"),
            (Channel::Telegram, "6"),
            (Channel::WhatsApp, "+77021112233"),
        ] {
            row.add_address(channel, address.to_string());
        }
        mobile_first(&mut row);
        assert_eq!(row.whatsapp.as_deref(), Some("+77011112233"));
        assert_eq!(row.telegram.as_deref(), Some("5"));
        assert_eq!(
            row.more,
            [
                (Channel::WhatsApp, "+77021112233".to_string()),
                (Channel::WhatsApp, "+77272500001".to_string()),
                (Channel::WhatsApp, "+77172500002".to_string()),
                (Channel::Telegram, "6".to_string()),
            ]
        );
    }
}
