//! `metrics::compute` on hand-built schedules: every expected number is worked out by
//! hand in the comments (no engine involved, so a metric bug cannot hide behind a
//! scheduler change).

mod common;

use batchlab::bins::Bins;
use batchlab::config::{Config, Preset};
use batchlab::engine::{Batch, Schedule};
use batchlab::metrics::{compute, worst_token_gap_s, BinStats, RunMetrics};
use common::{exact_model, workload};

/// A schedule from (gpu, bin, start, end, members) batches; every member finishes at
/// its batch's end. `bin_of` is per request.
fn schedule(n: usize, gpus: usize, edges: &[f64], bin_of: &[u32], batches: &[(u32, u32, f64, f64, &[u32])]) -> Schedule {
    let mut s = Schedule::new(n, gpus, Bins { edges: edges.to_vec(), below_goes_last: None });
    s.bin_of = bin_of.to_vec();
    for (b, &(gpu, bin, start, end, members)) in batches.iter().enumerate() {
        s.batches.push(Batch { gpu, bin, size: members.len() as u32, start_s: start, end_s: end, max_len: 0, step_s: 0.0 });
        for &m in members {
            s.members.push(m);
            s.batch_of[m as usize] = b as u32;
            s.start_s[m as usize] = start;
            s.finish_s[m as usize] = end;
        }
        s.member_start.push(s.members.len() as u32);
        s.gpu_busy_s[gpu as usize] += end - start;
    }
    s
}

#[track_caller]
fn close(got: f64, want: f64) {
    assert!((got - want).abs() <= 1e-12 * want.abs().max(1.0), "got {got}, want {want}");
}

fn paper() -> Config {
    Config::preset(Preset::Paper)
}

#[test]
fn one_request() {
    // Arrives at 0, waits 1 s, served 1 -> 3 on the only GPU; 10 + 20 = 30 tokens.
    let w = workload(&[(0.0, 10, 20)]);
    let s = schedule(1, 1, &[], &[0], &[(0, 0, 1.0, 3.0, &[0])]);
    let cfg = Config { d_sla_request_s: 2.5, ..paper() };
    let (m, bins) = compute(&w, &cfg, &exact_model(0.5, 0.01, 0.0), &s);
    assert_eq!(m.requests_completed, 1);
    // One arrival spans no time: (1 - 1) / 0 is reported as an infinite rate.
    assert_eq!(m.arrival_rate_rps, f64::INFINITY);
    assert_eq!(m.makespan_s, 3.0); // 3 - 0
    close(m.throughput_rps, 1.0 / 3.0);
    close(m.throughput_tokens_per_s, 10.0); // 30 tokens / 3 s
    for p in [m.latency_mean_s, m.latency_p50_s, m.latency_p95_s, m.latency_p99_s, m.latency_max_s] {
        assert_eq!(p, 3.0);
    }
    assert_eq!((m.queue_delay_mean_s, m.service_time_mean_s), (1.0, 2.0));
    assert_eq!(m.request_sla_violation_rate, 1.0, "3 s > 2.5 s");
    close(m.gpu_util_mean, 2.0 / 3.0); // busy 2 s of 3
    assert_eq!((m.gpu_util_min, m.gpu_util_max), (m.gpu_util_mean, m.gpu_util_mean));
    assert_eq!((m.batch_count, m.batch_size_mean, m.batch_size_min, m.batch_size_max), (1, 1.0, 1, 1));
    assert_token_fields_unset(&m);
    assert_eq!(
        bins,
        [BinStats {
            bin: 0,
            predicted_lo: 0.0,
            predicted_hi: f64::INFINITY,
            requests: 1,
            batches: 1,
            batch_size_mean: 1.0,
            output_tokens_min: 20,
            output_tokens_max: 20,
            latency_mean_s: 3.0,
        }]
    );
}

/// `compute` leaves the token pass's fields NaN (filled in later by `apply_token`).
#[track_caller]
fn assert_token_fields_unset(m: &RunMetrics) {
    let token = [
        m.ttft_p50_s,
        m.ttft_p95_s,
        m.ttft_p99_s,
        m.ttft_max_s,
        m.tbt_p50_s,
        m.tbt_p95_s,
        m.tbt_p99_s,
        m.tbt_max_s,
        m.token_sla_violation_rate,
        m.token_sla_violation_rate_tokens,
        m.capacity_under_sla_rps,
    ];
    assert!(token.iter().all(|x| x.is_nan()), "{token:?}");
}

