//! The iteration engine: continuous batching on G GPUs.
//!
//! # The model
//!
//! A router sends each arriving request to one GPU of its group (`continuous`: all GPUs;
//! `multi_bin_continuous`: the GPUs of its bin, see `route`), where it waits in that
//! GPU's FCFS queue. A GPU runs iterations back to back while it has work. At the start
//! of an iteration (a *boundary*):
//!
//! 1. every decoding sequence whose stored tokens fill its last KV block takes a new
//!    block; when none is free, the most recently admitted running sequence is preempted
//!    (recompute: its blocks are freed, it returns to the front of the queue, and its
//!    prefill later covers the prompt and the tokens it had emitted);
//! 2. the token budget (`max_batched_tokens`) goes first to the decodes (one token
//!    each), then to prefills: with chunked prefill, the unfinished prompts (oldest first)
//!    and new admissions each take what is left; without it, whole prompts join while
//!    they fit, the first always;
//! 3. the queue's head is admitted while it fits: fewer than `max_seqs` running, its
//!    prompt's blocks free with the watermark to spare (no watermark on an idle GPU), and
//!    budget left. No admission follows a preemption in the same iteration. An empty
//!    prompt prefills one token (the sequence's start).
//!
//! The iteration costs `c0 + c_prefill * prefill_tokens + c_decode * decoders + c_ctx *
//! context_read` (`iteration_cost`; with `IterationForm::Max` the compute terms overlap the
//! memory ones: `max(c0 + c_ctx * context_read, c_prefill * prefill_tokens + c_decode *
//! decoders)`), in whole femtoseconds. At its end every decoder
//! emits a token (its gap: the iteration's duration, prefill stalls included), a prefill
//! that completes emits its sequence's next token (the first one: TTFT), and sequences
//! with all their tokens leave and free their blocks.
//!
//! Events of one instant: arrivals first (by request), then GPU boundaries (by GPU).
//!
//! # The compression
//!
//! Between events an iteration's members do not change, so a run of pure-decode
//! iterations is computed in closed form (`run_math`): it lasts until a sequence
//! finishes, the free blocks run out, or (waiting queue empty) an arrival comes, which
//! cuts the run at its first boundary at or after the arrival. Iterations with prefill
//! work are taken one at a time. Nothing is visited per token: a 1M-request run takes
//! work proportional to its events, not to its ~1e8 tokens. `tests/continuous_literal.rs`
//! runs every iteration literally and must agree exactly.

use crate::bins::Bins;
use crate::config::{Config, IterationForm, Router, SchedulerKind};
use crate::error::{Error, Result};
use crate::iteration_cost::IterationCost;
use crate::timeseries::{Sampler, TimeSeries};
use crate::histogram::{edges_f64, LogHistogram};
use crate::workload::Workload;

use super::{BatchSummary, ScheduleView, SizeReason};

mod gpu;
mod route;
pub mod run_math;

use gpu::Gpu;
use run_math::{fs_of, seconds_of, Fs};
pub use route::bin_gpus;

/// What the iteration engine decided and measured.
#[derive(Debug, Clone, PartialEq)]
pub struct IterationSchedule {
    /// Per request: first admission, first token (NaN when it has no output token),
    /// completion, seconds.
    pub start_s: Vec<f64>,
    pub first_token_s: Vec<f64>,
    pub finish_s: Vec<f64>,
    /// Per request: its gaps above the TBT SLO and above the per-token SLA.
    pub gaps_above_tbt_slo: Vec<u32>,
    pub gaps_above_token_sla: Vec<u32>,
    /// Every gap between two tokens of a request (iteration durations, and the stalls
    /// of preempted requests).
    pub tbt: LogHistogram,
    pub bins: Bins,
    pub bin_of: Vec<u32>,
    /// Per bin, the GPUs serving it.
    pub groups: Vec<Vec<u32>>,
    pub gpu_busy_s: Vec<f64>,
    pub timeseries: TimeSeries,
    pub iterations: u64,
    /// Runs of iterations the engine planned and completed (each in closed form): far
    /// fewer than `iterations` when the compression works.
    pub runs: u64,
    /// Sequences summed over iterations, and the fewest and most in one.
    pub members: u64,
    pub size_min: u64,
    pub size_max: u64,
    pub preemptions: u64,
    /// Blocks of one GPU's cache.
    pub blocks_per_gpu: u64,
    /// Mean share of the KV blocks in use over the makespan (all GPUs), and the peak on any GPU.
    pub kv_util_mean: f64,
    pub kv_util_max: f64,
}

