//! Jobs of many runs, described by value so that any thread, worker or machine can do
//! their runs. A job (the stress plan, a comparison, a sweep, a capacity search) is a
//! [`Planner`]: it hands out [`RunTask`]s as they become ready and is told each one's
//! end ([`TaskDone`]); a shell's executor decides where and in which order they run (one
//! by one here, on a pool of threads in the CLI, on a pool of Web Workers in the page).
//!
//! Determinism does not depend on the executor: a planner decides every run from the
//! results of runs it waited for, never from the order in which runs end, and keeps
//! results by task id, so any executor gives the same bytes.

use std::sync::{Arc, Mutex, OnceLock};

use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::error::{Error, Result};
use crate::latency::{CalibrationGrid, LatencyModel};
use crate::run::{simulate_run_with, RunResult};
use crate::token::{TokenDevice, TokenPass};
use crate::workload::{build, Source, Workload};

/// Progress after each run, for progress bars.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    pub runs_done: usize,
    pub runs_total: usize,
    pub requests_simulated: u64,
    /// Label of the run just finished.
    pub last_label: String,
}

/// The shell's hooks into a job: a clock in seconds (any origin; the core has none) to
/// time each run, and a progress callback called after each run that answers whether to
/// go on (`false` cancels: `Err(Error::Cancelled)`).
pub struct Hooks<'a> {
    pub clock: &'a dyn Fn() -> f64,
    pub progress: &'a mut dyn FnMut(&Progress) -> bool,
}

/// One run of a job, described by value. (The calibration is the job's: the executor
/// knows its preset.)
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunTask {
    /// Its place in the job's order: results are kept by it.
    pub id: usize,
    pub label: String,
    /// The workload's configuration: `workload.requests` requests built from the source
    /// with its seed, load and predictor. Tasks with equal workloads share one build.
    pub workload: Config,
    /// The run: on the first `config.requests` requests of that workload (all it holds if
    /// fewer; the result's `config.requests` says how many).
    pub config: Config,
    /// Whether the result keeps its time series (the plan's and sweeps' runs do not).
    pub keep_timeseries: bool,
}

/// How a run's token pass went: the device, and the seconds it took (shell's clock).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TokenPassInfo {
    /// The GPU adapter that ran it; `None`: the CPU did.
    pub gpu: Option<String>,
    /// Why the CPU ran it when a GPU was asked for, if so.
    pub gpu_error: Option<String>,
    pub seconds: f64,
}

/// A task's end: its result (with `wall_time_s` set) or its error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskDone {
    pub id: usize,
    pub outcome: std::result::Result<RunResult, Error>,
    pub token_pass: TokenPassInfo,
}

/// A job of many runs.
pub trait Planner {
    /// Runs that may start now, each handed out once, most urgent first. Empty while the
    /// next runs wait on runs under way, and once the job is finished.
    fn ready(&mut self) -> Vec<RunTask>;
    /// A run's end. An error ends the job (a run it cannot do without failed).
    fn record(&mut self, done: TaskDone) -> Result<()>;
    fn progress(&self) -> Progress;
    /// Every run it needs has been recorded.
    fn finished(&self) -> bool;
}

/// Workloads built for tasks, shared by the tasks that name the same one. Keeps the
/// few most recent (a sweep's points mostly differ in their workload).
#[derive(Default)]
pub struct WorkloadCache {
    slots: Mutex<Vec<(Config, Arc<Slot>)>>,
}

/// A workload built once: the first asker builds it, the others wait for it.
type Slot = OnceLock<Result<Arc<Workload>>>;

const CACHED_WORKLOADS: usize = 4;

impl WorkloadCache {
    /// The workload of `config` from `source`, built once (concurrent askers wait).
    pub fn get(&self, source: Source<'_>, config: &Config) -> Result<Arc<Workload>> {
        let slot = {
            let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
            match slots.iter().position(|(c, _)| c == config) {
                Some(i) => slots[i].1.clone(),
                None => {
                    if slots.len() == CACHED_WORKLOADS {
                        slots.remove(0);
                    }
                    let slot = Arc::new(OnceLock::new());
                    slots.push((config.clone(), slot.clone()));
                    slot
                }
            }
        };
        slot.get_or_init(|| build(source, config.requests, config).map(Arc::new)).clone()
    }
}

/// Do one task: its workload from `source` (through `cache`), priced with `calibration`,
/// its token pass on `token_pass`, timed by `clock`.
pub async fn run_task(
    task: &RunTask,
    source: Source<'_>,
    calibration: &CalibrationGrid,
    cache: &WorkloadCache,
    clock: &dyn Fn() -> f64,
    token_pass: impl TokenPass,
) -> TaskDone {
    let outcome = async {
        let workload = cache.get(source, &task.workload)?;
        let n = task.config.requests.min(workload.len());
        let config = Config { requests: n, ..task.config.clone() };
        let model = LatencyModel::new(calibration.clone(), config.latency_mode)?;
        let t0 = clock();
        let mut pass = Timed { inner: token_pass, clock, seconds: 0.0 };
        // The whole workload as it is; a shorter run on a copy of its prefix.
        let prefix;
        let requests = if n == workload.len() {
            &*workload
        } else {
            prefix = workload.prefix(n);
            &prefix
        };
        let (mut result, device) = simulate_run_with(requests, &config, &model, &source.describe(), &mut pass).await?;
        result.wall_time_s = clock() - t0;
        if !task.keep_timeseries {
            result.timeseries = Default::default();
        }
        Ok((result, TokenPassInfo { gpu: device.gpu, gpu_error: device.gpu_error, seconds: pass.seconds }))
    }
    .await;
    match outcome {
        Ok((result, token_pass)) => TaskDone { id: task.id, outcome: Ok(result), token_pass },
        Err(e) => TaskDone { id: task.id, outcome: Err(e), token_pass: TokenPassInfo::default() },
    }
}

/// Drive `planner` to its end one run at a time, each through `run` (the one-thread
/// executor; progress after each run may cancel). Ready runs go in the job's order (by
/// id): there is no thread to keep busy.
pub async fn one_by_one(
    planner: &mut dyn Planner,
    progress: &mut dyn FnMut(&Progress) -> bool,
    mut run: impl AsyncFnMut(RunTask) -> TaskDone,
) -> Result<()> {
    loop {
        let mut tasks = planner.ready();
        tasks.sort_by_key(|t| t.id);
        if tasks.is_empty() {
            return if planner.finished() { Ok(()) } else { Err(stalled()) };
        }
        for task in tasks {
            planner.record(run(task).await)?;
            if !progress(&planner.progress()) {
                return Err(Error::Cancelled);
            }
        }
    }
}

/// A planner with nothing ready, nothing under way and runs still missing: a bug.
pub fn stalled() -> Error {
    Error::field("tasks", "internal error: the job waits for runs that were never handed out")
}

/// A token pass that measures its own duration.
struct Timed<'a, P> {
    inner: P,
    clock: &'a dyn Fn() -> f64,
    seconds: f64,
}

impl<P: TokenPass> TokenPass for Timed<'_, P> {
    async fn run(
        &mut self,
        w: &Workload,
        s: &crate::engine::Schedule,
        cfg: &crate::token::TokenModelConfig,
        slas: &crate::token::Slas,
    ) -> Result<(crate::token::TokenMetrics, TokenDevice)> {
        let t0 = (self.clock)();
        let out = self.inner.run(w, s, cfg, slas).await;
        self.seconds = (self.clock)() - t0;
        out
    }
}
