//! The iteration engine against a literal one: this file runs continuous batching one
//! iteration at a time, with every sequence's state spelled out, and property tests
//! check that the engine's closed-form runs give exactly the same TTFT, completion,
//! gap counts and gap histogram on random small workloads (memory pressure, preemption,
//! chunked prefill, ties between arrivals and iteration ends). Hand-worked golden cases
//! pin the model itself.

use std::collections::VecDeque;

use batchlab::bins::Bins;
use batchlab::config::{Config, IterationCost, IterationForm, Preset, Router, SchedulerKind};
use batchlab::engine::iteration::run_math::{fs_of, seconds_of};
use batchlab::engine::iteration::{bin_gpus, blocks_per_gpu, simulate_continuous, IterationSchedule};
use batchlab::token::histogram::{bucket_f64, edges_f64, LogHistogram};
use batchlab::workload::Workload;
use proptest::prelude::*;

#[derive(Debug, Clone)]
struct Seq {
    request: usize,
    admitted: u64,
    prefill_len: u64,
    prefilled: u64,
    stored: u64,
    blocks: u64,
    decoding: bool,
}

#[derive(Default)]
struct LiteralGpu {
    waiting: VecDeque<usize>,
    running: Vec<Seq>,
    free: u64,
    /// End of the iteration in progress with its chunks (request, tokens) and decoders.
    busy_until: Option<u128>,
    chunks: Vec<(usize, u64)>,
    start_pending: bool,
    outstanding: u64,
    busy: u128,
}

/// What the literal engine measures, in the engine's own units.
#[derive(Debug, PartialEq)]
struct Outcome {
    start_s: Vec<f64>,
    first_token_s: Vec<f64>,
    finish_s: Vec<f64>,
    above_tbt: Vec<u32>,
    above_token: Vec<u32>,
    tbt: LogHistogram,
    preemptions: u64,
    iterations: u64,
    gpu_busy_s: Vec<f64>,
}

fn outcome_of(s: &IterationSchedule) -> Outcome {
    Outcome {
        start_s: s.start_s.clone(),
        first_token_s: s.first_token_s.clone(),
        finish_s: s.finish_s.clone(),
        above_tbt: s.gaps_above_tbt_slo.clone(),
        above_token: s.gaps_above_token_sla.clone(),
        tbt: s.tbt.clone(),
        preemptions: s.preemptions,
        iterations: s.iterations,
        gpu_busy_s: s.gpu_busy_s.clone(),
    }
}

