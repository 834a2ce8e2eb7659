//! The batch engine: G GPUs, one or K FIFO queues, and the four batch schedulers (a
//! batch runs to its end before its GPU takes new work).
//!
//! Events are arrivals (read in order from the workload's sorted arrival array) and
//! batch completions (a binary heap keyed by (end time, GPU id), at most G entries), so
//! each event costs O(log G) and nothing is allocated per event.
//!
//! Ties (BurstGPT stamps are whole seconds), `EventOrder::ByInstant`: all events at the
//! same instant are handled as one step — first the completions (by GPU id), then the
//! arrivals (by request id), then every idle GPU (lowest id first) takes a batch from
//! what is queued. So requests that arrive together can share a batch, and the result
//! does not depend on heap order. `EventOrder::OneAtATime` replays the original instead:
//! every event (all arrivals pushed first, completions as batches start) goes through a
//! heap that orders ties as Python's `heapq` does (`py_heap`), and idle GPUs take work
//! after each single event, so a request arriving at an idle GPU is served alone before
//! the next one of the same second is queued.
//!
//! The SLA controller of a scope (global, or one per bin) is fed a batch when it
//! completes: that is when its latency is observed. With `ControllerFeed::Limited` a
//! batch that the queue cut short (fewer waiting than the target, memory not the limit)
//! is not fed: its size says nothing about the SLA.

use std::cmp::{Ordering, Reverse};
use std::collections::{BinaryHeap, VecDeque};

use crate::bins::Bins;
use crate::config::{Completion, Config, ControllerFeed, EventOrder, MemoryRules, SchedulerKind, SlaSignal};
use crate::latency::LatencyModel;
use crate::memory::{bin_batch_limit, BatchTokenAverages, MemoryModel, RunningMean};
use crate::sla::SlaController;
use crate::timeseries::{Sampler, TimeSeries};
use crate::workload::Workload;

use super::py_heap::PyHeap;
use super::SizeReason;

/// One batch as it ran.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Batch {
    pub gpu: u32,
    pub bin: u32,
    pub size: u32,
    pub start_s: f64,
    pub end_s: f64,
    /// Longest member's prompt + output tokens (L of the latency model).
    pub max_len: u32,
    /// Per-token decode time of this batch (TBT of its members).
    pub step_s: f64,
}

/// Everything the engine decided, for metrics, reports and tests.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    pub batches: Vec<Batch>,
    /// Members of batch b are `members[member_start[b]..member_start[b + 1]]`, FIFO order.
    pub members: Vec<u32>,
    pub member_start: Vec<u32>,
    /// Per request: its batch, when that batch started, when the request completed.
    pub batch_of: Vec<u32>,
    pub start_s: Vec<f64>,
    pub finish_s: Vec<f64>,
    pub bins: Bins,
    pub bin_of: Vec<u32>,
    pub gpu_busy_s: Vec<f64>,
    pub timeseries: TimeSeries,
    /// Per batch: why it had its size (one byte each; empty for a schedule made by hand).
    pub why: Vec<SizeReason>,
}

impl Schedule {
    /// A schedule with no batch yet, for `requests` requests on `gpus` GPUs.
    pub fn new(requests: usize, gpus: usize, bins: Bins) -> Self {
        Schedule {
            batches: Vec::new(),
            members: Vec::with_capacity(requests),
            member_start: vec![0],
            batch_of: vec![u32::MAX; requests],
            start_s: vec![f64::NAN; requests],
            finish_s: vec![f64::NAN; requests],
            bins,
            bin_of: Vec::new(),
            gpu_busy_s: vec![0.0; gpus],
            timeseries: TimeSeries::default(),
            why: Vec::new(),
        }
    }

    pub fn members_of(&self, b: usize) -> &[u32] {
        &self.members[self.member_start[b] as usize..self.member_start[b + 1] as usize]
    }
}

/// A busy GPU in the completion heap, ordered by (end time, GPU id).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Running {
    end_s: f64,
    gpu: u32,
    batch: u32,
}

