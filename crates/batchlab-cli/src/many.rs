//! The CLI's threads (one rayon pool per command) and the core's `ManyRuns` on them: a stage's independent runs on a rayon pool, each
//! timed on its own thread, their outcomes in the stage's order.

use std::time::Instant;

use batchlab::plan::{ManyRuns, RunOutcome};
use rayon::prelude::*;

use crate::error::{CliError, CliResult};

pub struct Threads(rayon::ThreadPool);

impl Threads {
    /// `n` threads (0: one per core).
    pub fn new(n: usize) -> CliResult<Self> {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build()
            .map(Threads)
            .map_err(|e| CliError::new(format!("cannot start the threads: {e}")))
    }

    pub fn count(&self) -> usize {
        self.0.current_num_threads()
    }

    /// Run `work` on these threads (its parallel iterators use them).
    pub fn install<R: Send>(&self, work: impl FnOnce() -> R + Send) -> R {
        self.0.install(work)
    }
}

impl ManyRuns for Threads {
    fn run_all(&self, n: usize, run: &(dyn Fn(usize) -> RunOutcome + Sync)) -> Vec<(RunOutcome, f64)> {
        self.0.install(|| {
            (0..n)
                .into_par_iter()
                .map(|i| {
                    let t0 = Instant::now();
                    let outcome = run(i);
                    (outcome, t0.elapsed().as_secs_f64())
                })
                .collect()
        })
    }
}
