//! A bounded look inside one run for a window of simulated time (the page's "Inside the
//! cluster"): one box per batch, or per run of iterations under continuous batching, on
//! the lane of its GPU, and the queues and memory in use beneath.
//!
//! Bounded whatever the run: the first `MAX_LANES` GPUs, and of their boxes that overlap
//! the window the `MAX_BOXES` that start first (the rest are counted, and the time up to
//! which every box is there is given); the charts' samples come from the run's own
//! sampled `TimeSeries`, taken finer for the window (`sampling_points`).
//!
//! A box of the iteration engine is one run of iterations: the iterations between two
//! decisions of its GPU (a prefill iteration, or a run of pure decodes computed in closed
//! form), whose members do not change. That is what the engine plans, so it costs
//! nothing extra and hides nothing: a box per iteration would be far more than any
//! window can draw, a box per busy span would hide every admission and departure.

use serde::{Deserialize, Serialize};

use crate::config::{Config, IterationModel, SchedulerKind};
use crate::engine::iteration::{simulate_continuous_with, LoggedRun, RunSink};
use crate::engine::{simulate, Schedule, ScheduleView, SizeReason};
use crate::error::{Error, Result};
use crate::latency::LatencyModel;
use crate::memory::MemoryModel;
use crate::timeseries::TimeSeries;
use crate::workload::Workload;

/// Most boxes a timeline holds.
pub const MAX_BOXES: usize = 3_000;
/// Most GPUs (lanes) a timeline shows: GPUs 0..MAX_LANES.
pub const MAX_LANES: u32 = 32;
/// Member ids a box carries.
pub const MEMBERS_SHOWN: usize = 5;
/// Samples the window's charts aim at, and the most sampling points a run is given for them.
const WINDOW_SAMPLES: f64 = 400.0;
const MAX_SAMPLING_POINTS: usize = 20_000;

/// An interval of simulated time, seconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Window {
    pub from_s: f64,
    pub to_s: f64,
}

impl Window {
    /// Error unless 0 <= from < to, both finite.
    pub fn validate(&self) -> Result<()> {
        if !(self.from_s.is_finite() && self.to_s.is_finite() && self.from_s >= 0.0 && self.to_s > self.from_s) {
            return Err(Error::field(
                "timeline.window",
                format!("needs 0 <= from < to, in seconds (got from {} to {})", self.from_s, self.to_s),
            ));
        }
        Ok(())
    }

    /// Whether something from `start` to `end` shows in the window (an instant at its
    /// start does; one at its end does not).
    pub fn overlaps(&self, start: f64, end: f64) -> bool {
        start < self.to_s && (end > self.from_s || start >= self.from_s)
    }
}

/// What a box is, beyond its size.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum BoxDetail {
    /// A batch: its longest member's prompt + output tokens (L) and its decode step.
    Batch { max_len: u32, step_s: f64 },
    /// A run of iterations of continuous batching, each with the same sequences.
    Run { iterations: u64, decoding: u32, prefilling: u32, prefill_tokens: u64 },
}

/// One batch, or one run of iterations, on its GPU.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelineBox {
    pub gpu: u32,
    pub bin: u32,
    pub start_s: f64,
    pub end_s: f64,
    /// Requests in the batch, or sequences in each iteration of the run.
    pub size: u32,
    /// The first members' request ids (a batch's FIFO order; a run's lowest ids), at most `MEMBERS_SHOWN`.
    pub members: Vec<u32>,
    /// Why it had that size (None: a schedule made by hand, without reasons).
    pub why: Option<SizeReason>,
    pub detail: BoxDetail,
}

/// What the memory chart shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum MemoryShown {
    /// Batch engine: the prompt + output tokens of the running batches' members (what the
    /// memory check counts), as a share of all GPUs' room for batches.
    Reserved,
    /// Iteration engine: the KV-cache blocks in use, as a share of all GPUs' blocks.
    KvBlocks,
}

/// A window of one run, bounded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Timeline {
    pub scheduler: SchedulerKind,
    pub gpus: u32,
    /// GPUs shown: 0..lanes (at most `MAX_LANES`).
    pub lanes: u32,
    pub bins: u32,
    pub window: Window,
    /// Boxes on the shown GPUs that overlap the window, by start then GPU.
    pub boxes: Vec<TimelineBox>,
    /// Boxes on the shown GPUs in the window that are not in `boxes` (past `MAX_BOXES`).
    pub left_out: u64,
    /// Every box that starts before this is in `boxes` (the window's end when none is left out).
    pub complete_until_s: f64,
    /// When the run's last request completed.
    pub run_end_s: f64,
    /// Samples over the window (and the last one before it): sample i holds from `t_s[i]` on.
    pub t_s: Vec<f64>,
    /// `queue_len[bin][i]`: requests waiting in each bin.
    pub queue_len: Vec<Vec<u32>>,
    /// Share of memory in use (0-1), as `memory_shown` says.
    pub memory_used: Vec<f32>,
    pub memory_shown: MemoryShown,
}

