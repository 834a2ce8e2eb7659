//! The published results of the final paper's study, shipped as reference data: the
//! CSVs of TravisLeeTS/llm-scheduler-sim at commit f1be833 (`stress_test_final/`,
//! `stress_test_low_load/`, `stress_test_ultra_low_load/`: `step1_grid_search.csv`,
//! `step2_comparison.csv`), their numbers as published without the `timestamp` column.
//! They came from the original's own input (`data/BurstGPT_sample.csv`, not in its
//! repository), so a study on the synthetic default compares with them in shape only.

use super::{LoadResult, Sensitivity, StudyResult, StudyRun, StudySpec, STUDY_LOADS};
use crate::csv_input::reference::parse;
pub use crate::csv_input::reference::PublishedRow;
use crate::config::{Config, Load, Preset, SchedulerKind};
use crate::run::RunResult;

const SENSITIVITY: &str = include_str!("published/figures_sensitivity_analysis.csv");
const SEEDS: &str = include_str!("published/figures_multi_seed_variance.csv");

/// Where the numbers come from, for a caption.
pub const SOURCE: &str = "TravisLeeTS/llm-scheduler-sim at f1be833 (stress_test_*/step1_grid_search.csv, step2_comparison.csv)";

/// (load folder, step-1 CSV, step-2 CSV).
const FILES: [(&str, &str, &str); 3] = [
    (
        "stress_test_final",
        include_str!("published/stress_test_final_step1_grid_search.csv"),
        include_str!("published/stress_test_final_step2_comparison.csv"),
    ),
    (
        "stress_test_low_load",
        include_str!("published/stress_test_low_load_step1_grid_search.csv"),
        include_str!("published/stress_test_low_load_step2_comparison.csv"),
    ),
    (
        "stress_test_ultra_low_load",
        include_str!("published/stress_test_ultra_low_load_step1_grid_search.csv"),
        include_str!("published/stress_test_ultra_low_load_step2_comparison.csv"),
    ),
];

/// The published rows of a load folder's step (1: the grid, 2: the comparison); empty
/// for another folder or step.
pub fn published(folder: &str, step: u8) -> Vec<PublishedRow> {
    FILES
        .iter()
        .find(|f| f.0 == folder)
        .map(|&(_, step1, step2)| match step {
            1 => parse(step1, "step1_grid_search.csv"),
            2 => parse(step2, "step2_comparison.csv"),
            _ => Vec::new(),
        })
        .unwrap_or_default()
}

/// A study result holding the published numbers (the metrics the published files have;
/// the rest left at their defaults), so that the figures can be drawn from them exactly
/// as from a study run here.
pub fn study() -> StudyResult {
    let spec = StudySpec::new(Config::preset(Preset::Paper));
    let loads = STUDY_LOADS
        .iter()
        .map(|&(rps, folder)| LoadResult {
            rps_scaling: rps,
            folder: folder.to_string(),
            grid: published(folder, 1).iter().map(|r| as_run(r, rps, SchedulerKind::MultiBinDynamic)).collect(),
            comparison: published(folder, 2)
                .iter()
                .map(|r| {
                    let scheduler = match r.method_number() {
                        Some(1) => SchedulerKind::StaticFifo,
                        Some(2) => SchedulerKind::DynamicNoBins,
                        _ => SchedulerKind::MultiBinDynamic,
                    };
                    StudyRun { method: Some(r.method.clone()), ..as_run(r, rps, scheduler) }
                })
                .collect(),
        })
        .collect();
    StudyResult { spec, workload: SOURCE.to_string(), loads, sensitivity: Some(sensitivity()) }
}

/// Figure 5's published runs: K and GPU sweeps and the seeds, at 10,000 requests, x10.
fn sensitivity() -> Sensitivity {
    let rows = parse(SENSITIVITY, "sensitivity_analysis.csv");
    let raw = |parameter: &str| -> Vec<StudyRun> {
        rows.iter()
            .filter(|r| r.text("parameter") == Some(parameter))
            .map(|r| {
                let value = r.value("value").unwrap_or(0.0) as u32;
                let (gpus, k) = if parameter == "K_BINS" { (4, value) } else { (value, 4) };
                let mut run = as_run(&PublishedRow { num_requests: 10_000, num_gpus: gpus, k_bins: k, ..r.clone() }, 10.0, SchedulerKind::MultiBinDynamic);
                run.result.config.seed = 42;
                run
            })
            .collect()
    };
    let seed_runs = parse(SEEDS, "multi_seed_variance.csv")
        .iter()
        .map(|r| {
            let mut run = as_run(&PublishedRow { num_requests: 10_000, num_gpus: 4, k_bins: 4, ..r.clone() }, 10.0, SchedulerKind::MultiBinDynamic);
            run.result.config.seed = r.value("seed").unwrap_or(0.0) as u64;
            run
        })
        .collect();
    Sensitivity { k_runs: raw("K_BINS"), gpu_runs: raw("NUM_GPUS"), seed_runs }
}

