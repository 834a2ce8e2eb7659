//! The timeline of a window (`timeline`, `Session::timeline`) against the run it comes
//! from: its boxes are the schedule's batches, or the iteration engine's runs, that
//! overlap the window; recording runs changes no schedule; the bounds hold.

use batchlab::config::{Config, IterationModel, Preset, SchedulerKind};
use batchlab::engine::iteration::{simulate_continuous, simulate_continuous_with, LoggedRun, RunSink};
use batchlab::engine::{simulate, SizeReason};
use batchlab::latency::{CalibrationGrid, LatencyModel};
use batchlab::session::{Inputs, Session};
use batchlab::tasks::WorkloadCache;
use batchlab::timeline::{BoxDetail, Timeline, Window, MAX_BOXES, MEMBERS_SHOWN};
use batchlab::workload::{build, Source, Workload};

fn config(scheduler: SchedulerKind, requests: usize) -> Config {
    Config { requests, gpus: 2, k_bins: 3, scheduler, seed: 5, ..Config::preset(Preset::Paper) }
}

fn workload(c: &Config) -> Workload {
    build(Source::Synthetic(c.synthetic), c.requests, c).unwrap()
}

fn timeline(c: &Config, from_s: f64, to_s: f64) -> Timeline {
    let session = Session::open(&Inputs::default()).unwrap();
    session.timeline(Preset::Paper, c, Window { from_s, to_s }, &WorkloadCache::default()).unwrap()
}

#[test]
fn a_batch_runs_boxes_are_its_batches_in_the_window() {
    let c = config(SchedulerKind::MultiBinDynamic, 2_000);
    let w = workload(&c);
    let model = LatencyModel::new(CalibrationGrid::for_preset(Preset::Paper), c.latency_mode).unwrap();
    let s = simulate(&w, &c, &model);
    let end = s.batches.iter().map(|b| b.end_s).fold(0.0, f64::max);
    let (from_s, to_s) = (end * 0.25, end * 0.5);
    let t = timeline(&c, from_s, to_s);
    let expected: Vec<usize> = (0..s.batches.len()).filter(|&b| s.batches[b].end_s > from_s && s.batches[b].start_s < to_s).collect();
    assert!(expected.len() > 10, "a window with something in it: {}", expected.len());
    assert_eq!(t.boxes.len(), expected.len());
    assert_eq!((t.left_out, t.complete_until_s, t.lanes, t.bins), (0, to_s, 2, 3));
    for (x, &b) in t.boxes.iter().zip(&expected) {
        let batch = &s.batches[b];
        assert_eq!((x.gpu, x.bin, x.start_s, x.end_s, x.size), (batch.gpu, batch.bin, batch.start_s, batch.end_s, batch.size));
        let members = s.members_of(b);
        assert_eq!(x.members, members[..members.len().min(MEMBERS_SHOWN)]);
        assert_eq!(x.why, Some(s.why[b]));
        assert_eq!(x.detail, BoxDetail::Batch { max_len: batch.max_len, step_s: batch.step_s });
    }
    // The dynamic scheduler's reasons, each consistent with the batch.
    for (b, &why) in s.why.iter().enumerate() {
        assert!(matches!(why, SizeReason::MemoryCap | SizeReason::SlaTarget | SizeReason::Queue | SizeReason::MemoryCheck), "{why}");
        if why == SizeReason::Queue {
            // Every waiting request of its bin was taken: none of its bin arrived by then and waited on.
            let batch = &s.batches[b];
            let waiting = (0..w.len()).filter(|&r| s.bin_of[r] == batch.bin && w.arrival_s[r] <= batch.start_s && s.batch_of[r] as usize > b).count();
            assert_eq!(waiting, 0, "batch {b}");
        }
    }
    // Queues and memory over the window, sampled finer than the run's own series.
    assert!(t.t_s.len() > 100, "{}", t.t_s.len());
    assert!(t.t_s[0] <= from_s && t.t_s[1] > from_s && *t.t_s.last().unwrap() <= to_s);
    assert_eq!(t.queue_len.len(), 3);
    assert!(t.queue_len.iter().all(|q| q.len() == t.t_s.len()));
    assert_eq!(t.memory_used.len(), t.t_s.len());
    assert!(t.memory_used.iter().any(|&m| m > 0.0) && t.memory_used.iter().all(|&m| (0.0..=1.0).contains(&m)));
}

#[test]
fn past_the_cap_the_first_batches_are_kept() {
    // Batches of one: a batch per request, more than the cap.
    let c = Config { b_static: 1, ..config(SchedulerKind::StaticFifo, 5_000) };
    let t = timeline(&c, 0.0, 1e9);
    assert_eq!(t.boxes.len(), MAX_BOXES);
    assert_eq!(t.left_out, 5_000 - MAX_BOXES as u64);
    assert!(t.boxes.iter().all(|b| b.size == 1 && b.why == Some(SizeReason::FixedSize)));
    assert!(t.boxes.windows(2).all(|p| (p[0].start_s, p[0].gpu) <= (p[1].start_s, p[1].gpu)));
    let last = t.boxes.last().unwrap().start_s;
    assert!(t.complete_until_s >= last && t.complete_until_s < 1e9);
}

