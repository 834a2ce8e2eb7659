//! Golden schedules on tiny hand-made traces, worked out by hand.
//! Latency model for all of them: alpha = 1 s, beta = 0.1 s/token, gamma = 0, so a batch
//! whose longest member has L = prompt + output tokens takes 1 + 0.1 L seconds.

mod common;

use batchlab::config::{BinPolicy, Completion, Config, ControllerFeed, ControllerRules, EventOrder, Preset, SchedulerKind, SlaControllerConfig, SlaSignal};
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


fn sizes(s: &Schedule) -> Vec<u32> {
    s.batches.iter().map(|b| b.size).collect()
}

// ---- Bin policies. Bin edges come from the oracle predictions (= outputs): with as
// many short (output 5) as long (output 17) requests the median edge is 11.

/// r0 short busy [0, 2] (round robin moves on to bin 1); meanwhile bin 0 gets r1 and r2,
/// bin 1 gets r3. r4, r5 (long, t = 100) only balance the edge.
const TWO_SHORT_ONE_LONG: [(f64, u32, u32); 6] =
    [(0.0, 5, 5), (0.5, 5, 5), (1.0, 5, 5), (1.0, 3, 17), (100.0, 3, 17), (100.0, 3, 17)];

fn multi_bin_fixed(policy: BinPolicy) -> Config {
    let mut c = config(SchedulerKind::MultiBinFixed, 1, 2);
    c.b_fixed = 4;
    c.bin_policy = policy;
    c
}

#[test]
fn round_robin_serves_the_next_bin_even_when_it_is_shorter() {
    let s = simulate(&workload(&TWO_SHORT_ONE_LONG), &multi_bin_fixed(BinPolicy::RoundRobin), &exact_model(1.0, 0.1, 0.0));
    assert_eq!(s.bins.edges, vec![11.0]);
    assert_eq!(s.bin_of, vec![0, 0, 0, 1, 1, 1]);
    // t=2: bin 1 is next although bin 0 holds two: {r3} (L=20) [2, 5], then {r1, r2} [5, 7].
    assert_eq!(
        batches(&s),
        vec![
            (0, 0.0, 2.0, vec![0]),
            (0, 2.0, 5.0, vec![3]),
            (0, 5.0, 7.0, vec![1, 2]),
            (0, 100.0, 103.0, vec![4, 5])
        ]
    );
}

#[test]
fn longest_queue_serves_the_fuller_bin() {
    let s = simulate(&workload(&TWO_SHORT_ONE_LONG), &multi_bin_fixed(BinPolicy::LongestQueue), &exact_model(1.0, 0.1, 0.0));
    // t=2: bin 0 holds two, bin 1 one: {r1, r2} (L=10) [2, 4], then {r3} (L=20) [4, 7].
    assert_eq!(
        batches(&s),
        vec![
            (0, 0.0, 2.0, vec![0]),
            (0, 2.0, 4.0, vec![1, 2]),
            (0, 4.0, 7.0, vec![3]),
            (0, 100.0, 103.0, vec![4, 5])
        ]
    );
}

#[test]
fn longest_queue_ties_go_to_the_lower_bin_round_robin_to_the_next() {
    // At t=2 both bins hold one request: r1 (bin 0) and r2 (bin 1).
    let trace = [(0.0, 5, 5), (0.5, 5, 5), (1.0, 3, 17), (100.0, 3, 17)];
    let w = workload(&trace);
    let m = exact_model(1.0, 0.1, 0.0);
    let longest = simulate(&w, &multi_bin_fixed(BinPolicy::LongestQueue), &m);
    assert_eq!(longest.bin_of, vec![0, 0, 1, 1]);
    assert_eq!(
        batches(&longest),
        vec![(0, 0.0, 2.0, vec![0]), (0, 2.0, 4.0, vec![1]), (0, 4.0, 7.0, vec![2]), (0, 100.0, 103.0, vec![3])]
    );
    let round_robin = simulate(&w, &multi_bin_fixed(BinPolicy::RoundRobin), &m);
    assert_eq!(
        batches(&round_robin),
        vec![(0, 0.0, 2.0, vec![0]), (0, 2.0, 5.0, vec![2]), (0, 5.0, 7.0, vec![1]), (0, 100.0, 103.0, vec![3])]
    );
}

