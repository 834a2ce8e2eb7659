//! Reading only the start of a large trace for a run of N requests: the file is read in
//! growing pieces, each parsed with `Session::open_first`, until the rows the run needs
//! are in (a 100K-request run from a 1M-row, 47 MB trace reads ~5 MB). The rows parsed
//! are those of the whole file's start, so the session is the one a whole read gives.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use batchlab::session::{InputFile, Inputs, Session};
use batchlab::workload::RowLimit;

use crate::error::{CliError, CliResult};

/// Bytes read first per request asked: BurstGPT's rows take ~50; a short read costs
/// one more parse, each piece being twice the last.
const FIRST_BYTES_PER_REQUEST: usize = 64;

/// `Session::open_first` on `inputs` (its trace ignored) with the trace at `path`, read
/// only as far as `limit` needs. A piece is enough when its parse stopped at the limit
/// with bytes left in it: then the rows parsed are complete, whatever follows. Any other
/// outcome (too few rows, an error, perhaps from a record cut at the piece's end) reads
/// on; an error counts only once the file is read to its end.
pub fn open_first(path: &Path, mut inputs: Inputs, limit: RowLimit) -> CliResult<Session> {
    let name = path.display().to_string();
    let cannot = |e: std::io::Error| CliError::new(format!("cannot read {name}: {e}"));
    let mut file = File::open(path).map_err(cannot)?;
    let mut bytes = Vec::new();
    let mut want = limit.usable.saturating_mul(FIRST_BYTES_PER_REQUEST).saturating_add(1 << 16);
    loop {
        let before = bytes.len();
        let asked = want.saturating_sub(before) as u64;
        let got = (&mut file).take(asked).read_to_end(&mut bytes).map_err(cannot)?;
        let whole = (got as u64) < asked;
        // Parse up to the last line break (a record is not cut there unless it is quoted).
        let cut = if whole { bytes.len() } else { bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1) };
        let rest = bytes.split_off(cut);
        inputs.trace = Some(InputFile { name: name.clone(), bytes });
        let opened = Session::open_first(&inputs, limit);
        bytes = inputs.trace.take().map(|f| f.bytes).unwrap_or_default();
        bytes.extend_from_slice(&rest);
        match opened {
            Ok(session) if whole || session.trace().is_some_and(|t| t.report.stopped_early) => return Ok(session),
            Err(e) if whole => return Err(e.into()),
            _ => want = want.saturating_mul(2),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(name: &str, text: &str) -> std::path::PathBuf {
        let path = std::env::temp_dir().join(format!("batchlab-prefix-{}-{name}", std::process::id()));
        std::fs::write(&path, text).unwrap();
        path
    }

    fn limit(usable: usize) -> RowLimit {
        RowLimit { usable, keep_zero_output: false }
    }

    #[test]
    fn pieces_give_the_trace_a_whole_read_gives() {
        // ~120 bytes a row, more than the first piece allows (so it grows); a quoted
        // field with a line break inside; failed rows left out.
        let mut text = String::from("time,prompt,output,note\n");
        let long = "y".repeat(100);
        for i in 0..20_000 {
            let note = if i % 97 == 0 { "\"two\nlines\"" } else { long.as_str() };
            text += &format!("{i},{},{},{note}\n", 10 + i % 50, i % 13);
        }
        let path = write("pieces.csv", &text);
        let whole = Session::open(&Inputs { trace: Some(InputFile { name: path.display().to_string(), bytes: text.clone().into_bytes() }), ..Inputs::default() }).unwrap();
        let all = whole.trace().unwrap();
        for usable in [1, 700, 5_000, 18_461, 18_462, 30_000] {
            let s = open_first(&path, Inputs::default(), limit(usable)).unwrap();
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
        assert_eq!(open_first(&path, Inputs::default(), limit(4_999)).unwrap().trace().unwrap().report.rows_read, 4_999);
        let e = open_first(&path, Inputs::default(), limit(5_001)).err().unwrap().to_string();
        assert!(e.contains("row 5002") && e.contains("oops"), "{e}");
        std::fs::remove_file(&path).unwrap();
        let e = open_first(&path, Inputs::default(), limit(1)).err().unwrap().to_string();
        assert!(e.starts_with("cannot read "), "{e}");
    }
}
