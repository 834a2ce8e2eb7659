//! Criterion benchmarks of the hot path: generating the 1M-request synthetic
//! (BurstGPT-like) workload, and simulating it with multi_bin_dynamic on 4 GPUs, K = 8.
//!
//!     cargo bench -p batchlab --bench simulate
//!
//! (`batchlab bench` in the CLI gives the same figures as a quick table.)

use batchlab::latency::CalibrationGrid;
use std::hint::black_box;

use batchlab::config::{Config, Preset, SchedulerKind};
use batchlab::latency::LatencyModel;
use batchlab::run::simulate_run;
use batchlab::workload::{build, Source};
use criterion::{criterion_group, criterion_main, Criterion};

const REQUESTS: usize = 1_000_000;

fn config() -> Config {
    Config {
        scheduler: SchedulerKind::MultiBinDynamic,
        gpus: 4,
        k_bins: 8,
        requests: REQUESTS,
        ..Config::preset(Preset::Paper)
    }
}

fn generate(c: &mut Criterion) {
    let cfg = config();
    let source = Source::Synthetic(cfg.synthetic);
    c.bench_function("generate 1M synthetic requests", |b| {
        b.iter(|| build(source, black_box(cfg.requests), &cfg).expect("valid workload"))
    });
}

fn simulate(c: &mut Criterion) {
    let cfg = config();
    let source = Source::Synthetic(cfg.synthetic);
    let workload = build(source, cfg.requests, &cfg).expect("valid workload");
    let model = LatencyModel::new(CalibrationGrid::for_preset(Preset::Paper), cfg.latency_mode).expect("built-in grid fits");
    let name = source.describe();
    c.bench_function("simulate 1M requests, multi_bin_dynamic, 4 GPUs, K = 8", |b| {
        b.iter(|| simulate_run(black_box(&workload), &cfg, &model, &name).expect("valid run"))
    });
}

criterion_group! {
    name = benches;
    // One 1M-request iteration takes a fraction of a second: 10 samples are plenty.
    config = Criterion::default().sample_size(10);
    targets = generate, simulate
}
criterion_main!(benches);
