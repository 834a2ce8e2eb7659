//! The messages between the page and the worker, typed with serde and carried by
//! `postMessage` through serde-wasm-bindgen (so floats such as NaN and infinity survive,
//! which JSON would not).
//!
//! A page message is an envelope `{ request, trace, calibration }`: `request` is a
//! serialized [`Request`]; `trace` and `calibration` are the user's `File` objects (or
//! null). Files are structured-cloneable, so the page never reads them: the worker reads
//! them synchronously with `FileReaderSync`, parses them with the core, and a bad file
//! comes back as [`Response::Error`] with the core's one-line message.
//!
//! There is no cancel message: a worker busy in a synchronous wasm call cannot receive
//! one. The page cancels by terminating the worker and starting a fresh one (see
//! ARCHITECTURE.md), which stops any work at once.

use batchlab::config::{Config, Preset};
use batchlab::plan::{PlanSpec, Progress};
pub use batchlab::session::{CapacityOutput, PlanOutput, RunOutput, StudyOutput, SweepOutput, TokenPassInfo};
use batchlab::study::StudySpec;
use batchlab::tasks::{RunTask, TaskDone};
pub use batchlab::timeline::Timeline;
use serde::{Deserialize, Serialize};

/// What the page asks of the worker. (One message per run: variants' sizes do not matter.)
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Request {
    /// Parse the attached files and describe them (sent as soon as a file is chosen).
    Check,
    /// One run of `config`. `preset` names the built-in calibration used when no
    /// calibration file is attached. `token_on_cpu`: the visitor forced the CPU token
    /// pass (otherwise the worker's GPU runs it when it has one).
    Run {
        preset: Preset,
        config: Config,
        #[serde(default)]
        token_on_cpu: bool,
        /// Use the worker's GPU even if it is a software adapter (slower than the CPU).
        #[serde(default)]
        software_gpu: bool,
    },
    /// How many requests the stress plan's source holds (a trace may hold fewer than
    /// the plan's largest N), and its name: the page's plan job needs both to decide its
    /// runs. The worker keeps the workload it built for the plan's first runs.
    Source { spec: PlanSpec },
    /// One run of a job of many (plan, comparison, sweep, capacity search) that the page
    /// drives on its pool of workers; `preset` names the job's built-in calibration.
    Task {
        preset: Preset,
        task: RunTask,
        #[serde(default)]
        token_on_cpu: bool,
        #[serde(default)]
        software_gpu: bool,
    },
    /// The final paper's study (its runs carry no time series back).
    Study { preset: Preset, spec: StudySpec },
    /// A window of a single run, seconds of simulated time (the run is done again: it
    /// is deterministic), for "Inside the cluster".
    Timeline { preset: Preset, config: Config, from_s: f64, to_s: f64 },
}

/// What the worker answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Response {
    /// The worker's wasm is initialised; messages sent before this are lost.
    Ready,
    /// What the worker's WebGPU probe found (once, after `Ready`): the adapter's name,
    /// or why there is none (no `navigator.gpu`, no adapter, a build without the GPU).
    Gpu(Result<String, String>),
    /// One line per attached file describing what was imported.
    Checked {
        lines: Vec<String>,
        /// (file name, fingerprint of its bytes), for the reproducibility stamp.
        #[serde(default)]
        fingerprints: Vec<(String, String)>,
        /// A trace's own arrival rate (req/s), for "what the load setting makes of it".
        #[serde(default)]
        trace_rate_rps: Option<f64>,
    },
    /// Bytes of a trace read so far (`read` of `size`), about every MiB while the worker
    /// parses it (before the answer to the envelope that attached it).
    Reading { file: String, read: f64, size: f64 },
    /// After each run of the study (a single run reports only its end).
    Progress(Progress),
    Run(Box<RunOutput>),
    /// The answer to `Source`.
    Source { requests: usize, name: String },
    /// The answer to `Task`: the run's result or error.
    Task(Box<TaskDone>),
    Study(Box<StudyOutput>),
    /// Jobs the page drives on its pool of workers end in these (assembled on the page).
    Compare(Vec<RunOutput>),
    Plan(Box<PlanOutput>),
    Sweep(Box<SweepOutput>),
    Capacity(Box<CapacityOutput>),
    /// A one-line error (bad file, bad setting, or an internal failure). `field`: the
    /// configuration field at fault (`k_bins`), for the page to name and mark its control.
    Error { message: String, field: Option<String> },
    /// The answer to `Timeline`.
    Timeline(Box<Timeline>),
}

/// The worker's answer to a message it cannot read as a [`Request`], on one line (the
/// decoder's text can quote the message's own line breaks; found by the request fuzz target).
pub fn bad_request(e: impl std::fmt::Display) -> String {
    format!("internal error: bad request: {e}").replace(['\n', '\r'], " ")
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_bad_request_is_one_line_even_when_the_decoder_quotes_a_line_break() {
        let e = serde_json::from_str::<super::Request>("{\"\\n\":").unwrap_err();
        assert!(e.to_string().contains('\n'));
        assert_eq!(super::bad_request(e).lines().count(), 1);
    }
}
