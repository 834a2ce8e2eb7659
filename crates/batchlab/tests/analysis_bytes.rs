//! The analysis JSON, byte for byte, against reference files in `tests/data/analysis/`:
//! shells and users read these files, so a change of key order, number format or
//! null handling must be deliberate. The plans are small real ones (every preset, step 2
//! alone, failed runs) and hand-made ones whose numbers do not depend on the engine
//! (non-finite values, empty steps, notes).
//!
//! The real plans' numbers follow the engine: after a deliberate change of the model,
//! rewrite the references with `BATCHLAB_BLESS=1 cargo test -p batchlab --test
//! analysis_bytes` and review the diff. The version is stored as `VERSION`, so a version
//! bump rewrites nothing.

mod common;

use std::path::PathBuf;

use batchlab::analysis::{analyse, analysis_json};
use batchlab::config::{Preset, SchedulerKind};
use batchlab::plan::{PlanResult, PlanRun, PlanSpec};
use batchlab::run::RunResult;

/// A real plan capped at 1,000 requests and 4 GPUs (14 runs for the full plan); the
/// token pass fails on the calls `fail` says (counted from 0).
fn real_plan(preset: Preset, steps: [bool; 3], fail: &dyn Fn(usize) -> bool) -> PlanResult {
    let mut spec = PlanSpec::new(preset);
    spec.steps = steps;
    spec.max_requests = 1_000;
    spec.max_gpus = 4;
    common::plan_failing(preset, &spec, fail)
}

/// A successful hand-made run: configuration and the metrics the analysis reads.
struct Row {
    step: u8,
    scheduler: SchedulerKind,
    gpus: u32,
    k: u32,
    n: usize,
    thr: f64,
    lat: f64,
    cap: f64,
}

fn hand_run(row: Row) -> PlanRun {
    let mut r = RunResult::default();
    r.config.scheduler = row.scheduler;
    r.config.gpus = row.gpus;
    r.config.k_bins = row.k;
    r.config.requests = row.n;
    r.metrics.throughput_rps = row.thr;
    r.metrics.latency_mean_s = row.lat;
    r.metrics.latency_p99_s = 2.0 * row.lat;
    r.metrics.capacity_under_sla_rps = row.cap;
    r.metrics.request_sla_violation_rate = 0.1 * row.gpus as f64;
    r.metrics.gpu_util_mean = 0.5;
    r.metrics.batch_size_mean = 4.0;
    r.metrics.arrival_rate_rps = 50.0;
    let label = format!("step{} {} GPUs={} K={} N={}", row.step, row.scheduler, row.gpus, row.k, row.n);
    PlanRun { step: row.step, label, result: Ok(r) }
}

fn failed(step: u8, label: &str) -> PlanRun {
    PlanRun { step, label: label.into(), result: Err("boom".into()) }
}


/// Step 1 at two sizes with every configuration (1 and 4 GPUs), step 2 and step 3.
fn hand_full() -> PlanResult {
    use SchedulerKind::*;
    let mut runs = Vec::new();
    for (i, n) in [1_000, 10_000].into_iter().enumerate() {
        let f = 1.0 + i as f64;
        for (s, g, thr, lat, cap) in [
            (StaticFifo, 1, 10.0, 4.0, 2.0),
            (DynamicNoBins, 1, 15.0, 3.0, 3.0),
            (MultiBinDynamic, 1, 18.0, 2.5, 3.5),
            (MultiBinDynamic, 4, 40.0, 1.0, 9.0),
        ] {
            runs.push(hand_run(Row { step: 1, scheduler: s, gpus: g, k: 8, n, thr: thr * f, lat: lat / f, cap }));
        }
    }
    for (g, thr) in [(1, 10.0), (2, 19.0), (4, 30.0), (8, 31.0)] {
        runs.push(hand_run(Row { step: 2, scheduler: MultiBinDynamic, gpus: g, k: 8, n: 1000, thr, lat: 1.0, cap: thr / 2.0 }));
    }
    let cap = [5.0, 7.0, 7.0, 6.0, 7.0, 3.0];
    let thr = [10.0, 12.0, 11.0, 12.0, 9.0, 10.0];
    for (i, k) in [1, 2, 4, 8, 16, 32].into_iter().enumerate() {
        runs.push(hand_run(Row { step: 3, scheduler: MultiBinDynamic, gpus: 4, k, n: 1000, thr: thr[i], lat: 1.0 + i as f64, cap: cap[i] }));
    }
    common::hand_plan(runs)
}

