//! Trace CSV import with column auto-detection (MODEL.md §1).
//!
//! Accepts the seed's own columns (`arrival_time,prompt_length,output_length`),
//! BurstGPT's release columns (`Timestamp,Model,Request tokens,Response tokens,Total
//! tokens,Log Type`) and other common spellings, matched by `csv_input`'s header rule
//! (case, spaces and punctuation ignored; two columns for one role are an error), and
//! unknown columns are ignored. Timestamps are seconds (a float) or date-times
//! (`2023-05-10 12:34:56`, `2023-05-10T12:34:56.5Z`, with an optional offset `+hh:mm`,
//! `+hhmm` or `+hh`; see `csv_input::date_time`), decided by the first data row. Rows
//! must be in arrival order (an earlier timestamp is an error naming its row: the
//! importer never reorders); ties keep row order (BurstGPT stamps whole seconds).
//! Failed requests (0 response tokens) are kept, counted in the report: whether a run
//! includes them is the configuration's choice (`keep_zero_output`, see `workload::build`).
//!
//! `parse_trace_first` stops after the rows a run of N requests can use (`RowLimit`):
//! later rows are not read, so a malformed row after them is no error there, and the
//! report says only the first rows were loaded. The N requests are the same as from
//! the whole file (`workload::build` takes the first N usable rows either way).
//!
//! Rows are numbered by the line they start on: the header is row 1. The import
//! streams records through one reused `csv::ByteRecord` and parses fields in place, so
//! a 1.4M-row BurstGPT file costs no allocation per row. `read_trace` reads from any
//! `io::Read` (a file on disk, a dropped `File` in slices): it holds the rows kept and
//! the record being read, never the file, so memory follows the rows (`BYTES_PER_ROW`);
//! a shell caps them (`MaxRows`: past the cap, an error naming the row and what to do)
//! and hears progress (bytes read, every `PROGRESS_BYTES`).

use std::io::Read;

use csv::ByteRecord;

use crate::csv_input::{self, Cell, Field, Rows, Table};
use crate::error::{Error, Result};

/// A parsed trace: every row in order, arrival times measured from the first row's.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TraceData {
    /// The file name, used in every error and report.
    pub file: String,
    pub arrival_s: Vec<f64>,
    pub prompt_tokens: Vec<u32>,
    /// 0 for a failed request (BurstGPT logs them).
    pub output_tokens: Vec<u32>,
    pub predicted_output_tokens: Option<Vec<u32>>,
    pub report: ImportReport,
}

impl TraceData {
    /// Seconds from the first arrival to the last.
    pub fn span_s(&self) -> f64 {
        match (self.arrival_s.first(), self.arrival_s.last()) {
            (Some(a), Some(b)) => b - a,
            _ => 0.0,
        }
    }

    /// The trace's own arrival rate (requests per second over its span; NaN for a span of 0).
    pub fn native_rate_rps(&self) -> f64 {
        let span = self.span_s();
        if span > 0.0 { self.arrival_s.len() as f64 / span } else { f64::NAN }
    }
}

/// What the import found: how many rows, which columns, how many failed requests.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImportReport {
    pub rows_read: usize,
    /// The import stopped at its `RowLimit` with rows left unread.
    pub stopped_early: bool,
    /// Rows with 0 output tokens (failed requests), if any.
    pub zero_output: Option<ZeroOutputRows>,
    /// e.g. "arrival <- 'Timestamp' (seconds), prompt <- 'Request tokens', ..."
    pub columns: String,
}

/// The rows of a trace with 0 output tokens.
#[derive(Debug, Clone, PartialEq)]
pub struct ZeroOutputRows {
    pub count: usize,
    /// 1-based row number (header = row 1) of the first of them.
    pub first_row: usize,
}

/// Accepted header spellings per role, canonical first, written as documented; they
/// are compared by `csv_input`'s header rule, so "Request tokens" = "request_tokens".
const ARRIVAL_NAMES: &[&str] =
    &["arrival_time", "arrival_s", "arrival_timestamp", "arrival", "timestamp", "time", "time_s"];
const PROMPT_NAMES: &[&str] = &[
    "prompt_length",
    "prompt_tokens",
    "request_tokens",
    "context_tokens",
    "input_tokens",
    "input_length",
    "prompt_len",
    "num_prompt_tokens",
    "prompt",
];
const OUTPUT_NAMES: &[&str] = &[
    "output_length",
    "output_tokens",
    "response_tokens",
    "generated_tokens",
    "completion_tokens",
    "output_len",
    "num_output_tokens",
    "output",
];
const PREDICTED_NAMES: &[&str] = &["predicted_output_tokens", "predicted_output_length", "predicted_output"];

