//! Reading the CSV files a user gives (calibration grids, traces): one header rule and
//! one cell parser for all of them, every error one line naming file, row and column.
//!
//! **The header rule.** The first non-blank record is the header (a UTF-8 BOM is
//! stripped; an empty or blank file is rejected). A header name and a field's accepted
//! spellings are compared after [`normalise`]: lower-case, everything but letters and
//! digits dropped, so "Request tokens" = "request_tokens" = "REQUEST-TOKENS". Each field
//! takes the one column whose name equals one of its spellings; two columns that both
//! match a field are an error naming both (the import never guesses which was meant).
//! A missing required field is an error listing what was found and what is accepted;
//! optional fields may be absent; columns no field claims are ignored.
//!
//! **Rows** are numbered as a text editor shows them: the line a record starts on (the
//! header is row 1 unless blank lines precede it). Records are split by the `csv` crate (quotes, CRLF), fields
//! trimmed, blank lines skipped.
//!
//! **Cells** ([`Cell`]) parse numbers, positive integers, token counts and date-times;
//! date-times go through `jiff` (see [`date_time`]).

use std::collections::VecDeque;
use std::io::{self, Read};

use csv::{ByteRecord, ErrorKind, Reader, ReaderBuilder, Trim};
use jiff::civil::DateTime;
use jiff::fmt::temporal::{Pieces, PiecesOffset};

use crate::error::{Error, Result};

pub mod reference;

/// One field an importer reads: its accepted header spellings, the first being the
/// name errors use.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    pub spellings: &'static [&'static str],
    pub required: bool,
}

impl Field {
    /// The name errors give the field: its first spelling.
    pub fn name(&self) -> &'static str {
        self.spellings[0]
    }
}

/// Whether every data row must have as many fields as the header.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Rows {
    /// A row with more or fewer fields is an error ("ragged row").
    Rectangular,
    /// Missing trailing fields read as missing values; extra fields are ignored.
    Ragged,
}

/// A CSV file being read: its header, then records one at a time, from any reader
/// (a file, a slice of bytes): only the record being read is held, never the file.
pub struct Table<'a> {
    file: &'a str,
    reader: Reader<Lines<'a>>,
    /// The header's names as spelled (for messages and reports).
    names: Vec<String>,
}

/// Where a table's bytes come from: a function that fills a buffer as `Read::read` does
/// (one type for every source, so the `csv` reader is compiled once).
pub type Source<'a> = Box<dyn FnMut(&mut [u8]) -> io::Result<usize> + 'a>;

impl<'a> Table<'a> {
    /// `from_source` on bytes held in memory.
    pub fn open(mut bytes: &'a [u8], file: &'a str, fields: &[Field], rows: Rows) -> Result<(Self, Vec<Option<usize>>)> {
        Table::from_source(Box::new(move |buf| bytes.read(buf)), file, fields, rows)
    }

    /// Read the header from `input` and match `fields` to its columns: the column of
    /// each field, `None` for an absent optional one. `file` names the file in errors.
    pub fn from_source(input: Source<'a>, file: &'a str, fields: &[Field], rows: Rows) -> Result<(Self, Vec<Option<usize>>)> {
        let lines = Lines::new(input).map_err(|e| read_error(file, &e))?;
        let mut reader = ReaderBuilder::new()
            .has_headers(false)
            .flexible(rows == Rows::Ragged)
            .trim(Trim::All)
            .buffer_capacity(1 << 16)
            .from_reader(lines);
        let mut header = ByteRecord::new();
        let read = reader.read_byte_record(&mut header).map_err(|e| csv_error(file, reader.get_mut(), &e))?;
        if !read || header.iter().all(<[u8]>::is_empty) {
            let expected: Vec<&str> = fields.iter().filter(|f| f.required).map(Field::name).collect();
            return Err(Error::input(
                file,
                None,
                None,
                format!("empty file: expected a header row with {}", expected.join(", ")),
            ));
        }
        let names: Vec<String> = header.iter().map(|f| String::from_utf8_lossy(f).into_owned()).collect();
        let row = header.position().map_or(1, |p| reader.get_mut().line_at(p));
        let columns = match_columns(&names, fields).map_err(|(field, msg)| Error::input(file, Some(row), Some(field), msg))?;
        Ok((Table { file, reader, names }, columns))
    }

