// Starts the simulation worker (a classic worker: importScripts works everywhere).
// Replaces trunk's loader shim, which uses wasm-bindgen's deprecated init argument.
importScripts("./batchlab-worker.js");
wasm_bindgen({ module_or_path: "./batchlab-worker_bg.wasm" });
