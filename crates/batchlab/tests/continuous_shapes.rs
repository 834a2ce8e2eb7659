//! Shapes continuous batching must show (orderings, never values): TTFT grows with load,
//! with and without chunked prefill; the gaps between tokens grow with the number of
//! sequences an iteration carries; chunked prefill shortens the decodes' stalls; and at
//! a load the batch schedulers cannot carry, continuous batching carries more.

use batchlab::config::{Config, Load, Preset, SchedulerKind, Synthetic};
use batchlab::latency::{CalibrationGrid, LatencyModel};
use batchlab::metrics::RunMetrics;
use batchlab::run::simulate_run;
use batchlab::workload::{build, Source, Workload};

fn run(w: &Workload, cfg: &Config) -> RunMetrics {
    let model = LatencyModel::new(CalibrationGrid::for_preset(Preset::Paper), cfg.latency_mode).unwrap();
    simulate_run(w, cfg, &model, "shape").unwrap().metrics
}

/// The paper preset's continuous batching on a Poisson workload at `factor` times its rate.
fn at_load(factor: f64, chunk: Option<u32>, scheduler: SchedulerKind) -> RunMetrics {
    let mut cfg = Config {
        scheduler,
        requests: 20_000,
        synthetic: Synthetic::Poisson { rate_rps: 0.27 },
        load: Load::RpsScaling { factor },
        ..Config::preset(Preset::Paper)
    };
    if let Some(tokens) = chunk {
        cfg.iteration.chunked_prefill = true;
        cfg.iteration.max_batched_tokens = tokens;
    }
    let w = build(Source::Synthetic(cfg.synthetic), cfg.requests, &cfg).unwrap();
    run(&w, &cfg)
}

fn increasing(xs: &[f64]) -> bool {
    xs.windows(2).all(|p| p[1] > p[0])
}

#[test]
fn ttft_grows_with_load_with_and_without_chunked_prefill() {
    for chunk in [None, Some(512)] {
        let ttft: Vec<f64> = [20.0, 50.0, 100.0, 200.0].iter().map(|&f| at_load(f, chunk, SchedulerKind::Continuous).ttft_p50_s).collect();
        assert!(increasing(&ttft), "chunk {chunk:?}: TTFT p50 {ttft:?}");
    }
}

#[test]
fn gaps_grow_with_the_sequences_an_iteration_carries() {
    // 2,000 equal requests at once: the cap on running sequences sets the occupancy.
    let n = 2_000;
    let w = Workload {
        arrival_s: vec![0.0; n],
        prompt_tokens: vec![100; n],
        output_tokens: vec![200; n],
        predicted_output_tokens: vec![200; n],
    };
    let (mut occupancy, mut gap, mut throughput) = (Vec::new(), Vec::new(), Vec::new());
    for max_seqs in [4, 16, 64] {
        let mut cfg = Config { scheduler: SchedulerKind::Continuous, gpus: 1, requests: n, ..Config::preset(Preset::Paper) };
        cfg.iteration.max_seqs = max_seqs;
        let model = LatencyModel::new(CalibrationGrid::for_preset(Preset::Paper), cfg.latency_mode).unwrap();
        let r = simulate_run(&w, &cfg, &model, "shape").unwrap();
        // The time series: KV use a share, never more sequences running than allowed,
        // and the cap reached while 2,000 requests wait.
        let ts = &r.timeseries;
        assert!(ts.kv_used.iter().all(|&u| (0.0..=1.0).contains(&u)));
        assert_eq!(ts.running.iter().copied().max(), Some(max_seqs));
        // The queue: all but the first max_seqs at most, empty once the last ones run.
        let queue = &ts.queue_len[0];
        assert_eq!(queue.iter().max(), Some(&(n as u32 - max_seqs)), "{queue:?}");
        assert_eq!(queue.last(), Some(&0), "{queue:?}");
        let m = r.metrics;
        occupancy.push(m.batch_size_mean);
        gap.push(m.tbt_p50_s);
        throughput.push(m.throughput_tokens_per_s);
    }
    assert!(increasing(&occupancy), "occupancy {occupancy:?}");
    assert!(increasing(&gap), "TBT p50 {gap:?}");
    // More sequences per iteration share its weight reads: more tokens per second.
    assert!(increasing(&throughput), "tokens/s {throughput:?}");
}

#[test]
fn chunked_prefill_bounds_the_decodes_stalls() {
    // At a light load (no preemption), the longest gap is a decode stalled by a prefill:
    // a whole long prompt without chunking, at most one chunk's worth with it.
    let whole = at_load(20.0, None, SchedulerKind::Continuous);
    let chunked = at_load(20.0, Some(512), SchedulerKind::Continuous);
    assert_eq!(whole.continuous.as_ref().unwrap().preemptions + chunked.continuous.as_ref().unwrap().preemptions, 0);
    assert!(chunked.tbt_max_s < 0.5 * whole.tbt_max_s, "TBT max chunked {} whole {}", chunked.tbt_max_s, whole.tbt_max_s);
}

#[test]
fn continuous_batching_carries_a_load_dynamic_batching_cannot() {
    let dynamic = at_load(100.0, None, SchedulerKind::DynamicNoBins);
    let continuous = at_load(100.0, None, SchedulerKind::Continuous);
    assert!(dynamic.throughput_rps < 0.5 * dynamic.arrival_rate_rps, "the batch scheduler is overloaded here");
    assert!(continuous.throughput_rps > dynamic.throughput_rps, "continuous {} dynamic {}", continuous.throughput_rps, dynamic.throughput_rps);
}