    /// The header's names as spelled.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Read the next record into `record` (reused: no allocation per row); its row
    /// number, or `None` at the end of the file.
    pub fn next_row(&mut self, record: &mut ByteRecord) -> Result<Option<usize>> {
        match self.reader.read_byte_record(record) {
            Ok(false) => Ok(None),
            Ok(true) => Ok(Some(record.position().map_or(0, |p| self.reader.get_mut().line_at(p)))),
            Err(e) => Err(csv_error(self.file, self.reader.get_mut(), &e)),
        }
    }

    /// Whether only blank space is left after the records read so far (reading on, if
    /// need be, to the first byte that is not).
    pub fn at_end(&mut self) -> Result<bool> {
        let at = self.reader.position().byte();
        self.reader.get_mut().blank_from(at).map_err(|e| read_error(self.file, &e))
    }

    /// The cell of `record` (read at `row`) in column `column`.
    pub fn cell<'r>(&'r self, record: &'r ByteRecord, row: usize, column: usize) -> Cell<'r> {
        Cell { file: self.file, row, column: &self.names[column], bytes: record.get(column) }
    }
}

/// The reader under `csv`: drops a UTF-8 BOM, and keeps what row numbers and `at_end`
/// need without keeping the bytes. `csv` reports where it began reading a record, before
/// the blank lines it skipped, and counts every line break before that point; a record's
/// row is the line of its first byte, so each run of `\r`/`\n` bytes is remembered
/// (where it starts and ends, and the line its end is on) until `csv` has passed it.
struct Lines<'a> {
    inner: Source<'a>,
    /// Bytes read ahead to look for a BOM, not yet passed on.
    head: Vec<u8>,
    /// Bytes passed on (after the BOM): `csv`'s byte positions.
    offset: u64,
    /// '\n' bytes passed on.
    newlines: u64,
    /// Runs of line-break bytes passed on and not yet behind `csv`: (start, end, the line
    /// `end` is on). The last one may still grow.
    runs: VecDeque<(u64, u64, u64)>,
    /// Offset just past the last byte that is not ASCII white space.
    solid_end: u64,
}

impl<'a> Lines<'a> {
    fn new(mut inner: Source<'a>) -> io::Result<Self> {
        let mut first = [0u8; 3];
        let mut got = 0;
        while got < 3 {
            match inner(&mut first[got..]) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        let head = if first == *b"\xEF\xBB\xBF" { Vec::new() } else { first[..got].to_vec() };
        Ok(Lines { inner, head, offset: 0, newlines: 0, runs: VecDeque::new(), solid_end: 0 })
    }

    /// The line a record at `p` starts on: past the run of line breaks at `p`, if any.
    /// Runs behind `p` are dropped (`csv` asks in order).
    fn line_at(&mut self, p: &csv::Position) -> usize {
        let at = p.byte();
        while self.runs.front().is_some_and(|&(_, end, _)| end <= at) {
            self.runs.pop_front();
        }
        match self.runs.front() {
            Some(&(start, _, line)) if start <= at => line as usize,
            _ => p.line() as usize,
        }
    }

    /// Whether every byte from offset `at` on is blank, reading the rest of the input
    /// if need be (up to the first byte that is not).
    fn blank_from(&mut self, at: u64) -> io::Result<bool> {
        let mut buffer = [0u8; 1 << 14];
        loop {
            if self.solid_end > at {
                return Ok(false);
            }
            if self.read(&mut buffer)? == 0 {
                return Ok(true);
            }
        }
    }

    fn note(&mut self, bytes: &[u8]) {
        for (i, &b) in bytes.iter().enumerate() {
            if b == b'\n' || b == b'\r' {
                let at = self.offset + i as u64;
                self.newlines += u64::from(b == b'\n');
                match self.runs.back_mut() {
                    Some(run) if run.1 == at => *run = (run.0, at + 1, self.newlines + 1),
                    _ => self.runs.push_back((at, at + 1, self.newlines + 1)),
                }
            }
        }
        if let Some(i) = bytes.iter().rposition(|b| !b.is_ascii_whitespace()) {
            self.solid_end = self.offset + i as u64 + 1;
        }
        self.offset += bytes.len() as u64;
    }
}

impl Read for Lines<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = if self.head.is_empty() {
            (self.inner)(buf)?
        } else {
            let n = self.head.len().min(buf.len());
            buf[..n].copy_from_slice(&self.head[..n]);
            self.head.drain(..n);
            n
        };
        self.note(&buf[..n]);
        Ok(n)
    }
}

