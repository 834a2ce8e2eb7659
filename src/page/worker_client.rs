//! The page's side of its workers: a pool of up to `pool_size()` Web Workers, started
//! (again after a cancel or a crash) as jobs need them; messages queued per worker until
//! it is ready; requests wrapped with the user's files. Worker 0 answers single runs,
//! file checks and the study; a job of many runs (`drive::Driver`) hands one run at a
//! time to each idle worker.

use js_sys::{Object, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Event, File, MessageEvent, Worker};

use super::{finish, received_from, show_error, with, PoolWorker};
use crate::protocol::{Request, Response};
use crate::stopped::{self, Cause};
use crate::worker::to_js;

const WORKER_URL: &str = "./worker-loader.js";

/// At most this many workers: each holds its own copy of a run's workload.
pub(super) const MAX_WORKERS: usize = 8;

/// `{ request, trace, calibration, iteration_profile }`: the request and the user's
/// files (by `Slot`, in `Slot::ALL` order; null where none), which the worker reads.
pub(super) fn envelope(request: &Request, files: &[Option<File>; 3]) -> JsValue {
    let env = Object::new();
    let req = to_js(request).unwrap_or(JsValue::NULL);
    let _ = Reflect::set(&env, &"request".into(), &req);
    for (key, file) in crate::worker::FILE_KEYS.into_iter().zip(files) {
        let _ = Reflect::set(&env, &key.into(), &file.as_ref().map_or(JsValue::NULL, |f| f.clone().into()));
    }
    if let Some(cap) = super::reading::lowered_cap() {
        let _ = Reflect::set(&env, &"max_trace_rows".into(), &cap.into());
    }
    env.into()
}

/// Workers the pool may use: the link's `workers=N`, else one per logical core the
/// browser reports (at least 1, at most `MAX_WORKERS`).
pub(super) fn pool_size() -> usize {
    if let Some(n) = with(|a| a.workers_wanted) {
        return n.clamp(1, MAX_WORKERS);
    }
    let cores = web_sys::window().map_or(1.0, |w| w.navigator().hardware_concurrency());
    (cores as usize).clamp(1, MAX_WORKERS)
}

/// Start worker `index` (the pool's next one).
fn start_worker(index: usize) {
    let worker = match Worker::new(WORKER_URL) {
        Ok(w) => w,
        Err(e) => return show_error(&format!("cannot start a simulation worker: {e:?}")),
    };
    let generation = with(|a| a.generation);
    let current = move || with(|a| a.generation) == generation;
    let onmessage = Closure::<dyn FnMut(MessageEvent)>::new(move |ev: MessageEvent| {
        if !current() {
            return;
        }
        match serde_wasm_bindgen::from_value::<Response>(ev.data()) {
            // Its last words (a panic, out of memory): the trap follows.
            Ok(Response::Error { message, field }) => match stopped::reported(&message) {
                Some(cause) => worker_stopped(cause),
                None => received_from(index, Response::Error { message, field }),
            },
            Ok(r) => received_from(index, r),
            // A job waiting for it would wait forever. (The details are for developers.)
            Err(e) => {
                web_sys::console::warn_1(&format!("unreadable worker message: {e}").into());
                worker_stopped(Cause::Unreadable)
            }
        }
    });
    worker.set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
    onmessage.forget();
    // An uncaught exception in the worker: a wasm trap (a panic, out of memory) or its
    // wasm failing to start.
    let onerror = Closure::<dyn FnMut(Event)>::new(move |e: Event| {
        if !current() {
            return;
        }
        // Handled here: not an uncaught error of the page's.
        e.prevent_default();
        let why = e.dyn_ref::<web_sys::ErrorEvent>().map(|e| e.message()).unwrap_or_default();
        if !with(|a| a.workers.get(index).is_some_and(|w| w.ready)) {
            // It never started (missing file, no wasm support): retrying would loop.
            show_error(&format!("cannot start the simulation worker ({why})"));
            return finish("failed: no simulation worker");
        }
        worker_stopped(Cause::Event(&why));
    });
    worker.set_onerror(Some(onerror.as_ref().unchecked_ref()));
    onerror.forget();
    // An answer that cannot be received: the job waiting for it would wait forever.
    let onmessageerror = Closure::<dyn FnMut(Event)>::new(move |_: Event| {
        if current() {
            worker_stopped(Cause::Unreadable);
        }
    });
    worker.set_onmessageerror(Some(onmessageerror.as_ref().unchecked_ref()));
    onmessageerror.forget();
    with(|a| a.workers.push(PoolWorker { worker, ready: false, pending: Vec::new(), busy: false }));
}

/// A worker died (or its answer was lost): the job under way fails in words (a job of
/// many runs fails whole), every worker is replaced, and the controls and the results
/// shown stay as they are.
fn worker_stopped(cause: Cause) {
    let (busy, many, job) = with(|a| (a.busy_since.is_some(), a.driver.is_some() || a.plan_waiting.is_some(), a.started.as_ref().map(|s| s.job.words())));
    show_error(&stopped::message(job.filter(|_| busy), many && busy, cause));
    restart_workers();
    if busy {
        finish("failed: the simulation worker stopped");
    }
}

/// Start the first worker (at page load).
pub(super) fn start_first_worker() {
    if with(|a| a.workers.is_empty()) {
        start_worker(0);
    }
}

/// Start workers until the pool has `n`.
pub(super) fn ensure_workers(n: usize) {
    while with(|a| a.workers.len()) < n {
        let next = with(|a| a.workers.len());
        start_worker(next);
    }
}

/// Stop every worker (wherever it is: in a run, awaiting the GPU) and start a fresh first
/// one; anything the old ones had queued is ignored (`generation`).
pub(super) fn restart_workers() {
    let old = with(|a| {
        a.generation += 1;
        // Work sent to the old workers is gone, a file check included (a run re-parses it).
        a.checking = None;
        a.driver = None;
        a.plan_waiting = None;
        std::mem::take(&mut a.workers)
    });
    for w in old {
        w.worker.terminate();
    }
    // Until the new first worker says it is ready (tests wait on it).
    super::document().body().map(|b| b.set_attribute("data-worker", "starting"));
    start_worker(0);
}

/// Send to worker `index`, or queue the envelope until it is ready.
pub(super) fn send_to(index: usize, env: JsValue) {
    let now = with(|a| {
        let w = a.workers.get_mut(index)?;
        if w.ready {
            Some(w.worker.clone())
        } else {
            w.pending.push(env.clone());
            None
        }
    });
    if let Some(w) = now {
        if let Err(e) = w.post_message(&env) {
            show_error(&format!("internal error: cannot send to a worker: {e:?}"));
        }
    }
}

/// Worker `index` is ready: send what waited for it.
pub(super) fn worker_ready(index: usize) {
    let (pending, worker) = with(|a| match a.workers.get_mut(index) {
        Some(w) => {
            w.ready = true;
            (std::mem::take(&mut w.pending), Some(w.worker.clone()))
        }
        None => (Vec::new(), None),
    });
    if let Some(w) = worker {
        for env in pending {
            let _ = w.post_message(&env);
        }
    }
}
