//! Traces read as streams: the same rows, row numbers and errors as from bytes in
//! memory, whatever pieces the reader hands over; a cap on rows kept; progress; the
//! session's fingerprint of a streamed file.

use std::io::Read;

use batchlab::session::{InputFile, Inputs, Session, TraceReader};
use batchlab::workload::{parse_trace, read_trace, MaxRows, Reading, RowLimit};

/// Hands over at most `step` bytes per read (1: every record cut everywhere), then
/// optionally fails.
struct Trickle<'a> {
    bytes: &'a [u8],
    step: usize,
    fail_at: Option<usize>,
    at: usize,
}

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.fail_at.is_some_and(|f| self.at >= f) {
            return Err(std::io::Error::other("disk on fire"));
        }
        let n = self.step.min(buf.len()).min(self.bytes.len() - self.at);
        buf[..n].copy_from_slice(&self.bytes[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

fn trickle(bytes: &[u8], step: usize) -> Trickle<'_> {
    Trickle { bytes, step, fail_at: None, at: 0 }
}

fn streamed(bytes: &[u8], step: usize) -> Result<batchlab::workload::TraceData, String> {
    read_trace(trickle(bytes, step), "t.csv", Reading::default()).map_err(|e| e.to_string())
}

#[test]
fn any_piece_size_gives_what_bytes_in_memory_give() {
    let files: &[&str] = &[
        // Blank lines (CRLF and LF, before the header too), a BOM, a quoted line break.
        "\r\n\n\u{feff}time,prompt,output\r\n0,1,2\r\n\r\n\r\n1,2,3\r\n\"2\",\"4\",5\n\n",
        "\u{feff}time,prompt,output,note\n0,1,2,\"a\nb\n\nc\"\n\n\n1,2,3,x\n",
        // Errors: their rows must match (after blank lines, a quoted break, CR endings).
        "time,prompt,output\n0,1,2\n\n\n\n1,x,3\n",
        "time,prompt,output,note\n0,1,2,\"a\n\nb\"\n\n1,2\n",
        "time,prompt,output\r0,1,2\r\r1,2,-3\r",
        "time,prompt,output\n\n\n",
        "\n\n\n",
        "\u{feff}",
        "time,prompt,output\n5,1,1\n\n4,1,1\n",
        "\n\r\n\nx,y\n1,2\n",
    ];
    for text in files {
        let whole = parse_trace(text.as_bytes(), "t.csv").map_err(|e| e.to_string());
        for step in [1, 2, 3, 5, 64] {
            assert_eq!(streamed(text.as_bytes(), step), whole, "{text:?} in pieces of {step}");
        }
    }
    // A row number past the run of blank lines at the end of a piece: row 9.
    let e = streamed(b"time,prompt,output\n0,1,2\n\n\n\n\n\n\n1,x,3\n", 26).unwrap_err();
    assert_eq!(e, "t.csv, row 9, column 'prompt': not a number of tokens: 'x'");
}

#[test]
fn a_limited_stream_stops_reading_after_the_rows_needed() {
    // Row 5 is malformed; two usable rows are rows 2 and 3. Blank space after the rows
    // read means nothing was left (the same rule as for bytes).
    let text = b"time,prompt,output\n0,1,2\n1,2,3\n  \n\n2,x,3\n";
    let mut source = trickle(text, 7);
    let t = read_trace(&mut source, "t.csv", Reading { first: Some(RowLimit { usable: 2, keep_zero_output: true }), ..Reading::default() }).unwrap();
    assert_eq!((t.report.rows_read, t.report.stopped_early), (2, true));
    assert!(source.at < text.len(), "read {} of {} bytes", source.at, text.len());
    let ok = b"time,prompt,output\n0,1,2\n1,2,3\n \t\n\n";
    let t = read_trace(trickle(ok, 3), "t.csv", Reading { first: Some(RowLimit { usable: 2, keep_zero_output: true }), ..Reading::default() }).unwrap();
    assert!(!t.report.stopped_early);
}

#[test]
fn rows_past_the_cap_are_a_one_line_error_naming_row_and_remedy() {
    let mut text = String::from("time,prompt,output\n");
    for i in 0..1_000 {
        text += &format!("{i},5,6\n");
    }
    let cap = |rows| Reading { max_rows: Some(MaxRows { rows, advice: "cut the file".into() }), ..Reading::default() };
    let e = read_trace(text.as_bytes(), "t.csv", cap(999)).unwrap_err().to_string();
    assert_eq!(e, "t.csv, row 1001: more than 999 requests: cut the file");
    let e = read_trace(text.as_bytes(), "t.csv", cap(1)).unwrap_err().to_string();
    assert_eq!(e, "t.csv, row 3: more than 1 requests: cut the file");
    assert_eq!(read_trace(text.as_bytes(), "t.csv", cap(1_000)).unwrap(), parse_trace(text.as_bytes(), "t.csv").unwrap());
    // Thousands are grouped; a limited read under the cap is no error.
    let e = read_trace(&b"t,p,o\n"[..], "t.csv", cap(20_000_000)).unwrap_err().to_string();
    assert!(e.contains("missing column"), "{e}");
    let few = Reading { first: Some(RowLimit { usable: 10, keep_zero_output: true }), ..cap(20) };
    assert_eq!(read_trace(text.as_bytes(), "t.csv", few).unwrap().report.rows_read, 10);
}

#[test]
fn cap_messages_group_thousands() {
    let mut text = String::from("time,prompt,output\n");
    for i in 0..1_235 {
        text += &format!("{i},5,6\n");
    }
    let reading = Reading { max_rows: Some(MaxRows { rows: 1_234, advice: "x".into() }), ..Reading::default() };
    let e = read_trace(text.as_bytes(), "t.csv", reading).unwrap_err().to_string();
    assert_eq!(e, "t.csv, row 1236: more than 1,234 requests: x");
}

#[test]
fn progress_is_told_as_the_bytes_pass_and_at_the_end() {
    let mut text = String::from("time,prompt,output\n");
    let mut i = 0;
    while text.len() < 3_500_000 {
        text += &format!("{i},5,6\n");
        i += 1;
    }
    let mut told = Vec::new();
    let mut progress = |n: u64| told.push(n);
    read_trace(text.as_bytes(), "t.csv", Reading { progress: Some(&mut progress), ..Reading::default() }).unwrap();
    // About every MiB (3 of them), then the whole length.
    assert!(told.len() >= 4 && told.len() <= 6, "{told:?}");
    assert!(told.windows(2).all(|w| w[0] <= w[1]), "{told:?}");
    assert_eq!(*told.last().unwrap(), text.len() as u64);
}

#[test]
fn a_failing_reader_is_a_one_line_error() {
    let text = b"time,prompt,output\n0,1,2\n1,2,3\n";
    let source = Trickle { bytes: text, step: 4, fail_at: Some(20), at: 0 };
    let e = read_trace(source, "t.csv", Reading::default()).unwrap_err().to_string();
    assert_eq!(e, "t.csv: cannot read the file: disk on fire");
}

#[test]
fn a_streamed_session_is_the_in_memory_one_with_the_same_fingerprint() {
    let text = include_bytes!("../../../tests/browser/fixtures/burstgpt_sample.csv");
    let whole = Session::open(&Inputs { trace: Some(InputFile { name: "b.csv".into(), bytes: text.to_vec() }), ..Inputs::default() }).unwrap();
    let mut told = 0;
    let mut progress = |n| told = n;
    let reader = TraceReader { name: "b.csv".into(), input: Box::new(trickle(text, 1000)), max_rows: None, progress: Some(&mut progress) };
    let streamed = Session::open_reading(&Inputs::default(), reader, None).unwrap();
    assert_eq!(streamed.trace(), whole.trace());
    assert_eq!(streamed.fingerprints(), whole.fingerprints());
    assert_eq!(streamed.fingerprints().len(), 1);
    assert_eq!(told, text.len() as u64);
    let reader = TraceReader { name: "b.csv".into(), input: Box::new(&text[..]), max_rows: None, progress: None };
    let first = Session::open_reading(&Inputs::default(), reader, Some(RowLimit { usable: 10, keep_zero_output: false })).unwrap();
    assert!(first.fingerprints().is_empty());
    assert!(first.trace().unwrap().report.stopped_early);
}
