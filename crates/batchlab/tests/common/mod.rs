//! Helpers shared by the integration tests (included with `mod common;`).
#![allow(dead_code)]

use batchlab::config::{BinEdgeRule, Config, EventOrder, MemoryRules, LatencyMode, Preset, SchedulerKind, Synthetic};
use batchlab::engine::Schedule;
use batchlab::error::Error;
use batchlab::latency::{CalibrationGrid, CalibrationPoint, LatencyModel};
use batchlab::plan::{run_plan_with, Hooks, PlanResult, PlanSpec};
use batchlab::token::{self, CpuTokenPass, Slas, TokenDevice, TokenMetrics, TokenModelConfig, TokenPass};
use batchlab::workload::{Source, Workload};

/// The CPU pass, failing (as a failed run would) on the calls `fail` says, counted from 0.
pub struct FailingPass<'a> {
    pub calls: usize,
    pub fail: &'a dyn Fn(usize) -> bool,
}

impl TokenPass for FailingPass<'_> {
    async fn run(&mut self, w: &Workload, s: &Schedule, t: &TokenModelConfig, slas: &Slas) -> batchlab::Result<(TokenMetrics, TokenDevice)> {
        self.calls += 1;
        if (self.fail)(self.calls - 1) {
            Err(Error::token_pass("failed on purpose"))
        } else {
            CpuTokenPass.run(w, s, t, slas).await
        }
    }
}

/// `spec` over the synthetic BurstGPT-like source and `preset`'s grid, its token pass
/// failing as `fail` says.
pub fn plan_failing(preset: Preset, spec: &PlanSpec, fail: &dyn Fn(usize) -> bool) -> PlanResult {
    let grid = CalibrationGrid::for_preset(preset);
    let hooks = Hooks { clock: &|| 0.0, progress: &mut |_| true };
    token::now(run_plan_with(Source::Synthetic(Synthetic::BurstGpt), &grid, spec, hooks, FailingPass { calls: 0, fail })).unwrap()
}

/// A latency model whose fit is exactly `T(b, L) = alpha + beta * L * (1 + gamma (b-1)/b)`:
/// the grid is generated from that formula, so the least-squares fit recovers it.
pub fn exact_model(alpha: f64, beta: f64, gamma: f64) -> LatencyModel {
    let mut points = Vec::new();
    for b in [1u32, 2, 4, 8, 16, 32] {
        for l in [128u32, 256, 512, 1024, 2048] {
            let h = 1.0 + gamma * (b as f64 - 1.0) / b as f64;
            points.push(CalibrationPoint { batch_size: b, max_seq_len: l, latency_s: alpha + beta * l as f64 * h });
        }
    }
    LatencyModel::new(CalibrationGrid { name: "test grid".into(), points }, LatencyMode::Fit).unwrap()
}

/// A workload from (arrival, prompt, output) rows; predictions are the true outputs.
pub fn workload(rows: &[(f64, u32, u32)]) -> Workload {
    Workload {
        arrival_s: rows.iter().map(|r| r.0).collect(),
        prompt_tokens: rows.iter().map(|r| r.1).collect(),
        output_tokens: rows.iter().map(|r| r.2).collect(),
        predicted_output_tokens: rows.iter().map(|r| r.2).collect(),
    }
}

/// The paper preset with BatchLab's own rules, the ones the hand-worked schedules
/// follow: each instant as one step, exact bin edges, memory checked for every batch,
/// b_mem from the mean over arrived requests.
pub fn config(scheduler: SchedulerKind, gpus: u32, k: u32) -> Config {
    let mut c = Config {
        scheduler,
        gpus,
        k_bins: k,
        event_order: EventOrder::ByInstant,
        bin_edge_rule: BinEdgeRule::Exact,
        ..Config::preset(Preset::Paper)
    };
    c.memory.check_fixed_batches = true;
    c.memory.rules = MemoryRules::Arrived;
    c
}

/// A plan result around hand-made runs (the analysis reads only the runs and counts).
pub fn hand_plan(runs: Vec<batchlab::plan::PlanRun>) -> PlanResult {
    PlanResult {
        spec: PlanSpec::new(Preset::Paper),
        workload: "hand-made".into(),
        source_requests: 1000,
        runs,
        best_gpu_count: Some(4),
        best_gpu_count_origin: "given".into(),
    }
}

/// Every source file of the core (`src/`), with its text.
pub fn core_sources() -> Vec<(std::path::PathBuf, String)> {
    fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let mut files = Vec::new();
    walk(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut files);
    files.sort();
    files.into_iter().map(|p| (p.clone(), std::fs::read_to_string(&p).unwrap())).collect()
}

/// The metrics compared with the original simulator's, in this order (its own keys
/// differ between its versions).
pub const COMPARED: [&str; 7] = ["throughput", "latency mean", "latency p50", "latency p99", "request SLA violations", "batch size mean", "batches"];

/// A run's values of `COMPARED`.
pub fn compared(m: &batchlab::metrics::RunMetrics) -> [f64; 7] {
    [m.throughput_rps, m.latency_mean_s, m.latency_p50_s, m.latency_p99_s, m.request_sla_violation_rate, m.batch_size_mean, m.batch_count as f64]
}

/// The largest relative difference between ours and the original's values of
/// `COMPARED`, and which metric it is ("latency p50 1.5 vs 1.4"). Where the original's
/// value is 0, ours must be 0 too.
pub fn worst_difference(ours: &[f64; 7], original: &[f64]) -> (f64, String) {
    (0..7)
        .map(|i| {
            let (a, b) = (ours[i], original[i]);
            let rel = if b == 0.0 { if a == 0.0 { 0.0 } else { f64::INFINITY } } else { (a - b).abs() / b.abs() };
            (rel, format!("{} {a} vs the original's {b}", COMPARED[i]))
        })
        .max_by(|x, y| x.0.total_cmp(&y.0))
        .unwrap()
}
