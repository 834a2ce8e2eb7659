//! The CLI's threads: the executor of a core job (`tasks::Planner`) on N threads. Each thread
//! takes the next ready run, runs it, records it, and waits when the next runs depend on
//! runs under way. The job decides every run from recorded results only and keeps them
//! by id, so the files are the same bytes whatever the thread count.

use std::collections::VecDeque;
use std::sync::{Condvar, Mutex};
use std::time::Instant;

use batchlab::config::Preset;
use batchlab::plan::Progress;
use batchlab::session::Session;
use batchlab::tasks::{stalled, Planner, WorkloadCache};
use batchlab::token::{now, CpuTokenPass};

use crate::error::{CliError, CliResult};

/// A number of threads to run a job's runs on.
pub struct Threads(usize);

impl Threads {
    /// `n` threads (0: one per core).
    pub fn new(n: usize) -> CliResult<Self> {
        match n {
            0 => std::thread::available_parallelism()
                .map(|n| Threads(n.get()))
                .map_err(|e| CliError::new(format!("cannot count the cores: {e}"))),
            n => Ok(Threads(n)),
        }
    }

    pub fn count(&self) -> usize {
        self.0
    }

    /// Run `job` to its end on these threads, token passes on the CPU, workloads through
    /// `cache`, `progress` after each run (it may cancel by answering false).
    pub fn drive(
        &self,
        session: &Session,
        preset: Preset,
        cache: &WorkloadCache,
        job: &mut (dyn Planner + Send),
        progress: &mut (dyn FnMut(&Progress) -> bool + Send),
    ) -> batchlab::Result<()> {
        struct State<'a> {
            job: &'a mut (dyn Planner + Send),
            progress: &'a mut (dyn FnMut(&Progress) -> bool + Send),
            queue: VecDeque<batchlab::tasks::RunTask>,
            running: usize,
            failed: Option<batchlab::Error>,
        }
        let state = Mutex::new(State { job, progress, queue: VecDeque::new(), running: 0, failed: None });
        let wake = Condvar::new();
        let lock = || state.lock().unwrap_or_else(|e| e.into_inner());
        let worker = || loop {
            let task = {
                let mut s = lock();
                loop {
                    if s.failed.is_some() {
                        return;
                    }
                    if let Some(t) = s.queue.pop_front() {
                        s.running += 1;
                        break t;
                    }
                    let ready = s.job.ready();
                    s.queue.extend(ready);
                    if !s.queue.is_empty() {
                        continue;
                    }
                    if s.running == 0 {
                        wake.notify_all();
                        return; // finished (or stalled: checked below)
                    }
                    s = wake.wait(s).unwrap_or_else(|e| e.into_inner());
                }
            };
            let t0 = Instant::now();
            let clock = move || t0.elapsed().as_secs_f64();
            let run = async { Ok::<_, batchlab::Error>(session.run_task(preset, &task, cache, &clock, CpuTokenPass).await) };
            let done = now(run).expect("a task reports its own error");
            let mut s = lock();
            s.running -= 1;
            let recorded = s.job.record(done);
            let go_on = recorded.and_then(|()| {
                let p = s.job.progress();
                if (s.progress)(&p) { Ok(()) } else { Err(batchlab::Error::Cancelled) }
            });
            if let Err(e) = go_on {
                s.failed.get_or_insert(e);
            }
            wake.notify_all();
        };
        std::thread::scope(|scope| {
            for _ in 0..self.count() {
                scope.spawn(worker);
            }
        });
        let s = state.into_inner().unwrap_or_else(|e| e.into_inner());
        match s.failed {
            Some(e) => Err(e),
            None if !s.job.finished() => Err(stalled()),
            None => Ok(()),
        }
    }
}
