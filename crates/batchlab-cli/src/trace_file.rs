//! Reading a trace file as a stream: the core's parser reads it from disk in pieces and
//! holds only the rows it keeps, so memory follows the requests kept, not the file's
//! size; for a job of N requests (`--requests`) reading stops after the rows that make
//! them (a 100K-request run from a 2 GB trace reads ~5 MB). The rows read are those of
//! the whole file's start, so the session is the one a whole read gives.

use std::fs::File;
use std::path::Path;

use batchlab::session::{Inputs, Session, TraceReader};
use batchlab::workload::{MaxRows, RowLimit};

use crate::error::{CliError, CliResult};

/// The most rows of a trace the CLI keeps unless `MAX_ROWS_VAR` says otherwise: the
/// most requests a run may have (`MAX_REQUESTS`, 100 million), as no job could use
/// more. Kept, they are ~2 GB (20 bytes a row); the README's "Traces of any size"
/// gives what a run of them needs.
pub const DEFAULT_MAX_ROWS: usize = batchlab::config::MAX_REQUESTS;

/// Environment variable that sets the cap on trace rows (tests lower it; a machine
/// with the memory may raise it).
pub const MAX_ROWS_VAR: &str = "BATCHLAB_MAX_TRACE_ROWS";

/// The cap on rows kept: `MAX_ROWS_VAR` if set, else `DEFAULT_MAX_ROWS`.
pub fn max_rows() -> CliResult<MaxRows> {
    let rows = match std::env::var(MAX_ROWS_VAR) {
        Ok(v) => v
            .trim()
            .replace('_', "")
            .parse::<usize>()
            .ok()
            .filter(|&n| n > 0)
            .ok_or_else(|| CliError::new(format!("{MAX_ROWS_VAR}: expected a positive whole number of rows, got '{v}'")))?,
        Err(_) => DEFAULT_MAX_ROWS,
    };
    let advice = format!(
        "that is the CLI's cap (set it with {MAX_ROWS_VAR}); ask fewer with --requests N (only the rows a run needs are read) or cut the file"
    );
    Ok(MaxRows { rows, advice })
}

/// `Session::open_reading` on `inputs` (its trace ignored) with the trace at `path`,
/// read to its end, or only as far as `limit` needs.
pub fn open(path: &Path, inputs: &Inputs, limit: Option<RowLimit>) -> CliResult<Session> {
    let name = path.display().to_string();
    let file = File::open(path).map_err(|e| CliError::new(format!("cannot read {name}: {e}")))?;
    let reader = TraceReader { name, input: file, max_rows: Some(max_rows()?), progress: None };
    Ok(Session::open_reading(inputs, reader, limit)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use batchlab::session::InputFile;

    fn write(name: &str, text: &str) -> std::path::PathBuf {
        let path = std::env::temp_dir().join(format!("batchlab-stream-{}-{name}", std::process::id()));
        std::fs::write(&path, text).unwrap();
        path
    }

    fn limit(usable: usize) -> RowLimit {
        RowLimit { usable, keep_zero_output: false }
    }

    #[test]
    fn a_streamed_file_gives_the_trace_a_whole_read_gives() {
        // ~120 bytes a row, past the reader's 64 KiB buffer; a quoted field with a line
        // break inside; failed rows left out.
        let mut text = String::from("time,prompt,output,note\n");
        let long = "y".repeat(100);
        for i in 0..20_000 {
            let note = if i % 97 == 0 { "\"two\nlines\"" } else { long.as_str() };
            text += &format!("{i},{},{},{note}\n", 10 + i % 50, i % 13);
        }
        let path = write("pieces.csv", &text);
        let whole = Session::open(&Inputs { trace: Some(InputFile { name: path.display().to_string(), bytes: text.clone().into_bytes() }), ..Inputs::default() }).unwrap();
        let all = whole.trace().unwrap();
        let streamed = open(&path, &Inputs::default(), None).unwrap();
        assert_eq!(streamed.trace(), whole.trace());
        assert_eq!(streamed.fingerprints(), whole.fingerprints());
        for usable in [1, 700, 5_000, 18_461, 18_462, 30_000] {
            let s = open(&path, &Inputs::default(), Some(limit(usable))).unwrap();
            let t = s.trace().unwrap();
            let n = t.report.rows_read;
            assert_eq!(t.output_tokens.iter().filter(|&&o| o > 0).count(), usable.min(18_461), "{usable}");
            assert_eq!((&t.arrival_s[..], &t.prompt_tokens[..], &t.output_tokens[..]), (&all.arrival_s[..n], &all.prompt_tokens[..n], &all.output_tokens[..n]));
            assert_eq!(t.report.stopped_early, n < 20_000, "{usable}");
        }
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn an_error_before_the_rows_needed_is_reported_and_one_after_them_is_not_read() {
        let mut text = String::from("time,prompt,output\n");
        for i in 0..5_000 {
            text += &format!("{i},5,6\n");
        }
        text += "5000,oops,6\n";
        let path = write("bad.csv", &text);
        assert_eq!(open(&path, &Inputs::default(), Some(limit(4_999))).unwrap().trace().unwrap().report.rows_read, 4_999);
        let e = open(&path, &Inputs::default(), Some(limit(5_001))).err().unwrap().to_string();
        assert!(e.contains("row 5002") && e.contains("oops"), "{e}");
        std::fs::remove_file(&path).unwrap();
        let e = open(&path, &Inputs::default(), Some(limit(1))).err().unwrap().to_string();
        assert!(e.starts_with("cannot read "), "{e}");
    }
}
