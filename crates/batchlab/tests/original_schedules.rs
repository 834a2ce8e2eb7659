//! BatchLab beside the original simulator on the same requests: `tests/data/original/`
//! holds, for small traces (arrival, prompt, output and the original's own predicted
//! output length), the metrics the original printed for each scheduler at 1 and 4 GPUs
//! (dd5f07f for `compat`, f1be833 for `paper`) and, for unique-stamp `compat` runs on 4
//! GPUs, every request's start, completion and GPU. Only numbers: they were produced by
//! running the original's code (outside this repository) through its own stress-test
//! and comparison runners, with /work/shared/peer's scripts.

use batchlab::config::{Config, Load, Predictor, Preset, SchedulerKind};
use batchlab::engine::simulate;
use batchlab::latency::{CalibrationGrid, LatencyModel};
use batchlab::run::simulate_run;
use batchlab::workload::{build, parse_trace, Source, Workload};
use common::{compared, worst_difference};

mod common;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/original");

/// One row of `metrics.csv`.
struct Case {
    version: String,
    stamps: String,
    requests: usize,
    scheduler: SchedulerKind,
    gpus: u32,
    k_bins: u32,
    /// throughput, mean / p50 / p99 latency, request-SLA violations, mean batch size, batches.
    original: [f64; 7],
}


fn cases() -> Vec<Case> {
    let text = std::fs::read_to_string(format!("{DATA}/metrics.csv")).unwrap();
    text.lines()
        .skip(1)
        .map(|line| {
            let f: Vec<&str> = line.split(',').collect();
            Case {
                version: f[0].into(),
                stamps: f[1].into(),
                requests: f[2].parse().unwrap(),
                // The original calls multi_bin_fixed "multi_bin_only".
                scheduler: f[3].parse().unwrap(),
                gpus: f[4].parse().unwrap(),
                k_bins: f[5].parse().unwrap(),
                original: std::array::from_fn(|i| f[6 + i].parse().unwrap()),
            }
        })
        .collect()
}

fn preset(version: &str) -> Preset {
    match version {
        "compat" => Preset::Compat,
        "paper" => Preset::Paper,
        v => panic!("unknown version {v}"),
    }
}

/// The case's requests with the original's predictions, and its configuration.
fn setup(c: &Case) -> (Workload, Config, LatencyModel) {
    let file = format!("{}_{}_trace.csv", c.version, c.stamps);
    let trace = parse_trace(&std::fs::read(format!("{DATA}/{file}")).unwrap(), &file).unwrap();
    let preset = preset(&c.version);
    let cfg = Config {
        scheduler: c.scheduler,
        gpus: c.gpus,
        k_bins: c.k_bins,
        requests: c.requests,
        load: Load::RealTimestamps,
        predictor: Predictor::Trace,
        ..Config::preset(preset)
    };
    let w = build(Source::Trace(&trace), c.requests, &cfg).unwrap();
    let model = LatencyModel::new(CalibrationGrid::for_preset(preset), cfg.latency_mode).unwrap();
    (w, cfg, model)
}

fn label(c: &Case) -> String {
    format!("{} {} N={} {} GPUs={} K={}", c.version, c.stamps, c.requests, c.scheduler, c.gpus, c.k_bins)
}

/// `compat` reproduces dd5f07f: every metric of every case the original can run (its
/// multi_bin_only fails before the first batch, so multi_bin_fixed has no reference),
/// on whole-second stamps (ties in the original's heap order) and on unique ones.
#[test]
fn compat_matches_the_first_version() {
    for c in cases().iter().filter(|c| c.version == "compat") {
        let (w, cfg, model) = setup(c);
        let r = simulate_run(&w, &cfg, &model, "original").unwrap();
        let (worst, what) = worst_difference(&compared(&r.metrics), &c.original);
        assert!(worst < 1e-9, "{}: {what}", label(c));
    }
}

/// On unique stamps, `compat` starts and completes every request when dd5f07f did. (Not
/// on the same GPU: the original's dump names other GPUs from the first time two are
/// idle together, e.g. request 27 on GPU 1 while GPU 0 is idle too; GPUs are
/// interchangeable, so no time and no metric above depends on it; not yet explained.)
#[test]
fn compat_schedules_every_request_as_the_first_version() {
    for scheduler in ["static_fifo", "dynamic_no_bins", "multi_bin_dynamic"] {
        let file = format!("{DATA}/compat_unique_n1000_{scheduler}_g4_schedule.csv");
        let text = std::fs::read_to_string(&file).unwrap();
        let c = cases()
            .into_iter()
            .find(|c| c.version == "compat" && c.stamps == "unique" && c.requests == 1000 && c.gpus == 4 && c.scheduler.to_string() == scheduler)
            .unwrap();
        let (w, cfg, model) = setup(&c);
        let s = simulate(&w, &cfg, &model);
        for line in text.lines().skip(1) {
            let f: Vec<f64> = line.split(',').map(|x| x.parse().unwrap()).collect();
            let i = f[0] as usize;
            // The original's file rounds times to 4 decimals.
            let close = |a: f64, b: f64| (a - b).abs() < 1e-4 + 1e-12 * b.abs();
            assert!(
                close(s.start_s[i], f[1]) && close(s.finish_s[i], f[2]),
                "{scheduler}: request {i}: start {} finish {}, the original {} {}",
                s.start_s[i], s.finish_s[i], f[1], f[2]
            );
        }
    }
}

/// `paper` reproduces f1be833 as `step2_comparison.py` runs it: every metric of every
/// scheduler, whole-second and unique stamps (its multi_bin_only is our multi_bin_fixed).
#[test]
fn paper_matches_the_final_version() {
    for c in cases().iter().filter(|c| c.version == "paper") {
        let (w, cfg, model) = setup(c);
        let r = simulate_run(&w, &cfg, &model, "original").unwrap();
        let (worst, what) = worst_difference(&compared(&r.metrics), &c.original);
        assert!(worst < 1e-9, "{}: {what}", label(c));
    }
}
