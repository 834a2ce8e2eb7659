//! The three-step stress plan of the original brief: request scaling, GPU scaling, K sensitivity.
//!
//! The source is built once, for the largest N the plan needs; every run takes the first
//! N requests of it (the workload's prefix property makes that the same as building N).
//! The plan is a `tasks::Planner` (`PlanJob`): a shell may run its runs on many threads or
//! workers and gets the same result.

use serde::{Deserialize, Serialize};

use crate::config::{at_most, Config, Preset, SchedulerKind, MAX_GPUS};
use crate::error::{Error, Result};
use crate::latency::CalibrationGrid;
use crate::run::RunResult;
use crate::tasks::{one_by_one, run_task, Planner, RunTask, TaskDone, WorkloadCache};
use crate::token::{self, CpuTokenPass, TokenPass};
use crate::workload::Source;

pub mod published;

pub const STEP1_REQUESTS: [usize; 4] = [1_000, 10_000, 100_000, 1_000_000];
pub const STEP2_GPUS: [u32; 8] = [1, 2, 4, 8, 16, 32, 64, 100];
pub const STEP3_K: [u32; 6] = [1, 2, 4, 8, 16, 32];
/// Step 1's configurations: (scheduler, GPUs).
pub const STEP1_CONFIGS: [(SchedulerKind, u32); 5] = [
    (SchedulerKind::StaticFifo, 1),
    (SchedulerKind::DynamicNoBins, 1),
    (SchedulerKind::MultiBinDynamic, 1),
    (SchedulerKind::MultiBinDynamic, 2),
    (SchedulerKind::MultiBinDynamic, 4),
];
/// Step 3's GPU count when step 2 did not run and none was named (`compat`: the
/// original's 32, `COMPAT_STEP3_GPUS`).
pub const DEFAULT_STEP3_GPUS: u32 = 4;
pub const COMPAT_STEP3_GPUS: u32 = 32;

crate::config::named_enum! {
    /// How the plan picks step 3's GPU count when none is given.
    pub enum BestGpuRule for "plan.best_gpu_rule" {
        /// The step-2 run with the highest capacity under SLA; ties to fewer GPUs.
        Step2TiesToFewer = "step2_ties_to_fewer",
        /// As dd5f07f: among every successful multi_bin_dynamic run with 1,000,000 requests and K = 8 (step 1's included, in plan order), the first with the highest capacity; none (a smaller cap) gives the default.
        Original = "original",
    }
}

/// What to run. `PlanSpec::new(Preset::Paper)` is the full 34-run plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanSpec {
    /// Steps to run (1, 2, 3).
    pub steps: [bool; 3],
    /// Cap on N in every step (step 1 keeps sizes <= cap; steps 2, 3 run at min(1M, cap)).
    pub max_requests: usize,
    /// GPU counts above this are dropped.
    pub max_gpus: u32,
    /// Step 3's GPU count; `None` = the best of step 2 by capacity under SLA.
    pub best_gpu_count: Option<u32>,
    /// K of steps 1 and 2.
    pub k_bins: u32,
    /// The original's cache of bin edges (`compat`): a K's edges come from the first run
    /// with that K, from its first min(`base.bin_boundary_sample`, N) requests, and are
    /// reused by every later run with that K (in the full plan: K = 8 from 1,000 requests,
    /// step 1's first size; the other K from 5,000). Otherwise each run samples its own.
    pub bins_cached_per_k: bool,
    /// Step 3's GPU count when step 2 did not run or none of its runs succeeded.
    pub default_step3_gpus: u32,
    /// How step 3's GPU count is chosen when none is given (`compat`: the original's rule).
    pub best_gpu_rule: BestGpuRule,
    /// Everything else (preset values, seed, load, predictor, SLAs).
    pub base: Config,
}

impl PlanSpec {
    pub fn new(preset: Preset) -> Self {
        let base = Config::preset(preset);
        PlanSpec {
            steps: [true; 3],
            max_requests: 1_000_000,
            max_gpus: 100,
            best_gpu_count: None,
            k_bins: base.k_bins,
            bins_cached_per_k: preset == Preset::Compat,
            default_step3_gpus: if preset == Preset::Compat { COMPAT_STEP3_GPUS } else { DEFAULT_STEP3_GPUS },
            best_gpu_rule: if preset == Preset::Compat { BestGpuRule::Original } else { BestGpuRule::Step2TiesToFewer },
            base,
        }
    }