/// Continuous batching, every iteration of every GPU in turn.
fn literal(w: &Workload, cfg: &Config, cost: &IterationCost) -> Outcome {
    let it = &cfg.iteration;
    let [c0, cp, cd, cc] = cost.femtoseconds("cost").unwrap();
    let n = w.len();
    let b = u64::from(it.block_tokens);
    let total = blocks_per_gpu(cfg);
    let watermark = (it.watermark * total as f64).ceil() as u64;
    let k = if cfg.scheduler == SchedulerKind::MultiBinContinuous { cfg.k_bins } else { 1 };
    let bins = Bins::equal_mass_by(&w.predicted_output_tokens, k, cfg.bin_boundary_sample, cfg.bin_edge_rule);
    let bin_of: Vec<usize> = w.predicted_output_tokens.iter().map(|&p| bins.bin_of(p)).collect();
    let mut load = vec![0.0; bins.k()];
    for i in 0..n {
        load[bin_of[i]] += f64::from(w.prompt_tokens[i]) + f64::from(w.predicted_output_tokens[i]);
    }
    let groups = bin_gpus(&load, cfg.gpus);
    let mut rr = vec![0usize; groups.len()];
    let mut gpus: Vec<LiteralGpu> = (0..cfg.gpus).map(|_| LiteralGpu { free: total, ..Default::default() }).collect();
    let arrival: Vec<u128> = w.arrival_s.iter().map(|&a| fs_of(a)).collect();
    let none = u128::MAX;
    let (mut start, mut first, mut last, mut finish) = (vec![none; n], vec![none; n], vec![0u128; n], vec![none; n]);
    let (mut emitted, mut above_tbt, mut above_token) = (vec![0u64; n], vec![0u32; n], vec![0u32; n]);
    let edges = edges_f64();
    let mut tbt = LogHistogram::default();
    let (mut preemptions, mut iterations, mut admissions) = (0u64, 0u64, 0u64);
    let mut next = 0;
    let routed = |r: usize| u64::from(w.prompt_tokens[r]) + u64::from(w.predicted_output_tokens[r]);
    loop {
        // The earliest GPU event (an iteration's end, or a start woken by an arrival).
        let gpu_event = (0..gpus.len())
            .filter_map(|g| {
                let t = if gpus[g].start_pending { gpus[g].busy_until.or(Some(0)) } else { gpus[g].busy_until };
                t.map(|t| (t, g))
            })
            .min();
        if next < n && gpu_event.is_none_or(|(t, _)| arrival[next] <= t) {
            let r = next;
            next += 1;
            let group = &groups[bin_of[r]];
            let g = match it.router {
                Router::RoundRobin => {
                    rr[bin_of[r]] += 1;
                    group[(rr[bin_of[r]] - 1) % group.len()] as usize
                }
                Router::LeastLoaded => *group.iter().min_by_key(|&&g| (gpus[g as usize].outstanding, g)).unwrap() as usize,
            };
            let gpu = &mut gpus[g];
            gpu.outstanding += routed(r);
            gpu.waiting.push_back(r);
            if gpu.busy_until.is_none() && !gpu.start_pending {
                gpu.start_pending = true;
                gpu.busy_until = Some(arrival[r]);
            }
            continue;
        }
        let Some((now, g)) = gpu_event else { break };
        let gpu = &mut gpus[g];
        // End the iteration in progress.
        if !gpu.start_pending {
            for s in gpu.running.iter_mut().filter(|s| s.decoding) {
                s.stored += 1;
                let gap = seconds_of(now - last[s.request]);
                tbt.add_to_bucket(bucket_f64(&edges, gap), 1);
                tbt.cover(gap, gap);
                above_tbt[s.request] += (gap > it.tbt_slo_s) as u32;
                above_token[s.request] += (gap > cfg.d_sla_token_s) as u32;
                emitted[s.request] += 1;
                last[s.request] = now;
            }
            for &(r, tokens) in &gpu.chunks {
                let s = gpu.running.iter_mut().find(|s| s.request == r).unwrap();
                s.prefilled += tokens;
                if s.prefilled == s.prefill_len {
                    s.stored = s.prefill_len;
                    s.decoding = true;
                    if w.output_tokens[r] > 0 {
                        if emitted[r] == 0 {
                            first[r] = now;
                        } else {
                            let gap = seconds_of(now - last[r]);
                            tbt.add_to_bucket(bucket_f64(&edges, gap), 1);
                            tbt.cover(gap, gap);
                            above_tbt[r] += (gap > it.tbt_slo_s) as u32;
                            above_token[r] += (gap > cfg.d_sla_token_s) as u32;
                        }
                        emitted[r] += 1;
                        last[r] = now;
                    }
                }
            }
            let mut kept = Vec::new();
            for s in gpu.running.drain(..) {
                if s.decoding && emitted[s.request] >= u64::from(w.output_tokens[s.request]) {
                    finish[s.request] = now;
                    gpu.free += s.blocks;
                    gpu.outstanding -= routed(s.request);
                } else {
                    kept.push(s);
                }
            }
            gpu.running = kept;
        }
        gpu.start_pending = false;
        gpu.busy_until = None;
        gpu.chunks.clear();
        if gpu.running.is_empty() && gpu.waiting.is_empty() {
            continue;
        }
        // Plan the next iteration: blocks for the decoders, oldest first.
        gpu.running.sort_by_key(|s| s.admitted);
        let mut preempted = false;
        let needing: Vec<u64> = gpu.running.iter().filter(|s| s.decoding && s.stored % b == 0).map(|s| s.admitted).collect();
        for id in needing {
            while let Some(pos) = gpu.running.iter().position(|s| s.admitted == id) {
                if gpu.free > 0 {
                    gpu.free -= 1;
                    gpu.running[pos].blocks += 1;
                    break;
                }
                let victim = gpu.running.pop().unwrap(); // the most recently admitted
                gpu.free += victim.blocks;
                gpu.waiting.push_front(victim.request);
                preempted = true;
                preemptions += 1;
            }
        }
        let decoders = gpu.running.iter().filter(|s| s.decoding).count() as u64;
        let mut budget = u64::from(it.max_batched_tokens).saturating_sub(decoders);
        let mut chunks = Vec::new();
        for s in gpu.running.iter().filter(|s| !s.decoding) {
            if budget > 0 {
                let c = (s.prefill_len - s.prefilled).min(budget);
                chunks.push((s.request, c));
                budget -= c;
            }
        }
        if !preempted || gpu.running.is_empty() {
            while let Some(&r) = gpu.waiting.front() {
                let len = (u64::from(w.prompt_tokens[r]) + emitted[r]).max(1);
                let blocks = len.div_ceil(b);
                let fits = if gpu.running.is_empty() { blocks <= gpu.free } else { blocks + watermark <= gpu.free };
                let chunk = if it.chunked_prefill {
                    len.min(budget)
                } else if chunks.is_empty() || len <= budget {
                    len
                } else {
                    0
                };
                if gpu.running.len() >= it.max_seqs as usize || !fits || chunk == 0 {
                    break;
                }
                gpu.waiting.pop_front();
                if start[r] == none {
                    start[r] = now;
                }
                gpu.free -= blocks;
                gpu.running.push(Seq { request: r, admitted: admissions, prefill_len: len, prefilled: 0, stored: 0, blocks, decoding: false });
                admissions += 1;
                budget = budget.saturating_sub(chunk);
                chunks.push((r, chunk));
            }
        }
        // Zero-output requests whose prefill completes are finished at the iteration's end
        // like the others: they are "decoding" with nothing left to emit.
        let prefill: u64 = chunks.iter().map(|&(_, c)| c).sum();
        let reads: u64 = gpu.running.iter().filter(|s| s.decoding).map(|s| s.stored).sum::<u64>()
            + chunks.iter().map(|&(r, _)| gpu.running.iter().find(|s| s.request == r).unwrap().prefilled).sum::<u64>();
        let compute = cp * prefill as u128 + cd * decoders as u128;
        let memory = c0 + cc * reads as u128;
        let d = if it.form == IterationForm::Max { memory.max(compute) } else { memory + compute };
        gpu.busy += d;
        gpu.busy_until = Some(now + d);
        gpu.chunks = chunks;
        iterations += 1;
    }
    let secs = |v: &[u128]| v.iter().map(|&t| if t == none { f64::NAN } else { seconds_of(t) }).collect::<Vec<_>>();
    Outcome {
        start_s: secs(&start),
        first_token_s: secs(&first),
        finish_s: secs(&finish),
        above_tbt,
        above_token,
        tbt,
        preemptions,
        iterations,
        gpu_busy_s: gpus.iter().map(|g| seconds_of(g.busy)).collect(),
    }
}