/// Lower-case letters and digits only: "Request tokens" -> "requesttokens",
/// "time (s)" -> "times".
pub fn normalise(name: &str) -> String {
    name.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect()
}

/// The header rule (see the module's documentation): each field's column, or the
/// field's name and a message.
fn match_columns(names: &[String], fields: &[Field]) -> std::result::Result<Vec<Option<usize>>, (&'static str, String)> {
    let normalised: Vec<String> = names.iter().map(|n| normalise(n)).collect();
    let mut columns = Vec::with_capacity(fields.len());
    for field in fields {
        let accepted: Vec<String> = field.spellings.iter().map(|s| normalise(s)).collect();
        let matches: Vec<usize> = (0..names.len()).filter(|&i| accepted.contains(&normalised[i])).collect();
        match matches.as_slice() {
            [] if field.required => {
                let found: Vec<String> = names.iter().map(|n| format!("'{n}'")).collect();
                return Err((
                    field.name(),
                    format!(
                        "missing column; found {}; accepted spellings (case, spaces and punctuation ignored): {}",
                        found.join(", "),
                        field.spellings.join(", ")
                    ),
                ));
            }
            [] => columns.push(None),
            [i] => columns.push(Some(*i)),
            [a, b, ..] => {
                return Err((field.name(), format!("columns '{}' and '{}' both give it; keep one", names[*a], names[*b])))
            }
        }
    }
    Ok(columns)
}

fn csv_error(file: &str, lines: &mut Lines, e: &csv::Error) -> Error {
    let row = e.position().map(|p| lines.line_at(p));
    match e.kind() {
        ErrorKind::UnequalLengths { expected_len, len, .. } => {
            Error::input(file, row, None, format!("ragged row: {len} fields where the header has {expected_len}"))
        }
        ErrorKind::Io(io) => read_error(file, io),
        _ => Error::input(file, row, None, format!("unreadable CSV: {e}")),
    }
}

fn read_error(file: &str, e: &io::Error) -> Error {
    Error::input(file, None, None, format!("cannot read the file: {e}"))
}

/// One field of a data row, with what an error about it must name.
#[derive(Debug, Clone, Copy)]
pub struct Cell<'a> {
    pub file: &'a str,
    pub row: usize,
    pub column: &'a str,
    /// `None` when a ragged row has no such field.
    pub bytes: Option<&'a [u8]>,
}

impl Cell<'_> {
    /// An error about this cell.
    pub fn error(&self, msg: impl Into<String>) -> Error {
        Error::input(self.file, Some(self.row), Some(self.column), msg)
    }

    /// The raw bytes ("" when missing).
    pub fn bytes(&self) -> &[u8] {
        self.bytes.unwrap_or_default()
    }

    /// The value as written, for messages.
    pub fn show(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(self.bytes())
    }

    fn missing(&self, expected: &str) -> Error {
        self.error(format!("missing value: expected {expected}"))
    }

    /// Any number `f64` reads ("inf" and "NaN" included: callers say what they accept).
    pub fn number(&self) -> Result<f64> {
        let bytes = self.bytes();
        if bytes.is_empty() {
            return Err(self.missing("a number"));
        }
        let text = std::str::from_utf8(bytes).map_err(|_| self.error("not valid UTF-8"))?;
        text.parse::<f64>().map_err(|_| self.error(format!("not a number: '{text}'")))
    }

    /// A positive integer that fits a `u32`; "8.0" is accepted (spreadsheets and pandas
    /// write integers so).
    pub fn positive_integer(&self) -> Result<u32> {
        let v = self.number()?;
        if v.is_finite() && v >= 1.0 && v.fract() == 0.0 && v <= u32::MAX as f64 {
            Ok(v as u32)
        } else {
            Err(self.error(format!("must be a positive integer, got {v}")))
        }
    }

    /// A token count: a whole non-negative number of at most `max` ("12", or "12.0" as
    /// some exports write it; no sign, exponent or spaces).
    pub fn tokens(&self, max: u32) -> Result<u32> {
        let field = self.bytes();
        if field.is_empty() {
            return Err(self.missing("a whole number of tokens"));
        }
        let (whole, fraction) = match field.iter().position(|&b| b == b'.') {
            Some(dot) => (&field[..dot], &field[dot + 1..]),
            None => (field, &field[field.len()..]),
        };
        let digits = |s: &[u8]| s.iter().all(u8::is_ascii_digit);
        let unsigned = whole.strip_prefix(b"-").unwrap_or(whole);
        if !digits(unsigned) || !digits(fraction) || unsigned.len() + fraction.len() == 0 {
            return Err(self.error(format!("not a number of tokens: '{}'", self.show())));
        }
        if whole.first() == Some(&b'-') {
            return Err(self.error(format!("negative token count: '{}'", self.show())));
        }
        if whole.is_empty() || fraction.iter().any(|&b| b != b'0') {
            return Err(self.error(format!("not a whole number of tokens: '{}'", self.show())));
        }
        let mut value: u64 = 0;
        for &d in whole {
            value = value * 10 + u64::from(d - b'0');
            if value > u64::from(max) {
                return Err(self.error(format!("implausible token count '{}' (more than {max})", self.show())));
            }
        }
        Ok(value as u32)
    }

    /// A date-time ([`date_time`]) as seconds since 1970-01-01T00:00:00Z; `example`
    /// completes the message "not a date-time ...".
    pub fn date_time(&self, example: &str) -> Result<f64> {
        date_time(self.bytes()).ok_or_else(|| self.error(format!("not a date-time {example}: '{}'", self.show())))
    }
}