/// Run `config` on `w` (as `run` does: the same schedule) and extract `window`.
pub fn simulate_window(w: &Workload, config: &Config, model: &LatencyModel, window: Window) -> Result<Timeline> {
    window.validate()?;
    config.validate()?;
    if w.is_empty() {
        return Err(Error::field("requests", "the workload has no request"));
    }
    let horizon = w.arrival_s.last().copied().unwrap_or(0.0);
    // Only the sampling differs from the run's: it decides no event.
    let cfg = Config { timeseries_points: sampling_points(horizon, window, config.timeseries_points), ..config.clone() };
    if cfg.scheduler.is_continuous() {
        let iteration = cfg.iteration.profile.clone().unwrap_or_else(|| IterationModel::roofline(&cfg));
        let mut sink = Sink { window, lanes: cfg.gpus.min(MAX_LANES), keep: Keeper::new(MAX_BOXES) };
        let s = simulate_continuous_with(w, &cfg, &iteration.cost, Some(&mut sink))?;
        let mut boxes = sink.keep;
        for b in &mut boxes.kept {
            b.bin = s.groups.iter().position(|g| g.contains(&b.gpu)).unwrap_or(0) as u32;
        }
        let mut t = frame(&cfg, &s, window, boxes, MemoryShown::KvBlocks);
        t.memory_used = in_window(&s.timeseries, window).map(|i| s.timeseries.kv_used.get(i).copied().unwrap_or(0.0)).collect();
        Ok(t)
    } else {
        let s = simulate(w, &cfg, model);
        Ok(batch_timeline(w, &cfg, &s, window))
    }
}

/// The sampling points that give the window about `WINDOW_SAMPLES` samples (at least the
/// run's own, at most `MAX_SAMPLING_POINTS`): the sampler spreads its points over the
/// arrivals' span.
pub fn sampling_points(horizon_s: f64, window: Window, run_points: usize) -> usize {
    let wanted = (horizon_s / (window.to_s - window.from_s) * WINDOW_SAMPLES).ceil();
    if wanted.is_finite() { (wanted as usize).clamp(run_points, MAX_SAMPLING_POINTS.max(run_points)) } else { run_points }
}

/// The window of a batch engine's schedule `s` (of `w` under `cfg`).
pub fn batch_timeline(w: &Workload, cfg: &Config, s: &Schedule, window: Window) -> Timeline {
    let lanes = cfg.gpus.min(MAX_LANES);
    let mut keep = Keeper::new(MAX_BOXES);
    for (b, batch) in s.batches.iter().enumerate() {
        if batch.gpu >= lanes || !window.overlaps(batch.start_s, batch.end_s) || !keep.admits(batch.start_s) {
            continue;
        }
        let members = s.members_of(b);
        keep.push(TimelineBox {
            gpu: batch.gpu,
            bin: batch.bin,
            start_s: batch.start_s,
            end_s: batch.end_s,
            size: batch.size,
            members: members[..members.len().min(MEMBERS_SHOWN)].to_vec(),
            why: s.why.get(b).copied(),
            detail: BoxDetail::Batch { max_len: batch.max_len, step_s: batch.step_s },
        });
    }
    let mut t = frame(cfg, s, window, keep, MemoryShown::Reserved);
    t.memory_used = reserved_share(w, cfg, s, &t.t_s);
    t
}

/// Per sample time, the tokens of the batches running then over all GPUs' room for batches.
fn reserved_share(w: &Workload, cfg: &Config, s: &Schedule, t_s: &[f64]) -> Vec<f32> {
    let (Some(&first), Some(&last)) = (t_s.first(), t_s.last()) else { return Vec::new() };
    let room = MemoryModel::new(&cfg.memory, cfg.b_min, cfg.b_max).batch_limit_tokens * f64::from(cfg.gpus);
    // A sample holds the state up to its time: a batch counts at t when start < t <= end.
    let mut diff = vec![0i64; t_s.len() + 1];
    for (b, batch) in s.batches.iter().enumerate() {
        if batch.end_s < first || batch.start_s >= last {
            continue;
        }
        let tokens: i64 = s.members_of(b).iter().map(|&r| i64::from(w.total_tokens(r as usize))).sum();
        diff[t_s.partition_point(|&t| t <= batch.start_s)] += tokens;
        diff[t_s.partition_point(|&t| t <= batch.end_s)] -= tokens;
    }
    let mut held = 0i64;
    t_s.iter()
        .enumerate()
        .map(|(i, _)| {
            held += diff[i];
            if room > 0.0 { (held as f64 / room) as f32 } else { 0.0 }
        })
        .collect()
}

