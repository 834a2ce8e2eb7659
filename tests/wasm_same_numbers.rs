//! The core in wasm32, in headless Chromium (wasm-bindgen-test): fixed-seed runs and a
//! small plan must give the same bytes as the native CLI. scripts/test-browser.sh writes
//! the CLI's files into $BATCHLAB_GOLDEN first; this file compiles them in.
//! (Native builds skip this file: the CLI tests cover native.)
#![cfg(target_arch = "wasm32")]

use batchlab::config::{Config, Preset, SchedulerKind};
use batchlab::plan::PlanSpec;
use batchlab::report::without_wall_clock;
use batchlab::session::{InputFile, Inputs, Session};
use batchlab::token::{now, CpuTokenPass};
use batchlab_web::jobs::{execute, PLAN_PREFIX};
use batchlab_web::protocol::{Request, Response};
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

macro_rules! golden {
    ($path:literal) => {
        include_str!(concat!(env!("BATCHLAB_GOLDEN"), "/", $path))
    };
}

/// `batchlab run --preset P --requests 3000 --gpus 2 --k 4 --seed 11 --scheduler S`.
const RUNS: [(Preset, SchedulerKind, &str); 5] = [
    (Preset::Paper, SchedulerKind::StaticFifo, golden!("paper-static_fifo/run.csv")),
    (Preset::Paper, SchedulerKind::DynamicNoBins, golden!("paper-dynamic_no_bins/run.csv")),
    (Preset::Paper, SchedulerKind::MultiBinDynamic, golden!("paper-multi_bin_dynamic/run.csv")),
    (Preset::Paper, SchedulerKind::MultiBinFixed, golden!("paper-multi_bin_fixed/run.csv")),
    (Preset::Compat, SchedulerKind::MultiBinDynamic, golden!("compat-multi_bin_dynamic/run.csv")),
];

#[wasm_bindgen_test]
fn fixed_seed_runs_equal_the_native_cli() {
    let session = Session::open(&Inputs::default()).unwrap();
    for (preset, scheduler, native) in RUNS {
        let config = Config { requests: 3_000, gpus: 2, k_bins: 4, seed: 11, scheduler, ..Config::preset(preset) };
        let out = now(session.run(preset, &config, &|| 0.0, CpuTokenPass)).unwrap();
        assert_eq!(without_wall_clock(&out.csv), without_wall_clock(native), "{} {}", preset.name(), scheduler.name());
    }
}

/// `batchlab stress --preset paper --max-requests 2000 --max-gpus 4 --seed 3`.
#[wasm_bindgen_test]
fn a_small_plan_equals_the_native_cli() {
    let mut spec = PlanSpec::new(Preset::Paper);
    spec.max_requests = 2_000;
    spec.max_gpus = 4;
    spec.base.seed = 3;
    let session = Session::open(&Inputs::default()).unwrap();
    let hooks = batchlab::Hooks { clock: &|| 0.0, progress: &mut |_| true };
    let plan = now(session.plan(Preset::Paper, &spec, hooks, CpuTokenPass, PLAN_PREFIX)).unwrap();
    let native = [
        golden!("plan/comprehensive_stress_results_step1_request_scaling.csv"),
        golden!("plan/comprehensive_stress_results_step2_gpu_scaling.csv"),
        golden!("plan/comprehensive_stress_results_step3_kbins_sensitivity.csv"),
        golden!("plan/comprehensive_stress_results_all_results.csv"),
        golden!("plan/comprehensive_stress_results_analysis.json"),
        golden!("plan/comprehensive_stress_results_published_vs_reproduced.csv"),
    ];
    assert_eq!(plan.files.len(), native.len());
    for ((name, text), native) in plan.files.iter().zip(native) {
        assert!(name.starts_with(PLAN_PREFIX));
        if name.ends_with(".csv") {
            assert_eq!(without_wall_clock(text), without_wall_clock(native), "{name}");
        } else {
            assert_eq!(text, native, "{name}");
        }
    }
}

/// `batchlab run --trace burstgpt_sample.csv --requests 1000 --gpus 2 --real-timestamps
/// --predictor oracle` (run in tests/browser/fixtures, so the file names agree).
#[wasm_bindgen_test]
fn a_trace_run_equals_the_native_cli() {
    let trace = InputFile { name: "burstgpt_sample.csv".into(), bytes: include_bytes!("browser/fixtures/burstgpt_sample.csv").to_vec() };
    let session = Session::open(&Inputs { trace: Some(trace), calibration: None, iteration_profile: None }).unwrap();
    assert_eq!(session.trace().unwrap().report.rows_read, 600);
    let config = Config {
        requests: 1_000,
        gpus: 2,
        load: batchlab::config::Load::RealTimestamps,
        predictor: batchlab::config::Predictor::Oracle,
        ..Config::preset(Preset::Paper)
    };
    let out = now(session.run(Preset::Paper, &config, &|| 0.0, CpuTokenPass)).unwrap();
    assert_eq!(without_wall_clock(&out.csv), without_wall_clock(golden!("trace/run.csv")));
}
