//! Property tests of the engine on random small workloads.
//!
//! Besides the invariants any schedule must keep, `replay` re-derives every dispatch
//! decision from the schedule's own event times: which bin an idle GPU serves, the
//! target batch size (static, fixed, or `min(b_mem, b_SLA)` from the controllers fed in
//! completion order), and the members (the longest FIFO prefix that fits in memory). A
//! lazy engine (size-1 batches, a GPU idling while work waits), a controller that is
//! never fed or fed the wrong signal, shared per-bin state or a wrong bin policy fails it.

mod common;

use batchlab::config::{BinPolicy, Completion, Config, ControllerFeed, ControllerRules, EventOrder, MemoryRules, Preset, SchedulerKind, SlaSignal};
use batchlab::engine::{simulate, Schedule, SizeReason};
use batchlab::latency::LatencyModel;
use batchlab::memory::{bin_batch_limit, BatchTokenAverages, MemoryModel, RunningMean};
use batchlab::sla::SlaController;
use batchlab::workload::Workload;
use common::exact_model;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

/// (arrival, prompt, output, predicted output) rows: ties are common on purpose (BurstGPT
/// stamps are whole seconds), prompts may be empty, a few requests are larger than the
/// paper preset's batch memory on their own, and predictions are wrong by any amount.
fn arb_trace() -> impl Strategy<Value = Vec<(f64, u32, u32, u32)>> {
    let prompt = prop_oneof![8 => 0u32..3000, 1 => Just(0u32), 1 => 30_000u32..60_000];
    let predicted = prop_oneof![1u32..3000, Just(1u32)];
    prop::collection::vec((prop_oneof![Just(0.0), 0.0..3.0f64], prompt, 1u32..1500, predicted), 1..80).prop_map(|rows| {
        let mut t = 0.0;
        rows.into_iter()
            .map(|(gap, p, o, pred)| {
                t += gap;
                (t, p, o, pred)
            })
            .collect()
    })
}

fn workload(rows: &[(f64, u32, u32, u32)]) -> Workload {
    Workload {
        arrival_s: rows.iter().map(|r| r.0).collect(),
        prompt_tokens: rows.iter().map(|r| r.1).collect(),
        output_tokens: rows.iter().map(|r| r.2).collect(),
        predicted_output_tokens: rows.iter().map(|r| r.3).collect(),
    }
}

/// Random settings on top of a random preset: memory tight enough to bind often.
#[derive(Debug, Clone)]
struct Settings {
    preset: Preset,
    scheduler: SchedulerKind,
    gpus: u32,
    k: u32,
    longest_queue: bool,
    own_finish: bool,
    b: u32,
    b_max: u32,
    b_min_seed: u32,
    kv_per_token_gb: Option<f64>,
    safety_fraction: f64,
    d_s: Option<f64>,
    signal_token: bool,
    /// 0: the preset's controller and memory rules; 1, 2, 3: the other controller rules,
    /// feed or state; 4, 5, 6: memory rules arrived, first, final.
    controller_tweak: u8,
    one_at_a_time: bool,
}

fn arb_settings() -> impl Strategy<Value = Settings> {
    (
        (prop::sample::select(Preset::ALL.to_vec()), prop::sample::select(SchedulerKind::BATCH.to_vec()), 1u32..5, 1u32..6),
        (any::<bool>(), any::<bool>(), 1u32..40, 1u32..130, any::<u32>()),
        (prop_oneof![Just(None), Just(Some(1e-3)), Just(Some(5e-3))], 0.0..0.9f64),
        (prop_oneof![Just(None), Just(Some(0.01)), Just(Some(0.5)), Just(Some(2.0)), Just(Some(20.0))], any::<bool>(), 0u8..7, any::<bool>()),
    )
        .prop_map(|((preset, scheduler, gpus, k), (lq, of, b, b_max, bmin), (kv, sf), (d, sig, tweak, one_at_a_time))| Settings {
            preset,
            scheduler,
            gpus,
            k,
            longest_queue: lq,
            own_finish: of,
            b,
            b_max,
            b_min_seed: bmin,
            kv_per_token_gb: kv,
            safety_fraction: sf,
            d_s: d,
            signal_token: sig,
            controller_tweak: tweak,
            one_at_a_time,
        })
}

