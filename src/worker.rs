//! The worker's glue: receive an envelope `{ request, trace, calibration }`, read the
//! attached `File`s synchronously, let `jobs::execute` do the work, post the answer.
//! Everything CPU-heavy happens here, never on the page's main thread.

use js_sys::{Reflect, Uint8Array};
use serde::Serialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{DedicatedWorkerGlobalScope, File, FileReaderSync, MessageEvent};

use crate::jobs::{execute, Hooks, InputFile, Inputs};
use crate::protocol::{Request, Response};

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
        let fallback = Response::Error { message: format!("internal error: cannot send the answer: {e}") };
        if let Ok(v) = to_js(&fallback) {
            let _ = scope().post_message(&v);
        }
    }
}

pub fn start() {
    // A panic is a bug, but the page must hear of it (and then replaces this worker).
    std::panic::set_hook(Box::new(|info| {
        post(&Response::Error { message: format!("internal error: {}", info.to_string().replace('\n', " ")) })
    }));
    let onmessage = Closure::<dyn FnMut(MessageEvent)>::new(|ev: MessageEvent| {
        let response = handle(&ev.data()).unwrap_or_else(|message| Response::Error { message });
        post(&response);
    });
    scope().set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
    onmessage.forget();
    post(&Response::Ready);
}

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

fn handle(envelope: &JsValue) -> Result<Response, String> {
    let request = Reflect::get(envelope, &JsValue::from_str("request")).unwrap_or(JsValue::NULL);
    let request: Request =
        serde_wasm_bindgen::from_value(request).map_err(|e| format!("internal error: bad request: {e}"))?;
    let inputs = Inputs { trace: read_file(envelope, "trace")?, calibration: read_file(envelope, "calibration")? };
    let performance = scope().performance();
    let clock = move || performance.as_ref().map_or(0.0, |p| p.now() / 1e3);
    let mut progress = |p: &batchlab::plan::Progress| post(&Response::Progress(p.clone()));
    execute(request, &inputs, Hooks { clock: &clock, progress: &mut progress }).map_err(|e| e.to_string())
}
