//! The final paper's study (f1be833's `step1_grid_search.py` and `step2_comparison.py`
//! and their low-load twins): at three loads (arrivals scaled by 100, 10 and 1), step 1
//! runs multi_bin_dynamic over every request count x GPU count x K, and step 2 compares
//! four methods per request count, the last on the "optimal" configuration step 1 found
//! (fewest GPUs whose request-SLA violation rate is at most 5%, then the lowest rate).
//!
//! Every run uses the configuration given (the `paper` preset reproduces f1be833), with
//! only the scheduler, GPUs, K, request count and load changed. The rows carry the
//! published columns, with the final version's own definitions where they differ from
//! BatchLab's (see `FinalMetrics`); `report::study` writes them as the published files did.

use serde::{Deserialize, Serialize};

use crate::config::{Config, Load, SchedulerKind};
use crate::engine::Schedule;
use crate::error::{Error, Result};
use crate::latency::{CalibrationGrid, LatencyModel};
use crate::plan::{Hooks, Progress};
use crate::run::{simulate_run_with_schedule, RunResult};
use crate::workload::{build, Source, Workload};

pub mod published;


/// The loads of the study (RPS scaling factors) and the folder each one's files went to.
pub const STUDY_LOADS: [(f64, &str); 3] =
    [(100.0, "stress_test_final"), (10.0, "stress_test_low_load"), (1.0, "stress_test_ultra_low_load")];
pub const STUDY_REQUESTS: [usize; 4] = [1_000, 10_000, 100_000, 1_000_000];
pub const STUDY_GPUS: [u32; 8] = [1, 2, 4, 8, 16, 32, 64, 100];
pub const STUDY_K: [u32; 6] = [1, 2, 4, 8, 16, 32];
/// Step 2's threshold on the request-SLA violation rate, percent.
pub const OPTIMAL_MAX_REQUEST_SLA_PCT: f64 = 5.0;

/// Figure 5's runs (`generate_analysis_plots.py`): 10,000 requests at x10 load on 4 GPUs
/// with K = 4, varying K, then the GPU count, then the seed.
pub const SENSITIVITY_REQUESTS: usize = 10_000;
pub const SENSITIVITY_RPS: f64 = 10.0;
pub const SENSITIVITY_GPUS_AND_K: (u32, u32) = (4, 4);
pub const SENSITIVITY_K: [u32; 5] = [1, 2, 4, 8, 16];
pub const SENSITIVITY_GPUS: [u32; 5] = [1, 2, 4, 8, 16];
pub const SENSITIVITY_SEEDS: [u64; 5] = [0, 1, 2, 3, 4];

/// What to run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StudySpec {
    /// Request counts above this are left out (if all are, the cap itself is run).
    pub max_requests: usize,
    /// GPU counts above this are left out.
    pub max_gpus: u32,
    /// Which of `STUDY_LOADS` to run.
    pub loads: [bool; 3],
    /// Also figure 5's sensitivity and seed runs.
    pub sensitivity: bool,
    /// Everything else; its `load` is replaced by each study load.
    pub base: Config,
}

impl StudySpec {
    pub fn new(base: Config) -> Self {
        StudySpec { max_requests: 1_000_000, max_gpus: 100, loads: [true; 3], sensitivity: true, base }
    }

    pub fn sizes(&self) -> Vec<usize> {
        let sizes: Vec<usize> = STUDY_REQUESTS.iter().copied().filter(|&n| n <= self.max_requests).collect();
        if sizes.is_empty() { vec![self.max_requests] } else { sizes }
    }

    pub fn gpus(&self) -> Vec<u32> {
        STUDY_GPUS.iter().copied().filter(|&g| g <= self.max_gpus).collect()
    }

    /// Runs in all: per load, the grid and four methods per request count; then figure 5's.
    pub fn run_count(&self) -> usize {
        let loads = self.loads.iter().filter(|&&l| l).count();
        let sensitivity = if self.sensitivity { SENSITIVITY_K.len() + SENSITIVITY_GPUS.len() + SENSITIVITY_SEEDS.len() } else { 0 };
        loads * self.sizes().len() * (self.gpus().len() * STUDY_K.len() + 4) + sensitivity
    }

    pub fn validate(&self) -> Result<()> {
        if !self.loads.iter().any(|&l| l) {
            return Err(Error::field("study.loads", "no load selected"));
        }
        if self.max_requests < 1 {
            return Err(Error::field("study.max_requests", "must be at least 1 (got 0)"));
        }
        if self.max_gpus < 1 {
            return Err(Error::field("study.max_gpus", "must be at least 1 (got 0)"));
        }
        self.base.validate()
    }
}

