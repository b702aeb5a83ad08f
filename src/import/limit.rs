//! A reader that refuses endless lines and rows, and remembers what a cut-off file looks
//! like.
//!
//! CSV readers buffer a whole record; a 200 MB "line" would be held in memory, and so would
//! the rest of a file after a quote that is never closed (every line after it is read as
//! one quoted field). This wrapper counts bytes since the last line break and since the
//! last end of a row, and fails past a cap, so memory stays bounded whatever the file
//! holds. To tell a row's end from a line break inside a quoted field, it follows the
//! quoting as the CSV reader does (`"` opens a quoted field only at a field's start; `""`
//! inside one is a quote; a line break, `\r` or `\n`, outside one ends the row): the
//! delimiter and `"` are ASCII, so this works on the raw bytes in either encoding. It so
//! also knows whether a file ends inside a quoted field, i.e. was cut off. Hand-written:
//! the `csv` crate's reader has no cap on a record's size.

use std::cell::Cell;
use std::io::{self, Read};
use std::rc::Rc;

/// What the wrapper saw, readable while the wrapper is owned by the decoder and the parser.
#[derive(Debug, Default)]
pub struct Seen {
    quoted: Cell<bool>,
    last_byte: Cell<Option<u8>>,
    bytes: Cell<u64>,
}

impl Seen {
    /// Whether everything read so far ends inside a quoted field.
    pub fn inside_quotes(&self) -> bool {
        self.quoted.get()
    }

    /// Whether the data read so far ends with a newline (or is empty).
    pub fn ends_with_newline(&self) -> bool {
        matches!(self.last_byte.get(), None | Some(b'\n'))
    }

    /// Bytes read so far.
    pub fn bytes(&self) -> u64 {
        self.bytes.get()
    }
}

/// The longest line, and the longest row (all its lines), accepted, in bytes.
pub const MAX_LINE: usize = 1 << 20;

/// Where the reading is within a row, as the CSV reader sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Quoting {
    /// At the start of a field: a `"` here opens a quoted field.
    FieldStart,
    /// Inside a field that is not quoted: a `"` is text.
    Unquoted,
    /// Inside a quoted field: line breaks and delimiters are text.
    Quoted,
    /// Just after a `"` in a quoted field: another `"` is a quote in the text; anything
    /// else means the field was closed.
    QuoteInQuoted,
}

/// Wraps a reader; see the module docs.
pub struct LineCap<R> {
    inner: R,
    cap: usize,
    delimiter: u8,
    since_newline: usize,
    since_row: usize,
    line: u64,
    row_line: u64,
    quoting: Quoting,
    seen: Rc<Seen>,
}

impl<R: Read> LineCap<R> {
    /// Lines and rows of at most `cap` bytes, fields between `delimiter`s.
    pub fn new(inner: R, cap: usize, delimiter: u8) -> LineCap<R> {
        LineCap {
            inner,
            cap,
            delimiter,
            since_newline: 0,
            since_row: 0,
            line: 1,
            row_line: 1,
            quoting: Quoting::FieldStart,
            seen: Rc::new(Seen::default()),
        }
    }

    /// A handle on what has been read, that outlives moving the wrapper.
    pub fn seen(&self) -> Rc<Seen> {
        self.seen.clone()
    }

    /// Follows one byte of the file.
    #[inline(always)]
    fn step(&mut self, b: u8) -> io::Result<()> {
        let breaks = b == b'\n' || b == b'\r';
        self.quoting = match (self.quoting, b) {
            (Quoting::Quoted, b'"') => Quoting::QuoteInQuoted,
            (Quoting::Quoted, _) => Quoting::Quoted,
            (Quoting::QuoteInQuoted, b'"') | (Quoting::FieldStart, b'"') => Quoting::Quoted,
            (_, b) if b == self.delimiter || breaks => Quoting::FieldStart,
            _ => Quoting::Unquoted,
        };
        // A `\r` breaks a line as the CSV reader reads it (files from old Macs end lines
        // with it alone); lines are numbered by `\n`, as editors number them.
        if breaks {
            self.since_newline = 0;
            self.line += u64::from(b == b'\n');
        } else {
            self.since_newline += 1;
        }
        if breaks && self.quoting == Quoting::FieldStart {
            self.since_row = 0;
            self.row_line = self.line;
        } else {
            self.since_row += 1;
        }
        if self.since_newline > self.cap {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "line {} is longer than {} KiB without a line break: this is not a CSV \
                     file of subscribers (or a field is far too long)",
                    self.line,
                    self.cap / 1024
                ),
            ));
        }
        if self.since_row > self.cap {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "the row that starts on line {} runs on past {} KiB, to line {}: a quoted \
                     field there is most likely not closed (a `\"` missing its pair); put the \
                     quote right and import again",
                    self.row_line,
                    self.cap / 1024,
                    self.line
                ),
            ));
        }
        Ok(())
    }
}