impl ScheduleView for IterationSchedule {
    super::schedule_view_fields!();
    fn batch_summary(&self) -> BatchSummary {
        BatchSummary {
            count: self.iterations,
            members: self.members,
            size_min: self.size_min.min(u32::MAX as u64) as u32,
            size_max: self.size_max.min(u32::MAX as u64) as u32,
            per_bin: Vec::new(),
        }
    }
}

/// A run of iterations as one GPU ran it (for the page's timeline): every iteration of
/// a run has the same members.
#[derive(Debug, Clone, PartialEq)]
pub struct LoggedRun {
    pub gpu: u32,
    pub start_s: f64,
    pub end_s: f64,
    pub iterations: u64,
    /// Its sequences: those decoding, and those prefilling (a run with prefill work is one iteration).
    pub decoding: u32,
    pub prefilling: u32,
    pub prefill_tokens: u64,
    /// The lowest request ids among its sequences, lowest first (at most as many as asked).
    pub members: Vec<u32>,
    /// What kept more waiting requests from joining at its start.
    pub why: SizeReason,
}

/// Where `simulate_continuous_with` reports the runs it completes. Asked first whether it
/// wants a run (cheap: GPU and times), so a run is described only when kept.
pub trait RunSink {
    fn wants(&mut self, gpu: u32, start_s: f64, end_s: f64) -> bool;
    /// How many member ids a `LoggedRun` carries.
    fn members(&self) -> usize;
    fn record(&mut self, run: LoggedRun);
}

/// The run's constants the GPUs read.
pub(crate) struct Params {
    pub cost: [Fs; 4],
    pub max_seqs: u32,
    pub max_batched_tokens: u32,
    pub chunked_prefill: bool,
    /// `IterationForm::Max`: compute overlaps memory time.
    pub overlap: bool,
    pub watermark_blocks: u64,
    pub tbt_slo_s: f64,
    pub d_sla_token_s: f64,
}

/// Per-request state and run-wide tallies, shared by the GPUs.
pub(crate) struct Book<'a> {
    pub p: Params,
    pub w_prompt: &'a [u32],
    pub w_output: &'a [u32],
    w_predicted: &'a [u32],
    pub bin_of: Vec<u32>,
    pub waiting_in_bin: Vec<u32>,
    pub emitted: Vec<u32>,
    pub first_admit: Vec<Fs>,
    pub first_token: Vec<Fs>,
    pub last_token: Vec<Fs>,
    pub finish: Vec<Fs>,
    pub above_tbt: Vec<u32>,
    pub above_token: Vec<u32>,
    pub edges: Vec<f64>,
    pub tbt: LogHistogram,
    /// The TBT bucket used last (`run_math::bucket_cached`).
    pub last_bucket: usize,
    pub next_admission: u64,
    pub preemptions: u64,
    pub iterations: u64,
    pub runs: u64,
    pub members: u64,
    pub size_min: u64,
    pub size_max: u64,
}