    pub fn validate(&self) -> Result<()> {
        if !self.steps.iter().any(|&s| s) {
            return Err(Error::field("plan.steps", "no step selected"));
        }
        if self.max_requests < 1 {
            return Err(Error::field("plan.max_requests", "must be at least 1 (got 0)"));
        }
        if self.max_gpus < 1 {
            return Err(Error::field("plan.max_gpus", "must be at least 1 (got 0)"));
        }
        if self.best_gpu_count == Some(0) {
            return Err(Error::field("plan.best_gpu_count", "must be at least 1 (got 0)"));
        }
        at_most("plan.best_gpu_count", self.best_gpu_count.unwrap_or(1).into(), MAX_GPUS.into())?;
        // K and every other value: the checks of a single run.
        Config { k_bins: self.k_bins, ..self.base.clone() }.validate()
    }

    /// N of step 1: the sizes at or below the cap (the cap itself if it is below 1K).
    pub fn step1_sizes(&self) -> Vec<usize> {
        let v: Vec<usize> = STEP1_REQUESTS.into_iter().filter(|&n| n <= self.max_requests).collect();
        if v.is_empty() {
            vec![self.max_requests]
        } else {
            v
        }
    }

    /// N of steps 2 and 3.
    pub fn large_n(&self) -> usize {
        self.max_requests.min(1_000_000)
    }

    pub fn step2_gpus(&self) -> Vec<u32> {
        let v: Vec<u32> = STEP2_GPUS.into_iter().filter(|&g| g <= self.max_gpus).collect();
        if v.is_empty() {
            vec![self.max_gpus]
        } else {
            v
        }
    }

    fn step1_configs(&self) -> Vec<(SchedulerKind, u32)> {
        STEP1_CONFIGS.into_iter().filter(|&(_, g)| g <= self.max_gpus).collect()
    }

    /// Number of runs the plan will make.
    pub fn run_count(&self) -> usize {
        let mut n = 0;
        if self.steps[0] {
            n += self.step1_sizes().len() * self.step1_configs().len();
        }
        if self.steps[1] {
            n += self.step2_gpus().len();
        }
        if self.steps[2] {
            n += STEP3_K.len();
        }
        n
    }

    /// The workload every run takes a prefix of: the base's, for the largest N.
    pub fn workload(&self) -> Config {
        Config { requests: self.largest_n(), ..self.base.clone() }
    }

    fn largest_n(&self) -> usize {
        let mut n = 0;
        if self.steps[0] {
            n = n.max(self.step1_sizes().into_iter().max().unwrap_or(0));
        }
        if self.steps[1] || self.steps[2] {
            n = n.max(self.large_n());
        }
        n
    }
}

/// One run of the plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanRun {
    pub step: u8,
    pub label: String,
    /// The run's result, or the error message if it failed (the plan goes on).
    pub result: std::result::Result<RunResult, String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanResult {
    pub spec: PlanSpec,
    pub workload: String,
    /// Requests available in the source (a trace may hold fewer than N).
    pub source_requests: usize,
    pub runs: Vec<PlanRun>,
    /// The GPU count step 3 used, and how it was chosen.
    pub best_gpu_count: Option<u32>,
    pub best_gpu_count_origin: String,
}

impl PlanResult {
    pub fn step(&self, step: u8) -> impl Iterator<Item = &PlanRun> {
        self.runs.iter().filter(move |r| r.step == step)
    }
}

pub use crate::tasks::{Hooks, Progress};

/// The plan as a job of runs: steps 1 and 2 at once; step 3 once the runs its GPU count
/// depends on are recorded. Runs are decided in plan order (so the original's bin-edge
/// cache sees them in its order) and kept by id, so any executor gives the same result.
pub struct PlanJob {
    spec: PlanSpec,
    workload: Config,
    source_name: String,
    source_requests: usize,
    /// Decided runs by id (plan order), with their step and N.
    tasks: Vec<(u8, usize, RunTask)>,
    /// Ids not yet handed out, most urgent first.
    waiting: Vec<usize>,
    results: Vec<Option<PlanRun>>,
    recorded: usize,
    requests_simulated: u64,
    last_label: String,
    step3_decided: bool,
    /// `PlanSpec::bins_cached_per_k`: (K, sample) of the first run with each K.
    cached_bin_samples: Vec<(u32, usize)>,
}

impl PlanJob {
    /// The plan on a source holding `source_requests` of the `spec.workload()` requests,
    /// named `source_name` in the results.
    pub fn new(spec: &PlanSpec, source_requests: usize, source_name: String) -> Result<PlanJob> {
        spec.validate()?;
        let mut job = PlanJob {
            spec: spec.clone(),
            workload: spec.workload(),
            source_name,
            source_requests,
            tasks: Vec::new(),
            waiting: Vec::new(),
            results: Vec::new(),
            recorded: 0,
            requests_simulated: 0,
            last_label: String::new(),
            step3_decided: false,
            cached_bin_samples: Vec::new(),
        };
        let k = spec.k_bins;
        if spec.steps[0] {
            for n in spec.step1_sizes() {
                for (scheduler, gpus) in spec.step1_configs() {
                    job.decide(1, scheduler, gpus, k, n);
                }
            }
        }
        if spec.steps[1] {
            for gpus in spec.step2_gpus() {
                job.decide(2, SchedulerKind::MultiBinDynamic, gpus, k, spec.large_n());
            }
        }
        // The runs step 3 waits for go first, then the largest (no thread is left with a
        // big one at the end).
        let blocking = job.step3_waits_on();
        let mut order: Vec<usize> = (0..job.tasks.len()).collect();
        order.sort_by_key(|&i| (!blocking[usize::from(job.tasks[i].0 - 1)], std::cmp::Reverse(job.tasks[i].1)));
        job.waiting = order;
        job.results = vec![None; job.spec.run_count()];
        Ok(job)
    }