fn same(a: &Outcome, b: &Outcome) -> bool {
    let eq = |x: &[f64], y: &[f64]| x.len() == y.len() && x.iter().zip(y).all(|(p, q)| p.to_bits() == q.to_bits());
    eq(&a.start_s, &b.start_s)
        && eq(&a.first_token_s, &b.first_token_s)
        && eq(&a.finish_s, &b.finish_s)
        && a.above_tbt == b.above_tbt
        && a.above_token == b.above_token
        && a.tbt.counts == b.tbt.counts
        && a.tbt.total == b.tbt.total
        && a.tbt.min.to_bits() == b.tbt.min.to_bits()
        && a.tbt.max.to_bits() == b.tbt.max.to_bits()
        && a.preemptions == b.preemptions
        && a.iterations == b.iterations
        && eq(&a.gpu_busy_s, &b.gpu_busy_s)
}

/// A configuration whose GPUs hold `blocks` KV blocks of `block_tokens` tokens.
fn config_with_blocks(blocks: u64, block_tokens: u32) -> Config {
    let mut c = Config::preset(Preset::Paper);
    c.scheduler = SchedulerKind::Continuous;
    c.gpus = 1;
    c.iteration.block_tokens = block_tokens;
    c.iteration.watermark = 0.0;
    c.memory.m_max_gb = 2.0;
    c.memory.m_model_gb = 0.5;
    c.memory.margin_gb = 0.5;
    // (blocks * B + 0.5) tokens of 1 GB / that.
    c.memory.kv_per_token_gb = 1.0 / (blocks as f64 * f64::from(block_tokens) + 0.5);
    assert_eq!(blocks_per_gpu(&c), blocks);
    c
}

