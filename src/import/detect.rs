//! Sniffing an import file: binary or text, its encoding (UTF-8 with or without BOM, or
//! Windows-1251 as Kazakh and Russian Excel exports often are) and its delimiter.

/// A text encoding the importer reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
pub enum Encoding {
    /// Decide from the file: a UTF-8 BOM or valid UTF-8 means UTF-8, else Windows-1251.
    Auto,
    #[value(name = "utf-8", alias = "utf8")]
    #[serde(rename = "utf-8")]
    Utf8,
    #[value(name = "windows-1251", alias = "cp1251")]
    #[serde(rename = "windows-1251")]
    Windows1251,
}

impl Encoding {
    /// Its name as `--encoding` takes it (`auto` for an encoding not yet decided).
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Auto => "auto",
            Encoding::Utf8 => "utf-8",
            Encoding::Windows1251 => "windows-1251",
        }
    }
}

/// A field delimiter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delimiter {
    Auto,
    Byte(u8),
}

impl std::str::FromStr for Delimiter {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "auto" => Ok(Delimiter::Auto),
            "," | "comma" => Ok(Delimiter::Byte(b',')),
            ";" | "semicolon" => Ok(Delimiter::Byte(b';')),
            "tab" | "\t" | "\\t" => Ok(Delimiter::Byte(b'\t')),
            "|" | "pipe" => Ok(Delimiter::Byte(b'|')),
            other => Err(format!(
                "delimiter `{other}`: use auto, `,`, `;`, tab or `|`"
            )),
        }
    }
}

/// The name of a delimiter byte for reports.
pub fn delimiter_name(b: u8) -> &'static str {
    match b {
        b',' => ",",
        b';' => ";",
        b'\t' => "tab",
        b'|' => "|",
        _ => "?",
    }
}

/// Why a file cannot be read as CSV.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SniffError {
    #[error("the file is empty")]
    Empty,
    #[error("the file is binary (it has NUL bytes), not a CSV text file")]
    Binary,
}

/// Decides the encoding from the first bytes of a file. Returns the encoding and whether a
/// UTF-8 byte-order mark is present.
pub fn encoding(head: &[u8], asked: Encoding) -> Result<(Encoding, bool), SniffError> {
    if head.is_empty() {
        return Err(SniffError::Empty);
    }
    if head.contains(&0) {
        return Err(SniffError::Binary);
    }
    let bom = head.starts_with(b"\xEF\xBB\xBF");
    if asked != Encoding::Auto {
        return Ok((asked, bom));
    }
    if bom {
        return Ok((Encoding::Utf8, true));
    }
    // Valid UTF-8, allowing a multi-byte character cut at the end of the sample.
    let utf8 = match std::str::from_utf8(head) {
        Ok(_) => true,
        Err(e) => e.error_len().is_none(),
    };
    Ok((
        if utf8 {
            Encoding::Utf8
        } else {
            Encoding::Windows1251
        },
        false,
    ))
}

/// Picks the delimiter that splits the first lines most consistently: `,` `;` tab or `|`,
/// counted outside quotes. Ties prefer `;` then `,` (Excel in ru/kk locales writes `;`).
pub fn delimiter(text: &str) -> u8 {
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .take(20)
        .collect();
    let mut best = (b',', 0usize, false);
    for cand in [b';', b',', b'\t', b'|'] {
        let counts: Vec<usize> = lines
            .iter()
            .map(|l| count_outside_quotes(l, cand))
            .collect();
        let Some(&first) = counts.first() else {
            continue;
        };
        if first == 0 {
            continue;
        }
        let consistent = counts.iter().all(|&c| c == first);
        let better = (consistent && !best.2) || (consistent == best.2 && first > best.1);
        if better {
            best = (cand, first, consistent);
        }
    }
    best.0
}

fn count_outside_quotes(line: &str, d: u8) -> usize {
    let mut quoted = false;
    let mut n = 0;
    for b in line.bytes() {
        if b == b'"' {
            quoted = !quoted;
        } else if b == d && !quoted {
            n += 1;
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings() {
        assert_eq!(
            encoding(b"\xEF\xBB\xBFphone\n", Encoding::Auto),
            Ok((Encoding::Utf8, true))
        );
        assert_eq!(
            encoding("имя;телефон".as_bytes(), Encoding::Auto),
            Ok((Encoding::Utf8, false))
        );
        // "Имя" in Windows-1251.
        assert_eq!(
            encoding(b"\xC8\xEC\xFF;phone", Encoding::Auto),
            Ok((Encoding::Windows1251, false))
        );
        // A UTF-8 character cut by the sample's end is still UTF-8.
        let cut = &"телефон".as_bytes()[..3];
        assert_eq!(encoding(cut, Encoding::Auto), Ok((Encoding::Utf8, false)));
        assert_eq!(encoding(b"", Encoding::Auto), Err(SniffError::Empty));
        assert_eq!(
            encoding(b"PK\x03\x04\x00\x00", Encoding::Auto),
            Err(SniffError::Binary)
        );
    }

    #[test]
    fn delimiters() {
        assert_eq!(delimiter("name;phone\nA;1\nB;2\n"), b';');
        assert_eq!(delimiter("name,phone\nA,1\n"), b',');
        assert_eq!(delimiter("name\tphone\nA\t1\n"), b'\t');
        // Commas inside quotes do not count.
        assert_eq!(
            delimiter("name;phone\n\"Smith, J\";1\n\"Doe, A\";2\n"),
            b';'
        );
        assert_eq!(delimiter("phone\n1\n"), b',');
    }
}
