//! The three-step stress plan (MODEL.md §6): request scaling, GPU scaling, K sensitivity.

use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::error::Result;
use crate::latency::CalibrationGrid;
use crate::run::RunResult;
use crate::workload::Source;

/// What to run. `Default` is the full 34-run plan on the paper preset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanSpec {
    /// Steps to run (1, 2, 3). Step 3 without step 2 needs `best_gpu_count` (else 4).
    pub steps: [bool; 3],
    /// Cap on N in every step (step 1 keeps sizes <= cap; steps 2, 3 run at min(1M, cap)).
    pub max_requests: usize,
    /// GPU counts above this are dropped.
    pub max_gpus: u32,
    /// Step 3's GPU count; `None` = the best of step 2 by capacity under SLA.
    pub best_gpu_count: Option<u32>,
    /// K of steps 1 and 2.
    pub k_bins: u32,
    /// Everything else (preset values, seed, load, predictor, SLAs).
    pub base: Config,
}

/// One run of the plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanRun {
    pub step: u8,
    pub label: String,
    /// The run's result, or the error message if it failed (the plan goes on).
    pub result: std::result::Result<RunResult, String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanResult {
    pub spec: PlanSpec,
    pub workload: String,
    pub runs: Vec<PlanRun>,
    /// The GPU count step 3 used (auto-detected or given).
    pub best_gpu_count: Option<u32>,
}

/// Progress after each run, for progress bars.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    pub runs_done: usize,
    pub runs_total: usize,
    pub requests_simulated: u64,
    /// Label of the run just finished.
    pub last_label: String,
}

/// Run the plan. `clock` returns seconds (any origin) to time each run; `progress` is
/// called after each run and returns `false` to cancel (then `Err(Error::Cancelled)`).
pub fn run_plan(
    source: Source<'_>,
    calibration: &CalibrationGrid,
    spec: &PlanSpec,
    clock: &dyn Fn() -> f64,
    progress: &mut dyn FnMut(&Progress) -> bool,
) -> Result<PlanResult> {
    let _ = (source, calibration, spec, clock, progress);
    todo!("plan")
}
