//! `bench`'s small-run figure: a `run` of a few requests from a large trace, end to
//! end (read the file, parse the rows the run needs, simulate, token pass under `auto`,
//! format run.csv and run.json), as `batchlab run --trace FILE --requests N` does it.
//! The trace is a BurstGPT-like one written from the synthetic workload to a temporary
//! file, unless a path is given.

use std::fmt::Write as _;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Instant;

use batchlab::config::{Config, Preset};
use batchlab::session::Inputs;
use batchlab::token::now;
use batchlab::workload::{build, RowLimit, Source};

use crate::error::{CliError, CliResult};
use crate::token_backend::{BackendArg, TokenBackend, TokenBackendArgs};

/// The timed runs: seconds end to end, and what they did.
pub struct SmallRuns {
    pub seconds: Vec<f64>,
    pub requests: usize,
    pub rows_in_file: usize,
    pub rows_read: usize,
    pub file_mb: f64,
    /// The token backend's choice in the last run (`auto`).
    pub token_pass: String,
}

/// Time `repeat` runs of `requests` requests (the preset's run otherwise) from `trace`,
/// or from a generated trace of `rows` rows.
/// `keep`: where to write the generated trace, kept (else a temporary file).
pub fn time(preset: Preset, requests: usize, rows: usize, trace: Option<&Path>, keep: Option<&Path>, repeat: usize) -> CliResult<SmallRuns> {
    let config = Config { requests, ..Config::preset(preset) };
    let generated = match trace {
        Some(_) => None,
        None => Some(TempTrace::write(&config, rows, keep)?),
    };
    let path = match (&generated, trace) {
        (Some(t), _) => t.0.clone(),
        (None, path) => path.map(Path::to_path_buf).unwrap_or_default(),
    };
    let mut seconds = Vec::with_capacity(repeat);
    let (mut rows_read, mut token_pass) = (0, String::new());
    for _ in 0..repeat {
        let started = Instant::now();
        let limit = RowLimit { usable: requests, keep_zero_output: config.keep_zero_output };
        let session = crate::trace_file::open(&path, &Inputs::default(), Some(limit))?;
        let mut backend = TokenBackend::new(&TokenBackendArgs { token_backend: BackendArg::Auto })?;
        let clock = move || started.elapsed().as_secs_f64();
        let out = now(session.run(preset, &config, &clock, &mut backend))?;
        seconds.push(started.elapsed().as_secs_f64());
        // Keep the work observable.
        if out.csv.is_empty() || out.json.is_empty() {
            return Err(CliError::new("bench: the small run wrote no report"));
        }
        rows_read = session.trace().map_or(0, |t| t.report.rows_read);
        token_pass = backend.describe();
    }
    let (lines, bytes) = count_lines(&path)?;
    Ok(SmallRuns { seconds, requests, rows_in_file: lines.saturating_sub(1), rows_read, file_mb: bytes as f64 / 1e6, token_pass })
}

/// Line breaks and bytes in the file at `path`, read in pieces (it may be large).
fn count_lines(path: &Path) -> CliResult<(usize, u64)> {
    let cannot = |e: std::io::Error| CliError::new(format!("cannot read {}: {e}", path.display()));
    let mut file = std::fs::File::open(path).map_err(cannot)?;
    let mut buffer = vec![0u8; 1 << 16];
    let (mut lines, mut bytes) = (0, 0);
    loop {
        let n = file.read(&mut buffer).map_err(cannot)?;
        if n == 0 {
            return Ok((lines, bytes));
        }
        lines += buffer[..n].iter().filter(|&&b| b == b'\n').count();
        bytes += n as u64;
    }
}

/// A generated trace file, removed when dropped unless kept.
struct TempTrace(PathBuf, bool);

impl TempTrace {
    /// `rows` synthetic requests of `config`'s source (before load scaling) in BurstGPT's
    /// columns, timestamps in milliseconds.
    fn write(config: &Config, rows: usize, keep: Option<&Path>) -> CliResult<TempTrace> {
        let raw = Config { load: batchlab::config::Load::RealTimestamps, ..config.clone() };
        let w = build(Source::Synthetic(config.synthetic), rows, &raw)?;
        let mut text = String::with_capacity(rows * 48);
        text.push_str("Timestamp,Model,Request tokens,Response tokens,Total tokens,Log Type\n");
        for i in 0..w.len() {
            let (p, o) = (w.prompt_tokens[i], w.output_tokens[i]);
            let model = if i % 4 == 0 { "GPT-4" } else { "ChatGPT" };
            let _ = writeln!(text, "{:.3},{model},{p},{o},{},Conversation log", w.arrival_s[i], p + o);
        }
        let temp = || std::env::temp_dir().join(format!("batchlab-bench-trace-{}.csv", std::process::id()));
        let path = keep.map_or_else(temp, Path::to_path_buf);
        std::fs::write(&path, text).map_err(|e| CliError::new(format!("cannot write {}: {e}", path.display())))?;
        Ok(TempTrace(path, keep.is_some()))
    }
}

impl Drop for TempTrace {
    fn drop(&mut self) {
        if !self.1 {
            let _ = std::fs::remove_file(&self.0);
        }
    }
}
