//! Golden schedules on tiny hand-made traces, worked out by hand.
//! Latency model for all of them: alpha = 1 s, beta = 0.1 s/token, gamma = 0, so a batch
//! whose longest member has L = prompt + output tokens takes 1 + 0.1 L seconds.

mod common;

use batchlab::config::{BinPolicy, Completion, SchedulerKind};
use batchlab::engine::{simulate, Schedule};
use common::{config, exact_model, workload};

/// Times to 1e-9 s: the fitted alpha and beta carry the grid's rounding.
fn round(t: f64) -> f64 {
    (t * 1e9).round() / 1e9
}

fn rounded(ts: &[f64]) -> Vec<f64> {
    ts.iter().map(|&t| round(t)).collect()
}

/// (gpu, start, end, members) of every batch, in dispatch order.
fn batches(s: &Schedule) -> Vec<(u32, f64, f64, Vec<u32>)> {
    (0..s.batches.len())
        .map(|b| {
            let x = &s.batches[b];
            (x.gpu, round(x.start_s), round(x.end_s), s.members_of(b).to_vec())
        })
        .collect()
}

// r0 (t=0, L=10), r1 (t=0.5, L=20), r2 (t=1, L=10, output 5), r3 (t=1, L=10, output 7)
const TRACE: [(f64, u32, u32); 4] = [(0.0, 5, 5), (0.5, 10, 10), (1.0, 5, 5), (1.0, 3, 7)];

#[test]
fn static_fifo_one_gpu() {
    let mut c = config(SchedulerKind::StaticFifo, 1, 1);
    c.b_static = 2;
    let s = simulate(&workload(&TRACE), &c, &exact_model(1.0, 0.1, 0.0));
    // t=0: r0 alone (L=10 -> 2 s). t=2: r1, r2 queued, take 2 (L=20 -> 3 s). t=5: r3 (2 s).
    assert_eq!(
        batches(&s),
        vec![(0, 0.0, 2.0, vec![0]), (0, 2.0, 5.0, vec![1, 2]), (0, 5.0, 7.0, vec![3])]
    );
    assert_eq!(rounded(&s.finish_s), vec![2.0, 5.0, 5.0, 7.0]);
    assert_eq!(rounded(&s.start_s), vec![0.0, 2.0, 2.0, 5.0]);
}

#[test]
fn static_fifo_two_gpus_takes_lowest_idle_gpu() {
    let mut c = config(SchedulerKind::StaticFifo, 2, 1);
    c.b_static = 2;
    let s = simulate(&workload(&TRACE), &c, &exact_model(1.0, 0.1, 0.0));
    // r0 -> GPU0 [0, 2]; r1 -> GPU1 [0.5, 3.5]; r2, r3 wait for GPU0 at t=2: L=10 -> [2, 4].
    assert_eq!(
        batches(&s),
        vec![(0, 0.0, 2.0, vec![0]), (1, 0.5, 3.5, vec![1]), (0, 2.0, 4.0, vec![2, 3])]
    );
}

#[test]
fn multi_bin_fixed_round_robin_never_mixes_bins() {
    let mut c = config(SchedulerKind::MultiBinFixed, 1, 2);
    c.b_fixed = 4;
    let s = simulate(&workload(&TRACE), &c, &exact_model(1.0, 0.1, 0.0));
    // Predictions (oracle) 5, 10, 5, 7: median edge 6 -> bin 0 = {r0, r2}, bin 1 = {r1, r3}.
    assert_eq!(s.bins.edges, vec![6.0]);
    assert_eq!(s.bin_of, vec![0, 1, 0, 1]);
    // t=0: bin 0 {r0} [0, 2]. t=2: round robin moves to bin 1: {r1, r3} (L=20) [2, 5].
    // t=5: bin 0 {r2} [5, 7].
    assert_eq!(
        batches(&s),
        vec![(0, 0.0, 2.0, vec![0]), (0, 2.0, 5.0, vec![1, 3]), (0, 5.0, 7.0, vec![2])]
    );
}