/// The final version's metric definitions (`mb_dyn_sim/metrics.py`, `simulation.py`):
/// a request's TTFT is the fit's alpha, its decode TBT its batch's beta h(b) (the token
/// SLA is violated when that exceeds the per-token SLA), its "TBT" its batch's service
/// time over the batch's longest output.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct FinalMetrics {
    pub token_sla_violation_rate: f64,
    pub ttft_mean_s: f64,
    pub decode_tbt_mean_s: f64,
    pub tbt_mean_s: f64,
}

impl FinalMetrics {
    pub fn of(w: &Workload, cfg: &Config, model: &LatencyModel, s: &Schedule) -> Self {
        let n = w.len() as f64;
        let (mut violations, mut decode, mut tbt) = (0usize, 0.0, 0.0);
        for (b, batch) in s.batches.iter().enumerate() {
            let members = s.members_of(b);
            let longest_output = members.iter().map(|&r| w.output_tokens[r as usize]).max().unwrap_or(0);
            let service = batch.end_s - batch.start_s;
            let per_token = if longest_output > 0 { service / longest_output as f64 } else { 0.0 };
            if batch.step_s > cfg.d_sla_token_s {
                violations += members.len();
            }
            decode += batch.step_s * members.len() as f64;
            tbt += per_token * members.len() as f64;
        }
        FinalMetrics {
            token_sla_violation_rate: violations as f64 / n,
            ttft_mean_s: model.alpha_s(),
            decode_tbt_mean_s: decode / n,
            tbt_mean_s: tbt / n,
        }
    }
}

/// One run of the study.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StudyRun {
    pub rps_scaling: f64,
    /// Step 2's method name (as published), `None` in step 1.
    pub method: Option<String>,
    pub result: RunResult,
    pub final_metrics: FinalMetrics,
}

/// The step-1 grid and the step-2 comparison of one load.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoadResult {
    pub rps_scaling: f64,
    /// The folder the original wrote this load's files to.
    pub folder: String,
    pub grid: Vec<StudyRun>,
    pub comparison: Vec<StudyRun>,
}

/// Figure 5's runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sensitivity {
    /// K in `SENSITIVITY_K`.
    pub k_runs: Vec<StudyRun>,
    /// GPUs in `SENSITIVITY_GPUS`.
    pub gpu_runs: Vec<StudyRun>,
    /// Seeds in `SENSITIVITY_SEEDS` (the workload's and the predictor's).
    pub seed_runs: Vec<StudyRun>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StudyResult {
    pub spec: StudySpec,
    pub workload: String,
    pub loads: Vec<LoadResult>,
    pub sensitivity: Option<Sensitivity>,
}

/// Runs one configuration after another, timing each and reporting progress.
struct Runner<'m, 'h> {
    model: &'m LatencyModel,
    name: String,
    hooks: Hooks<'h>,
    progress: Progress,
}

impl Runner<'_, '_> {
    fn run(&mut self, workload: &Workload, cfg: Config, method: Option<String>) -> Result<StudyRun> {
        let w = workload.prefix(cfg.requests);
        let cfg = Config { requests: w.len(), ..cfg };
        let t0 = (self.hooks.clock)();
        let (mut result, schedule) = simulate_run_with_schedule(&w, &cfg, self.model, &self.name)?;
        let final_metrics = FinalMetrics::of(&w, &cfg, self.model, &schedule);
        result.timeseries = Default::default();
        result.wall_time_s = (self.hooks.clock)() - t0;
        let rps = match cfg.load {
            Load::RpsScaling { factor } => factor,
            Load::RealTimestamps => 1.0,
        };
        let p = &mut self.progress;
        p.runs_done += 1;
        p.requests_simulated += w.len() as u64;
        p.last_label = format!(
            "x{rps} {} N={} GPUs={} K={} seed {}",
            method.as_deref().unwrap_or("grid"),
            w.len(),
            cfg.gpus,
            cfg.k_bins,
            cfg.seed
        );
        if !(self.hooks.progress)(p) {
            return Err(Error::Cancelled);
        }
        Ok(StudyRun { rps_scaling: rps, method, result, final_metrics })
    }
}