/// The roles, in the order of `Columns`.
const FIELDS: [Field; 4] = [
    Field { spellings: ARRIVAL_NAMES, required: true },
    Field { spellings: PROMPT_NAMES, required: true },
    Field { spellings: OUTPUT_NAMES, required: true },
    Field { spellings: PREDICTED_NAMES, required: false },
];

/// Largest token count believed: far beyond any context window, and small enough that
/// prompt + output always fits the u32 of `Workload::total_tokens`.
const MAX_TOKENS: u32 = 100_000_000;

/// How many rows a run needs: `usable` rows it can use, a row with 0 output tokens
/// counting only when `keep_zero_output` (the run's `workload::build` rule).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RowLimit {
    pub usable: usize,
    pub keep_zero_output: bool,
}

/// Parse a trace CSV held in memory, every row. `file` names it in errors.
pub fn parse_trace(bytes: &[u8], file: &str) -> Result<TraceData> {
    read_trace(bytes, file, Reading::default())
}

/// Parse a trace CSV up to the row that makes `limit.usable` usable rows (at least 1);
/// rows after it are not read (nor checked).
pub fn parse_trace_first(bytes: &[u8], file: &str, limit: RowLimit) -> Result<TraceData> {
    read_trace(bytes, file, Reading { first: Some(limit), ..Reading::default() })
}

/// How `read_trace` reads: how far, how much it keeps, whom it tells.
#[derive(Default)]
pub struct Reading<'a> {
    /// Stop after the rows a run needs (see `parse_trace_first`); `None`: every row.
    pub first: Option<RowLimit>,
    /// The most rows kept; `None`: no limit but memory's.
    pub max_rows: Option<MaxRows>,
    /// Told the bytes read so far, every `PROGRESS_BYTES` and at the end.
    pub progress: Option<&'a mut dyn FnMut(u64)>,
}

/// A cap on the rows a shell keeps (its memory): a file with more is an error that
/// names the row where it was passed and says what to do (`advice`, e.g. "cut the file
/// or use the CLI's --requests").
#[derive(Debug, Clone, PartialEq)]
pub struct MaxRows {
    pub rows: usize,
    pub advice: String,
}

/// Bytes between two progress reports: cheap to report (one call), fine enough to
/// move a bar on a 50 MB file.
pub const PROGRESS_BYTES: u64 = 1 << 20;

/// A kept row costs 16 bytes (arrival f64, prompt and output u32), 20 with a predicted
/// column; `MaxRows` counts rows, so a shell sizes its cap from its memory with this.
pub const BYTES_PER_ROW: usize = 20;

/// Parse a trace CSV from `input` (a file, a slice of a `File`, bytes), holding only
/// the rows kept and the record being read: memory grows with the rows, not the file.
/// Errors are `parse_trace`'s, and an I/O failure is "file: cannot read the file: ...".
pub fn read_trace(mut input: impl Read, file: &str, reading: Reading) -> Result<TraceData> {
    read_any(&mut |buf| input.read(buf), file, reading)
}

/// `read_trace`, compiled once for every kind of reader: the reader is a function
/// (`dyn Read` would bring every default method of `Read` into the wasm).
fn read_any(input: &mut dyn FnMut(&mut [u8]) -> std::io::Result<usize>, file: &str, reading: Reading) -> Result<TraceData> {
    let Reading { first, max_rows, progress } = reading;
    let mut input = Counted { inner: input, read: 0, next: PROGRESS_BYTES, progress };
    let data = parse_rows(&mut input, file, first, max_rows.as_ref())?;
    if let Some(report) = input.progress.as_mut() {
        report(input.read);
    }
    Ok(data)
}

/// A reader that tells `progress` how many bytes passed, every `PROGRESS_BYTES`.
struct Counted<'a, 'b> {
    inner: &'b mut dyn FnMut(&mut [u8]) -> std::io::Result<usize>,
    read: u64,
    next: u64,
    progress: Option<&'a mut dyn FnMut(u64)>,
}

impl Read for Counted<'_, '_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = (self.inner)(buf)?;
        self.read += n as u64;
        if self.read >= self.next {
            self.next = (self.read / PROGRESS_BYTES + 1) * PROGRESS_BYTES;
            if let Some(report) = self.progress.as_mut() {
                report(self.read);
            }
        }
        Ok(n)
    }
}