// ---- The memory cap.

#[test]
fn memory_limit_stops_at_the_first_misfit_and_serves_an_oversize_request_alone() {
    // Batch limit (12 - 1 - 4) GB / 0.28 GB per token = 25 tokens.
    // r0 (L=10) busy [0, 2]; queued: r1 (L=20), r2 (L=10), r3 (L=3), r4 (L=40 > 25 alone).
    let trace = [(0.0, 5, 5), (0.5, 10, 10), (1.0, 5, 5), (1.0, 1, 2), (1.5, 20, 20)];
    let mut c = config(SchedulerKind::StaticFifo, 1, 1);
    c.b_static = 3;
    c.memory.kv_per_token_gb = 0.28;
    let s = simulate(&workload(&trace), &c, &exact_model(1.0, 0.1, 0.0));
    // t=2: r1 + r2 = 30 > 25 stops the batch at {r1} (skipping ahead to r3 would fit 23).
    // t=5: {r2, r3} = 13 fits; r4 would make 53. t=7: r4 alone although over the limit.
    assert_eq!(
        batches(&s),
        vec![
            (0, 0.0, 2.0, vec![0]),
            (0, 2.0, 5.0, vec![1]),
            (0, 5.0, 7.0, vec![2, 3]),
            (0, 7.0, 12.0, vec![4])
        ]
    );
}

#[test]
fn dynamic_batch_size_is_capped_by_b_mem_of_each_bins_mean() {
    // eta = (12 - 4) / 0.1 = 80 tokens, L0 = 0.5 eta = 40: b_mem = floor(40 / mu).
    // A formed batch may hold (12 - 1 - 4) / 0.1 = 70 tokens, more than b_mem allows.
    let mut trace = vec![(0.0, 5, 5)];
    trace.extend([(1.0, 5, 5); 7]); // bin 0: L = 10
    trace.extend([(1.0, 10, 10); 8]); // bin 1: L = 20 (edge 7.5)
    let mut c = config(SchedulerKind::MultiBinDynamic, 1, 2);
    c.memory.kv_per_token_gb = 0.1;
    c.memory.safety_fraction = 0.5;
    let s = simulate(&workload(&trace), &c, &exact_model(1.0, 0.1, 0.0));
    assert_eq!(s.bins.edges, vec![7.5]);
    // t=2, bin 1 (round robin): mu = 20 -> b_mem 2 (memory alone would allow 3): [2, 5].
    // t=5, bin 0: its own mu = 10 -> b_mem 4 (the mean over both bins, 15, would give 2).
    assert_eq!(sizes(&s)[..3], [1, 2, 4]);
    assert_eq!(s.batches[1].bin, 1);
    assert_eq!(s.batches[2].bin, 0);
    assert_eq!(round(s.batches[2].start_s), 5.0);
}

// ---- The SLA controller inside the engine. The first three requests run alone (each
// finishes before the next arrives), so the controller has seen three batches of size 1
// when the burst arrives: b_avg = 64.5 -> 51.8 -> 41.64 -> 33.512.

/// r0, r1, r2 alone (L = 10: 2 s, token step 0.1 s), then `burst` requests at t = 7.5.
fn three_then_burst(burst: usize) -> Vec<(f64, u32, u32)> {
    let mut t = vec![(0.0, 5, 5), (2.5, 5, 5), (5.0, 5, 5)];
    t.extend(std::iter::repeat_n((7.5, 5, 5), burst));
    t
}

