//! The page's side of a job's messages: a job of many runs (`drive::Driver`) handed to
//! the pool one run per idle worker, and every worker's answer routed (the pool's own
//! messages here, the rest to `received`).

use batchlab::plan::PlanJob;

use super::*;
use crate::drive::{Driver, PooledJob};
use crate::protocol::Response;

/// Start a job of many runs on the pool.
pub(super) fn start_driving(driver: Driver) {
    let n = pool_size();
    with(|a| a.driver = Some(driver));
    ensure_workers(n);
    set_status(&format!("running on {n} worker(s)"));
    pump();
}

/// Hand ready runs to idle workers; render the job once it is finished.
fn pump() {
    loop {
        let next = with(|a| {
            let driver = a.driver.as_mut()?;
            let idle = a.workers.iter().position(|w| !w.busy)?;
            let request = driver.next_request()?;
            a.workers[idle].busy = true;
            Some((idle, envelope(&request, &a.job_files)))
        });
        match next {
            Some((i, env)) => send_to(i, env),
            None => break,
        }
    }
    let finished = with(|a| a.driver.as_mut().map(|d| (d.finished(), d.stalled())));
    match finished {
        Some((true, _)) => {
            let driver = with(|a| a.driver.take()).expect("a driver");
            match driver.into_response() {
                Ok(r) => received(r),
                Err(e) => received(crate::jobs::error_response(&e)),
            }
        }
        Some((_, true)) => {
            with(|a| a.driver = None);
            received(Response::Error { message: "internal error: the job stalled".into(), field: None });
        }
        _ => {}
    }
}

/// A worker's answer: the pool's messages here, the rest to `received`.
pub(super) fn received_from(index: usize, r: Response) {
    match r {
        Response::Ready => {
            worker_ready(index);
            if index == 0 {
                received(Response::Ready);
            }
        }
        // Every worker probes the GPU; the first one's answer is shown.
        Response::Gpu(_) if index > 0 => {}
        Response::Source { requests, name } => {
            let Some((preset, spec)) = with(|a| a.plan_waiting.take()) else { return };
            match PlanJob::new(&spec, requests, name) {
                Ok(job) => start_driving(Driver::new(PooledJob::Plan(job), preset, true, false)),
                Err(e) => received(crate::jobs::error_response(&e)),
            }
        }
        Response::Task(done) => {
            let recorded = with(|a| {
                if let Some(w) = a.workers.get_mut(index) {
                    w.busy = false;
                }
                a.driver.as_mut().map(|d| d.record(*done))
            });
            match recorded {
                Some(Ok(p)) => {
                    received(Response::Progress(p));
                    pump();
                }
                Some(Err(e)) => {
                    // The job is over: stop the runs still going on other workers.
                    received(crate::jobs::error_response(&e));
                    restart_workers();
                }
                None => {} // a cancelled job's late answer
            }
        }
        // A job's run failed outside the run (a file that does not parse, a panic): the
        // job is over; the runs still going elsewhere are stopped.
        Response::Error { message, field } if with(|a| a.driver.is_some() || a.plan_waiting.is_some()) => {
            let had_driver = with(|a| {
                a.plan_waiting = None;
                a.driver.take().is_some()
            });
            let internal = message.starts_with("internal error");
            received(Response::Error { message, field });
            if had_driver && !internal {
                restart_workers();
            }
        }
        other => received(other),
    }
}