impl Settings {
    fn config(&self) -> Config {
        let mut c = Config { scheduler: self.scheduler, gpus: self.gpus, k_bins: self.k, ..Config::preset(self.preset) };
        c.bin_policy = if self.longest_queue { BinPolicy::LongestQueue } else { BinPolicy::RoundRobin };
        c.completion = if self.own_finish { Completion::OwnFinish } else { Completion::BatchEnd };
        c.b_static = self.b;
        c.b_fixed = self.b;
        c.b_max = self.b_max;
        c.b_min = 1 + self.b_min_seed % self.b_max;
        if let Some(kv) = self.kv_per_token_gb {
            c.memory.kv_per_token_gb = kv;
        }
        c.memory.safety_fraction = self.safety_fraction;
        c.sla.d_s = self.d_s;
        c.sla.signal = if self.signal_token { SlaSignal::TokenTime } else { SlaSignal::BatchLatency };
        match self.controller_tweak {
            1 => c.sla.rules = if c.sla.rules == ControllerRules::First { ControllerRules::Final } else { ControllerRules::First },
            2 => c.sla.feed = if c.sla.feed == ControllerFeed::All { ControllerFeed::Limited } else { ControllerFeed::All },
            3 => c.sla.original_state = !c.sla.original_state,
            4 => c.memory.rules = MemoryRules::Arrived,
            5 => c.memory.rules = MemoryRules::First,
            6 => c.memory.rules = MemoryRules::Final,
            _ => {}
        }
        c.event_order = if self.one_at_a_time { EventOrder::OneAtATime } else { EventOrder::ByInstant };
        // Few points, so that long runs decimate the series.
        c.timeseries_points = 2 + self.b as usize;
        c
    }
}

/// Whether the memory check cuts this scheduler's batches.
fn checks_memory(c: &Config) -> bool {
    c.scheduler.is_dynamic() || c.memory.check_fixed_batches
}