/// Every run the engine reports.
struct All(Vec<LoggedRun>);

impl RunSink for All {
    fn wants(&mut self, _: u32, _: f64, _: f64) -> bool {
        true
    }
    fn members(&self) -> usize {
        3
    }
    fn record(&mut self, run: LoggedRun) {
        self.0.push(run);
    }
}

#[test]
fn recording_runs_changes_no_schedule_and_sees_every_run() {
    for (scheduler, max_seqs) in [(SchedulerKind::Continuous, 256), (SchedulerKind::MultiBinContinuous, 4)] {
        let mut c = config(scheduler, 1_500);
        c.iteration.max_seqs = max_seqs;
        c.iteration.max_batched_tokens = c.iteration.max_batched_tokens.max(max_seqs);
        let w = workload(&c);
        let cost = IterationModel::roofline(&c).cost;
        let plain = simulate_continuous(&w, &c, &cost).unwrap();
        let mut all = All(Vec::new());
        assert_eq!(simulate_continuous_with(&w, &c, &cost, Some(&mut all)).unwrap(), plain);
        let runs = all.0;
        assert_eq!(runs.len() as u64, plain.runs);
        assert_eq!(runs.iter().map(|r| r.iterations).sum::<u64>(), plain.iterations);
        assert_eq!(runs.iter().map(|r| u64::from(r.decoding + r.prefilling) * r.iterations).sum::<u64>(), plain.members);
        for g in 0..2 {
            let mine: Vec<&LoggedRun> = runs.iter().filter(|r| r.gpu == g).collect();
            assert!(mine.windows(2).all(|p| p[0].end_s <= p[1].start_s), "GPU {g}'s runs overlap");
            let busy: f64 = mine.iter().map(|r| r.end_s - r.start_s).sum();
            assert!((busy - plain.gpu_busy_s[g as usize]).abs() < 1e-6 * busy.max(1.0), "GPU {g}: {busy} vs {}", plain.gpu_busy_s[g as usize]);
        }
        for r in &runs {
            assert!(r.members.len() <= 3 && r.members.windows(2).all(|p| p[0] < p[1]));
            assert!(r.decoding + r.prefilling <= max_seqs);
            assert!(r.prefilling == 0 || r.iterations == 1, "a run with prefill work is one iteration");
        }
        if max_seqs == 4 {
            // The small limit binds, and a run it stopped is full.
            let full: Vec<&LoggedRun> = runs.iter().filter(|r| r.why == SizeReason::MaxSeqs).collect();
            assert!(!full.is_empty());
            assert!(full.iter().any(|r| r.decoding + r.prefilling == 4));
        }
    }
}

#[test]
fn a_continuous_runs_boxes_are_its_runs() {
    let c = config(SchedulerKind::MultiBinContinuous, 2_000);
    let w = workload(&c);
    let plain = simulate_continuous(&w, &c, &IterationModel::roofline(&c).cost).unwrap();
    let t = timeline(&c, 0.0, 1e9);
    assert_eq!(t.boxes.len() as u64 + t.left_out, plain.runs);
    // 3 bins on 2 GPUs: GPU g serves the bins of its share; each box is coloured by the first.
    for b in &t.boxes {
        assert_eq!(b.bin as usize, plain.groups.iter().position(|g| g.contains(&b.gpu)).unwrap());
        let BoxDetail::Run { iterations, decoding, prefilling, .. } = b.detail else { panic!("not a run") };
        assert!(iterations >= 1 && b.size == decoding + prefilling && b.size >= 1);
    }
    assert_eq!(t.memory_used.len(), t.t_s.len());
    assert!(t.memory_used.iter().any(|&m| m > 0.0));
    let last = plain.finish_s.iter().copied().fold(0.0, f64::max);
    assert_eq!(t.run_end_s, last);
}

#[test]
fn a_bad_window_or_config_is_an_error() {
    let session = Session::open(&Inputs::default()).unwrap();
    let c = config(SchedulerKind::MultiBinDynamic, 1_000);
    let e = session.timeline(Preset::Paper, &c, Window { from_s: 10.0, to_s: 2.0 }, &WorkloadCache::default()).unwrap_err();
    assert_eq!(e.field_name(), Some("timeline.window"));
    let bad = Config { gpus: 0, ..c };
    let e = session.timeline(Preset::Paper, &bad, Window { from_s: 0.0, to_s: 2.0 }, &WorkloadCache::default()).unwrap_err();
    assert_eq!(e.field_name(), Some("gpus"));
}
