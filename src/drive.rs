//! The page's side of a job of many runs (plan, comparison, sweep, capacity search), in
//! plain Rust: the job's planner lives on the page and hands its runs, one `Task`
//! request at a time, to whichever worker of the pool is idle; each worker's answer is
//! recorded, and once the job is finished it becomes the same `Response` a single worker
//! used to send. The planner decides runs from recorded results only and keeps them by
//! id, so the answer is the same whatever the number of workers and the order in which
//! they finish (a test below drives a job on several simulated workers).

use std::collections::VecDeque;

use batchlab::capacity::{CapacityJob, CapacitySpec};
use batchlab::config::Preset;
use batchlab::plan::{PlanJob, Progress};
use batchlab::session::{capacity_output, plan_output, sweep_output, CompareJob, PLAN_PREFIX};
use batchlab::sweep::{SweepJob, SweepSpec};
use batchlab::tasks::{Planner, TaskDone};
use batchlab::Result;

use crate::protocol::{Request, Response};

/// A job the page drives on its pool (one at a time: its size does not matter).
#[allow(clippy::large_enum_variant)]
pub enum PooledJob {
    Plan(PlanJob),
    Compare(CompareJob),
    Sweep(SweepJob, SweepSpec),
    Capacity(CapacityJob, CapacitySpec),
}

impl PooledJob {
    fn planner(&mut self) -> &mut dyn Planner {
        match self {
            PooledJob::Plan(j) => j,
            PooledJob::Compare(j) => j,
            PooledJob::Sweep(j, _) => j,
            PooledJob::Capacity(j, _) => j,
        }
    }
}

/// A job under way: its planner, the runs handed out but not back, and how its tasks
/// are to be run.
pub struct Driver {
    job: PooledJob,
    preset: Preset,
    /// The comparison honours the visitor's "token pass on the CPU"; the other jobs'
    /// many passes always run on the CPU (a software WebGPU adapter is far slower).
    token_on_cpu: bool,
    /// The visitor allows a software GPU adapter (slower than the CPU).
    software_gpu: bool,
    queue: VecDeque<batchlab::tasks::RunTask>,
    in_flight: usize,
}

impl Driver {
    pub fn new(job: PooledJob, preset: Preset, token_on_cpu: bool, software_gpu: bool) -> Driver {
        let token_on_cpu = token_on_cpu || !matches!(job, PooledJob::Compare(_));
        Driver { job, preset, token_on_cpu, software_gpu, queue: VecDeque::new(), in_flight: 0 }
    }

    /// A `Task` request for an idle worker, if a run is ready.
    pub fn next_request(&mut self) -> Option<Request> {
        if self.queue.is_empty() {
            let ready = self.job.planner().ready();
            self.queue.extend(ready);
        }
        let task = self.queue.pop_front()?;
        self.in_flight += 1;
        Some(Request::Task { preset: self.preset, task, token_on_cpu: self.token_on_cpu, software_gpu: self.software_gpu })
    }

    /// A worker's answer to a `Task`: recorded; the job's progress, or the error that
    /// ends it.
    pub fn record(&mut self, done: TaskDone) -> Result<Progress> {
        self.in_flight = self.in_flight.saturating_sub(1);
        let planner = self.job.planner();
        planner.record(done)?;
        Ok(planner.progress())
    }

    /// Every run is back and nothing is left to hand out.
    pub fn finished(&mut self) -> bool {
        self.in_flight == 0 && self.queue.is_empty() && self.job.planner().finished()
    }

    /// Nothing under way, nothing ready, and the job not finished: a bug, not a wait.
    pub fn stalled(&mut self) -> bool {
        self.in_flight == 0 && self.queue.is_empty() && !self.job.planner().finished()
    }