/// Indices of the samples in the window, with the last one at or before its start.
fn in_window(ts: &TimeSeries, window: Window) -> std::ops::Range<usize> {
    let from = ts.t_s.partition_point(|&t| t <= window.from_s).saturating_sub(1);
    let to = ts.t_s.partition_point(|&t| t <= window.to_s);
    from..to.max(from)
}

/// The timeline's frame: boxes, queues and what every view has.
fn frame(cfg: &Config, s: &dyn ScheduleView, window: Window, keep: Keeper, memory_shown: MemoryShown) -> Timeline {
    let ts = s.timeseries();
    let range = in_window(ts, window);
    let (boxes, left_out, first_left_out) = keep.finish();
    Timeline {
        scheduler: cfg.scheduler,
        gpus: cfg.gpus,
        lanes: cfg.gpus.min(MAX_LANES),
        bins: s.bins().k() as u32,
        window,
        boxes,
        left_out,
        complete_until_s: first_left_out.min(window.to_s),
        run_end_s: s.finish_s().iter().copied().filter(|f| f.is_finite()).fold(0.0, f64::max),
        t_s: ts.t_s[range.clone()].to_vec(),
        queue_len: ts.queue_len.iter().map(|q| q[range.clone()].to_vec()).collect(),
        memory_used: Vec::new(),
        memory_shown,
    }
}

/// The boxes that start first, at most `cap`, in bounded memory whatever the order they
/// come in: past 2 * cap it keeps the earliest cap, and from then on drops at once any
/// box that starts at or after the last one kept.
struct Keeper {
    cap: usize,
    kept: Vec<TimelineBox>,
    /// Boxes starting at or after this are dropped.
    bar: f64,
    dropped: u64,
    first_dropped_s: f64,
}

impl Keeper {
    fn new(cap: usize) -> Self {
        Keeper { cap, kept: Vec::new(), bar: f64::INFINITY, dropped: 0, first_dropped_s: f64::INFINITY }
    }

    /// Whether a box starting at `start_s` may be kept; counts it as dropped if not.
    fn admits(&mut self, start_s: f64) -> bool {
        if start_s < self.bar {
            return true;
        }
        self.drop_one(start_s);
        false
    }

    fn drop_one(&mut self, start_s: f64) {
        self.dropped += 1;
        self.first_dropped_s = self.first_dropped_s.min(start_s);
    }

    fn push(&mut self, b: TimelineBox) {
        self.kept.push(b);
        if self.kept.len() >= 2 * self.cap.max(1) {
            self.cut();
        }
    }

    fn cut(&mut self) {
        self.kept.sort_by(|a, b| a.start_s.total_cmp(&b.start_s).then(a.gpu.cmp(&b.gpu)));
        for b in self.kept.split_off(self.cap.min(self.kept.len())) {
            self.drop_one(b.start_s);
        }
        if self.kept.len() == self.cap {
            self.bar = self.kept.last().map_or(f64::INFINITY, |b| b.start_s);
        }
    }

    /// The kept boxes by start, how many were dropped, and the earliest start dropped.
    fn finish(mut self) -> (Vec<TimelineBox>, u64, f64) {
        self.cut();
        (self.kept, self.dropped, self.first_dropped_s)
    }
}

/// The iteration engine's runs on the shown GPUs in the window.
struct Sink {
    window: Window,
    lanes: u32,
    keep: Keeper,
}

impl RunSink for Sink {
    fn wants(&mut self, gpu: u32, start_s: f64, end_s: f64) -> bool {
        gpu < self.lanes && self.window.overlaps(start_s, end_s) && self.keep.admits(start_s)
    }

    fn members(&self) -> usize {
        MEMBERS_SHOWN
    }

    fn record(&mut self, r: LoggedRun) {
        self.keep.push(TimelineBox {
            gpu: r.gpu,
            bin: 0, // set from the schedule's groups once it is done
            start_s: r.start_s,
            end_s: r.end_s,
            size: r.decoding + r.prefilling,
            members: r.members,
            why: Some(r.why),
            detail: BoxDetail::Run { iterations: r.iterations, decoding: r.decoding, prefilling: r.prefilling, prefill_tokens: r.prefill_tokens },
        });
    }
}

