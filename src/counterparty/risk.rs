//! The State Revenue Committee's risk lists: what each list means, how bad it is, and the
//! reading of their XLSX files (with `calamine`) into rows of BIN, name, decision number
//! and date. The files differ from list to list and year to year, so columns are found by
//! their headers (Russian, Kazakh or English) on any of the first rows of every sheet, not
//! by position; numbers stored as numbers get their leading zeros back.

use crate::store::counterparty::RiskRow;
use calamine::{Data, DataType, Reader};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Red stops a deal; amber asks for a closer look.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Red,
    Amber,
}

/// One of the lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct List {
    pub code: &'static str,
    pub level: Level,
    /// What it means, in plain words.
    pub title: &'static str,
    /// Words in a file's name or title that say which list it is.
    hints: &'static [&'static str],
}

/// Every list, worst first.
pub const LISTS: &[List] = &[
    List {
        code: "PSEUDO_COMPANY",
        level: Level::Red,
        title: "false enterprise (лжепредприятие)",
        hints: &["pseudo", "лжепредприят", "жалған"],
    },
    List {
        code: "INVALID_REGISTRATION",
        level: Level::Red,
        title: "registration declared invalid",
        hints: &["invalid", "недействительн", "жарамсыз"],
    },
    List {
        code: "BANKRUPT",
        level: Level::Red,
        title: "declared bankrupt",
        hints: &["bankrupt", "банкрот"],
    },
    List {
        code: "INACTIVE",
        level: Level::Red,
        title: "inactive taxpayer (бездействующий)",
        hints: &["inactive", "бездейств", "әрекетсіз"],
    },
    List {
        code: "TAX_ARREARS_150",
        level: Level::Amber,
        title: "tax debt over 150 MCI",
        hints: &["arrears", "задолж", "берешек"],
    },
    List {
        code: "WRONG_ADDRESS",
        level: Level::Amber,
        title: "absent from its legal address",
        hints: &["wrong_address", "отсутств", "орналаспаған"],
    },
    List {
        code: "VIOLATION_TAX_CODE",
        level: Level::Amber,
        title: "reorganised in breach of the Tax Code",
        hints: &["violation", "реорганиз", "нарушени"],
    },
];

/// A list by its code (any case, `-` for `_`).
pub fn list(code: &str) -> Option<&'static List> {
    let code = code.trim().to_uppercase().replace('-', "_");
    LISTS.iter().find(|l| l.code == code)
}

/// The list a file is, from words in its name or its sheets' first rows.
pub fn guess_list(text: &str) -> Option<&'static List> {
    let text = text.to_lowercase();
    LISTS
        .iter()
        .find(|l| l.hints.iter().any(|h| text.contains(h)))
}

/// What a file held.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadFile {
    pub rows: Vec<RiskRow>,
    /// Rows under a header whose BIN cell is not a 12-digit number (totals, notes, blanks
    /// are not counted).
    pub skipped: Vec<(String, u32, String)>,
    /// The sheets that had a header row.
    pub sheets: Vec<String>,
    /// Text of the sheets' names and first rows, for [`guess_list`].
    pub title_text: String,
    /// The date the file says its data is as of ("по состоянию на 20.11.2026").
    pub as_of: Option<NaiveDate>,
}

/// Why a file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum RiskFileError {
    #[error(
        "cannot read {path} as a spreadsheet: {error}. Risk lists are the XLSX files published by the State Revenue Committee (kgd.gov.kz)"
    )]
    Open { path: String, error: String },
    #[error(
        "{path} has no sheet with a BIN column (a header cell reading БИН, ИИН/БИН, БСН or BIN in its first 30 rows)"
    )]
    NoHeader { path: String },
}

/// Columns found in a header row.
#[derive(Debug, Clone, Copy)]
struct Columns {
    bin: usize,
    name: Option<usize>,
    decision: Option<usize>,
    date: Option<usize>,
}