impl Book<'_> {
    /// What the router counts for request r: its prompt and predicted output.
    pub fn routed_tokens(&self, r: usize) -> u64 {
        u64::from(self.w_prompt[r]) + u64::from(self.w_predicted[r])
    }

    /// One gap that is not an iteration of a decode run (a preempted request's stall).
    pub fn add_gap(&mut self, r: usize, gap: Fs) {
        let g = seconds_of(gap);
        self.tbt.add_to_bucket(run_math::bucket_cached(&self.edges, g, &mut self.last_bucket), 1);
        self.tbt.cover(g, g);
        self.above_tbt[r] += (g > self.p.tbt_slo_s) as u32;
        self.above_token[r] += (g > self.p.d_sla_token_s) as u32;
    }
}

/// Blocks of one GPU's KV cache: what the memory model leaves after the weights and the
/// margin, in blocks of `block_tokens`.
pub fn blocks_per_gpu(cfg: &Config) -> u64 {
    let m = &cfg.memory;
    let tokens = ((m.m_max_gb - m.m_model_gb - m.margin_gb) / m.kv_per_token_gb).floor().max(0.0);
    (tokens as u64) / u64::from(cfg.iteration.block_tokens)
}

/// Latest arrival (seconds, ~30M years) the femtosecond clock takes with room to spare.
pub const MAX_ARRIVAL_S: f64 = crate::workload::MAX_ARRIVAL_S;

/// Simulate `w` (sorted by arrival) under a continuous scheduler of `cfg` (valid),
/// each iteration priced by `cost`.
pub fn simulate_continuous(w: &Workload, cfg: &Config, cost: &IterationCost) -> Result<IterationSchedule> {
    simulate_continuous_with(w, cfg, cost, None)
}