    /// Which steps' results step 3's GPU count needs.
    fn step3_waits_on(&self) -> [bool; 3] {
        match (self.spec.best_gpu_count, self.spec.best_gpu_rule) {
            (Some(_), _) => [false; 3],
            (None, BestGpuRule::Original) => [self.spec.steps[0], self.spec.steps[1], false],
            (None, BestGpuRule::Step2TiesToFewer) => [false, self.spec.steps[1], false],
        }
    }

    /// Decide a run (its bin sample in plan order).
    fn decide(&mut self, step: u8, scheduler: SchedulerKind, gpus: u32, k: u32, n: usize) {
        let n = n.min(self.source_requests);
        let config = Config {
            scheduler,
            gpus,
            k_bins: k,
            requests: n,
            bin_boundary_sample: self.bin_sample(k, n),
            ..self.spec.base.clone()
        };
        let label = format!("step{step} {scheduler} N={n} GPUs={gpus} K={k}");
        let id = self.tasks.len();
        let task = RunTask { id, label, workload: self.workload.clone(), config, keep_timeseries: false };
        self.tasks.push((step, n, task));
    }

    /// Requests whose predictions set the bin edges of a run with `k` bins and `n` requests.
    fn bin_sample(&mut self, k: u32, n: usize) -> usize {
        let own = self.spec.base.bin_boundary_sample.min(n);
        if !self.spec.bins_cached_per_k {
            return self.spec.base.bin_boundary_sample;
        }
        match self.cached_bin_samples.iter().find(|(kk, _)| *kk == k) {
            Some(&(_, sample)) => sample,
            None => {
                self.cached_bin_samples.push((k, own));
                own
            }
        }
    }

    /// Step 3's GPU count and how it was chosen, from the runs recorded so far (in plan order).
    fn best_gpus(&self) -> (u32, String) {
        let runs: Vec<PlanRun> = self.results.iter().flatten().cloned().collect();
        let spec = &self.spec;
        match spec.best_gpu_count {
            Some(g) => (g, "given".to_string()),
            None if spec.best_gpu_rule == BestGpuRule::Original => match best_gpus_as_the_original(&runs) {
                Some(g) => (g, "the original's rule: best 1M-request K = 8 run by capacity under SLA".to_string()),
                None => (spec.default_step3_gpus, format!("default {} (no 1M-request K = 8 run)", spec.default_step3_gpus)),
            },
            None if spec.steps[1] => match best_gpus_by_capacity(&runs) {
                Some(g) => (g, "best of step 2 by capacity under SLA".to_string()),
                None => (spec.default_step3_gpus, format!("default {} (no step-2 run succeeded)", spec.default_step3_gpus)),
            },
            None => (spec.default_step3_gpus, format!("default {} (step 2 not run)", spec.default_step3_gpus)),
        }
    }

    /// The plan's result, once `finished()`.
    pub fn finish(self) -> Result<PlanResult> {
        if !self.finished() {
            return Err(crate::tasks::stalled());
        }
        let (best, origin) = self.best_gpus();
        Ok(PlanResult {
            best_gpu_count: self.spec.steps[2].then_some(best),
            best_gpu_count_origin: origin,
            runs: self.results.into_iter().flatten().collect(),
            workload: self.source_name,
            source_requests: self.source_requests,
            spec: self.spec,
        })
    }
}

impl Planner for PlanJob {
    fn ready(&mut self) -> Vec<RunTask> {
        let waits = self.step3_waits_on();
        let blockers_done = self.tasks.iter().all(|(step, _, t)| !waits[usize::from(step - 1)] || self.results[t.id].is_some());
        if self.spec.steps[2] && !self.step3_decided && blockers_done {
            self.step3_decided = true;
            let (best, _) = self.best_gpus();
            let first = self.tasks.len();
            for k in STEP3_K {
                self.decide(3, SchedulerKind::MultiBinDynamic, best, k, self.spec.large_n());
            }
            self.waiting.extend(first..self.tasks.len());
        }
        self.waiting.drain(..).map(|i| self.tasks[i].2.clone()).collect()
    }