fn find_columns(row: &[Data]) -> Option<Columns> {
    let cells: Vec<String> = row
        .iter()
        .map(|c| cell_text(c).unwrap_or_default().to_lowercase())
        .collect();
    let find = |pred: &dyn Fn(&str) -> bool| cells.iter().position(|c| pred(c));
    let bin = find(&|c| {
        let words: Vec<&str> = c
            .split(|ch: char| !ch.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .collect();
        words
            .iter()
            .any(|w| matches!(*w, "бин" | "бсн" | "bin" | "иин" | "жсн"))
            && !c.contains("руковод")
            && !c.contains("басшы")
            && !c.contains("director")
    })?;
    Some(Columns {
        bin,
        name: find(&|c| c.contains("наименован") || c.contains("атау") || c.contains("name")),
        decision: find(&|c| {
            (c.contains("номер")
                || c.contains("number")
                || c.contains("нөмір")
                || c.starts_with("№ "))
                && !c.contains("п/п")
        }),
        date: find(&|c| c.contains("дата") || c.contains("date") || c.contains("күні")),
    })
}

fn cell_text(c: &Data) -> Option<String> {
    match c {
        Data::String(s) => Some(s.trim().to_string()).filter(|s| !s.is_empty()),
        Data::Int(i) => Some(i.to_string()),
        Data::Float(f) if f.fract() == 0.0 => Some(format!("{f:.0}")),
        Data::Float(f) => Some(f.to_string()),
        Data::DateTimeIso(s) => Some(s.clone()),
        Data::DateTime(d) => Some(d.to_string()),
        _ => None,
    }
}

/// A BIN cell: digits only, leading zeros put back for numbers.
fn bin_of(c: &Data) -> Option<String> {
    let s: String = match c {
        Data::Int(i) => format!("{i:012}"),
        Data::Float(f) if f.fract() == 0.0 && *f >= 0.0 => format!("{f:012.0}"),
        _ => cell_text(c)?
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '\u{a0}')
            .collect(),
    };
    (s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())).then_some(s)
}

fn date_of(c: &Data) -> Option<NaiveDate> {
    match c {
        Data::DateTime(_) | Data::DateTimeIso(_) => c.as_date(),
        Data::Float(_) | Data::Int(_) => None,
        _ => {
            let s = cell_text(c)?;
            let s = s.trim();
            NaiveDate::parse_from_str(s.get(..10).unwrap_or(s), "%d.%m.%Y")
                .or_else(|_| NaiveDate::parse_from_str(s.get(..10).unwrap_or(s), "%Y-%m-%d"))
                .ok()
        }
    }
}

/// The date after "по состоянию на" / "as of" / "жағдай бойынша" in a title.
pub fn as_of_in(text: &str) -> Option<NaiveDate> {
    let lower = text.to_lowercase();
    let at = ["по состоянию на", "as of", "as at"]
        .iter()
        .find_map(|m| lower.find(m).map(|i| i + m.len()))
        .or_else(|| lower.find("жағдай бойынша").map(|i| i.saturating_sub(11)))?;
    let rest = lower.get(at..)?.trim_start();
    let token: String = rest
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.' || *c == '-')
        .collect();
    NaiveDate::parse_from_str(&token, "%d.%m.%Y")
        .or_else(|_| NaiveDate::parse_from_str(&token, "%Y-%m-%d"))
        .ok()
}

/// Reads every sheet of the file that has a BIN header.
pub fn read_file(path: &Path) -> Result<ReadFile, RiskFileError> {
    let shown = path.display().to_string();
    let mut book = calamine::open_workbook_auto(path).map_err(|e| RiskFileError::Open {
        path: shown.clone(),
        error: e.to_string(),
    })?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    read_book(&mut book, shown, name)
}

/// Reads an XLSX file held in memory (the demo's).
pub fn read_xlsx_bytes(name: &str, bytes: &[u8]) -> Result<ReadFile, RiskFileError> {
    let mut book =
        calamine::open_workbook_auto_from_rs(std::io::Cursor::new(bytes)).map_err(|e| {
            RiskFileError::Open {
                path: name.to_string(),
                error: e.to_string(),
            }
        })?;
    read_book(&mut book, name.to_string(), name.to_string())
}

