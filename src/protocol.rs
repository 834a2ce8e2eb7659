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
pub use batchlab::session::{PlanOutput, RunOutput, StudyOutput, TokenPassInfo};
use batchlab::study::StudySpec;
use serde::{Deserialize, Serialize};

/// What the page asks of the worker.
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
    },
    /// The same workload under each scheduler (all six: `SchedulerKind::ALL`).
    Compare {
        preset: Preset,
        config: Config,
        #[serde(default)]
        token_on_cpu: bool,
    },
    /// The stress plan. Its runs carry no time series back (the page plots only their
    /// metrics), which keeps the message small.
    Plan { preset: Preset, spec: PlanSpec },
    /// The final paper's study (no time series either).
    Study { preset: Preset, spec: StudySpec },
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
    Checked { lines: Vec<String> },
    /// After each run of a compare or plan (a single run reports only its end).
    Progress(Progress),
    Run(Box<RunOutput>),
    Compare(Vec<RunOutput>),
    Plan(Box<PlanOutput>),
    Study(Box<StudyOutput>),
    /// A one-line error (bad file, bad setting, or an internal failure). `field`: the
    /// configuration field at fault (`k_bins`), for the page to name and mark its control.
    Error { message: String, field: Option<String> },
}