fn parse_rows(input: &mut Counted, file: &str, limit: Option<RowLimit>, max_rows: Option<&MaxRows>) -> Result<TraceData> {
    let (mut table, found) = Table::from_source(Box::new(|buf| input.read(buf)), file, &FIELDS, Rows::Rectangular)?;
    let columns = Columns::new(table.names(), &found);
    let names = &columns.names;
    let col_name = |i: usize| Some(names[i].as_str());

    let mut data = TraceData { file: file.to_string(), ..Default::default() };
    let mut predicted = columns.predicted.map(|_| Vec::new());
    let mut failed: Option<ZeroOutputRows> = None;
    let mut format: Option<TimeFormat> = None;
    let mut previous: Option<(f64, usize)> = None; // (timestamp, its row)
    let mut first: Option<f64> = None;
    let mut usable = 0usize;
    let mut record = ByteRecord::new();
    while let Some(row) = table.next_row(&mut record)? {
        data.report.rows_read += 1;
        if let Some(cap) = max_rows.filter(|m| data.report.rows_read > m.rows) {
            return Err(Error::input(
                file,
                Some(row),
                None,
                format!("more than {} requests: {}", thousands(cap.rows), cap.advice),
            ));
        }

        let cell = |i: usize| table.cell(&record, row, i);
        let stamp = record.get(columns.arrival).unwrap_or_default();
        let fmt = *format.get_or_insert_with(|| TimeFormat::of(stamp));
        let time = fmt.parse(&cell(columns.arrival))?;
        if let Some((before, before_row)) = previous {
            if time < before {
                return Err(Error::input(
                    file,
                    Some(row),
                    col_name(columns.arrival),
                    format!(
                        "timestamp '{}' is earlier than row {before_row}'s: rows must be sorted by arrival time",
                        String::from_utf8_lossy(stamp)
                    ),
                ));
            }
        }
        previous = Some((time, row));

        let tokens = |i: usize| cell(i).tokens(MAX_TOKENS);
        let prompt = tokens(columns.prompt)?;
        let output = tokens(columns.output)?;
        let guess = columns.predicted.map(tokens).transpose()?;
        if output == 0 {
            failed.get_or_insert(ZeroOutputRows { count: 0, first_row: row }).count += 1;
        }

        let arrival = time - *first.get_or_insert(time);
        if !arrival.is_finite() {
            return Err(Error::input(
                file,
                Some(row),
                col_name(columns.arrival),
                "timestamp too far from the first row's",
            ));
        }
        data.arrival_s.push(arrival);
        data.prompt_tokens.push(prompt);
        data.output_tokens.push(output);
        if let (Some(p), Some(g)) = (predicted.as_mut(), guess) {
            p.push(g);
        }
        if let Some(l) = limit {
            usable += usize::from(l.keep_zero_output || output > 0);
            if usable >= l.usable.max(1) {
                data.report.stopped_early = !table.at_end()?;
                break;
            }
        }
    }

    data.report.zero_output = failed;
    if data.report.rows_read == 0 {
        return Err(Error::input(file, None, None, "no data rows after the header"));
    }
    data.report.columns = columns.describe(format.unwrap_or(TimeFormat::Seconds));
    data.predicted_output_tokens = predicted;
    Ok(data)
}

/// 20000000 -> "20,000,000".
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Which header column plays which role, and the header as spelled (for messages).
struct Columns {
    names: Vec<String>,
    arrival: usize,
    prompt: usize,
    output: usize,
    predicted: Option<usize>,
}

impl Columns {
    /// From the header's names and the columns `csv_input` matched to `FIELDS`.
    fn new(names: &[String], found: &[Option<usize>]) -> Columns {
        Columns {
            names: names.to_vec(),
            arrival: found[0].unwrap_or_default(),
            prompt: found[1].unwrap_or_default(),
            output: found[2].unwrap_or_default(),
            predicted: found[3],
        }
    }