/// Four requests, two GPUs, three bins of which the middle one stays empty.
fn four_requests() -> (batchlab::workload::Workload, Schedule) {
    // (arrival, prompt, output): tokens 8, 12, 250, 450 = 720 in all.
    let w = workload(&[(0.0, 5, 3), (1.0, 5, 7), (2.0, 50, 200), (4.0, 50, 400)]);
    let s = schedule(
        4,
        2,
        &[10.0, 100.0], // bins [0, 10), [10, 100), [100, inf)
        &[0, 0, 2, 2],
        &[
            (0, 0, 1.0, 2.0, &[0, 1]), // GPU 0 busy 1 s
            (1, 2, 2.0, 6.0, &[2]),    // GPU 1 busy 4 s ...
            (1, 2, 6.0, 10.0, &[3]),   // ... and 4 s more: 8 s
        ],
    );
    (w, s)
}

#[test]
fn several_requests_by_hand() {
    let (w, s) = four_requests();
    let cfg = Config { d_sla_request_s: 3.0, ..paper() };
    let (m, _) = compute(&w, &cfg, &exact_model(0.5, 0.01, 0.0), &s);
    assert_eq!(m.requests_completed, 4);
    close(m.arrival_rate_rps, 0.75); // (4 - 1) requests over 4 - 0 s
    assert_eq!(m.makespan_s, 10.0); // last finish 10 - first arrival 0
    close(m.throughput_rps, 0.4); // 4 / 10
    close(m.throughput_tokens_per_s, 72.0); // 720 / 10
    // Latencies 2-0, 2-1, 6-2, 10-4 = 2, 1, 4, 6; sorted 1, 2, 4, 6; mean 13 / 4.
    close(m.latency_mean_s, 3.25);
    // numpy-linear: rank (n-1) q = 3q. q=.5: rank 1.5 -> 2 + .5 (4-2) = 3;
    // q=.95: rank 2.85 -> 4 + .85 (6-4) = 5.7; q=.99: rank 2.97 -> 4 + .97 * 2 = 5.94.
    close(m.latency_p50_s, 3.0);
    close(m.latency_p95_s, 5.7);
    close(m.latency_p99_s, 5.94);
    assert_eq!(m.latency_max_s, 6.0);
    close(m.queue_delay_mean_s, 0.75); // waits 1, 0, 0, 2 -> 3 / 4
    close(m.service_time_mean_s, 2.5); // 1, 1, 4, 4 -> 10 / 4
    assert_eq!(m.request_sla_violation_rate, 0.5, "4 s and 6 s exceed 3 s: 2 of 4");
    // GPU 0 busy 1 of 10 s, GPU 1 8 of 10 s.
    close(m.gpu_util_mean, 0.45);
    close(m.gpu_util_min, 0.1);
    close(m.gpu_util_max, 0.8);
    assert_eq!((m.batch_count, m.batch_size_min, m.batch_size_max), (3, 1, 2));
    close(m.batch_size_mean, 4.0 / 3.0);
    assert_token_fields_unset(&m);
}

#[test]
fn per_bin_stats_with_an_empty_bin() {
    let (w, s) = four_requests();
    let (_, bins) = compute(&w, &paper(), &exact_model(0.5, 0.01, 0.0), &s);
    assert_eq!(bins.len(), 3);
    // Bin 0: requests 0 and 1 (outputs 3, 7; latencies 2, 1), one batch of two.
    assert_eq!(
        bins[0],
        BinStats {
            bin: 0,
            predicted_lo: 0.0,
            predicted_hi: 10.0,
            requests: 2,
            batches: 1,
            batch_size_mean: 2.0,
            output_tokens_min: 3,
            output_tokens_max: 7,
            latency_mean_s: 1.5,
        }
    );
    // Bin 1: nothing. Counts are zero, means undefined (NaN), min reset from u32::MAX.
    let empty = &bins[1];
    assert_eq!((empty.bin, empty.predicted_lo, empty.predicted_hi), (1, 10.0, 100.0));
    assert_eq!((empty.requests, empty.batches, empty.output_tokens_min, empty.output_tokens_max), (0, 0, 0, 0));
    assert!(empty.batch_size_mean.is_nan() && empty.latency_mean_s.is_nan(), "{empty:?}");
    // Bin 2: requests 2 and 3 (outputs 200, 400; latencies 4, 6), two batches of one.
    assert_eq!(
        bins[2],
        BinStats {
            bin: 2,
            predicted_lo: 100.0,
            predicted_hi: f64::INFINITY,
            requests: 2,
            batches: 2,
            batch_size_mean: 1.0,
            output_tokens_min: 200,
            output_tokens_max: 400,
            latency_mean_s: 5.0,
        }
    );
}

