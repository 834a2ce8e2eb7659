//! The worker's glue: receive an envelope `{ request, trace, calibration,
//! iteration_profile, max_trace_rows }`, read the attached `File`s synchronously (the
//! trace in slices, `trace_file`), let
//! `jobs::execute_with` do the work, post the answer.
//! Everything CPU-heavy happens here, never on the page's main thread.
//!
//! The token pass runs on WebGPU when the worker finds an adapter (feature `webgpu`):
//! at start the worker probes once (`GpuTokenPass::new_async`), keeps the device, and
//! tells the page what it found. WebGPU answers through promises, so envelopes are
//! handled asynchronously, one at a time and in arrival order: a queue, drained by one
//! task, which starts with the probe (so the first run waits for it). Cancel still
//! terminates the worker, wherever it is — awaiting the GPU included.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use batchlab::engine::Schedule;
use batchlab::token::{self, Slas, TokenDevice, TokenMetrics, TokenModelConfig, TokenPass};
use batchlab::workload::Workload;
use js_sys::{Reflect, Uint8Array};
use serde::Serialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{DedicatedWorkerGlobalScope, File, FileReaderSync, MessageEvent};

use batchlab::session::Session;
use batchlab::tasks::WorkloadCache;

use crate::jobs::{error_response, execute_with, InputFile, Inputs};
use crate::protocol::{Request, Response};

#[cfg(feature = "webgpu")]
type Gpu = batchlab_gpu::GpuTokenPass;
/// Without the `webgpu` feature there is never a GPU.
#[cfg(not(feature = "webgpu"))]
enum Gpu {}

#[derive(Default)]
struct Worker {
    /// Envelopes not yet handled, in arrival order.
    queue: VecDeque<JsValue>,
    /// Whether the draining task is alive (it ends when the queue is empty).
    draining: bool,
    /// The GPU and the adapter name shown for it.
    gpu: Option<Rc<(Gpu, String)>>,
    /// The session on the files last attached, kept while the same files come (the
    /// runs of a job arrive one message at a time), with the workloads its tasks built.
    session: Option<(FilesKey, Rc<(Session, WorkloadCache)>)>,
}

/// What tells attached files apart without reading them: name, size and modification
/// time of each (in `FILE_KEYS` order).
type FilesKey = Vec<Option<(String, f64, f64)>>;

thread_local! {
    static WORKER: RefCell<Worker> = RefCell::new(Worker::default());
}

fn with<R>(f: impl FnOnce(&mut Worker) -> R) -> R {
    WORKER.with(|w| f(&mut w.borrow_mut()))
}

fn scope() -> DedicatedWorkerGlobalScope {
    js_sys::global().unchecked_into()
}

/// Serialize with u64 as BigInt (seeds may exceed 2^53) and maps as plain objects.
pub fn to_js<T: Serialize>(value: &T) -> Result<JsValue, serde_wasm_bindgen::Error> {
    value.serialize(&serde_wasm_bindgen::Serializer::new().serialize_large_number_types_as_bigints(true))
}

fn post(response: &Response) {
    let sent = to_js(response).map_err(|e| e.to_string()).and_then(|v| scope().post_message(&v).map_err(|e| format!("{e:?}")));
    if let Err(e) = sent {
        let fallback = Response::Error { message: format!("internal error: cannot send the answer: {e}"), field: None };
        if let Ok(v) = to_js(&fallback) {
            let _ = scope().post_message(&v);
        }
    }
}

pub fn start() {
    // A panic is a bug, but the page must hear of it (and then replaces this worker).
    std::panic::set_hook(Box::new(|info| {
        post(&Response::Error { message: crate::stopped::panic_report(&info.to_string()), field: None })
    }));
    let onmessage = Closure::<dyn FnMut(MessageEvent)>::new(|ev: MessageEvent| {
        let start = with(|w| {
            w.queue.push_back(ev.data());
            !std::mem::replace(&mut w.draining, true)
        });
        if start {
            wasm_bindgen_futures::spawn_local(drain());
        }
    });
    scope().set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
    onmessage.forget();
    with(|w| w.draining = true);
    wasm_bindgen_futures::spawn_local(async {
        let probe = match probe_gpu().await {
            Ok(gpu) => {
                let mut name = adapter_name(&gpu);
                if name.trim().is_empty() {
                    name = describe_adapter().await;
                }
                with(|w| w.gpu = Some(Rc::new((gpu, name.clone()))));
                Ok(name)
            }
            Err(e) => Err(e),
        };
        post(&Response::Gpu(probe));
        drain().await;
    });
    post(&Response::Ready);
}