fn read_book<RS: std::io::Read + std::io::Seek>(
    book: &mut calamine::Sheets<RS>,
    shown: String,
    title: String,
) -> Result<ReadFile, RiskFileError> {
    let mut out = ReadFile {
        rows: Vec::new(),
        skipped: Vec::new(),
        sheets: Vec::new(),
        title_text: title,
        as_of: None,
    };
    for sheet in book.sheet_names() {
        let range = book
            .worksheet_range(&sheet)
            .map_err(|e| RiskFileError::Open {
                path: shown.clone(),
                error: e.to_string(),
            })?;
        out.title_text.push(' ');
        out.title_text.push_str(&sheet);
        let first_row = range.start().map_or(0, |(r, _)| r);
        let mut columns = None;
        for (i, row) in range.rows().enumerate() {
            let line = first_row + i as u32 + 1;
            let Some(cols) = columns else {
                if i >= 30 {
                    break;
                }
                columns = find_columns(row);
                if columns.is_none() {
                    for c in row.iter().filter_map(cell_text) {
                        out.title_text.push(' ');
                        out.title_text.push_str(&c);
                    }
                } else {
                    out.sheets.push(sheet.clone());
                }
                continue;
            };
            let get = |i: Option<usize>| i.and_then(|i| row.get(i));
            let bin_cell = row.get(cols.bin).unwrap_or(&Data::Empty);
            match bin_of(bin_cell) {
                Some(bin) => out.rows.push(RiskRow {
                    bin,
                    name: get(cols.name).and_then(cell_text),
                    decision: get(cols.decision).and_then(cell_text).unwrap_or_default(),
                    decided_on: get(cols.date).and_then(date_of),
                }),
                None => {
                    // Totals, notes and blank lines carry no digits: not rows at all.
                    if let Some(t) =
                        cell_text(bin_cell).filter(|t| t.chars().any(|c| c.is_ascii_digit()))
                    {
                        out.skipped.push((
                            sheet.clone(),
                            line,
                            format!("{t:?} is not a 12-digit BIN"),
                        ));
                    }
                }
            }
        }
    }
    if out.sheets.is_empty() {
        return Err(RiskFileError::NoHeader { path: shown });
    }
    out.as_of = as_of_in(&out.title_text);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn titles_and_cells_never_panic(s in "\\PC{0,60}", f in any::<f64>(), i in any::<i64>()) {
            let _ = as_of_in(&s);
            let _ = guess_list(&s);
            for c in [Data::String(s.clone()), Data::Float(f), Data::Int(i), Data::DateTimeIso(s.clone())] {
                if let Some(bin) = bin_of(&c) {
                    prop_assert!(bin.len() == 12 && bin.bytes().all(|b| b.is_ascii_digit()));
                }
                let _ = date_of(&c);
            }
            let _ = find_columns(&[Data::String(s.clone()), Data::Float(f)]);
        }

        #[test]
        fn a_bin_stored_as_a_number_keeps_its_leading_zeros(n in 0u64..1_000_000_000_000) {
            let text = format!("{n:012}");
            prop_assert_eq!(bin_of(&Data::Float(n as f64)), Some(text.clone()));
            prop_assert_eq!(bin_of(&Data::Int(n as i64)), Some(text));
        }
    }

    #[test]
    fn lists_are_found_by_code_and_by_title() {
        assert_eq!(list("bankrupt").unwrap().code, "BANKRUPT");
        assert_eq!(list("tax-arrears-150").unwrap().level, Level::Amber);
        assert!(list("nope").is_none());
        assert_eq!(
            guess_list("Список налогоплательщиков, признанных лжепредприятиями")
                .unwrap()
                .code,
            "PSEUDO_COMPANY"
        );
        assert_eq!(guess_list("inactive_2026.xlsx").unwrap().code, "INACTIVE");
        assert!(guess_list("report.xlsx").is_none());
    }

    #[test]
    fn header_cells_are_recognised() {
        let row: Vec<Data> = [
            "№ п/п",
            "БИН",
            "РНН",
            "Наименование налогоплательщика",
            "ИИН руководителя",
            "Номер решения",
            "Дата решения",
        ]
        .iter()
        .map(|s| Data::String(s.to_string()))
        .collect();
        let c = find_columns(&row).unwrap();
        assert_eq!(
            (c.bin, c.name, c.decision, c.date),
            (1, Some(3), Some(5), Some(6))
        );
        assert_eq!(
            bin_of(&Data::Float(40140000385.0)).as_deref(),
            Some("040140000385")
        );
        assert_eq!(
            bin_of(&Data::String("9401 4000 0385".into())).as_deref(),
            Some("940140000385")
        );
        assert_eq!(bin_of(&Data::String("Итого".into())), None);
        assert_eq!(
            as_of_in("Список … по состоянию на 20.11.2026 г.")
                .unwrap()
                .to_string(),
            "2026-11-20"
        );
        assert_eq!(
            as_of_in("as of 2026-11-20").unwrap().to_string(),
            "2026-11-20"
        );
        assert_eq!(as_of_in("Список"), None);
        assert_eq!(
            date_of(&Data::String("05.03.2025".into()))
                .unwrap()
                .to_string(),
            "2025-03-05"
        );
    }
}