#[test]
fn longest_queue_policy_serves_the_fuller_bin() {
    // r0 busy [0, 2]; meanwhile bin 0 gets r1, bin 1 gets r2 and r3.
    let trace = [(0.0, 5, 5), (0.5, 5, 5), (1.0, 3, 17), (1.0, 3, 17)];
    let mut c = config(SchedulerKind::MultiBinFixed, 1, 2);
    c.bin_policy = BinPolicy::LongestQueue;
    let s = simulate(&workload(&trace), &c, &exact_model(1.0, 0.1, 0.0));
    assert_eq!(s.bin_of, vec![0, 0, 1, 1]);
    // t=2: bin 1 holds 2, bin 0 holds 1 -> {r2, r3} (L=20) [2, 5], then {r1} (L=10) [5, 7].
    assert_eq!(
        batches(&s),
        vec![(0, 0.0, 2.0, vec![0]), (0, 2.0, 5.0, vec![2, 3]), (0, 5.0, 7.0, vec![1])]
    );
}

#[test]
fn memory_limit_drops_newest_members_which_stay_in_front() {
    // Batch limit (12 - 1 - 4) GB / 0.28 GB per token = 25 tokens.
    let mut c = config(SchedulerKind::StaticFifo, 1, 1);
    c.b_static = 3;
    c.memory.kv_per_token_gb = 0.28;
    let s = simulate(&workload(&TRACE), &c, &exact_model(1.0, 0.1, 0.0));
    // t=2: r1 (20) + r2 (10) = 30 > 25: only r1 [2, 5]; then r2 + r3 = 20 fits: [5, 7].
    assert_eq!(
        batches(&s),
        vec![(0, 0.0, 2.0, vec![0]), (0, 2.0, 5.0, vec![1]), (0, 5.0, 7.0, vec![2, 3])]
    );
}

#[test]
fn simultaneous_events_complete_then_arrive_then_dispatch() {
    // r1 and r2 arrive exactly when r0's batch ends: both join one batch at t=2.
    let trace = [(0.0, 5, 5), (2.0, 5, 5), (2.0, 5, 5)];
    let mut c = config(SchedulerKind::StaticFifo, 1, 1);
    c.b_static = 8;
    let s = simulate(&workload(&trace), &c, &exact_model(1.0, 0.1, 0.0));
    assert_eq!(batches(&s), vec![(0, 0.0, 2.0, vec![0]), (0, 2.0, 4.0, vec![1, 2])]);
}

#[test]
fn own_finish_completes_members_at_their_last_token() {
    let mut c = config(SchedulerKind::StaticFifo, 1, 1);
    c.b_static = 2;
    c.completion = Completion::OwnFinish;
    let s = simulate(&workload(&TRACE), &c, &exact_model(1.0, 0.1, 0.0));
    // Batch {r1, r2} starts at 2: r1 (L=20) at 2 + 1 + 2 = 5, r2 (L=10) at 2 + 1 + 1 = 4.
    assert!((s.finish_s[1] - 5.0).abs() < 1e-9);
    assert!((s.finish_s[2] - 4.0).abs() < 1e-9);
    // The GPU stays busy until the batch ends.
    assert!((s.batches[1].end_s - 5.0).abs() < 1e-9);
}

#[test]
fn dynamic_batch_size_follows_the_sla_controller() {
    // Ten requests queued behind a long first batch; the controller has had fewer than
    // 3 updates, so b_SLA = (B_min + B_max) / 2 = 64 and b_mem is large: all 9 go at once.
    let mut trace = vec![(0.0, 100, 100)];
    trace.extend((1..10).map(|i| (0.1 * i as f64, 5, 5)));
    let c = config(SchedulerKind::DynamicNoBins, 1, 1);
    let s = simulate(&workload(&trace), &c, &exact_model(1.0, 0.1, 0.0));
    assert_eq!(s.batches.len(), 2);
    assert_eq!(s.members_of(1), &[1, 2, 3, 4, 5, 6, 7, 8, 9]);
}
