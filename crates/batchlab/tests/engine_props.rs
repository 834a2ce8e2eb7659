//! Property tests of the engine's invariants on random small workloads.

mod common;

use batchlab::config::{BinPolicy, SchedulerKind};
use batchlab::engine::simulate;
use batchlab::memory::MemoryModel;
use common::{config, exact_model, workload};
use proptest::prelude::*;

fn arb_trace() -> impl Strategy<Value = Vec<(f64, u32, u32)>> {
    // Gaps of 0 (ties) are common on purpose: BurstGPT stamps are whole seconds.
    prop::collection::vec((prop_oneof![Just(0.0), 0.0..3.0f64], 1u32..3000, 1u32..1500), 1..80).prop_map(|rows| {
        let mut t = 0.0;
        rows.into_iter()
            .map(|(gap, p, o)| {
                t += gap;
                (t, p, o)
            })
            .collect()
    })
}

fn arb_scheduler() -> impl Strategy<Value = SchedulerKind> {
    prop::sample::select(SchedulerKind::ALL.to_vec())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn schedule_invariants(trace in arb_trace(), sched in arb_scheduler(), gpus in 1u32..5, k in 1u32..6,
                           longest in any::<bool>(), b in 1u32..40, b_max in 1u32..130) {
        let mut c = config(sched, gpus, k);
        c.b_static = b;
        c.b_fixed = b;
        c.b_max = b_max;
        c.bin_policy = if longest { BinPolicy::LongestQueue } else { BinPolicy::RoundRobin };
        let w = workload(&trace);
        let s = simulate(&w, &c, &exact_model(0.06, 0.00574, 0.316));
        let n = w.len();
        let mem = MemoryModel::new(&c.memory, c.b_min, c.b_max);

        // Every request completes exactly once.
        let mut seen = vec![0u32; n];
        for &r in &s.members { seen[r as usize] += 1; }
        prop_assert!(seen.iter().all(|&x| x == 1));
        for i in 0..n {
            // Never starts before it arrives; completes after it starts.
            prop_assert!(s.start_s[i] >= w.arrival_s[i]);
            prop_assert!(s.finish_s[i] > s.start_s[i]);
        }
        for (bi, batch) in s.batches.iter().enumerate() {
            let members = s.members_of(bi);
            prop_assert_eq!(members.len() as u32, batch.size);
            // Sizes within [1, cap] where the cap is the scheduler's own.
            let cap = match sched {
                SchedulerKind::StaticFifo => c.b_static,
                SchedulerKind::MultiBinFixed => c.b_fixed,
                _ => c.b_max,
            };
            prop_assert!(batch.size >= 1 && batch.size <= cap);
            // A batch never mixes bins, and keeps FIFO order inside.
            prop_assert!(members.iter().all(|&r| s.bin_of[r as usize] == batch.bin));
            prop_assert!(members.windows(2).all(|m| m[0] < m[1]));
            // Memory: within the limit unless it is a single request.
            let tokens: u64 = members.iter().map(|&r| w.total_tokens(r as usize) as u64).sum();
            prop_assert!(batch.size == 1 || mem.fits(tokens));
        }
        // FIFO within a bin: a later request of the same bin never starts earlier.
        for i in 0..n {
            for j in i + 1..n {
                if s.bin_of[i] == s.bin_of[j] {
                    prop_assert!(s.start_s[i] <= s.start_s[j]);
                }
            }
        }
        // No GPU runs two batches at once.
        for g in 0..gpus {
            let mut spans: Vec<(f64, f64)> = s.batches.iter().filter(|b| b.gpu == g).map(|b| (b.start_s, b.end_s)).collect();
            spans.sort_by(|a, b| a.0.total_cmp(&b.0));
            prop_assert!(spans.windows(2).all(|p| p[1].0 >= p[0].1));
        }
        // Only multi-bin schedulers use more than one bin.
        if !sched.uses_bins() { prop_assert!(s.bin_of.iter().all(|&b| b == 0)); }
    }

    #[test]
    fn multi_bin_dynamic_with_one_bin_is_dynamic_no_bins(trace in arb_trace(), gpus in 1u32..5) {
        let w = workload(&trace);
        let m = exact_model(0.06, 0.00574, 0.316);
        let a = simulate(&w, &config(SchedulerKind::MultiBinDynamic, gpus, 1), &m);
        let b = simulate(&w, &config(SchedulerKind::DynamicNoBins, gpus, 1), &m);
        prop_assert_eq!(a, b);
    }
}