/// A published row as a run: its configuration and the metrics the file holds.
fn as_run(r: &PublishedRow, rps: f64, scheduler: SchedulerKind) -> StudyRun {
    let config = Config {
        scheduler,
        requests: r.num_requests,
        gpus: r.num_gpus,
        k_bins: r.k_bins,
        load: Load::RpsScaling { factor: rps },
        ..Config::preset(Preset::Paper)
    };
    let mut result = RunResult { config, ..RunResult::default() };
    let m = &mut result.metrics;
    let v = |c: &str| r.value(c).unwrap_or(f64::NAN);
    m.requests_completed = r.value("completed_requests").map_or(r.num_requests as u64, |x| x as u64);
    m.throughput_rps = v("throughput_req_s");
    m.throughput_tokens_per_s = v("throughput_tok_s");
    m.latency_mean_s = v("avg_latency_s");
    m.latency_p50_s = v("p50_latency_s");
    m.latency_p95_s = v("p95_latency_s");
    m.latency_p99_s = v("p99_latency_s");
    m.request_sla_violation_rate = v("request_sla_pct") / 100.0;
    m.batch_size_mean = v("avg_batch_size");
    m.gpu_util_mean = v("gpu_utilization_pct") / 100.0;
    StudyRun { rps_scaling: rps, method: None, result, final_metrics: Default::default() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::study::{STUDY_GPUS, STUDY_K, STUDY_LOADS, STUDY_REQUESTS};

    #[test]
    fn every_load_has_its_full_grid_and_four_methods_per_size() {
        for (_, folder) in STUDY_LOADS {
            let grid = published(folder, 1);
            assert_eq!(grid.len(), STUDY_REQUESTS.len() * STUDY_GPUS.len() * STUDY_K.len(), "{folder}");
            assert!(grid.iter().all(|r| r.value("throughput_req_s").is_some_and(|v| v > 0.0)), "{folder}");
            let comparison = published(folder, 2);
            assert_eq!(comparison.len(), STUDY_REQUESTS.len() * 4, "{folder}");
            let methods: Vec<Option<u32>> = comparison.iter().take(4).map(PublishedRow::method_number).collect();
            assert_eq!(methods, [Some(1), Some(2), Some(3), Some(4)], "{folder}");
        }
        assert!(published("elsewhere", 1).is_empty());
    }

    #[test]
    fn the_published_study_reads_as_a_study() {
        let s = study();
        assert_eq!(s.loads.len(), 3);
        assert_eq!(s.loads[0].grid.len(), 192);
        // The first published row: 1,000 requests, 1 GPU, K = 1 at x100: 0.495 req/s.
        let first = &s.loads[0].grid[0].result;
        assert_eq!((first.config.requests, first.config.gpus, first.config.k_bins), (1000, 1, 1));
        assert_eq!(first.metrics.throughput_rps, 0.495);
        let f5 = s.sensitivity.unwrap();
        assert_eq!((f5.k_runs.len(), f5.gpu_runs.len(), f5.seed_runs.len()), (5, 5, 5));
        assert_eq!(f5.k_runs.iter().map(|r| r.result.config.k_bins).collect::<Vec<_>>(), [1, 2, 4, 8, 16]);
        assert_eq!(f5.gpu_runs.iter().map(|r| r.result.config.gpus).collect::<Vec<_>>(), [1, 2, 4, 8, 16]);
        assert_eq!(f5.seed_runs.iter().map(|r| r.result.config.seed).collect::<Vec<_>>(), [0, 1, 2, 3, 4]);
    }

    #[test]
    fn quoted_fields_keep_their_commas() {
        let rows = parse("num_requests,method,x\n1000,\"4. Multi-Bin Dynamic (Optimal: 16 GPUs, 4 bins)\",2.5\n", "t.csv");
        assert_eq!(rows[0].method, "4. Multi-Bin Dynamic (Optimal: 16 GPUs, 4 bins)");
        assert_eq!((rows[0].num_requests, rows[0].value("x")), (1000, Some(2.5)));
    }
}
