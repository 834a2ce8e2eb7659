//! The plan's files: names, row counts, rectangular CSVs, parseable analysis, and
//! byte-identical output for identical input (apart from the wall-clock column).

use batchlab::latency::CalibrationGrid;
use batchlab::config::{Preset, Synthetic};
use batchlab::error::Error;
use batchlab::plan::{run_plan, Hooks, PlanResult, PlanSpec};
use batchlab::report::{plan_files, without_wall_clock};
use batchlab::workload::Source;

/// The paper's plan capped at 2,000 requests and 4 GPUs. `tick_s`: how far the fake
/// clock moves per reading; each run reads it before and after, so every run's
/// wall_time_s is exactly `tick_s`.
fn small_plan(seed: u64, tick_s: f64) -> PlanResult {
    let mut spec = PlanSpec::new(Preset::Paper);
    spec.max_requests = 2_000;
    spec.max_gpus = 4;
    spec.base.seed = seed;
    let now = std::cell::Cell::new(0.0);
    run_plan(
        Source::Synthetic(Synthetic::BurstGpt),
        &CalibrationGrid::for_preset(Preset::Paper),
        &spec,
        Hooks {
            clock: &|| {
                now.set(now.get() + tick_s);
                now.get()
            },
            progress: &mut |_| true,
        },
    )
    .unwrap()
}

#[test]
fn plan_writes_six_files_with_the_right_rows() {
    let plan = small_plan(1, 0.25);
    let files = plan_files(&plan, "p");
    let names: Vec<&str> = files.iter().map(|f| f.0.as_str()).collect();
    assert_eq!(
        names,
        [
            "p_step1_request_scaling.csv",
            "p_step2_gpu_scaling.csv",
            "p_step3_kbins_sensitivity.csv",
            "p_all_results.csv",
            "p_analysis.json",
            "p_published_vs_reproduced.csv"
        ]
    );
    // Step 1: N = 1000 only (cap 2000) x 5 configurations; step 2: 1, 2, 4 GPUs; step 3: 6 K.
    let rows: Vec<usize> = files[..4].iter().map(|f| f.1.lines().count() - 1).collect();
    assert_eq!(rows, [5, 3, 6, 14]);
    for (name, csv) in &files[..4] {
        // Rectangular under a real CSV reader (text cells may be quoted).
        let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(csv.as_bytes());
        let status = reader.headers().unwrap().iter().position(|h| h == "status").unwrap();
        for record in reader.records() {
            assert_eq!(&record.unwrap_or_else(|e| panic!("{name}: {e}"))[status], "ok", "{name}");
        }
    }
    let analysis: serde_json::Value = serde_json::from_str(&files[4].1).unwrap();
    assert!(!analysis["key_findings"].as_array().unwrap().is_empty());
    assert_eq!(analysis["runs"], 14);
    assert!(analysis["best_gpu_count"].as_u64().is_some());
}

/// The header and rows of a CSV (text cells may be quoted and hold commas).
fn table(csv: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let header = reader.headers().unwrap().iter().map(str::to_string).collect();
    let rows = reader.records().map(|r| r.unwrap().iter().map(str::to_string).collect()).collect();
    (header, rows)
}

#[test]
fn same_seed_same_bytes_apart_from_wall_clock() {
    // Same seed, clocks of different speeds: each run's wall_time_s is a whole number of
    // ticks (the same number in both plans), 0.25 s a tick in one plan and 0.5 s in the
    // other, and nothing else may differ.
    let (a, b) = (plan_files(&small_plan(3, 0.25), "x"), plan_files(&small_plan(3, 0.5), "x"));
    for (fa, fb) in a.iter().zip(&b).take(4) {
        assert_ne!(fa.1, fb.1, "{}: the wall-clock column was not exercised", fa.0);
        assert_eq!(without_wall_clock(&fa.1), without_wall_clock(&fb.1), "{}", fa.0);
        let ((header, rows_a), (_, rows_b)) = (table(&fa.1), table(&fb.1));
        let wall = header.iter().position(|h| h == "wall_time_s").unwrap();
        assert_eq!(rows_a.len(), rows_b.len());
        for (ra, rb) in rows_a.iter().zip(&rows_b) {
            let (wa, wb) = (ra[wall].parse::<f64>().unwrap(), rb[wall].parse::<f64>().unwrap());
            assert!(wa > 0.0 && (wa / 0.25).fract() == 0.0 && wb == 2.0 * wa, "{}: {wa} and {wb}", fa.0);
            let differing: Vec<&str> =
                (0..header.len()).filter(|&i| ra[i] != rb[i]).map(|i| header[i].as_str()).collect();
            assert_eq!(differing, ["wall_time_s"], "{}", fa.0);
        }
    }
    // The analysis carries no wall-clock time: identical.
    assert_eq!(a[4], b[4]);
    let c = plan_files(&small_plan(4, 0.25), "x");
    assert_ne!(without_wall_clock(&a[3].1), without_wall_clock(&c[3].1), "another seed, other results");
}

#[test]
fn plan_can_be_cancelled_between_runs() {
    let mut spec = PlanSpec::new(Preset::Paper);
    spec.max_requests = 1_000;
    let mut calls = 0;
    let err = run_plan(
        Source::Synthetic(Synthetic::BurstGpt),
        &CalibrationGrid::for_preset(Preset::Paper),
        &spec,
        Hooks {
            clock: &|| 0.0,
            progress: &mut |p| {
                calls += 1;
                assert_eq!(p.runs_done, calls);
                calls < 3
            },
        },
    )
    .unwrap_err();
    assert_eq!(err, Error::Cancelled);
    assert_eq!(calls, 3);
}