#[cfg(feature = "webgpu")]
async fn probe_gpu() -> Result<Gpu, String> {
    Gpu::new_async().await
}

#[cfg(not(feature = "webgpu"))]
async fn probe_gpu() -> Result<Gpu, String> {
    Err("this build has no GPU token pass (built without the webgpu feature)".into())
}

#[cfg(feature = "webgpu")]
fn adapter_name(gpu: &Gpu) -> String {
    gpu.adapter_name().to_string()
}

#[cfg(not(feature = "webgpu"))]
fn adapter_name(gpu: &Gpu) -> String {
    match *gpu {}
}

/// A name for an adapter whose description the browser keeps private (Chromium gives
/// wgpu an empty one): GPUAdapterInfo's vendor and architecture, e.g. "google swiftshader".
async fn describe_adapter() -> String {
    async fn info() -> Result<Vec<String>, JsValue> {
        let gpu = Reflect::get(&Reflect::get(&js_sys::global(), &"navigator".into())?, &"gpu".into())?;
        let request: js_sys::Function = Reflect::get(&gpu, &"requestAdapter".into())?.dyn_into()?;
        let options = js_sys::Object::new();
        Reflect::set(&options, &"powerPreference".into(), &"high-performance".into())?;
        let promise: js_sys::Promise = request.call1(&gpu, &options)?.dyn_into()?;
        let adapter = wasm_bindgen_futures::JsFuture::from(promise).await?;
        let info = Reflect::get(&adapter, &"info".into())?;
        let field = |key: &str| Reflect::get(&info, &key.into()).ok().and_then(|v| v.as_string()).unwrap_or_default();
        Ok(["vendor", "architecture", "device", "description"].map(field).into_iter().filter(|s| !s.is_empty()).collect())
    }
    match info().await {
        Ok(parts) if !parts.is_empty() => parts.join(" "),
        _ => "unnamed WebGPU adapter".into(),
    }
}

/// Handle queued envelopes one at a time until the queue is empty.
async fn drain() {
    while let Some(envelope) = with(|w| {
        let next = w.queue.pop_front();
        w.draining = next.is_some();
        next
    }) {
        let response = handle(&envelope).await.unwrap_or_else(|e| e);
        post(&response);
    }
}

/// The worker's token pass: the GPU when there is one, else (or if it fails) the CPU.
struct WorkerTokenPass {
    gpu: Option<Rc<(Gpu, String)>>,
}

impl TokenPass for WorkerTokenPass {
    async fn run(&mut self, w: &Workload, s: &Schedule, cfg: &TokenModelConfig, slas: &Slas) -> batchlab::Result<(TokenMetrics, TokenDevice)> {
        let mut device = TokenDevice::default();
        if let Some(gpu) = &self.gpu {
            let (gpu, name) = &**gpu;
            match gpu_pass(gpu, w, s, cfg, slas).await {
                // The name from the probe: Chromium hides the adapter's name from wgpu.
                Ok((metrics, _)) => return Ok((metrics, TokenDevice { gpu: Some(name.clone()), gpu_error: None })),
                // Bad input fails the same way on the CPU, which then says so properly.
                Err(e) => device.gpu_error = Some(e.message()),
            }
        }
        Ok((token::run_cpu(w, s, cfg, slas)?, device))
    }
}

#[cfg(feature = "webgpu")]
async fn gpu_pass(gpu: &Gpu, w: &Workload, s: &Schedule, cfg: &TokenModelConfig, slas: &Slas) -> batchlab::Result<(TokenMetrics, TokenDevice)> {
    TokenPass::run(&mut &*gpu, w, s, cfg, slas).await
}