/// The controller these hand-worked cases use: the first version's rules, moved once per
/// batch, fed every batch, on the token time against D = 10 ms, eps = 5 ms.
fn first_rules(scheduler: SchedulerKind, gpus: u32, k: u32) -> Config {
    let mut c = config(scheduler, gpus, k);
    c.sla = SlaControllerConfig {
        rules: ControllerRules::First,
        signal: SlaSignal::TokenTime,
        d_s: Some(0.010),
        eps_s: 0.005,
        ema_weight: 0.2,
        original_state: false,
        feed: ControllerFeed::All,
    };
    c
}

#[test]
fn dynamic_batches_shrink_once_the_controller_sees_slow_tokens() {
    // Token time 0.1 s > D + 2 eps = 0.02 s, so the interval shrinks:
    // after 3: b_high = floor(0.9 * 33.512) = 30, b_low = 1 -> b_SLA = 15.
    // after 4 (size 15): b_avg = 3 + 26.8096 = 29.8096 -> b_high = min(30, 26) -> 13.
    // after 5 (size 13): b_avg = 2.6 + 23.84768 = 26.44768 -> b_high = 23 -> 12.
    let c = first_rules(SchedulerKind::DynamicNoBins, 1, 1);
    let s = simulate(&workload(&three_then_burst(100)), &c, &exact_model(1.0, 0.1, 0.0));
    assert_eq!(sizes(&s)[..6], [1, 1, 1, 15, 13, 12]);
}

#[test]
fn the_controller_is_fed_the_configured_signal() {
    // D = 1 s, eps = 0.1 s. The token time (0.1 s) is fast -> grow: b_low = floor(33.512)
    // = 33, b_high = min(128 + 10, 128) -> b_SLA = 80. The batch latency (2 s) is slow ->
    // shrink -> 15. Unfed (warm-up) it would stay at the midpoint 64.
    let w = workload(&three_then_burst(100));
    let m = exact_model(1.0, 0.1, 0.0);
    // With D = 5 s the batch latency is fast too (2 < 4.8): grow -> 80; had the engine
    // fed end + start (2, 7, 12: tau_avg 2 -> 3 -> 4.8, not below 4.8) it would centre.
    for (signal, d, want) in [(SlaSignal::TokenTime, 1.0, 80), (SlaSignal::BatchLatency, 1.0, 15), (SlaSignal::BatchLatency, 5.0, 80)] {
        let mut c = first_rules(SchedulerKind::DynamicNoBins, 1, 1);
        c.sla.signal = signal;
        c.sla.d_s = Some(d);
        c.sla.eps_s = 0.1;
        let s = simulate(&w, &c, &m);
        assert_eq!(s.batches[3].size, want, "{signal:?}");
    }
}

#[test]
fn multi_bin_dynamic_keeps_one_controller_per_bin() {
    // Bin 0: the three short requests and 100 more (L = 10); bin 1: 103 long (L = 55,
    // 6.5 s); all 203 arrive at t = 7.5. Median edge: between 5 and 50 -> 27.5.
    let mut trace = three_then_burst(100);
    trace.extend(std::iter::repeat_n((7.5, 5, 50), 103));
    let c = first_rules(SchedulerKind::MultiBinDynamic, 1, 2);
    let s = simulate(&workload(&trace), &c, &exact_model(1.0, 0.1, 0.0));
    assert_eq!(s.bins.edges, vec![27.5]);
    // t=7.5: round robin serves bin 1, whose controller has seen nothing: 64 [7.5, 14].
    // t=14: bin 0's controller has seen three slow batches: 15 [14, 16].
    // t=16: bin 1's has seen one (still warming up): the 39 left.
    assert_eq!(sizes(&s)[..6], [1, 1, 1, 64, 15, 39]);
    assert_eq!(s.batches.iter().map(|b| b.bin).take(6).collect::<Vec<_>>(), [0, 0, 0, 1, 0, 1]);
}