impl Eq for Running {}
impl PartialOrd for Running {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Running {
    fn cmp(&self, other: &Self) -> Ordering {
        self.end_s.total_cmp(&other.end_s).then(self.gpu.cmp(&other.gpu))
    }
}

struct Engine<'a> {
    w: &'a Workload,
    cfg: &'a Config,
    model: &'a LatencyModel,
    memory: MemoryModel,
    bin_of: Vec<u32>,
    queues: Vec<VecDeque<u32>>,
    queued: usize,
    /// One controller and one running token mean per scope (1 global, or one per bin).
    controllers: Vec<SlaController>,
    /// Tokens per request for b_mem, per scope: over arrived requests (`MemoryRules::Arrived`)
    /// or the original's averages over finished batches (`First`, `Final`).
    mu: Vec<RunningMean>,
    batch_averages: Vec<BatchTokenAverages>,
    /// `MemoryRules::Final` with bins: each bin's BIN_B_MAX; empty otherwise.
    bin_limits: Vec<u32>,
    /// Members of the batches running now.
    running_requests: u32,
    next_bin: usize,
    idle: BinaryHeap<Reverse<u32>>,
    /// Batches started by the last `dispatch`, for the event loop's heap.
    started: Vec<Running>,
    s: Schedule,
}

/// An event of `EventOrder::OneAtATime`.
#[derive(Debug, Clone, Copy)]
enum Event {
    Arrival(u32),
    Done(Running),
}

/// Simulate `w` under `cfg`, a batch scheduler (`!cfg.scheduler.is_continuous()`). The
/// workload must be sorted by arrival (the importers and generators guarantee it) and
/// `cfg` valid.
pub fn simulate(w: &Workload, cfg: &Config, model: &LatencyModel) -> Schedule {
    let n = w.len();
    let k = if cfg.scheduler.uses_bins() { cfg.k_bins as usize } else { 1 };
    let bins = Bins::equal_mass_by(&w.predicted_output_tokens, k as u32, cfg.bin_boundary_sample, cfg.bin_edge_rule);
    let bin_of: Vec<u32> = w.predicted_output_tokens.iter().map(|&p| bins.bin_of(p) as u32).collect();
    let scopes = if cfg.scheduler == SchedulerKind::MultiBinDynamic { k } else { 1 };
    let gpus = cfg.gpus as usize;
    let horizon = w.arrival_s.last().copied().unwrap_or(0.0);
    let bin_limits = bin_limits(&bins, cfg);
    let controllers = (0..scopes)
        .map(|j| {
            let b_max = bin_limits.get(j).copied().unwrap_or(cfg.b_max);
            SlaController::new(&cfg.sla, cfg.controller_target_s(), cfg.b_min.min(b_max), b_max)
        })
        .collect();
    let mut e = Engine {
        w,
        cfg,
        model,
        memory: MemoryModel::new(&cfg.memory, cfg.b_min, cfg.b_max),
        bin_of,
        queues: vec![VecDeque::new(); k],
        queued: 0,
        controllers,
        mu: vec![RunningMean::default(); scopes],
        batch_averages: vec![BatchTokenAverages::default(); scopes],
        bin_limits,
        running_requests: 0,
        next_bin: 0,
        idle: (0..cfg.gpus).map(Reverse).collect(),
        started: Vec::with_capacity(gpus),
        s: Schedule::new(n, gpus, bins),
    };
    let mut sampler = Sampler::new(horizon, cfg.timeseries_points, k);
    match cfg.event_order {
        EventOrder::ByInstant => e.run_by_instant(&mut sampler),
        EventOrder::OneAtATime => e.run_one_at_a_time(&mut sampler),
    }
    let mut s = e.s;
    s.bin_of = e.bin_of;
    s.timeseries = sampler.finish();
    s
}

/// The final version's per-bin limits (`MemoryRules::Final`, multi-bin dynamic): from
/// each bin's edges, the first bin starting at the smallest sampled prediction (0 with
/// exact edges) and the last ending at the original's 10,000.
fn bin_limits(bins: &Bins, cfg: &Config) -> Vec<u32> {
    if cfg.memory.rules != MemoryRules::Final || cfg.scheduler != SchedulerKind::MultiBinDynamic {
        return Vec::new();
    }
    let k = bins.k();
    (0..k)
        .map(|j| {
            let lo = if j == 0 { bins.below_goes_last.unwrap_or(0.0) } else { bins.edges[j - 1] };
            let hi = if j + 1 == k { 10_000.0 } else { bins.edges[j] };
            bin_batch_limit(&cfg.memory, lo, hi, cfg.b_max)
        })
        .collect()
}

