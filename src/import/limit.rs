//! A reader that refuses endless lines and remembers what a cut-off file looks like.
//!
//! CSV readers buffer a whole record; a 200 MB "line" would be held in memory. This wrapper
//! counts bytes since the last newline and fails past a cap, so memory stays bounded
//! whatever the file holds. It also counts `"` bytes: a file that ends with an odd number
//! of them ends inside a quoted field, i.e. it was cut off.

use std::cell::Cell;
use std::io::{self, Read};
use std::rc::Rc;

/// What the wrapper saw, readable while the wrapper is owned by the decoder and the parser.
#[derive(Debug, Default)]
pub struct Seen {
    quotes: Cell<u64>,
    last_byte: Cell<Option<u8>>,
    bytes: Cell<u64>,
}

impl Seen {
    /// Whether everything read so far ends inside a quoted field.
    pub fn inside_quotes(&self) -> bool {
        self.quotes.get() % 2 == 1
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

/// The longest line accepted, in bytes.
pub const MAX_LINE: usize = 1 << 20;

/// Wraps a reader; see the module docs.
pub struct LineCap<R> {
    inner: R,
    cap: usize,
    since_newline: usize,
    line: u64,
    seen: Rc<Seen>,
}

impl<R: Read> LineCap<R> {
    pub fn new(inner: R, cap: usize) -> LineCap<R> {
        LineCap {
            inner,
            cap,
            since_newline: 0,
            line: 1,
            seen: Rc::new(Seen::default()),
        }
    }

    /// A handle on what has been read, that outlives moving the wrapper.
    pub fn seen(&self) -> Rc<Seen> {
        self.seen.clone()
    }
}

impl<R: Read> Read for LineCap<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        for &b in &buf[..n] {
            match b {
                b'\n' => {
                    self.since_newline = 0;
                    self.line += 1;
                }
                b'"' => {
                    self.seen.quotes.set(self.seen.quotes.get() + 1);
                    self.since_newline += 1;
                }
                _ => self.since_newline += 1,
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
        }
        if n > 0 {
            self.seen.last_byte.set(Some(buf[n - 1]));
            self.seen.bytes.set(self.seen.bytes.get() + n as u64);
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_line_fails_with_bounded_reads() {
        let data = vec![b'x'; 5000];
        let mut r = LineCap::new(&data[..], 1000);
        let mut sink = Vec::new();
        let err = r.read_to_end(&mut sink).unwrap_err();
        assert!(err.to_string().contains("line 1 is longer"), "{err}");
        assert!(sink.len() <= 8192);
    }

    #[test]
    fn quotes_and_endings_are_tracked() {
        let mut r = LineCap::new(&b"a,b\n1,\"x\ny"[..], 100);
        let seen = r.seen();
        std::io::copy(&mut r, &mut std::io::sink()).unwrap();
        assert!(seen.inside_quotes() && !seen.ends_with_newline());
        let mut r = LineCap::new(&b"a,b\n1,\"x\"\"y\"\n"[..], 100);
        let seen = r.seen();
        std::io::copy(&mut r, &mut std::io::sink()).unwrap();
        assert!(!seen.inside_quotes() && seen.ends_with_newline());
        assert_eq!(seen.bytes(), 13);
    }
}