/// `simulate_continuous`, reporting each completed run of iterations to `sink` (the
/// schedule is the same with or without one).
pub fn simulate_continuous_with(w: &Workload, cfg: &Config, cost: &IterationCost, mut sink: Option<&mut dyn RunSink>) -> Result<IterationSchedule> {
    let it = &cfg.iteration;
    let n = w.len();
    let cost_fs = cost.femtoseconds("iteration_profile")?;
    let total_blocks = blocks_per_gpu(cfg);
    let b = u64::from(it.block_tokens);
    for i in 0..n {
        // The most a sequence ever stores: its prompt and all its tokens but the last.
        let (p, o) = (u64::from(w.prompt_tokens[i]), u64::from(w.output_tokens[i]));
        let need = (p + o.saturating_sub(1)).max(1).div_ceil(b);
        if need > total_blocks {
            return Err(Error::field(
                "memory.m_max_gb",
                format!(
                    "request {i} ({p} prompt + {o} output tokens) needs {need} KV blocks of {b} tokens; a GPU's cache holds {total_blocks} ((m_max - m_model - margin) / kv_per_token)"
                ),
            ));
        }
    }
    // The clock is whole femtoseconds in a u128: arrivals past this leave no room for the
    // run after them (a tiny load factor scales a workload out to ~1e300 s).
    let last = w.arrival_s.iter().fold(0.0f64, |m, &a| if a > m || a.is_nan() { a } else { m });
    if last.is_nan() || last > MAX_ARRIVAL_S {
        return Err(Error::field(
            "load.factor",
            format!("scales the arrivals out to {last:e} s, past the {MAX_ARRIVAL_S:e} s continuous batching can time: use a larger load factor"),
        ));
    }
    let k = if cfg.scheduler == SchedulerKind::MultiBinContinuous { cfg.k_bins } else { 1 };
    let bins = Bins::equal_mass_by(&w.predicted_output_tokens, k, cfg.bin_boundary_sample, cfg.bin_edge_rule);
    let bin_of: Vec<u32> = w.predicted_output_tokens.iter().map(|&p| bins.bin_of(p) as u32).collect();
    let mut load = vec![0.0; bins.k()];
    for i in 0..n {
        load[bin_of[i] as usize] += f64::from(w.prompt_tokens[i]) + f64::from(w.predicted_output_tokens[i]);
    }
    let groups = bin_gpus(&load, cfg.gpus);
    let mut book = Book {
        p: Params {
            cost: cost_fs,
            max_seqs: it.max_seqs,
            max_batched_tokens: it.max_batched_tokens,
            chunked_prefill: it.chunked_prefill,
            overlap: it.form == IterationForm::Max,
            watermark_blocks: (it.watermark * total_blocks as f64).ceil() as u64,
            tbt_slo_s: it.tbt_slo_s,
            d_sla_token_s: cfg.d_sla_token_s,
        },
        w_prompt: &w.prompt_tokens,
        w_output: &w.output_tokens,
        w_predicted: &w.predicted_output_tokens,
        waiting_in_bin: vec![0; bins.k()],
        bin_of,
        emitted: vec![0; n],
        first_admit: vec![Fs::MAX; n],
        first_token: vec![Fs::MAX; n],
        last_token: vec![0; n],
        finish: vec![Fs::MAX; n],
        above_tbt: vec![0; n],
        above_token: vec![0; n],
        edges: edges_f64(),
        tbt: LogHistogram::default(),
        last_bucket: 0,
        next_admission: 0,
        preemptions: 0,
        iterations: 0,
        runs: 0,
        members: 0,
        size_min: u64::MAX,
        size_max: 0,
    };
    let mut gpus: Vec<Gpu> = (0..cfg.gpus).map(|_| Gpu::new(total_blocks, it.block_tokens)).collect();
    let mut next_in_group = vec![0usize; groups.len()];
    let arrival: Vec<Fs> = w.arrival_s.iter().map(|&a| fs_of(a)).collect();
    // Boundaries: (time, GPU, epoch), earliest first; an entry whose epoch is not its
    // GPU's current one is stale.
    let mut boundaries = std::collections::BinaryHeap::new();
    let horizon = w.arrival_s.last().copied().unwrap_or(0.0);
    let mut sampler = Sampler::new(horizon, cfg.timeseries_points, book.waiting_in_bin.len());
    let mut next = 0usize;
    loop {
        let boundary = loop {
            match boundaries.peek() {
                Some(&std::cmp::Reverse((_, g, e))) if gpus[g as usize].epoch != e => {
                    boundaries.pop();
                }
                Some(&std::cmp::Reverse(entry)) => break Some(entry),
                None => break None,
            }
        };
        let arrival_first = next < n && boundary.is_none_or(|(t, _, _)| arrival[next] <= t);
        if arrival_first {
            let r = next;
            next += 1;
            let t = arrival[r];
            sample(&mut sampler, seconds_of(t), &gpus, &book);
            let bin = book.bin_of[r] as usize;
            let group = &groups[bin];
            let g = match it.router {
                Router::RoundRobin => {
                    let g = group[next_in_group[bin] % group.len()];
                    next_in_group[bin] += 1;
                    g
                }
                Router::LeastLoaded => *group.iter().min_by_key(|&&g| (gpus[g as usize].outstanding, g)).expect("every bin has a GPU"),
            } as usize;
            let tokens = book.routed_tokens(r);
            let gpu = &mut gpus[g];
            gpu.outstanding += tokens;
            let was_empty = gpu.waiting.is_empty();
            gpu.waiting.push_back(r as u32);
            book.waiting_in_bin[bin] += 1;
            // No run planned: nothing is running (plan() returns None only then).
            let idle = !gpu.starting && was_empty;
            match &mut gpu.run {
                None if idle => {
                    // Idle: start at this instant (after the instant's other arrivals).
                    gpu.clock = t;
                    gpu.epoch += 1;
                    gpu.starting = true;
                    boundaries.push(std::cmp::Reverse((t, g as u32, gpu.epoch)));
                }
                Some(run) if run.cut_by_arrival && was_empty && run.m > 1 => {
                    let k = run.arith.first_end_at_or_after(t - run.start, run.m);
                    if k < run.m {
                        run.m = k;
                        gpu.epoch += 1;
                        boundaries.push(std::cmp::Reverse((run.start + run.arith.total(k), g as u32, gpu.epoch)));
                    }
                }
                _ => {}
            }
            continue;
        }
        let Some((t, g, _)) = boundary else { break };
        boundaries.pop();
        sample(&mut sampler, seconds_of(t), &gpus, &book);
        let gpu = &mut gpus[g as usize];
        gpu.starting = false;
        if let Some(run) = gpu.run.take() {
            if let Some(sink) = sink.as_deref_mut() {
                let (start, end) = (seconds_of(run.start), seconds_of(run.start + run.arith.total(run.m)));
                if sink.wants(g, start, end) {
                    sink.record(gpu.logged(g, &run, start, end, sink.members()));
                }
            }
            gpu.complete(&run, run.m, &mut book);
        }
        debug_assert_eq!(gpu.clock, t);
        if let Some(run) = gpu.plan(&mut book) {
            let end = run.start + run.arith.total(run.m);
            gpu.epoch += 1;
            boundaries.push(std::cmp::Reverse((end, g, gpu.epoch)));
            gpu.run = Some(run);
        }
    }
    Ok(finish(w, book, gpus, bins, groups, total_blocks, sampler))
}