fn workload(rows: &[(f64, u32, u32)]) -> Workload {
    Workload {
        arrival_s: rows.iter().map(|r| r.0).collect(),
        prompt_tokens: rows.iter().map(|r| r.1).collect(),
        output_tokens: rows.iter().map(|r| r.2).collect(),
        predicted_output_tokens: rows.iter().map(|r| r.2.max(1)).collect(),
    }
}

fn arb_case() -> impl Strategy<Value = (Workload, Config, IterationCost)> {
    let rows = prop::collection::vec((0u32..40, 0u32..40, 0u32..30), 1..40);
    (
        rows,
        (1u32..4, any::<bool>(), 1u32..5, any::<bool>()),
        (1u32..9, 1u32..7, 0u32..60, any::<bool>(), 0u32..3),
        (6u64..60, 1u64..5, 0u64..4, 0u64..3, 0u64..3),
        (1u32..40, 1u32..60, any::<bool>()),
    )
        .prop_map(|(rows, (gpus, bins, k, rr), (block, max_seqs, extra_tokens, chunked, watermark), (blocks, c0, cp, cd, cc), (tbt, token, overlap))| {
            let mut c = config_with_blocks(blocks, block);
            // Every request must fit a GPU's cache on its own.
            let cap = blocks * u64::from(block);
            let mut t = 0.0;
            let rows: Vec<(f64, u32, u32)> = rows
                .into_iter()
                .map(|(gap, p, o)| {
                    // Arrivals on a 1 ms grid, so they often tie with iteration ends.
                    t += f64::from(gap / 8) * 0.001;
                    let p = (u64::from(p)).min(cap) as u32;
                    let o = (u64::from(o)).min(cap + 1 - u64::from(p.max(1))) as u32;
                    (t, p, o)
                })
                .collect();
            c.gpus = gpus;
            c.scheduler = if bins { SchedulerKind::MultiBinContinuous } else { SchedulerKind::Continuous };
            c.k_bins = k;
            c.iteration.router = if rr { Router::RoundRobin } else { Router::LeastLoaded };
            c.iteration.max_seqs = max_seqs;
            c.iteration.max_batched_tokens = max_seqs + extra_tokens;
            c.iteration.chunked_prefill = chunked;
            c.iteration.form = if overlap { IterationForm::Max } else { IterationForm::Sum };
            c.iteration.watermark = f64::from(watermark) * 0.05;
            c.iteration.tbt_slo_s = f64::from(tbt) * 0.0005;
            c.d_sla_token_s = f64::from(token) * 0.0005;
            // Costs in whole milliseconds and tenths: boundaries land on the arrivals' grid.
            let cost = IterationCost {
                c0_s: c0 as f64 * 0.001,
                prefill_token_s: cp as f64 * 0.0001,
                decode_seq_s: cd as f64 * 0.0005,
                context_token_s: cc as f64 * 0.00001,
            };
            c.requests = rows.len();
            (workload(&rows), c, cost)
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 600, ..ProptestConfig::default() })]

    #[test]
    fn the_engine_equals_the_literal_iterations((w, cfg, cost) in arb_case()) {
        cfg.validate().unwrap();
        let engine = outcome_of(&simulate_continuous(&w, &cfg, &cost).unwrap());
        let literal = literal(&w, &cfg, &cost);
        prop_assert!(same(&engine, &literal), "engine {engine:#?}\nliteral {literal:#?}");
        // Every request finished, after its first token.
        for i in 0..w.len() {
            prop_assert!(engine.finish_s[i] >= w.arrival_s[i] - 1e-12);
            if w.output_tokens[i] > 0 {
                prop_assert!(engine.first_token_s[i] <= engine.finish_s[i]);
            }
        }
    }
}

/// c0 10 ms, 1 ms per prefill token, 2 ms per decoding sequence, no context cost.
const HAND_COST: IterationCost = IterationCost { c0_s: 0.010, prefill_token_s: 0.001, decode_seq_s: 0.002, context_token_s: 0.0 };