/// Seconds since 1970-01-01T00:00:00Z of an ISO 8601 / RFC 3339 date-time, parsed by
/// `jiff`: `YYYY-MM-DD`, then `T`, `t` or a space, `hh:mm[:ss[.f]]`, then optionally
/// `Z`/`z` or an offset `+hh`, `+hhmm`, `+hh:mm` (less than a day); no offset is UTC.
/// A fraction may have any number of digits: beyond nanoseconds they are truncated.
/// Also accepted, as jiff reads them: ISO's basic format (`20230510T123456`), a comma
/// before the fraction, a leap second `:60` (read as `:59`). Rejected: a date without a
/// time, a bracketed zone annotation (`[Europe/Paris]`: the core carries no time-zone
/// database), anything after the offset.
pub fn date_time(bytes: &[u8]) -> Option<f64> {
    let text = std::str::from_utf8(bytes).ok()?;
    let mut buffer = [0u8; 64];
    let text = truncate_fraction(text, &mut buffer)?;
    let pieces = Pieces::parse(text).ok()?;
    let time = pieces.time()?;
    if pieces.time_zone_annotation().is_some() {
        return None;
    }
    let offset_s = match pieces.offset() {
        None | Some(PiecesOffset::Zulu) => 0,
        Some(PiecesOffset::Numeric(n)) => n.offset().seconds(),
        Some(_) => return None,
    };
    if offset_s.abs() >= 86_400 {
        return None;
    }
    const EPOCH: DateTime = DateTime::constant(1970, 1, 1, 0, 0, 0, 0);
    let since_epoch = pieces.date().to_datetime(time).duration_since(EPOCH);
    let whole = since_epoch.as_secs() - i64::from(offset_s);
    Some(whole as f64 + f64::from(since_epoch.subsec_nanos()) * 1e-9)
}

/// `text` with the digits of its fraction of a second beyond the ninth dropped (jiff
/// reads nanoseconds at most), copied into `buffer` only when there are such digits.
fn truncate_fraction<'t>(text: &'t str, buffer: &'t mut [u8; 64]) -> Option<&'t str> {
    let b = text.as_bytes();
    let Some(point) = b.iter().position(|&c| c == b'.' || c == b',') else {
        return Some(text);
    };
    let digits = b[point + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
    if digits <= 9 {
        return Some(text);
    }
    let (kept, rest) = (&b[..point + 10], &b[point + 1 + digits..]);
    let out = buffer.get_mut(..kept.len() + rest.len())?;
    out[..kept.len()].copy_from_slice(kept);
    out[kept.len()..].copy_from_slice(rest);
    std::str::from_utf8(out).ok()
}

#[cfg(test)]
mod tests;
