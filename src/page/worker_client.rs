//! The page's side of the worker: start it (again after a cancel or a crash), queue
//! messages until it is ready, and wrap a request with the user's files.

use js_sys::{Object, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Event, File, MessageEvent, Worker};

use super::{el, finish, received, show_error, with};
use crate::protocol::{Request, Response};
use crate::worker::to_js;

const WORKER_URL: &str = "./worker-loader.js";

/// `{ request, trace, calibration, iteration_profile }`: the request and the user's
/// files (by `Slot`, in `Slot::ALL` order; null where none), which the worker reads.
pub(super) fn envelope(request: &Request, files: &[Option<File>; 3]) -> JsValue {
    let env = Object::new();
    let req = to_js(request).unwrap_or(JsValue::NULL);
    let _ = Reflect::set(&env, &"request".into(), &req);
    for (key, file) in crate::worker::FILE_KEYS.into_iter().zip(files) {
        let _ = Reflect::set(&env, &key.into(), &file.as_ref().map_or(JsValue::NULL, |f| f.clone().into()));
    }
    env.into()
}

pub(super) fn start_worker() {
    let worker = match Worker::new(WORKER_URL) {
        Ok(w) => w,
        Err(e) => return show_error(&format!("cannot start the simulation worker: {e:?}")),
    };
    let generation = with(|a| {
        a.generation += 1;
        a.generation
    });
    let current = move || with(|a| a.generation) == generation;
    let onmessage = Closure::<dyn FnMut(MessageEvent)>::new(move |ev: MessageEvent| {
        if !current() {
            return;
        }
        match serde_wasm_bindgen::from_value::<Response>(ev.data()) {
            Ok(r) => received(r),
            Err(e) => show_error(&format!("internal error: unreadable worker message: {e}")),
        }
    });
    worker.set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
    onmessage.forget();
    let onerror = Closure::<dyn FnMut(Event)>::new(move |e: Event| {
        if !current() {
            return;
        }
        let why = e.dyn_ref::<web_sys::ErrorEvent>().map(|e| e.message()).unwrap_or_default();
        if !with(|a| a.ready) {
            // It never started (missing file, no wasm support): retrying would loop.
            show_error(&format!("cannot start the simulation worker ({why})"));
            return finish("failed: no simulation worker");
        }
        // A panic already reported its own message: keep that one.
        if !el("error").text_content().unwrap_or_default().starts_with("internal error") {
            show_error(&format!("internal error: the simulation worker failed ({why}); it was restarted"));
        }
        finish("failed: the worker stopped");
        restart_worker();
    });
    worker.set_onerror(Some(onerror.as_ref().unchecked_ref()));
    onerror.forget();
    with(|a| {
        a.worker = Some(worker);
        a.ready = false;
    });
}

pub(super) fn restart_worker() {
    if let Some(w) = with(|a| a.worker.take()) {
        w.terminate();
    }
    // Work sent to the old worker is gone, a file check included (a run re-parses it).
    with(|a| {
        a.pending.clear();
        a.checking = None;
    });
    start_worker();
}

pub(super) fn send(env: JsValue) {
    let now = with(|a| {
        if a.ready {
            Some(a.worker.clone())
        } else {
            a.pending.push(env.clone());
            None
        }
    });
    if let Some(Some(w)) = now {
        if let Err(e) = w.post_message(&env) {
            show_error(&format!("internal error: cannot send to the worker: {e:?}"));
        }
    }
}