#[cfg(not(feature = "webgpu"))]
async fn gpu_pass(gpu: &Gpu, _: &Workload, _: &Schedule, _: &TokenModelConfig, _: &Slas) -> batchlab::Result<(TokenMetrics, TokenDevice)> {
    match *gpu {}
}

/// The envelope's keys for the user's files, in the order of `Inputs`' fields (and of
/// the page's file slots).
pub const FILE_KEYS: [&str; 3] = ["trace", "calibration", "iteration_profile"];

fn read_file(envelope: &JsValue, key: &str) -> Result<Option<InputFile>, String> {
    let value = Reflect::get(envelope, &JsValue::from_str(key)).unwrap_or(JsValue::NULL);
    if value.is_null() || value.is_undefined() {
        return Ok(None);
    }
    let file: File = value.dyn_into().map_err(|_| format!("internal error: '{key}' is not a File"))?;
    let name = file.name();
    let buffer = FileReaderSync::new()
        .and_then(|r| r.read_as_array_buffer(&file))
        .map_err(|e| format!("{name}: cannot read the file ({e:?})"))?;
    Ok(Some(InputFile { name, bytes: Uint8Array::new(&buffer).to_vec() }))
}

fn file_of(envelope: &JsValue, key: &str) -> Option<File> {
    Reflect::get(envelope, &JsValue::from_str(key)).ok().and_then(|v| v.dyn_into::<File>().ok())
}

/// The session on the envelope's files: the kept one if they are the same files, else
/// they are read and parsed (a bad file is the core's one-line error). The trace is
/// streamed (`trace_file`), the others are small and read whole.
fn session_for(envelope: &JsValue) -> Result<Rc<(Session, WorkloadCache)>, Response> {
    let fail = |message: String| Response::Error { message, field: None };
    let key: FilesKey = FILE_KEYS.iter().map(|k| file_of(envelope, k).map(|f| (f.name(), f.size(), f.last_modified()))).collect();
    if let Some(kept) = with(|w| w.session.as_ref().filter(|(k, _)| *k == key).map(|(_, s)| s.clone())) {
        return Ok(kept);
    }
    // The trace is not read here: `trace_file` streams it below.
    let read = |key: &str| read_file(envelope, key).map_err(fail);
    let inputs = Inputs { trace: None, calibration: read(FILE_KEYS[1])?, iteration_profile: read(FILE_KEYS[2])? };
    // Drop the old session (and its workloads) before the new one is built.
    with(|w| w.session = None);
    let opened = match file_of(envelope, FILE_KEYS[0]) {
        Some(trace) => crate::trace_file::open(trace, &inputs, envelope, &mut |r| post(&r)),
        None => Session::open(&inputs),
    };
    let session = Rc::new((opened.map_err(|e| error_response(&e))?, WorkloadCache::default()));
    with(|w| w.session = Some((key, session.clone())));
    Ok(session)
}

async fn handle(envelope: &JsValue) -> Result<Response, Response> {
    let fail = |message: String| Response::Error { message, field: None };
    let request = Reflect::get(envelope, &JsValue::from_str("request")).unwrap_or(JsValue::NULL);
    let request: Request =
        serde_wasm_bindgen::from_value(request).map_err(|e| fail(crate::protocol::bad_request(e)))?;
    let session = session_for(envelope)?;
    let performance = scope().performance();
    let clock = move || performance.as_ref().map_or(0.0, |p| p.now() / 1e3);
    let mut progress = |p: &batchlab::plan::Progress| post(&Response::Progress(p.clone()));
    // A software adapter (SwiftShader) is slower than the CPU pass: used only when asked.
    let software_ok = matches!(request, Request::Run { software_gpu: true, .. } | Request::Task { software_gpu: true, .. });
    let gpu = with(|w| w.gpu.clone()).filter(|g| software_ok || !batchlab::token::is_software_adapter(&g.1));
    let pass = WorkerTokenPass { gpu };
    let (session, cache) = &*session;
    execute_with(request, session, cache, &clock, &mut progress, pass).await.map_err(|e| error_response(&e))
}
