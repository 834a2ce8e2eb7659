//! Requests with 0 output tokens (BurstGPT's failed requests, kept by `compat` and
//! `paper` as the original keeps them): they are batched and served like any other
//! (their sequence is the prompt alone), have no first token and no decode gap, so they
//! add nothing to TTFT or TBT, never violate the per-token SLA, and count in every
//! request metric. Nothing divides by their zero length.

use batchlab::config::{Config, EventOrder, LatencyMode, Load, Preset, SchedulerKind};
use batchlab::latency::{CalibrationGrid, LatencyModel};
use batchlab::run::simulate_run;
use batchlab::token::Semantics;
use batchlab::workload::Workload;

/// `n` requests a second apart; every `zero_every`-th has 0 output tokens (and every
/// fourth of those an empty prompt too: a sequence of length 0).
fn workload(n: usize, zero_every: usize) -> Workload {
    #[allow(clippy::manual_is_multiple_of)] // is_multiple_of needs Rust 1.87; the workspace says 1.85
    let zero = |i: usize| i % zero_every == 0;
    Workload {
        arrival_s: (0..n).map(|i| i as f64 * 0.05).collect(),
        prompt_tokens: (0..n).map(|i| if zero(i) && i % (4 * zero_every) == 0 { 0 } else { 1 + (i as u32 * 37) % 900 }).collect(),
        output_tokens: (0..n).map(|i| if zero(i) { 0 } else { 1 + (i as u32 * 53) % 400 }).collect(),
        predicted_output_tokens: (0..n).map(|i| 1 + (i as u32 * 29) % 300).collect(),
    }
}

fn run(w: &Workload, cfg: &Config) -> batchlab::metrics::RunMetrics {
    let model = LatencyModel::new(CalibrationGrid::for_preset(Preset::Paper), cfg.latency_mode).unwrap();
    simulate_run(w, cfg, &model, "zero").unwrap().metrics
}

#[test]
fn every_scheduler_serves_zero_output_requests_without_nan_or_panic() {
    for zero_every in [1, 3] {
        let w = workload(300, zero_every);
        for preset in [Preset::Paper, Preset::Compat, Preset::FirstResults] {
            for &scheduler in SchedulerKind::ALL {
                for (event_order, latency_mode, token_semantics) in [
                    (EventOrder::OneAtATime, LatencyMode::Fit, Semantics::Padded),
                    (EventOrder::ByInstant, LatencyMode::Grid, Semantics::EarlyExit),
                ] {
                    let cfg = Config {
                        scheduler,
                        gpus: 2,
                        k_bins: 4,
                        requests: w.len(),
                        load: Load::RealTimestamps,
                        event_order,
                        latency_mode,
                        token_semantics,
                        ..Config::preset(preset)
                    };
                    let m = run(&w, &cfg);
                    let what = format!("{preset} {scheduler} {event_order} {latency_mode} {token_semantics} 1/{zero_every} zero");
                    assert_eq!(m.requests_completed, 300, "{what}");
                    for (name, v) in [
                        ("throughput", m.throughput_rps),
                        ("tokens/s", m.throughput_tokens_per_s),
                        ("latency mean", m.latency_mean_s),
                        ("latency p99", m.latency_p99_s),
                        ("service mean", m.service_time_mean_s),
                        ("request SLA", m.request_sla_violation_rate),
                        ("token SLA", m.token_sla_violation_rate),
                        ("token SLA (tokens)", m.token_sla_violation_rate_tokens),
                        ("capacity", m.capacity_under_sla_rps),
                        ("batch mean", m.batch_size_mean),
                    ] {
                        assert!(v.is_finite() && v >= 0.0, "{what}: {name} {v}");
                    }
                    if zero_every == 1 {
                        // No request has a token: no first token, no gap, no token SLA to break.
                        assert!(m.ttft_p50_s.is_nan() && m.tbt_p50_s.is_nan(), "{what}: ttft {} tbt {}", m.ttft_p50_s, m.tbt_p50_s);
                        assert_eq!(m.token_sla_violation_rate, 0.0, "{what}");
                    } else {
                        assert!(m.ttft_p50_s.is_finite() && m.tbt_p50_s.is_finite(), "{what}");
                    }
                }
            }
        }
    }
}