    /// "arrival <- 'Timestamp' (seconds), prompt <- 'Request tokens', output <- ...;
    /// ignored: 'Model', ..."
    fn describe(&self, format: TimeFormat) -> String {
        let unit = match format {
            TimeFormat::Seconds => "seconds",
            TimeFormat::DateTime => "date-time",
        };
        let mut s = format!(
            "arrival <- '{}' ({unit}), prompt <- '{}', output <- '{}'",
            self.names[self.arrival], self.names[self.prompt], self.names[self.output]
        );
        if let Some(p) = self.predicted {
            s += &format!(", predicted <- '{}'", self.names[p]);
        }
        let used = [Some(self.arrival), Some(self.prompt), Some(self.output), self.predicted];
        let ignored: Vec<String> = (0..self.names.len())
            .filter(|i| !used.contains(&Some(*i)))
            .map(|i| format!("'{}'", self.names[i]))
            .collect();
        if !ignored.is_empty() {
            s += &format!("; ignored: {}", ignored.join(", "));
        }
        s
    }
}

/// How a trace writes its timestamps (decided by the first data row).
#[derive(Debug, Clone, Copy, PartialEq)]
enum TimeFormat {
    /// A number of seconds, e.g. "0", "12.5", "1683722096".
    Seconds,
    /// A civil date-time, e.g. "2023-05-10 12:34:56.5+02:00" (UTC if no offset).
    DateTime,
}

impl TimeFormat {
    fn of(first: &[u8]) -> TimeFormat {
        if csv_input::date_time(first).is_some() {
            TimeFormat::DateTime
        } else {
            TimeFormat::Seconds
        }
    }

