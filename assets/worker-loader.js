// Starts the simulation worker (a classic worker: importScripts works everywhere).
// Replaces trunk's loader shim, which uses wasm-bindgen's deprecated init argument.
importScripts("./batchlab-worker.js");
// A failed start (e.g. no memory for the wasm) is thrown again as an uncaught error:
// a rejected promise alone would never reach the page, which would wait forever.
wasm_bindgen({ module_or_path: "./batchlab-worker_bg.wasm" }).catch((e) => setTimeout(() => { throw e; }));