    fn record(&mut self, done: TaskDone) -> Result<()> {
        let (step, n, task) = self.tasks.get(done.id).ok_or_else(crate::tasks::stalled)?;
        // A failed run keeps its message; the plan goes on.
        let result = done.outcome.map_err(|e| e.to_string());
        self.requests_simulated += *n as u64;
        self.last_label = task.label.clone();
        self.results[done.id] = Some(PlanRun { step: *step, label: task.label.clone(), result });
        self.recorded += 1;
        Ok(())
    }

    fn progress(&self) -> Progress {
        Progress {
            runs_done: self.recorded,
            runs_total: self.results.len(),
            requests_simulated: self.requests_simulated,
            last_label: self.last_label.clone(),
        }
    }

    fn finished(&self) -> bool {
        self.recorded == self.results.len()
    }
}

/// Run the plan with the CPU token pass (see `run_plan_with`).
pub fn run_plan(source: Source<'_>, calibration: &CalibrationGrid, spec: &PlanSpec, hooks: Hooks<'_>) -> Result<PlanResult> {
    token::now(run_plan_with(source, calibration, spec, hooks, CpuTokenPass))
}

/// Run the plan one run at a time: every run's token pass on `token_pass`, each run
/// timed by the hooks' clock, progress after each run (which may cancel).
pub async fn run_plan_with(
    source: Source<'_>,
    calibration: &CalibrationGrid,
    spec: &PlanSpec,
    hooks: Hooks<'_>,
    mut token_pass: impl TokenPass,
) -> Result<PlanResult> {
    spec.validate()?;
    let cache = WorkloadCache::default();
    let source_requests = cache.get(source, &spec.workload())?.len();
    let mut job = PlanJob::new(spec, source_requests, source.describe())?;
    let clock = hooks.clock;
    one_by_one(&mut job, hooks.progress, async |task| run_task(&task, source, calibration, &cache, clock, &mut token_pass).await).await?;
    job.finish()
}

/// Step 2's GPU count with the highest capacity under SLA; ties go to fewer GPUs
/// whatever the order of the runs. Failed runs and runs without a capacity (NaN) are
/// left out; `None` when no step-2 run is left.
pub fn best_gpus_by_capacity(runs: &[PlanRun]) -> Option<u32> {
    runs.iter()
        .filter(|r| r.step == 2)
        .filter_map(|r| r.result.as_ref().ok())
        .map(|res| (res.metrics.capacity_under_sla_rps, res.config.gpus))
        .filter(|(capacity, _)| !capacity.is_nan())
        // The highest capacity, then the fewest GPUs: a total order, so the order of the
        // runs cannot matter.
        .max_by(|a, b| a.0.total_cmp(&b.0).then(b.1.cmp(&a.1)))
        .map(|(_, gpus)| gpus)
}

/// dd5f07f's choice of step 3's GPU count: among the successful multi_bin_dynamic runs
/// with exactly 1,000,000 requests and K = 8 (steps 1 and 2), in plan order, the first
/// with the highest capacity under SLA (Python's `max`).
pub fn best_gpus_as_the_original(runs: &[PlanRun]) -> Option<u32> {
    let mut best: Option<(f64, u32)> = None;
    for run in runs {
        let Ok(res) = &run.result else { continue };
        let c = &res.config;
        if c.scheduler != SchedulerKind::MultiBinDynamic || c.requests != 1_000_000 || c.k_bins != 8 {
            continue;
        }
        let capacity = res.metrics.capacity_under_sla_rps;
        if best.is_none_or(|(b, _)| capacity > b) {
            best = Some((capacity, c.gpus));
        }
    }
    best.map(|(_, g)| g)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_plan_has_34_runs_and_caps_shrink_it() {
        let mut s = PlanSpec::new(Preset::Paper);
        assert_eq!(s.run_count(), 34);
        s.max_requests = 10_000;
        assert_eq!(s.run_count(), 24);
        assert_eq!(s.large_n(), 10_000);
        s.max_gpus = 4;
        // step 1: 2 sizes x 5 configs; step 2: 1, 2, 4; step 3: 6.
        assert_eq!(s.run_count(), 10 + 3 + 6);
        s.max_gpus = 1;
        assert_eq!(s.run_count(), 2 * 3 + 1 + 6);
        s.steps = [false, true, false];
        assert_eq!(s.run_count(), 1);
    }

    #[test]
    fn compat_plan_uses_the_originals_bin_sample() {
        assert!(PlanSpec::new(Preset::Compat).bins_cached_per_k);
        assert!(!PlanSpec::new(Preset::Paper).bins_cached_per_k);
        assert_eq!(PlanSpec::new(Preset::Compat).default_step3_gpus, 32);
        assert_eq!(PlanSpec::new(Preset::FirstResults).default_step3_gpus, 4);
    }
}