/// Invariants every schedule keeps, whatever the scheduler.
fn check_invariants(w: &Workload, c: &Config, m: &LatencyModel, s: &Schedule) -> Result<(), TestCaseError> {
    let n = w.len();
    let mem = MemoryModel::new(&c.memory, c.b_min, c.b_max);
    // Every request completes exactly once.
    let mut seen = vec![0u32; n];
    for &r in &s.members {
        seen[r as usize] += 1;
    }
    prop_assert!(seen.iter().all(|&x| x == 1));
    for i in 0..n {
        // Never starts before it arrives; completes after it starts.
        prop_assert!(s.start_s[i] >= w.arrival_s[i]);
        prop_assert!(s.finish_s[i] > s.start_s[i]);
    }
    // Dispatch order is time order.
    prop_assert!(s.batches.windows(2).all(|p| p[0].start_s <= p[1].start_s));
    for (bi, batch) in s.batches.iter().enumerate() {
        let members = s.members_of(bi);
        prop_assert_eq!(members.len() as u32, batch.size);
        prop_assert!(batch.size >= 1);
        // A batch never mixes bins, and keeps FIFO order inside: by arrival, and arrivals
        // of one instant by id (one at a time: in the order the heap gave them).
        prop_assert!(members.iter().all(|&r| s.bin_of[r as usize] == batch.bin));
        prop_assert!(members.windows(2).all(|m| w.arrival_s[m[0] as usize] <= w.arrival_s[m[1] as usize]));
        if c.event_order == EventOrder::ByInstant {
            prop_assert!(members.windows(2).all(|m| m[0] < m[1]));
        }
        // Memory: within the limit unless it is a single request.
        let tokens: u64 = members.iter().map(|&r| w.total_tokens(r as usize) as u64).sum();
        prop_assert!(batch.size == 1 || mem.fits(tokens) || !checks_memory(c));
        // Service time is T(b, L) with L the longest member; the step is the model's.
        let max_len = members.iter().map(|&r| w.total_tokens(r as usize)).max().unwrap();
        prop_assert_eq!(batch.max_len, max_len);
        prop_assert_eq!(batch.end_s, batch.start_s + m.batch_time_s(batch.size, max_len));
        prop_assert_eq!(batch.step_s, m.token_step_s(batch.size, max_len));
        for &r in members {
            let r = r as usize;
            prop_assert_eq!(s.batch_of[r], bi as u32);
            prop_assert_eq!(s.start_s[r], batch.start_s);
            let finish = match c.completion {
                Completion::BatchEnd => batch.end_s,
                Completion::OwnFinish => batch.start_s + m.alpha_s() + batch.step_s * w.total_tokens(r) as f64,
            };
            prop_assert_eq!(s.finish_s[r], finish);
        }
    }
    // No GPU runs two batches at once; busy time adds up.
    for g in 0..c.gpus {
        let spans = gpu_spans(s, g);
        prop_assert!(spans.windows(2).all(|p| p[1].0 >= p[0].1));
        let busy: f64 = s.batches.iter().filter(|b| b.gpu == g).map(|b| b.end_s - b.start_s).sum();
        prop_assert!((s.gpu_busy_s[g as usize] - busy).abs() <= 1e-9 * busy.max(1.0));
    }
    // Only multi-bin schedulers use more than one bin.
    if !c.scheduler.uses_bins() {
        prop_assert!(s.bin_of.iter().all(|&b| b == 0));
    }
    // The time series samples the state that held just before the events at each sample
    // time: batches started before and not yet completed, requests arrived before and not
    // yet dispatched.
    let ts = &s.timeseries;
    prop_assert_eq!(ts.queue_len.len(), s.bins.k());
    prop_assert!(ts.t_s.windows(2).all(|p| p[0] < p[1]));
    prop_assert!(ts.t_s.len() <= 2 * c.timeseries_points);
    prop_assert_eq!(ts.t_s.first().copied(), Some(0.0));
    for (i, &tau) in ts.t_s.iter().enumerate() {
        let busy = s.batches.iter().filter(|b| b.start_s < tau && tau <= b.end_s).count() as u32;
        prop_assert_eq!(ts.busy_gpus[i], busy, "busy GPUs at {}", tau);
        for (j, q) in ts.queue_len.iter().enumerate() {
            let waiting = (0..n).filter(|&r| s.bin_of[r] as usize == j && w.arrival_s[r] < tau && tau <= s.start_s[r]).count();
            prop_assert_eq!(q[i] as usize, waiting, "queue {} at {}", j, tau);
        }
    }
    Ok(())
}

fn gpu_spans(s: &Schedule, g: u32) -> Vec<(f64, f64)> {
    // Batches are in dispatch (= time) order, so each GPU's are too.
    s.batches.iter().filter(|b| b.gpu == g).map(|b| (b.start_s, b.end_s)).collect()
}

/// Work conservation under greedy dispatch: every GPU may serve every bin, so no GPU is
/// idle for any instant during which some request waits.
fn check_work_conservation(w: &Workload, c: &Config, s: &Schedule) -> Result<(), TestCaseError> {
    for g in 0..c.gpus {
        let spans = gpu_spans(s, g);
        let mut gaps = Vec::with_capacity(spans.len() + 1);
        let mut idle_from = f64::NEG_INFINITY;
        for &(start, end) in &spans {
            gaps.push((idle_from, start));
            idle_from = end;
        }
        gaps.push((idle_from, f64::INFINITY));
        for i in 0..w.len() {
            let (wait_from, wait_to) = (w.arrival_s[i], s.start_s[i]);
            for &(idle_a, idle_b) in &gaps {
                prop_assert!(
                    wait_from.max(idle_a) >= wait_to.min(idle_b),
                    "GPU {} idle over [{}, {}) while request {} waited over [{}, {})",
                    g, idle_a, idle_b, i, wait_from, wait_to
                );
            }
        }
    }
    Ok(())
}