/// A window of `width_s` seconds where the run was busiest (the most requests waiting
/// summed over its samples, then the most busy GPUs; the earliest of equals), from a
/// whole second; the run's start when nothing waited and no GPU was busy.
pub fn busiest_window(ts: &TimeSeries, width_s: f64) -> Window {
    let n = ts.t_s.len();
    let width_s = if width_s.is_finite() && width_s > 0.0 { width_s } else { 60.0 };
    let score = |i: usize| (ts.queue_len.iter().map(|q| u64::from(q.get(i).copied().unwrap_or(0))).sum::<u64>(), u64::from(ts.busy_gpus.get(i).copied().unwrap_or(0)));
    let (mut best, mut best_at) = ((0u64, 0u64), 0usize);
    let (mut sum, mut end) = ((0u64, 0u64), 0usize);
    for start in 0..n {
        while end < n && ts.t_s[end] < ts.t_s[start] + width_s {
            let (q, b) = score(end);
            sum = (sum.0 + q, sum.1 + b);
            end += 1;
        }
        if sum > best {
            (best, best_at) = (sum, start);
        }
        let (q, b) = score(start);
        sum = (sum.0 - q, sum.1 - b);
    }
    let from_s = if best == (0, 0) { 0.0 } else { ts.t_s[best_at].floor().max(0.0) };
    Window { from_s, to_s: from_s + width_s }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bins::Bins;
    use crate::config::Preset;
    use crate::engine::Batch;

    /// `n` requests of 100 + 50 tokens, one a second.
    fn workload(n: usize) -> Workload {
        Workload {
            arrival_s: (0..n).map(|i| i as f64).collect(),
            prompt_tokens: vec![100; n],
            output_tokens: vec![50; n],
            predicted_output_tokens: vec![50; n],
        }
    }

    /// A batch by hand: (gpu, bin, start, end, members, why).
    type HandBatch<'a> = (u32, u32, f64, f64, &'a [u32], SizeReason);

    /// A schedule by hand, on 2 GPUs.
    fn schedule(batches: &[HandBatch], n: usize) -> Schedule {
        let mut s = Schedule::new(n, 2, Bins { edges: vec![100.0], below_goes_last: None });
        for &(gpu, bin, start, end, members, why) in batches {
            s.members.extend_from_slice(members);
            s.member_start.push(s.members.len() as u32);
            s.batches.push(Batch { gpu, bin, size: members.len() as u32, start_s: start, end_s: end, max_len: 150, step_s: 0.01 });
            s.why.push(why);
            for &r in members {
                s.finish_s[r as usize] = end;
            }
        }
        s.timeseries = TimeSeries {
            t_s: (0..10).map(|i| i as f64).collect(),
            busy_gpus: vec![1; 10],
            queue_len: vec![(0..10).collect(), vec![0; 10]],
            ..Default::default()
        };
        s
    }

    fn config() -> Config {
        Config { gpus: 2, k_bins: 2, scheduler: SchedulerKind::MultiBinDynamic, ..Config::preset(Preset::Paper) }
    }

    #[test]
    fn a_window_holds_the_batches_that_overlap_it_with_their_reasons() {
        let w = workload(6);
        let s = schedule(
            &[
                (0, 0, 0.0, 2.0, &[0, 1], SizeReason::Queue),
                (1, 1, 1.0, 4.0, &[2, 3, 4], SizeReason::SlaTarget),
                (0, 0, 2.0, 3.0, &[5], SizeReason::MemoryCap),
                (0, 1, 5.0, 6.0, &[], SizeReason::MemoryCheck),
            ],
            6,
        );
        let t = batch_timeline(&w, &config(), &s, Window { from_s: 2.0, to_s: 5.0 });
        // The first ends at the window's start; the last starts at its end.
        assert_eq!(t.boxes.len(), 2);
        assert_eq!((t.boxes[0].gpu, t.boxes[0].size, t.boxes[0].members.as_slice()), (1, 3, &[2, 3, 4][..]));
        assert_eq!(t.boxes[0].why, Some(SizeReason::SlaTarget));
        assert_eq!((t.boxes[1].start_s, t.boxes[1].why), (2.0, Some(SizeReason::MemoryCap)));
        assert_eq!(t.boxes[1].detail, BoxDetail::Batch { max_len: 150, step_s: 0.01 });
        assert_eq!((t.left_out, t.complete_until_s, t.run_end_s), (0, 5.0, 4.0));
        assert_eq!((t.lanes, t.bins), (2, 2));
        // Samples 2..=5 (the one at the start holds from it on).
        assert_eq!(t.t_s, vec![2.0, 3.0, 4.0, 5.0]);
        assert_eq!(t.queue_len, vec![vec![2, 3, 4, 5], vec![0; 4]]);
        // Memory (150 tokens a member), as a sample sees it: the state just before its
        // instant. At 2 the first batch (0..2) still runs and the third (from 2) not yet:
        // 2 + 3 members; at 3, 3 + 1; at 4, 3; at 5 the last batch has no member.
        let room = MemoryModel::new(&config().memory, 1, 1).batch_limit_tokens * 2.0;
        let expected: Vec<f32> = [750.0, 600.0, 450.0, 0.0].iter().map(|&x: &f64| (x / room) as f32).collect();
        assert_eq!(t.memory_used, expected);
    }

    #[test]
    fn past_the_cap_the_first_boxes_are_kept_and_the_rest_counted() {
        let mut keep = Keeper::new(3);
        // Out of order, as runs of several GPUs end.
        for (gpu, start) in [(0, 5.0), (1, 1.0), (0, 7.0), (1, 3.0), (0, 2.0), (1, 9.0), (0, 0.5), (1, 8.0)] {
            if keep.admits(start) {
                keep.push(TimelineBox { gpu, bin: 0, start_s: start, end_s: start + 1.0, size: 1, members: vec![], why: None, detail: BoxDetail::Batch { max_len: 1, step_s: 0.0 } });
            }
        }
        let (kept, dropped, first) = keep.finish();
        assert_eq!(kept.iter().map(|b| b.start_s).collect::<Vec<_>>(), vec![0.5, 1.0, 2.0]);
        assert_eq!((dropped, first), (5, 3.0));
    }

    #[test]
    fn lanes_past_the_limit_are_not_shown() {
        let w = workload(2);
        let mut s = schedule(&[(0, 0, 0.0, 1.0, &[0], SizeReason::Queue)], 2);
        s.batches.push(Batch { gpu: MAX_LANES, bin: 0, size: 1, start_s: 0.0, end_s: 1.0, max_len: 150, step_s: 0.01 });
        s.members.push(1);
        s.member_start.push(2);
        let cfg = Config { gpus: MAX_LANES + 8, ..config() };
        let t = batch_timeline(&w, &cfg, &s, Window { from_s: 0.0, to_s: 10.0 });
        assert_eq!((t.gpus, t.lanes, t.boxes.len(), t.left_out), (MAX_LANES + 8, MAX_LANES, 1, 0));
        // A schedule made without reasons says none.
        s.why.clear();
        assert_eq!(batch_timeline(&w, &cfg, &s, Window { from_s: 0.0, to_s: 10.0 }).boxes[0].why, None);
    }

    #[test]
    fn bad_windows_are_one_line_errors() {
        for (from_s, to_s) in [(5.0, 5.0), (5.0, 1.0), (-1.0, 3.0), (0.0, f64::NAN), (0.0, f64::INFINITY)] {
            let e = Window { from_s, to_s }.validate().unwrap_err();
            assert_eq!(e.field_name(), Some("timeline.window"));
            assert!(!e.to_string().contains('\n'));
        }
        assert!(Window { from_s: 0.0, to_s: 0.5 }.validate().is_ok());
    }

    #[test]
    fn the_busiest_window_has_the_longest_queues() {
        let ts = TimeSeries {
            t_s: (0..200).map(|i| i as f64 * 0.5).collect(), // 0 .. 99.5 s
            busy_gpus: vec![1; 200],
            queue_len: vec![(0..200).map(|i| if (80..100).contains(&i) { 10 } else { 0 }).collect()],
            ..Default::default()
        };
        // The samples 80..100 (40 s .. 49.5 s) all fit in a 20-s window from 30 s on; the earliest wins.
        assert_eq!(busiest_window(&ts, 20.0), Window { from_s: 30.0, to_s: 50.0 });
        // Nothing waiting: the most busy GPUs, else the start.
        let quiet = TimeSeries { queue_len: vec![vec![0; 200]], busy_gpus: (0..200).map(|i| u32::from(i >= 150)).collect(), ..ts.clone() };
        assert_eq!(busiest_window(&quiet, 10.0).from_s, 75.0);
        assert_eq!(busiest_window(&TimeSeries::default(), 60.0), Window { from_s: 0.0, to_s: 60.0 });
    }

    #[test]
    fn the_window_is_sampled_finer_within_bounds() {
        let w = Window { from_s: 0.0, to_s: 60.0 };
        assert_eq!(sampling_points(6_000.0, w, 512), 40_000usize.min(MAX_SAMPLING_POINTS));
        assert_eq!(sampling_points(60.0, w, 512), 512);
        assert_eq!(sampling_points(600.0, w, 512), 4_000);
    }
}