/// Run the study on `source` (trace or synthetic), with `calibration`.
pub fn run_study(source: Source<'_>, calibration: &CalibrationGrid, spec: &StudySpec, hooks: Hooks<'_>) -> Result<StudyResult> {
    spec.validate()?;
    let model = LatencyModel::new(calibration.clone(), spec.base.latency_mode)?;
    let sizes = spec.sizes();
    let largest = *sizes.iter().max().unwrap();
    let progress = Progress { runs_done: 0, runs_total: spec.run_count(), requests_simulated: 0, last_label: String::new() };
    let mut r = Runner { model: &model, name: source.describe(), hooks, progress };
    let mut loads = Vec::new();
    for (i, &(rps, folder)) in STUDY_LOADS.iter().enumerate() {
        if !spec.loads[i] {
            continue;
        }
        let base = Config { load: Load::RpsScaling { factor: rps }, ..spec.base.clone() };
        let workload = build(source, largest, &base)?;
        let at = |scheduler, gpus, k_bins, requests| Config { scheduler, gpus, k_bins, requests, ..base.clone() };
        let mut grid = Vec::new();
        for &n in &sizes {
            for gpus in spec.gpus() {
                for k in STUDY_K {
                    grid.push(r.run(&workload, at(SchedulerKind::MultiBinDynamic, gpus, k, n), None)?);
                }
            }
        }
        let mut comparison = Vec::new();
        for &n in &sizes {
            let (gpus, k) = optimal(&grid, n.min(workload.len()));
            for (method, scheduler, g, k) in [
                ("1. Static FIFO (1 GPU)".to_string(), SchedulerKind::StaticFifo, 1, 1),
                ("2. Dynamic No-Bins (1 GPU)".to_string(), SchedulerKind::DynamicNoBins, 1, 1),
                ("3. Multi-Bin Dynamic (1 GPU)".to_string(), SchedulerKind::MultiBinDynamic, 1, 8),
                (format!("4. Multi-Bin Dynamic (Optimal: {gpus} GPUs, {k} bins)"), SchedulerKind::MultiBinDynamic, gpus, k),
            ] {
                comparison.push(r.run(&workload, at(scheduler, g, k, n), Some(method))?);
            }
        }
        loads.push(LoadResult { rps_scaling: rps, folder: folder.to_string(), grid, comparison });
    }
    let sensitivity = if spec.sensitivity { Some(run_sensitivity(&mut r, source, spec)?) } else { None };
    Ok(StudyResult { spec: spec.clone(), workload: source.describe(), loads, sensitivity })
}

/// Figure 5's runs, at most `spec.max_requests` requests each.
fn run_sensitivity(r: &mut Runner<'_, '_>, source: Source<'_>, spec: &StudySpec) -> Result<Sensitivity> {
    let n = SENSITIVITY_REQUESTS.min(spec.max_requests);
    let (gpus, k) = SENSITIVITY_GPUS_AND_K;
    let base = Config {
        scheduler: SchedulerKind::MultiBinDynamic,
        gpus,
        k_bins: k,
        requests: n,
        load: Load::RpsScaling { factor: SENSITIVITY_RPS },
        ..spec.base.clone()
    };
    let workload = build(source, n, &base)?;
    let mut k_runs = Vec::new();
    for k in SENSITIVITY_K {
        k_runs.push(r.run(&workload, Config { k_bins: k, ..base.clone() }, None)?);
    }
    let mut gpu_runs = Vec::new();
    for gpus in SENSITIVITY_GPUS {
        gpu_runs.push(r.run(&workload, Config { gpus, ..base.clone() }, None)?);
    }
    let mut seed_runs = Vec::new();
    for seed in SENSITIVITY_SEEDS {
        let w = build(source, n, &Config { seed, ..base.clone() })?;
        seed_runs.push(r.run(&w, Config { seed, ..base.clone() }, None)?);
    }
    Ok(Sensitivity { k_runs, gpu_runs, seed_runs })
}

/// `x` rounded to `digits` decimals (through its exact decimal expansion), as Python's
/// `round` does.
pub fn round_to(x: f64, digits: usize) -> f64 {
    format!("{x:.digits$}").parse().unwrap_or(x)
}

/// Step 2's "optimal" configuration for `n` requests among the grid's runs, as the
/// original chose it from its step-1 file: the runs whose request-SLA violation rate
/// (in percent, rounded to 3 decimals as the file holds it) is at most 5%, the fewest
/// GPUs among them, then the lowest rate (the first in the file on ties); if none is
/// within 5%, the lowest rate overall. (8 GPUs, 8 bins if the grid has no such run.)
pub fn optimal(grid: &[StudyRun], n: usize) -> (u32, u32) {
    let runs: Vec<&StudyRun> = grid.iter().filter(|r| r.result.config.requests == n).collect();
    let pct = |r: &StudyRun| round_to(r.result.metrics.request_sla_violation_rate * 100.0, 3);
    fn lowest<'a>(rs: &[&'a StudyRun], pct: impl Fn(&StudyRun) -> f64) -> Option<&'a StudyRun> {
        rs.iter().copied().reduce(|best, r| if pct(r) < pct(best) { r } else { best })
    }
    let good: Vec<&StudyRun> = runs.iter().copied().filter(|r| pct(r) <= OPTIMAL_MAX_REQUEST_SLA_PCT).collect();
    let pick = match good.iter().map(|r| r.result.config.gpus).min() {
        Some(fewest) => lowest(&good.iter().copied().filter(|r| r.result.config.gpus == fewest).collect::<Vec<_>>(), pct),
        None => lowest(&runs, pct),
    };
    pick.map_or((8, 8), |r| (r.result.config.gpus, r.result.config.k_bins))
}
