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
use batchlab::plan::{PlanResult, PlanSpec, Progress};
use batchlab::run::RunResult;
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
    /// The same workload under each of the four schedulers.
    Compare {
        preset: Preset,
        config: Config,
        #[serde(default)]
        token_on_cpu: bool,
    },
    /// The stress plan (its token passes run on the CPU: `run_plan` is synchronous).
    Plan { preset: Preset, spec: PlanSpec },
}

/// One finished run with its report files, formatted by the core.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunOutput {
    pub result: RunResult,
    /// `report::run_csv`: byte-identical to the CLI's `run.csv`.
    pub csv: String,
    /// `report::run_json`.
    pub json: String,
    /// Which device ran the token pass, and how long it took (not in the CSV / JSON).
    pub token_pass: TokenPassInfo,
}

/// How a run's token pass went. The metrics are the same whichever device ran it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TokenPassInfo {
    /// The GPU adapter that ran it; None: the CPU did.
    pub gpu: Option<String>,
    /// The GPU's one-line error when it was asked and failed, so the CPU ran it instead.
    pub gpu_error: Option<String>,
    /// Wall-clock seconds of the token pass alone (the shell's clock).
    pub seconds: f64,
}

/// A finished plan. `result`'s runs carry no time series (the page only plots their
/// metrics), which keeps the message small.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanOutput {
    pub result: PlanResult,
    /// `report::plan_files`: (file name, contents) of the 4 CSVs and the analysis JSON.
    pub files: Vec<(String, String)>,
    /// Step 2's saturation point and the key findings, read from the analysis JSON.
    pub saturation_gpus: Option<u32>,
    pub findings: Vec<String>,
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
    /// A one-line error (bad file, bad option, or an internal failure).
    Error { message: String },
}