impl Engine<'_> {
    /// Each instant as one step: completions, arrivals, then dispatch.
    fn run_by_instant(&mut self, sampler: &mut Sampler) {
        let (w, n, gpus) = (self.w, self.w.len(), self.cfg.gpus as usize);
        let mut running: BinaryHeap<Reverse<Running>> = BinaryHeap::with_capacity(gpus);
        let mut next = 0usize;
        loop {
            let t_arrival = if next < n { w.arrival_s[next] } else { f64::INFINITY };
            let t_done = running.peek().map_or(f64::INFINITY, |r| r.0.end_s);
            let t = t_arrival.min(t_done);
            if t == f64::INFINITY {
                break;
            }
            let busy = (gpus - self.idle.len()) as u32;
            sampler.advance(t, busy, |j| self.queues[j].len() as u32);
            while running.peek().is_some_and(|r| r.0.end_s <= t) {
                let Reverse(r) = running.pop().unwrap();
                self.complete(r);
            }
            while next < n && w.arrival_s[next] <= t {
                self.enqueue(next as u32);
                next += 1;
            }
            self.dispatch(t);
            running.extend(self.started.drain(..).map(Reverse));
        }
    }

    /// One event at a time, ties in Python's heap order (the original's loop).
    fn run_one_at_a_time(&mut self, sampler: &mut Sampler) {
        let (w, n, gpus) = (self.w, self.w.len(), self.cfg.gpus as usize);
        let mut heap = PyHeap::with_capacity(n + gpus);
        for (r, &t) in w.arrival_s.iter().enumerate() {
            heap.push(t, Event::Arrival(r as u32));
        }
        while let Some((t, event)) = heap.pop() {
            let busy = (gpus - self.idle.len()) as u32;
            sampler.advance(t, busy, |j| self.queues[j].len() as u32);
            match event {
                Event::Arrival(r) => self.enqueue(r),
                Event::Done(r) => self.complete(r),
            }
            // An arrival offers work to the idle GPUs, lowest id first; after a completion
            // only the freed GPU can be idle with work queued, and it takes it.
            self.dispatch(t);
            for r in self.started.drain(..) {
                heap.push(r.end_s, Event::Done(r));
            }
        }
    }

    fn scope_of_bin(&self, bin: usize) -> usize {
        if self.controllers.len() > 1 {
            bin
        } else {
            0
        }
    }

    fn enqueue(&mut self, r: u32) {
        let bin = self.bin_of[r as usize] as usize;
        let scope = self.scope_of_bin(bin);
        self.mu[scope].add(self.w.total_tokens(r as usize) as f64);
        self.queues[bin].push_back(r);
        self.queued += 1;
    }

    fn complete(&mut self, r: Running) {
        self.idle.push(Reverse(r.gpu));
        let b = self.s.batches[r.batch as usize];
        self.running_requests -= b.size;
        if !self.cfg.scheduler.is_dynamic() {
            return;
        }
        if self.cfg.memory.rules != MemoryRules::Arrived {
            let members = self.s.members_of(r.batch as usize);
            let prompt: u64 = members.iter().map(|&i| self.w.prompt_tokens[i as usize] as u64).sum();
            let output: u64 = members.iter().map(|&i| self.w.output_tokens[i as usize] as u64).sum();
            let scope = self.scope_of_bin(b.bin as usize);
            self.batch_averages[scope].observe(prompt, output, b.size);
        }
        // A batch the queue cut short (fewer waiting than its target, memory not the limit).
        let fed = self.cfg.sla.feed == ControllerFeed::All || self.s.why[r.batch as usize] != SizeReason::Queue;
        if fed {
            let signal = match self.cfg.sla.signal {
                SlaSignal::TokenTime => b.step_s,
                SlaSignal::BatchLatency => b.end_s - b.start_s,
            };
            let scope = self.scope_of_bin(b.bin as usize);
            self.controllers[scope].observe(signal, b.size, self.running_requests);
        }
    }

    /// The bin an idle GPU serves next, among non-empty ones.
    fn choose_bin(&mut self) -> usize {
        let k = self.queues.len();
        match self.cfg.bin_policy {
            crate::config::BinPolicy::RoundRobin => {
                let j = (0..k).map(|d| (self.next_bin + d) % k).find(|&j| !self.queues[j].is_empty()).unwrap();
                self.next_bin = j + 1; // taken modulo k above
                j
            }
            crate::config::BinPolicy::LongestQueue => {
                // Longest queue; ties go to the lowest bin.
                (0..k).rev().max_by_key(|&j| self.queues[j].len()).unwrap()
            }
        }
    }

    /// The batch size the scheduler aims at, and which limit set it.
    fn target_size(&mut self, bin: usize) -> (u32, SizeReason) {
        match self.cfg.scheduler {
            SchedulerKind::StaticFifo => (self.cfg.b_static, SizeReason::FixedSize),
            SchedulerKind::MultiBinFixed => (self.cfg.b_fixed, SizeReason::FixedSize),
            SchedulerKind::Continuous | SchedulerKind::MultiBinContinuous => {
                unreachable!("`run` sends continuous schedulers to the iteration engine")
            }
            SchedulerKind::DynamicNoBins | SchedulerKind::MultiBinDynamic => {
                let scope = self.scope_of_bin(bin);
                let b_mem = match self.cfg.memory.rules {
                    MemoryRules::Arrived => self.memory.batch_cap(self.mu[scope].mean()),
                    MemoryRules::First => self.memory.batch_cap(self.batch_averages[scope].mean()),
                    MemoryRules::Final => {
                        // At least the requests running on the GPUs, at most the bin's limit.
                        let raw = self.memory.batch_cap(self.batch_averages[scope].mean());
                        let b = raw.max(self.running_requests.min(self.cfg.b_max));
                        b.min(self.bin_limits.get(bin).copied().unwrap_or(self.cfg.b_max))
                    }
                };
                // Both are at least B_min: b_mem is clamped, b_SLA's interval bounded.
                let b_sla = self.controllers[scope].b_sla();
                if b_sla < b_mem {
                    (b_sla, SizeReason::SlaTarget)
                } else {
                    (b_mem, SizeReason::MemoryCap)
                }
            }
        }
    }

    fn dispatch(&mut self, t: f64) {
        while self.queued > 0 {
            let Some(&Reverse(gpu)) = self.idle.peek() else { return };
            self.idle.pop();
            let bin = self.choose_bin();
            let (want, aim) = self.target_size(bin);
            let want = want as usize;
            // Longest FIFO prefix (at most `want`) that fits in memory, at least one:
            // "drop the newest members until it fits"; the rest stay at the front.
            let queue = &self.queues[bin];
            let mut take = 0usize;
            let mut tokens = 0u64;
            let mut max_len = 0u32;
            let mut memory_full = false;
            let check_memory = self.cfg.scheduler.is_dynamic() || self.cfg.memory.check_fixed_batches;
            for &r in queue.iter().take(want) {
                let len = self.w.total_tokens(r as usize);
                if check_memory && take > 0 && !self.memory.fits(tokens + len as u64) {
                    memory_full = true;
                    break;
                }
                tokens += len as u64;
                max_len = max_len.max(len);
                take += 1;
            }
            let size = take as u32;
            let service = self.model.batch_time_s(size, max_len);
            let step = self.model.token_step_s(size, max_len);
            let end = t + service;
            let batch_id = self.s.batches.len() as u32;
            for _ in 0..take {
                let r = self.queues[bin].pop_front().unwrap() as usize;
                self.s.members.push(r as u32);
                self.s.batch_of[r] = batch_id;
                self.s.start_s[r] = t;
                self.s.finish_s[r] = match self.cfg.completion {
                    Completion::BatchEnd => end,
                    Completion::OwnFinish => t + self.model.alpha_s() + step * self.w.total_tokens(r) as f64,
                };
            }
            self.queued -= take;
            self.s.member_start.push(self.s.members.len() as u32);
            self.s.batches.push(Batch { gpu, bin: bin as u32, size, start_s: t, end_s: end, max_len, step_s: step });
            self.s.why.push(if memory_full {
                SizeReason::MemoryCheck
            } else if take < want {
                SizeReason::Queue
            } else {
                aim
            });
            self.running_requests += size;
            self.s.gpu_busy_s[gpu as usize] += service;
            self.started.push(Running { end_s: end, gpu, batch: batch_id });
        }
    }
}
