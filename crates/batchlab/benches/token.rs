//! Criterion benchmark of the token pass on the CPU (the reference backend): the
//! 1M-request synthetic run (multi_bin_dynamic, 4 GPUs, K = 8), reported as output
//! tokens per second (one decode step per output token).
//!
//!     cargo bench -p batchlab --bench token
//!
//! Three models: the default (padded, kappa = 0: every gap of a batch is the same f32,
//! counted per segment), early exit without context cost, and padded with a context
//! cost (kappa > 0: every gap evaluated and bucketed one by one — the general path).

use batchlab::latency::CalibrationGrid;
use std::hint::black_box;

use batchlab::config::{Config, Preset, SchedulerKind};
use batchlab::latency::LatencyModel;
use batchlab::run::simulate_run_with_schedule;
use batchlab::token::{run_cpu, Semantics, Slas, TokenModelConfig};
use batchlab::workload::{build, Source};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

const REQUESTS: usize = 1_000_000;

fn token_pass(c: &mut Criterion) {
    let cfg = Config {
        scheduler: SchedulerKind::MultiBinDynamic,
        gpus: 4,
        k_bins: 8,
        requests: REQUESTS,
        ..Config::preset(Preset::Paper)
    };
    let source = Source::Synthetic(cfg.synthetic);
    let workload = build(source, cfg.requests, &cfg).expect("valid workload");
    let model = LatencyModel::new(CalibrationGrid::for_preset(Preset::Paper), cfg.latency_mode).expect("built-in grid fits");
    let (_, schedule) = simulate_run_with_schedule(&workload, &cfg, &model, "bench").expect("valid run");
    let slas = Slas::from_config(&cfg);
    let output_tokens: u64 = workload.output_tokens.iter().map(|&o| o as u64).sum();
    let base = TokenModelConfig::from_latency(&model);
    let mut group = c.benchmark_group("token pass, 1M requests (output tokens)");
    group.throughput(Throughput::Elements(output_tokens));
    group.sample_size(10);
    for (name, semantics, kappa) in [
        ("cpu padded kappa=0", Semantics::Padded, 0.0),
        ("cpu early_exit kappa=0", Semantics::EarlyExit, 0.0),
        ("cpu padded kappa=0.5", Semantics::Padded, 0.5),
    ] {
        let tm = TokenModelConfig { semantics, kappa, ..base };
        group.bench_function(name, |b| b.iter(|| run_cpu(black_box(&workload), &schedule, &tm, &slas).expect("valid pass")));
    }
    group.finish();
}

criterion_group!(benches, token_pass);
criterion_main!(benches);