/// Zeros, NaN and infinities wherever the analysis divides or compares: they must come
/// out as `null` (serde_json's spelling of a non-finite number), never as a failure.
fn hand_non_finite() -> PlanResult {
    use SchedulerKind::*;
    let row = |step, scheduler, gpus, k, thr, lat, cap| Row { step, scheduler, gpus, k, n: 1000, thr, lat, cap };
    let runs = vec![
        hand_run(row(1, StaticFifo, 1, 8, 0.0, 0.0, 0.0)),
        hand_run(row(1, DynamicNoBins, 1, 8, 5.0, f64::INFINITY, f64::NAN)),
        hand_run(row(1, MultiBinDynamic, 4, 8, f64::NAN, 2.0, 1.0)),
        hand_run(row(2, MultiBinDynamic, 1, 8, 0.0, 1.0, f64::NAN)),
        hand_run(row(2, MultiBinDynamic, 2, 8, 3.0, f64::NAN, 1.0)),
        hand_run(row(3, MultiBinDynamic, 2, 1, 0.0, 0.0, f64::NAN)),
        hand_run(row(3, MultiBinDynamic, 2, 2, 0.0, 1.0, f64::NAN)),
    ];
    common::hand_plan(runs)
}

/// Failed runs and repeated notes; step 3 has no successful run (its section is null).
fn hand_failures_and_notes() -> PlanResult {
    let mut noted = hand_run(Row { step: 2, scheduler: SchedulerKind::MultiBinDynamic, gpus: 1, k: 8, n: 1000, thr: 10.0, lat: 1.0, cap: 1.0 });
    let mut again = hand_run(Row { step: 2, scheduler: SchedulerKind::MultiBinDynamic, gpus: 2, k: 8, n: 1000, thr: 12.0, lat: 1.0, cap: 1.0 });
    for r in [&mut noted, &mut again] {
        r.result.as_mut().unwrap().notes.push("the token SLA cannot bind".into());
    }
    let mut plan = common::hand_plan(vec![failed(1, "step1 static_fifo N=1000"), noted, again, failed(3, "step3 K=4")]);
    plan.best_gpu_count = None;
    plan
}

/// Every case: (reference file name, plan).
fn cases() -> Vec<(&'static str, PlanResult)> {
    let all = [true; 3];
    vec![
        ("paper", real_plan(Preset::Paper, all, &|_| false)),
        ("first_results", real_plan(Preset::FirstResults, all, &|_| false)),
        ("compat", real_plan(Preset::Compat, all, &|_| false)),
        ("paper_step2_only", real_plan(Preset::Paper, [false, true, false], &|_| false)),
        ("paper_some_failed", real_plan(Preset::Paper, all, &|call| call % 3 == 1)),
        ("paper_all_failed", real_plan(Preset::Paper, all, &|_| true)),
        ("hand_full", hand_full()),
        ("hand_non_finite", hand_non_finite()),
        ("hand_failures_and_notes", hand_failures_and_notes()),
        ("hand_empty", common::hand_plan(Vec::new())),
    ]
}

fn reference_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/analysis").join(format!("{name}.json"))
}

/// The analysis with the crate's version replaced by `VERSION`.
fn analysis_without_version(plan: &PlanResult) -> String {
    let version = format!("\"batchlab_version\": \"{}\"", batchlab::VERSION);
    let json = analysis_json(plan);
    assert!(json.contains(&version), "no version line in:\n{json}");
    json.replacen(&version, "\"batchlab_version\": \"VERSION\"", 1)
}

#[test]
fn analysis_json_matches_the_reference_files_byte_for_byte() {
    let bless = std::env::var("BATCHLAB_BLESS").as_deref() == Ok("1");
    let mut differ = Vec::new();
    for (name, plan) in cases() {
        let path = reference_path(name);
        let got = analysis_without_version(&plan);
        if bless {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &got).unwrap();
            continue;
        }
        let want = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{}: {e} (BATCHLAB_BLESS=1 writes it)", path.display()));
        if got != want {
            let same = got.lines().zip(want.lines()).take_while(|(a, b)| a == b).count();
            let line = same + 1;
            differ.push(format!("{name} (first difference at line {line})"));
        }
    }
    assert!(differ.is_empty(), "analysis JSON differs from tests/data/analysis: {differ:?}");
}

/// The analysis's structs declare their fields alphabetically, as the file's keys have
/// always been sorted; a field added out of order would pass a blessed reference file,
/// but not this: a `serde_json::Value` (whose map sorts keys, the crate's
/// `preserve_order` feature being off) must give the same bytes as the struct.
#[test]
fn analysis_keys_are_sorted_at_every_level() {
    for (name, plan) in cases() {
        let a = analyse(&plan);
        let via_value = serde_json::to_string_pretty(&serde_json::to_value(&a).unwrap()).unwrap();
        assert_eq!(a.to_json(), via_value, "{name}: keys out of alphabetical order");
    }
}