#[test]
fn compat_controller_moves_when_queried_not_when_fed() {
    // Two GPUs, batch latency 2 s for L = 10 (slow against D = 1 s). r0 [0, 2] and r1
    // [0.5, 2.5] alone; r2 on GPU 0 [3, 5]; 40 requests on GPU 1 [3.5, 5.5] (still
    // warming up: 64 allowed). Completions at 5 and 5.5 with nothing queued, so nothing
    // queries the controller until 100 requests arrive at t = 6.
    // Moved when fed, from the first signal and b_avg 64.5: b_avg -> 51.8 -> 41.64 ->
    // 33.512 -> (size 40) 34.8096; after 3, b_high = floor(0.9 * 33.512) = 30; after 4,
    // min(30, floor(31.33) = 31) = 30 -> b_SLA 15 on both GPUs at t = 6.
    // compat (the original's state: averages from 0.0 and 64.0, moved when queried):
    // tau_avg 0.4, 0.72, 0.976, 1.1808 (inside [0.8, 1.2]), b_avg 34.6048: centred on 34
    // +- 19 -> 34; the second query centres on 34 +- floor(0.15 * 38) = 5 -> 34. (The
    // original's own controller gives the same on this sequence.)
    // first-results feeds only batches the controller or memory limited: every batch
    // here was cut short by the queue, so it is still warming up: 64, then the 36 left.
    let mut trace = vec![(0.0, 5, 5), (0.5, 5, 5), (3.0, 5, 5)];
    trace.extend(std::iter::repeat_n((3.5, 5, 5), 40));
    trace.extend(std::iter::repeat_n((6.0, 5, 5), 100));
    let w = workload(&trace);
    let m = exact_model(1.0, 0.1, 0.0);
    let fed_all = |p| {
        let c = Config::preset(p);
        Config { sla: SlaControllerConfig { feed: ControllerFeed::All, ..c.sla.clone() }, ..c }
    };
    for (name, c, want) in [
        ("moved when fed", fed_all(Preset::FirstResults), [15, 15]),
        ("compat", Config::preset(Preset::Compat), [34, 34]),
        ("first-results", Config::preset(Preset::FirstResults), [64, 36]),
    ] {
        let c = Config { scheduler: SchedulerKind::DynamicNoBins, gpus: 2, k_bins: 1, event_order: EventOrder::ByInstant, ..c };
        let s = simulate(&w, &c, &m);
        assert_eq!(sizes(&s)[..6], [1, 1, 1, 40, want[0], want[1]], "{name}");
        assert_eq!(s.batches.iter().map(|b| b.gpu).take(6).collect::<Vec<_>>(), [0, 1, 0, 1, 0, 1]);
    }
}

#[test]
fn completions_at_the_same_instant_feed_the_controller_in_gpu_order() {
    // D = 0.1 s, eps = 0.005 s: the token time 0.1 s is on target, so each update centres
    // the interval on b_avg, which depends on the order of the updates.
    // Three singles on GPU 0 (b_avg 33.512): margin max(2, floor(0.15 * 127)) = 19 ->
    // (14, 52), b_SLA 33. 40 arrive at 7.5: GPU 0 takes 33, GPU 1 the other 7, both
    // [7.5, 9.5]. 100 more queue at t = 8.
    // GPU 0 then GPU 1: b_avg 6.6 + 26.8096 = 33.4096, margin floor(0.15 * 38) = 5 ->
    // (28, 38); b_avg 1.4 + 26.72768 = 28.12768, margin 2 -> (26, 30): b_SLA 28.
    // (GPU 1 first would give 28.2096 -> (23, 33), then 29.16768 -> (27, 31): 29.)
    let mut trace = three_then_burst(40);
    trace.extend(std::iter::repeat_n((8.0, 5, 5), 100));
    let mut c = first_rules(SchedulerKind::DynamicNoBins, 2, 1);
    c.sla.d_s = Some(0.1);
    let s = simulate(&workload(&trace), &c, &exact_model(1.0, 0.1, 0.0));
    assert_eq!(sizes(&s)[..7], [1, 1, 1, 33, 7, 28, 28]);
    assert_eq!(s.batches.iter().map(|b| b.gpu).take(7).collect::<Vec<_>>(), [0, 0, 0, 0, 1, 0, 1]);
}