/// Re-derive each dispatch: the bin, the target size and the members.
fn replay(w: &Workload, c: &Config, s: &Schedule) -> Result<(), TestCaseError> {
    let n = w.len();
    let k = s.bins.k();
    let dynamic = matches!(c.scheduler, SchedulerKind::DynamicNoBins | SchedulerKind::MultiBinDynamic);
    let per_bin = c.scheduler == SchedulerKind::MultiBinDynamic;
    let scope = |bin: usize| if per_bin { bin } else { 0 };
    // The final version's BIN_B_MAX per bin, from the schedule's own edges.
    let limits: Vec<u32> = if c.memory.rules == MemoryRules::Final && per_bin {
        (0..k)
            .map(|j| {
                let lo = if j == 0 { s.bins.below_goes_last.unwrap_or(0.0) } else { s.bins.edges[j - 1] };
                let hi = if j + 1 == k { 10_000.0 } else { s.bins.edges[j] };
                bin_batch_limit(&c.memory, lo, hi, c.b_max)
            })
            .collect()
    } else {
        Vec::new()
    };
    let mut controllers: Vec<SlaController> = (0..if per_bin { k } else { 1 })
        .map(|j| {
            let b_max = limits.get(j).copied().unwrap_or(c.b_max);
            SlaController::new(&c.sla, c.controller_target_s(), c.b_min.min(b_max), b_max)
        })
        .collect();
    let mut averages = vec![BatchTokenAverages::default(); controllers.len()];
    // Members of the batches dispatched and not yet completed.
    let mut running = 0u32;
    // Per batch: fewer were queued than its target and memory did not stop it.
    let mut cut_by_queue: Vec<bool> = Vec::new();
    let mem = MemoryModel::new(&c.memory, c.b_min, c.b_max);
    // Completions in the engine's order: by end time, then GPU.
    let mut done: Vec<usize> = (0..s.batches.len()).collect();
    done.sort_by(|&a, &b| {
        let (x, y) = (&s.batches[a], &s.batches[b]);
        x.end_s.total_cmp(&y.end_s).then(x.gpu.cmp(&y.gpu))
    });
    let mut fed = 0;
    let mut next_bin = 0usize;
    for (bi, batch) in s.batches.iter().enumerate() {
        let t = batch.start_s;
        // Every batch that ended by t has been observed before this dispatch.
        while fed < done.len() && s.batches[done[fed]].end_s <= t {
            let d = &s.batches[done[fed]];
            prop_assert!(done[fed] < bi);
            running -= d.size;
            if dynamic {
                let members = s.members_of(done[fed]);
                let prompt: u64 = members.iter().map(|&i| w.prompt_tokens[i as usize] as u64).sum();
                let output: u64 = members.iter().map(|&i| w.output_tokens[i as usize] as u64).sum();
                averages[scope(d.bin as usize)].observe(prompt, output, d.size);
            }
            let fed_to_controller = c.sla.feed == ControllerFeed::All || !cut_by_queue[done[fed]];
            if dynamic && fed_to_controller {
                let signal = match c.sla.signal {
                    SlaSignal::TokenTime => d.step_s,
                    SlaSignal::BatchLatency => d.end_s - d.start_s,
                };
                // Still running: dispatched before this batch, not yet completed.
                let elsewhere: u32 = done[fed + 1..].iter().filter(|&&j| j < bi).map(|&j| s.batches[j].size).sum();
                controllers[scope(d.bin as usize)].observe(signal, d.size, elsewhere);
            }
            fed += 1;
        }
        // Queues at t: arrived, not in an earlier batch, FIFO by id.
        let mut queues: Vec<Vec<usize>> = vec![Vec::new(); k];
        for i in 0..n {
            if w.arrival_s[i] <= t && s.batch_of[i] as usize >= bi {
                queues[s.bin_of[i] as usize].push(i);
            }
        }
        let bin = match c.bin_policy {
            _ if k == 1 => 0,
            BinPolicy::RoundRobin => {
                let j = (0..k).map(|d| (next_bin + d) % k).find(|&j| !queues[j].is_empty()).unwrap();
                next_bin = (j + 1) % k;
                j
            }
            BinPolicy::LongestQueue => {
                let longest = queues.iter().map(Vec::len).max().unwrap();
                queues.iter().position(|q| q.len() == longest).unwrap()
            }
        };
        prop_assert_eq!(batch.bin as usize, bin, "batch {} served the wrong bin", bi);
        let (target, aim) = match c.scheduler {
            SchedulerKind::StaticFifo => (c.b_static, SizeReason::FixedSize),
            SchedulerKind::MultiBinFixed => (c.b_fixed, SizeReason::FixedSize),
            _ => {
                let mut mu = RunningMean::default();
                for i in (0..n).filter(|&i| w.arrival_s[i] <= t && scope(s.bin_of[i] as usize) == scope(bin)) {
                    mu.add(w.total_tokens(i) as f64);
                }
                let b_mem = match c.memory.rules {
                    MemoryRules::Arrived => mem.batch_cap(mu.mean()),
                    MemoryRules::First => mem.batch_cap(averages[scope(bin)].mean()),
                    MemoryRules::Final => mem
                        .batch_cap(averages[scope(bin)].mean())
                        .max(running.min(c.b_max))
                        .min(limits.get(bin).copied().unwrap_or(c.b_max)),
                };
                let b_sla = controllers[scope(bin)].b_sla();
                // Ties name memory: it bounds the controller too.
                if b_sla < b_mem { (b_sla, SizeReason::SlaTarget) } else { (b_mem, SizeReason::MemoryCap) }
            }
        };
        let target = target as usize;
        // Stop at the first member that does not fit; the first always goes.
        let mut expected = Vec::new();
        let mut tokens = 0u64;
        let mut memory_full = false;
        for &r in queues[bin].iter().take(target) {
            let len = w.total_tokens(r) as u64;
            if checks_memory(c) && !expected.is_empty() && !mem.fits(tokens + len) {
                memory_full = true;
                break;
            }
            tokens += len;
            expected.push(r as u32);
        }
        cut_by_queue.push(expected.len() < target && !memory_full);
        running += batch.size;
        prop_assert_eq!(s.members_of(bi), &expected[..], "batch {} at t = {}, target {}", bi, t, target);
        let why = if memory_full { SizeReason::MemoryCheck } else if expected.len() < target { SizeReason::Queue } else { aim };
        prop_assert_eq!(s.why[bi], why, "why batch {} at t = {} had its size", bi, t);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn schedules_follow_the_rules(trace in arb_trace(), settings in arb_settings()) {
        let c = settings.config();
        c.validate().unwrap();
        let w = workload(&trace);
        let m = exact_model(0.06, 0.00574, 0.316);
        let s = simulate(&w, &c, &m);
        check_invariants(&w, &c, &m, &s)?;
        check_work_conservation(&w, &c, &s)?;
        // The replay rebuilds each instant's queues, which is the by-instant rule; one
        // event at a time is checked against the original's own schedules instead
        // (`original_schedules.rs`).
        if c.event_order == EventOrder::ByInstant {
            replay(&w, &c, &s)?;
        }
    }

    #[test]
    fn multi_bin_dynamic_with_one_bin_is_dynamic_no_bins(trace in arb_trace(), settings in arb_settings()) {
        let w = workload(&trace);
        let m = exact_model(0.06, 0.00574, 0.316);
        let mut c = settings.config();
        // Except under the final version's memory rules, whose single bin [0, 10000) is
        // capped at its BIN_B_MAX (9 with the paper's memory) as in f1be833.
        prop_assume!(c.memory.rules != MemoryRules::Final);
        c.k_bins = 1;
        c.scheduler = SchedulerKind::MultiBinDynamic;
        let a = simulate(&w, &c, &m);
        c.scheduler = SchedulerKind::DynamicNoBins;
        let b = simulate(&w, &c, &m);
        prop_assert_eq!(a, b);
    }
}