impl<R: Read> Read for LineCap<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        for &b in &buf[..n] {
            self.step(b)?;
        }
        if n > 0 {
            self.seen.last_byte.set(Some(buf[n - 1]));
            self.seen.bytes.set(self.seen.bytes.get() + n as u64);
            self.seen.quoted.set(self.quoting == Quoting::Quoted);
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn long_line_fails_with_bounded_reads() {
        let data = vec![b'x'; 5000];
        let mut r = LineCap::new(&data[..], 1000, b',');
        let mut sink = Vec::new();
        let err = r.read_to_end(&mut sink).unwrap_err();
        assert!(err.to_string().contains("line 1 is longer"), "{err}");
        assert!(sink.len() <= 8192);
    }

    #[test]
    fn quotes_and_endings_are_tracked() {
        let mut r = LineCap::new(&b"a,b\n1,\"x\ny"[..], 100, b',');
        let seen = r.seen();
        std::io::copy(&mut r, &mut std::io::sink()).unwrap();
        assert!(seen.inside_quotes() && !seen.ends_with_newline());
        let mut r = LineCap::new(&b"a,b\n1,\"x\"\"y\"\n"[..], 100, b',');
        let seen = r.seen();
        std::io::copy(&mut r, &mut std::io::sink()).unwrap();
        assert!(!seen.inside_quotes() && seen.ends_with_newline());
        assert_eq!(seen.bytes(), 13);
        // A quote inside a field that is not quoted is text, as the CSV reader reads it.
        let mut r = LineCap::new(&b"a;b\n1;5\" screen\n"[..], 100, b';');
        let seen = r.seen();
        std::io::copy(&mut r, &mut std::io::sink()).unwrap();
        assert!(!seen.inside_quotes());
    }

    /// A quote never closed makes the rest of the file one row: it fails once the row is
    /// past the cap, naming the line it starts on, having read little more than the cap.
    #[test]
    fn a_quote_never_closed_fails_with_bounded_reads() {
        let mut data = b"phone,name\n+77010000001,\"Aida\n".to_vec();
        for i in 0..500 {
            data.extend(format!("+7701{i:07},Name {i}\n").bytes());
        }
        let mut r = LineCap::new(&data[..], 1000, b',');
        let mut sink = Vec::new();
        let err = r.read_to_end(&mut sink).unwrap_err().to_string();
        assert!(
            err.contains("the row that starts on line 2 runs on past 0 KiB"),
            "{err}"
        );
        assert!(sink.len() <= 1000 + 8192, "{}", sink.len());
        // The same rows with the quote closed are read whole.
        let closed = String::from_utf8(data)
            .unwrap()
            .replacen("Aida", "Aida\"", 1);
        let mut r = LineCap::new(closed.as_bytes(), 1000, b',');
        assert!(r.read_to_end(&mut Vec::new()).is_ok());
    }

    fn field() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            prop_oneof![
                Just("a"),
                Just(","),
                Just(";"),
                Just("\""),
                Just("\n"),
                Just("\r"),
                Just(" "),
                Just("я")
            ],
            0..8,
        )
        .prop_map(|parts| parts.concat())
    }

    proptest! {
        /// Rows as a CSV writer quotes them: the longest row, in bytes without its line
        /// break, is exactly the cap that reads the file whole; one byte less fails. So a
        /// row's end is found where the CSV reader finds it, whatever its fields hold.
        #[test]
        fn rows_end_where_the_csv_reader_ends_them(
            rows in proptest::collection::vec(proptest::collection::vec(field(), 1..5), 1..6),
            semicolon in any::<bool>(),
            crlf in any::<bool>(),
        ) {
            let delimiter = if semicolon { b';' } else { b',' };
            let mut longest = 0;
            let mut file = Vec::new();
            for row in &rows {
                let mut w = csv::WriterBuilder::new()
                    .delimiter(delimiter)
                    .terminator(if crlf {
                        csv::Terminator::CRLF
                    } else {
                        csv::Terminator::Any(b'\n')
                    })
                    .from_writer(Vec::new());
                w.write_record(row).unwrap();
                let bytes = w.into_inner().unwrap();
                let ending = if crlf { 2 } else { 1 };
                longest = longest.max(bytes.len() - ending);
                file.extend(bytes);
            }
            let read = |cap: usize| {
                let mut r = LineCap::new(&file[..], cap, delimiter);
                let seen = r.seen();
                r.read_to_end(&mut Vec::new()).map(|_| seen.inside_quotes())
            };
            prop_assert_eq!(read(longest).ok(), Some(false));
            if longest > 0 {
                prop_assert!(read(longest - 1).is_err());
            }
        }
    }
}