#[test]
fn all_arrivals_at_one_instant() {
    // Three requests at t = 5, one batch 5 -> 7: the offered rate is infinite, the rest
    // is measured from the first arrival as usual.
    let w = workload(&[(5.0, 1, 1), (5.0, 1, 2), (5.0, 1, 3)]);
    let s = schedule(3, 1, &[], &[0, 0, 0], &[(0, 0, 5.0, 7.0, &[0, 1, 2])]);
    let (m, bins) = compute(&w, &paper(), &exact_model(0.5, 0.01, 0.0), &s);
    assert_eq!(m.arrival_rate_rps, f64::INFINITY);
    assert_eq!(m.makespan_s, 2.0); // 7 - 5
    close(m.throughput_rps, 1.5); // 3 / 2
    close(m.throughput_tokens_per_s, 4.5); // (2 + 3 + 4) / 2
    assert_eq!((m.latency_p50_s, m.latency_max_s, m.queue_delay_mean_s), (2.0, 2.0, 0.0));
    assert_eq!((m.gpu_util_mean, m.batch_size_mean), (1.0, 3.0));
    assert_eq!((bins[0].requests, bins[0].batches, bins[0].output_tokens_min, bins[0].output_tokens_max), (3, 1, 1, 3));
}

#[test]
fn token_sla_can_bind_exactly_when_the_slowest_step_exceeds_it() {
    // gamma = 1: h(b) = 2 - 1/b; the slowest step is a batch of B_max = 128:
    // beta h(128) = 0.01 * (2 - 1/128) = 0.019921875 s.
    let model = exact_model(0.5, 0.01, 1.0);
    let (w, s) = four_requests();
    let b_max = paper().b_max;
    assert_eq!(b_max, 128);
    let bind = |d: f64, kappa: f64| {
        let cfg = Config { d_sla_token_s: d, token_kappa: kappa, token_context_ref_tokens: 1000.0, ..paper() };
        compute(&w, &cfg, &model, &s).0.token_sla_can_bind
    };
    assert!(bind(0.0199, 0.0), "19.9 ms < 19.92 ms: a step can exceed it");
    assert!(!bind(0.0200, 0.0), "20 ms > 19.92 ms: no step can");
    // With a context cost the gaps grow with position: the longest sequence here is
    // 50 + 400 = 450 tokens, so with kappa = 1, ref = 1000 the worst gap is
    // 0.019921875 * (1 + 450 / 1000) = 0.02888671875 s.
    close(worst_token_gap_s(&w, &Config { token_kappa: 1.0, token_context_ref_tokens: 1000.0, ..paper() }, &model), 0.02888671875);
    assert!(bind(0.0200, 1.0), "20 ms < 28.9 ms");
    assert!(bind(0.0288, 1.0), "28.8 ms < 28.9 ms");
    assert!(!bind(0.0289, 1.0), "28.9 ms > 28.887 ms");
    // A gap exactly at the SLA does not violate it (strictly greater does), so an SLA
    // equal to the worst gap cannot bind.
    let worst = worst_token_gap_s(&w, &paper(), &model);
    assert!(!bind(worst, 0.0), "an SLA of exactly the worst gap {worst}");
    assert!(bind(worst * (1.0 - 1e-12), 0.0));
}

#[test]
fn a_latency_equal_to_the_request_sla_meets_it() {
    // Latency 3 s against a 3 s request SLA: not a violation (strictly greater violates,
    // as in both versions of the original); 2.999 s violates.
    let w = workload(&[(0.0, 10, 20)]);
    let s = schedule(1, 1, &[], &[0], &[(0, 0, 1.0, 3.0, &[0])]);
    let m = |sla| compute(&w, &Config { d_sla_request_s: sla, ..paper() }, &exact_model(0.5, 0.01, 0.0), &s).0;
    assert_eq!(m(3.0).request_sla_violation_rate, 0.0);
    assert_eq!(m(2.999).request_sla_violation_rate, 1.0);
}

#[test]
fn a_schedule_of_no_duration_reports_zero_rates_not_infinities() {
    // One empty request served in no time at its arrival (a model with alpha = 0 would do
    // it): the makespan is 0, and per-second rates are 0, not 0/0.
    let w = workload(&[(5.0, 0, 0)]);
    let s = schedule(1, 1, &[], &[0], &[(0, 0, 5.0, 5.0, &[0])]);
    let (m, _) = compute(&w, &paper(), &exact_model(0.5, 0.01, 0.0), &s);
    assert_eq!(m.makespan_s, 0.0);
    assert_eq!((m.throughput_rps, m.throughput_tokens_per_s, m.gpu_util_mean), (0.0, 0.0, 0.0));
}