fn hand_run(rows: &[(f64, u32, u32)], blocks: u64, block_tokens: u32) -> (IterationSchedule, Outcome) {
    let w = workload(rows);
    let mut cfg = config_with_blocks(blocks, block_tokens);
    cfg.requests = w.len();
    let s = simulate_continuous(&w, &cfg, &HAND_COST).unwrap();
    let lit = literal(&w, &cfg, &HAND_COST);
    assert!(same(&outcome_of(&s), &lit));
    (s, lit)
}

fn ms(v: &[f64]) -> Vec<f64> {
    v.iter().map(|x| (x * 1e6).round() / 1e3).collect()
}

/// The gaps of the histogram, in ms, smallest first (one value per gap).
fn gaps_ms(h: &LogHistogram) -> Vec<f64> {
    let edges = edges_f64();
    let mut out = Vec::new();
    for (bucket, &c) in h.counts.iter().enumerate() {
        for _ in 0..c {
            // The bucket's lower edge is within 0.1% of the gap.
            out.push((edges[bucket - 1] * 1e3).round());
        }
    }
    out
}

#[test]
fn one_request_prefills_then_decodes_one_token_per_iteration() {
    // Prefill 5 tokens: 10 + 5 = 15 ms, first token; then 10 + 2 = 12 ms per token.
    let (s, _) = hand_run(&[(0.0, 5, 3)], 100, 16);
    assert_eq!(ms(&s.first_token_s), [15.0]);
    assert_eq!(ms(&s.finish_s), [39.0]);
    assert_eq!(gaps_ms(&s.tbt), [12.0, 12.0]);
    assert_eq!(s.iterations, 3);
    // The prefill, then both decodes in one closed-form run; one sequence in each.
    assert_eq!(s.runs, 2);
    assert_eq!((s.members, s.size_min, s.size_max), (3, 1, 1));
    // One of the 100 blocks (5, then 7 tokens stored) in use from start to finish.
    assert!((s.kv_util_mean - 0.01).abs() < 1e-12 && s.kv_util_max == 0.01, "{} {}", s.kv_util_mean, s.kv_util_max);
}

#[test]
fn a_second_prompt_stalls_the_first_requests_decode() {
    // A decodes alone until B's 10-token prefill joins its third iteration:
    // [0, 15] A prefill; [15, 27] A; [27, 49] A + B's prefill (10 + 10 + 2); [49, 63] both.
    let (s, _) = hand_run(&[(0.0, 5, 4), (0.020, 10, 2)], 100, 16);
    assert_eq!(ms(&s.first_token_s), [15.0, 49.0]);
    assert_eq!(ms(&s.finish_s), [63.0, 63.0]);
    // A: 12, 22 (the stall), 14; B: 14.
    assert_eq!(gaps_ms(&s.tbt), [12.0, 14.0, 14.0, 22.0]);
    // Sequences per iteration: 1, 1, 2, 2.
    assert_eq!((s.iterations, s.members, s.size_min, s.size_max), (4, 6, 1, 2));
    assert_eq!(s.preemptions, 0);
}

#[test]
fn a_decode_without_a_free_block_preempts_the_newest_sequence() {
    // 4 blocks of 2 tokens. A (4 + 5) and B (3 + 3) both fit at 0: [0, 17] prefill 7.
    // At 17 A's 4 stored tokens fill its blocks: none free, so B (newest) is preempted;
    // A decodes alone ([17, 29], [29, 41], [41, 53], [53, 65]) and finishes; B's
    // recompute prefills its 3 + 1 tokens ([65, 79]) and decodes once ([79, 91]).
    let (s, _) = hand_run(&[(0.0, 4, 5), (0.0, 3, 3)], 4, 2);
    assert_eq!(s.preemptions, 1);
    assert_eq!(ms(&s.first_token_s), [17.0, 17.0]);
    assert_eq!(ms(&s.finish_s), [65.0, 91.0]);
    // A: 12 x 4; B: 62 (preempted, 17 -> 79) and 12.
    assert_eq!(gaps_ms(&s.tbt), [12.0, 12.0, 12.0, 12.0, 12.0, 62.0]);
}