    /// The finished job as the answer the page renders.
    pub fn into_response(self) -> Result<Response> {
        Ok(match self.job {
            PooledJob::Plan(j) => Response::Plan(Box::new(plan_output(j.finish()?, PLAN_PREFIX))),
            PooledJob::Compare(j) => Response::Compare(j.finish()?),
            PooledJob::Sweep(j, spec) => Response::Sweep(Box::new(sweep_output(&spec, &j.finish())?)),
            PooledJob::Capacity(j, spec) => Response::Capacity(Box::new(capacity_output(&spec, j.finish()))),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use batchlab::capacity::CapacitySpec;
    use batchlab::config::{Config, SchedulerKind};
    use batchlab::plan::PlanSpec;
    use batchlab::report::without_wall_clock;
    use batchlab::session::{Inputs, Session};
    use batchlab::tasks::WorkloadCache;
    use batchlab::token::{now, CpuTokenPass};

    use crate::jobs::execute_with;

    /// Drive `job` on `workers` simulated workers, each with its own session and
    /// workload cache (as in the browser); `pick` chooses which busy worker answers
    /// next, so the order of answers varies. Returns the final response and the progress
    /// seen.
    fn drive(job: PooledJob, workers: usize, pick: impl Fn(usize, usize) -> usize) -> (Response, Vec<Progress>) {
        let sessions: Vec<(Session, WorkloadCache)> = (0..workers).map(|_| (Session::open(&Inputs::default()).unwrap(), WorkloadCache::default())).collect();
        let mut driver = Driver::new(job, Preset::Paper, true, false);
        let mut busy: Vec<(usize, Request)> = Vec::new();
        let mut progress = Vec::new();
        for step in 0.. {
            // Hand ready runs to idle workers.
            while busy.len() < workers {
                let Some(req) = driver.next_request() else { break };
                let idle = (0..workers).find(|w| busy.iter().all(|(b, _)| b != w)).unwrap();
                busy.push((idle, req));
            }
            if driver.finished() {
                break;
            }
            assert!(!driver.stalled(), "stalled");
            let (w, req) = busy.remove(pick(step, busy.len()));
            let (session, cache) = &sessions[w];
            let Response::Task(done) = now(execute_with(req, session, cache, &|| 0.0, &mut |_| {}, CpuTokenPass)).unwrap() else {
                panic!("not a task")
            };
            progress.push(driver.record(*done).unwrap());
        }
        (driver.into_response().unwrap(), progress)
    }

    fn small_plan() -> PlanSpec {
        let mut spec = PlanSpec::new(Preset::Paper);
        spec.max_requests = 3_000;
        spec.max_gpus = 4;
        spec
    }

    fn plan_job() -> PooledJob {
        PooledJob::Plan(PlanJob::new(&small_plan(), 3_000, "synthetic burstgpt".into()).unwrap())
    }

    fn files(r: &Response) -> Vec<(String, String)> {
        let files = match r {
            Response::Plan(p) => p.files.clone(),
            Response::Sweep(s) => s.files.clone(),
            Response::Capacity(c) => c.files.clone(),
            Response::Compare(outs) => outs.iter().map(|o| (o.result.config.scheduler.to_string(), o.csv.clone())).collect(),
            _ => panic!("not a pooled job's answer"),
        };
        files.into_iter().map(|(name, text)| (name, without_wall_clock(&text))).collect()
    }

    #[test]
    fn a_plan_on_many_workers_in_any_order_is_the_plan_on_one() {
        let session = Session::open(&Inputs::default()).unwrap();
        let hooks = batchlab::Hooks { clock: &|| 0.0, progress: &mut |_| true };
        let reference = now(session.plan(Preset::Paper, &small_plan(), hooks, CpuTokenPass, PLAN_PREFIX)).unwrap();
        let reference: Vec<_> = reference.files.iter().map(|(n, t)| (n.clone(), without_wall_clock(t))).collect();
        let (one, progress) = drive(plan_job(), 1, |_, _| 0);
        assert_eq!(files(&one), reference);
        assert_eq!(progress.len(), small_plan().run_count());
        assert_eq!(progress.last().unwrap().runs_done, small_plan().run_count());
        for workers in [2, 3, 8] {
            // The newest run answers first, or a pseudo-random one.
            let (last_first, _) = drive(plan_job(), workers, |_, n| n - 1);
            assert_eq!(files(&last_first), reference, "{workers} workers, newest first");
            let (shuffled, _) = drive(plan_job(), workers, |step, n| (step * 7919 + 13) % n);
            assert_eq!(files(&shuffled), reference, "{workers} workers, shuffled");
        }
    }

    #[test]
    fn compare_sweep_and_capacity_do_not_depend_on_the_workers() {
        let config = Config { requests: 1_500, gpus: 2, ..Config::preset(Preset::Paper) };
        let sweep = || {
            let toml = b"preset = \"paper\"\n[base]\nrequests = 800\n[axes]\ngpus = [1, 2]\nseed = [1, 2, 3]\n";
            let spec = SweepSpec::parse_toml(toml, "s.toml").unwrap();
            let points = spec.points(0..spec.run_count().unwrap()).unwrap();
            PooledJob::Sweep(SweepJob::new(&spec, points), spec)
        };
        let capacity = || {
            let spec = CapacitySpec { target: 0.9, tolerance: 0.1, max_runs: 12 };
            let rows = [SchedulerKind::StaticFifo, SchedulerKind::Continuous]
                .map(|s| (s.to_string(), Config { scheduler: s, requests: 600, ..config.clone() }))
                .to_vec();
            PooledJob::Capacity(CapacityJob::new(&spec, rows).unwrap(), spec)
        };
        let jobs: [(&str, &dyn Fn() -> PooledJob); 3] =
            [("compare", &|| PooledJob::Compare(CompareJob::new(&config).unwrap())), ("sweep", &sweep), ("capacity", &capacity)];
        for (name, job) in jobs {
            let (one, _) = drive(job(), 1, |_, _| 0);
            for workers in [2, 4] {
                let (many, _) = drive(job(), workers, |step, n| (step * 31 + 5) % n);
                assert_eq!(files(&many), files(&one), "{name} on {workers} workers");
            }
        }
        // The capacity search answered something real: each scheduler found a capacity.
        let (Response::Capacity(c), _) = drive(capacity(), 3, |_, n| n - 1) else { panic!("not a capacity") };
        assert_eq!(c.rows.len(), 2);
        assert!(c.rows.iter().all(|(_, cap)| cap.points.len() >= 2), "{:?}", c.rows);
    }
}