/// Record the state that held up to `t` in the time series.
fn sample(sampler: &mut Sampler, t: f64, gpus: &[Gpu], book: &Book) {
    sampler.advance_with(
        t,
        gpus.iter().filter(|g| g.run.is_some() || g.starting).count() as u32,
        |j| book.waiting_in_bin[j],
        || {
            let used: u64 = gpus.iter().map(|g| g.total_blocks - g.free_blocks).sum();
            let total: u64 = gpus.iter().map(|g| g.total_blocks).sum();
            let running: usize = gpus.iter().map(|g| g.running_len()).sum();
            (if total > 0 { used as f32 / total as f32 } else { 0.0 }, running as u32)
        },
    );
}

fn finish(w: &Workload, book: Book, gpus: Vec<Gpu>, bins: Bins, groups: Vec<Vec<u32>>, blocks: u64, sampler: Sampler) -> IterationSchedule {
    let secs = |v: &[Fs]| -> Vec<f64> { v.iter().map(|&t| if t == Fs::MAX { f64::NAN } else { seconds_of(t) }).collect() };
    let first = w.arrival_s.first().copied().unwrap_or(0.0);
    let finish_s = secs(&book.finish);
    let makespan = finish_s.iter().copied().fold(first, f64::max) - first;
    let gpu_count = gpus.len() as f64;
    let kv_util_mean = if makespan > 0.0 && blocks > 0 {
        gpus.iter().map(|g| g.used_integral).sum::<f64>() / (blocks as f64 * makespan * gpu_count)
    } else {
        0.0
    };
    let kv_util_max = if blocks > 0 { gpus.iter().map(|g| g.used_peak).max().unwrap_or(0) as f64 / blocks as f64 } else { 0.0 };
    debug_assert!(book.finish.iter().all(|&f| f != Fs::MAX), "every request finishes");
    IterationSchedule {
        start_s: secs(&book.first_admit),
        first_token_s: secs(&book.first_token),
        finish_s,
        gaps_above_tbt_slo: book.above_tbt,
        gaps_above_token_sla: book.above_token,
        tbt: book.tbt,
        bins,
        bin_of: book.bin_of,
        groups,
        gpu_busy_s: gpus.iter().map(|g| seconds_of(g.busy)).collect(),
        timeseries: sampler.finish(),
        iterations: book.iterations,
        runs: book.runs,
        members: book.members,
        size_min: if book.iterations == 0 { 0 } else { book.size_min },
        size_max: book.size_max,
        preemptions: book.preemptions,
        blocks_per_gpu: blocks,
        kv_util_mean,
        kv_util_max,
    }
}