    /// Seconds (on the format's own origin; only differences matter).
    fn parse(self, cell: &Cell) -> Result<f64> {
        match self {
            TimeFormat::Seconds => match cell.number() {
                Ok(t) if t.is_finite() => Ok(t),
                Ok(_) => Err(cell.error(format!("timestamp is not a finite number: '{}'", cell.show()))),
                Err(_) if csv_input::date_time(cell.bytes()).is_some() => {
                    Err(cell.error(format!("date-time '{}' where the first row gave seconds", cell.show())))
                }
                Err(_) => Err(cell.error(format!(
                    "not a timestamp: '{}' (expected seconds, or a date-time like 2023-05-10 12:34:56)",
                    cell.show()
                ))),
            },
            TimeFormat::DateTime => cell.date_time("like the first row's (e.g. 2023-05-10 12:34:56)"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::csv_input::date_time as parse_date_time;

    /// A token cell's parse, as the message it gives.
    fn parse_tokens(field: &[u8]) -> std::result::Result<u32, String> {
        let cell = Cell { file: "t.csv", row: 2, column: "output", bytes: Some(field) };
        cell.tokens(MAX_TOKENS).map_err(|e| match e {
            Error::Input { message, .. } => message,
            e => e.to_string(),
        })
    }

    fn parse(text: &str) -> Result<TraceData> {
        parse_trace(text.as_bytes(), "t.csv")
    }

    fn error(text: &str) -> String {
        parse(text).expect_err("should be rejected").to_string()
    }

    #[test]
    fn seed_columns_are_read_and_normalised_to_start_at_zero() {
        let t = parse("arrival_time,prompt_length,output_length\n10.5,100,20\n11,5,7\n11,6,8\n").unwrap();
        assert_eq!(t.arrival_s, vec![0.0, 0.5, 0.5]);
        assert_eq!(t.prompt_tokens, vec![100, 5, 6]);
        assert_eq!(t.output_tokens, vec![20, 7, 8]);
        assert_eq!(t.predicted_output_tokens, None);
        assert_eq!(t.report.rows_read, 3);
        assert_eq!(t.report.zero_output, None);
        assert_eq!(
            t.report.columns,
            "arrival <- 'arrival_time' (seconds), prompt <- 'prompt_length', output <- 'output_length'"
        );
    }

    #[test]
    fn burstgpt_columns_are_detected_and_failed_requests_kept_and_counted() {
        let csv = "Timestamp,Model,Request tokens,Response tokens,Total tokens,Log Type\n\
                   5,ChatGPT,472,18,490,Conversation log\n\
                   5,GPT-4,1020,0,1020,API log\n\
                   7,ChatGPT,300,12.0,312,Conversation log\n\
                   9,ChatGPT,0,0,0,API log\n\
                   9,GPT-4,0,3,3,API log\n";
        let t = parse(csv).unwrap();
        assert_eq!(t.arrival_s, vec![0.0, 0.0, 2.0, 4.0, 4.0]);
        assert_eq!(t.prompt_tokens, vec![472, 1020, 300, 0, 0]);
        assert_eq!(t.output_tokens, vec![18, 0, 12, 0, 3]);
        assert_eq!(t.report.rows_read, 5);
        assert_eq!(t.report.zero_output, Some(ZeroOutputRows { count: 2, first_row: 3 }));
        assert_eq!(
            t.report.columns,
            "arrival <- 'Timestamp' (seconds), prompt <- 'Request tokens', output <- 'Response tokens'; \
             ignored: 'Model', 'Total tokens', 'Log Type'"
        );
    }

    #[test]
    fn other_spellings_a_predicted_column_and_a_bom_are_accepted() {
        let t =
            parse("\u{feff}TIME, Input-Tokens ,completion_tokens,predicted_output_length\n0,1,2,3\n1,4,5,6\n").unwrap();
        assert_eq!((t.prompt_tokens, t.output_tokens), (vec![1, 4], vec![2, 5]));
        assert_eq!(t.predicted_output_tokens, Some(vec![3, 6]));
        assert!(t.report.columns.contains("predicted <- 'predicted_output_length'"), "{}", t.report.columns);
        let t = parse("timestamp,context_tokens,generated_tokens\n1,2,3\n").unwrap();
        assert_eq!((t.prompt_tokens, t.output_tokens), (vec![2], vec![3]));
    }

    #[test]
    fn date_time_stamps_with_fractions_and_offsets() {
        let csv = "timestamp,prompt,output\n\
                   2023-05-10 12:34:56,1,1\n\
                   2023-05-10T12:34:56.5Z,1,1\n\
                   2023-05-10T14:35:00+02:00,1,1\n\
                   2023-05-11 00:00:00.25,1,1\n";
        let t = parse(csv).unwrap();
        assert_eq!(t.arrival_s, vec![0.0, 0.5, 4.0, 41_104.25]);
        assert!(t.report.columns.contains("(date-time)"));
        // Civil calendar: leap days, year and era boundaries.
        assert_eq!(parse_date_time(b"1970-01-01 00:00:00"), Some(0.0));
        assert_eq!(parse_date_time(b"2000-03-01T00:00:00Z"), Some(951_868_800.0));
        assert_eq!(parse_date_time(b"2024-02-29 23:59:59-0130"), Some(1_709_251_199.0 + 5400.0));
        assert_eq!(parse_date_time(b"1969-12-31 23:59"), Some(-60.0));
        for bad in [
            "2023-02-29 00:00:00",
            "2023-13-01 00:00:00",
            "2023-05-10 24:00:00",
            "2023-05-10",
            "2023-05-10 12:34:56 UTC",
        ] {
            assert_eq!(parse_date_time(bad.as_bytes()), None, "{bad}");
        }
    }

    #[test]
    fn token_fields_must_be_whole_non_negative_numbers() {
        assert_eq!(parse_tokens(b"12"), Ok(12));
        assert_eq!(parse_tokens(b"12.0"), Ok(12));
        assert_eq!(parse_tokens(b"0"), Ok(0));
        assert_eq!(parse_tokens(b"-3"), Err("negative token count: '-3'".to_string()));
        assert_eq!(parse_tokens(b"abc"), Err("not a number of tokens: 'abc'".to_string()));
        assert_eq!(parse_tokens(b"1.5"), Err("not a whole number of tokens: '1.5'".to_string()));
        assert!(parse_tokens(b"").unwrap_err().starts_with("missing value"));
        assert!(parse_tokens(b"999999999999999999999").unwrap_err().starts_with("implausible"));
        for junk in [".", "-", "1e3", "1.0.0", "+4", "1 2"] {
            assert!(parse_tokens(junk.as_bytes()).is_err(), "{junk}");
        }
    }

    #[test]
    fn errors_name_file_row_and_column() {
        let head = "arrival_time,prompt_length,output_length\n";
        assert_eq!(
            error(&format!("{head}0,1,1\n1,abc,1\n")),
            "t.csv, row 3, column 'prompt_length': not a number of tokens: 'abc'"
        );
        assert_eq!(
            error(&format!("{head}0,1,-3\n")),
            "t.csv, row 2, column 'output_length': negative token count: '-3'"
        );
        assert_eq!(error(&format!("{head}0,1,1\n1,2\n")), "t.csv, row 3: ragged row: 2 fields where the header has 3");
        assert_eq!(
            error(&format!("{head}5,1,1\n4,1,1\n")),
            "t.csv, row 3, column 'arrival_time': timestamp '4' is earlier than row 2's: rows must be sorted by arrival time"
        );
        for (stamp, says) in [("NaN", "not a finite"), ("inf", "not a finite"), ("soon", "not a timestamp")] {
            let e = error(&format!("{head}0,1,1\n{stamp},1,1\n"));
            assert!(e.starts_with("t.csv, row 3, column 'arrival_time': ") && e.contains(says), "{e}");
        }
        let e = error(&format!("{head}0,1,1\n2023-05-10 12:00:00,1,1\n"));
        assert!(e.contains("row 3") && e.contains("first row gave seconds"), "{e}");
        let e = error("timestamp,prompt,output\n2023-05-10 12:00:00,1,1\n17,1,1\n");
        assert!(e.contains("row 3") && e.contains("not a date-time"), "{e}");
        assert!(!error(&format!("{head}0,1,1\n1,2\n")).contains('\n'));
    }

    #[test]
    fn empty_headerless_and_unusable_files_are_rejected() {
        assert_eq!(error(""), "t.csv: empty file: expected a header row with arrival_time, prompt_length, output_length");
        assert_eq!(error("arrival_time,prompt_length,output_length\n"), "t.csv: no data rows after the header");
        assert_eq!(
            error("a,b,c\n1,2,3\n"),
            "t.csv, row 1, column 'arrival_time': missing column; found 'a', 'b', 'c'; accepted spellings (case, spaces \
             and punctuation ignored): arrival_time, arrival_s, arrival_timestamp, arrival, timestamp, time, time_s"
        );
        let e = error("time,prompt,total_tokens\n1,2,3\n");
        assert!(
            e.starts_with("t.csv, row 1, column 'output_length': missing column; found 'time', 'prompt', 'total_tokens'"),
            "{e}"
        );
        // Rows that are all failed requests are a trace (a run may leave them out).
        let t = parse("time,prompt,output\n1,2,0\n2,3,0\n").unwrap();
        assert_eq!(t.report.zero_output, Some(ZeroOutputRows { count: 2, first_row: 2 }));
    }

    #[test]
    fn leap_days_follow_the_gregorian_rule() {
        // 1900 is divisible by 100 but not 400: no 29 February. 2000 is divisible by 400.
        assert_eq!(parse_date_time(b"1900-02-29 00:00:00"), None);
        assert!(parse_date_time(b"1900-02-28 00:00:00").is_some());
        // 2000-03-01 is 951,868,800 s (checked above); the day before is 86,400 s earlier.
        assert_eq!(parse_date_time(b"2000-02-29 00:00:00"), Some(951_868_800.0 - 86_400.0));
        assert_eq!(parse_date_time(b"2000-02-30 00:00:00"), None);
        // Through the importer: the error names file, row and column.
        assert_eq!(
            error("timestamp,prompt,output\n1900-02-28 23:59:59,1,1\n1900-02-29 00:00:00,1,1\n"),
            "t.csv, row 3, column 'timestamp': not a date-time like the first row's (e.g. 2023-05-10 12:34:56): \
             '1900-02-29 00:00:00'"
        );
    }

    #[test]
    fn offsets_are_hours_with_optional_minutes_within_a_day() {
        // 05:00 at +05 is midnight UTC: 0 s; midnight at -05 is 5 h = 18,000 s.
        assert_eq!(parse_date_time(b"1970-01-01 05:00:00+05"), Some(0.0));
        assert_eq!(parse_date_time(b"1970-01-01 00:00:00-05"), Some(18_000.0));
        // +05:30, +0530: 5.5 h = 19,800 s ahead of UTC.
        assert_eq!(parse_date_time(b"1970-01-01 05:30:00+05:30"), Some(0.0));
        assert_eq!(parse_date_time(b"1970-01-01 05:30:00+0530"), Some(0.0));
        // The largest offset, 23:59 = 86,340 s.
        assert_eq!(parse_date_time(b"1970-01-02 00:00:00+23:59"), Some(86_400.0 - 86_340.0));
        assert_eq!(parse_date_time(b"1970-01-01 00:00:00-00:00"), Some(0.0));
        for bad in [
            "1970-01-01 00:00:00+24:00", // a day or more is no offset
            "1970-01-01 00:00:00+99:99",
            "1970-01-01 00:00:00+23:60",
            "1970-01-01 00:00:00+05:",  // a colon promises minutes
            "1970-01-01 00:00:00+05:3",
            "1970-01-01 00:00:00+053",
            "1970-01-01 00:00:00+5",
            "1970-01-01 00:00:00+",
            "1970-01-01 00:00:00Z+01",
        ] {
            assert_eq!(parse_date_time(bad.as_bytes()), None, "{bad}");
        }
    }

    #[test]
    fn lowercase_t_and_z_are_accepted() {
        // 12:34:56 on 1970-01-01 = 12 * 3600 + 34 * 60 + 56 = 45,296 s.
        assert_eq!(parse_date_time(b"1970-01-01t12:34:56z"), Some(45_296.0));
        assert_eq!(parse_date_time(b"1970-01-01t12:34:56Z"), Some(45_296.0));
        let t = parse("timestamp,prompt,output\n2023-05-10t12:00:00z,1,1\n2023-05-10T12:00:01.5Z,1,1\n").unwrap();
        assert_eq!(t.arrival_s, vec![0.0, 1.5]);
        assert!(t.report.columns.contains("(date-time)"), "{}", t.report.columns);
    }

    #[test]
    fn unsorted_date_times_are_an_error_after_applying_offsets() {
        // 13:00+02:00 is 11:00 UTC, an hour before row 2: rejected, not reordered.
        assert_eq!(
            error("timestamp,prompt,output\n2023-05-10 12:00:00Z,1,1\n2023-05-10 13:00:00+02:00,1,1\n"),
            "t.csv, row 3, column 'timestamp': timestamp '2023-05-10 13:00:00+02:00' is earlier than row 2's: \
             rows must be sorted by arrival time"
        );
        // 14:00+02:00 is 12:00 UTC: the same instant, a tie, kept in row order.
        let t = parse("timestamp,prompt,output\n2023-05-10 12:00:00Z,1,1\n2023-05-10 14:00:00+02:00,2,2\n").unwrap();
        assert_eq!((t.arrival_s, t.prompt_tokens), (vec![0.0, 0.0], vec![1, 2]));
        // Failed rows (0 output tokens) are checked for order too.
        let e = error("timestamp,prompt,output\n2023-05-10 12:00:00,1,1\n2023-05-10 11:59:59,1,0\n");
        assert!(e.starts_with("t.csv, row 3, column 'timestamp': timestamp '2023-05-10 11:59:59' is earlier"), "{e}");
    }

    #[test]
    fn a_limited_import_stops_after_the_usable_rows_and_skips_the_rest() {
        // Row 4 has 0 output tokens; row 7 is malformed but after the rows needed.
        let csv = "time,prompt,output\n0,1,5\n1,2,6\n2,3,0\n3,4,7\n4,5,8\n5,x,9\n";
        let whole = parse(csv).unwrap_err().to_string();
        assert_eq!(whole, "t.csv, row 7, column 'prompt': not a number of tokens: 'x'");
        let first = |usable, keep_zero_output| parse_trace_first(csv.as_bytes(), "t.csv", RowLimit { usable, keep_zero_output });
        // Three usable rows without the failed one: rows 2, 3 and 5 (4 rows read).
        let t = first(3, false).unwrap();
        assert_eq!((t.prompt_tokens.clone(), t.report.rows_read, t.report.stopped_early), (vec![1, 2, 3, 4], 4, true));
        assert_eq!(t.report.zero_output, Some(ZeroOutputRows { count: 1, first_row: 4 }));
        // Kept, the failed row counts: 3 rows.
        let t = first(3, true).unwrap();
        assert_eq!((t.prompt_tokens, t.report.rows_read), (vec![1, 2, 3], 3));
        // Asking for the malformed row reads it.
        assert_eq!(first(6, true).unwrap_err().to_string(), whole);
        assert_eq!(first(5, false).unwrap_err().to_string(), whole);
        // A limit at or past the end reads everything and says nothing was left.
        let ok = "time,prompt,output\n0,1,5\n1,2,6\n\n";
        for usable in [2, 3, 100] {
            let t = parse_trace_first(ok.as_bytes(), "t.csv", RowLimit { usable, keep_zero_output: true }).unwrap();
            assert_eq!(t, parse(ok).unwrap(), "{usable}");
            assert!(!t.report.stopped_early);
        }
    }

    /// A small deterministic generator (an LCG: the test needs no quality, only variety).
    struct Lcg(u64);

    impl Lcg {
        fn below(&mut self, n: usize) -> usize {
            self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            (self.0 >> 33) as usize % n
        }
    }

    /// A CSV body that is often valid: rows of time, prompt, output built from good and
    /// bad pieces (later, equal or earlier times; junk; missing and extra fields).
    fn plausible_rows(rng: &mut Lcg) -> (Vec<u8>, usize) {
        let rows = 1 + rng.below(4);
        let mut text = String::new();
        let mut time = 100;
        for _ in 0..rows {
            // Each bad piece is rare enough that about half the files are valid.
            let stamp = match rng.below(30) {
                0 => format!("{}", time - 1 - rng.below(5) as i64), // earlier: an error
                1 => "soon".to_string(),
                2 => format!("2023-05-10 12:00:{:02}", rng.below(60)),
                _ => {
                    time += rng.below(3) as i64;
                    format!("{time}.{}", rng.below(10))
                }
            };
            let mut tokens = || match rng.below(40) {
                0 => "0".to_string(), // a failed request: kept, counted
                1 => "-3".to_string(),
                2 => "1.5".to_string(),
                3 => String::new(),
                4 => "12.0".to_string(),
                _ => format!("{}", 1 + rng.below(5000)),
            };
            let (prompt, output) = (tokens(), tokens());
            match rng.below(40) {
                0 => text += &format!("{stamp},{prompt}\n"),
                1 => text += &format!("{stamp},{prompt},{output},9\n"),
                _ => text += &format!("{stamp},{prompt},{output}\n"),
            }
        }
        (text.into_bytes(), rows)
    }

    #[test]
    fn random_files_give_a_valid_trace_or_a_one_line_error_naming_the_file() {
        let mut rng = Lcg(0x9E37_79B9_7F4A_7C15);
        let alphabet = b"0123456789.,-:T Z\n\"abc";
        let (mut oks, mut errs) = (0, 0);
        for case in 0..2000 {
            // Even cases: raw bytes from a CSV-ish alphabet (mostly errors); odd cases:
            // rows built from plausible pieces (often valid).
            let (body, rows) = if case % 2 == 0 {
                let body: Vec<u8> = (0..rng.below(300)).map(|_| alphabet[rng.below(alphabet.len())]).collect();
                let rows = body.split(|&b| b == b'\n').count();
                (body, rows)
            } else {
                plausible_rows(&mut rng)
            };
            let mut file = b"time,prompt,output\n".to_vec();
            file.extend(&body);
            for bytes in [&body, &file] {
                match parse_trace(bytes, "x.csv") {
                    Ok(t) => {
                        oks += 1;
                        let n = t.arrival_s.len();
                        assert!(n > 0 && t.prompt_tokens.len() == n && t.output_tokens.len() == n);
                        assert_eq!(t.arrival_s[0], 0.0, "normalised to start at 0");
                        assert!(t.arrival_s.iter().all(|a| a.is_finite()));
                        assert!(t.arrival_s.windows(2).all(|p| p[0] <= p[1]), "sorted");
                        let zeros = t.output_tokens.iter().filter(|&&o| o == 0).count();
                        assert_eq!(t.report.zero_output.as_ref().map_or(0, |z| z.count), zeros, "failed requests counted");
                        assert_eq!(t.report.rows_read, n);
                        assert!(t.report.rows_read <= rows, "{} rows read of {rows}", t.report.rows_read);
                    }
                    Err(e) => {
                        errs += 1;
                        let m = e.to_string();
                        assert!(m.starts_with("x.csv: ") || m.starts_with("x.csv, row "), "{m}");
                        assert!(!m.contains('\n') && !m.contains('\r'), "{m:?}");
                    }
                }
            }
        }
        // Both outcomes must be common, or the invariants above were barely exercised.
        assert!(oks >= 300 && errs >= 300, "{oks} valid, {errs} rejected");
    }

    /// Throughput on a BurstGPT-sized file (1.4M rows, ~60 MB). Run with
    /// `cargo test -p batchlab --release import_speed -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn import_speed_on_a_burstgpt_sized_file() {
        let mut csv = String::from("Timestamp,Model,Request tokens,Response tokens,Total tokens,Log Type\n");
        for i in 0..1_400_000u64 {
            let (req, resp) = (i * 7919 % 4000, i * 104_729 % 900);
            let model = if i % 3 == 0 { "GPT-4" } else { "ChatGPT" };
            let log = if i % 2 == 0 { "Conversation log" } else { "API log" };
            csv += &format!("{},{model},{req},{resp},{},{log}\n", i * 4 + 1_000_000, req + resp);
        }
        let start = std::time::Instant::now();
        let t = parse_trace(csv.as_bytes(), "big.csv").unwrap();
        let took = start.elapsed();
        println!("{} MB, {} rows loaded in {took:?}", csv.len() / 1_000_000, t.arrival_s.len());
        assert_eq!(t.report.rows_read, 1_400_000);
    }
}
