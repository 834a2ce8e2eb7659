//! The worker's wasm binary (built by trunk as a classic worker, started by the page
//! through `batchlab-worker_loader.js`): see `worker.rs`.

/// Says "out of memory" to the page before a failed allocation aborts (`stopped::oom`).
#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOCATOR: batchlab_web::stopped::oom::Reporting = batchlab_web::stopped::oom::Reporting;

fn main() {
    #[cfg(target_arch = "wasm32")]
    batchlab_web::worker::start();
    #[cfg(not(target_arch = "wasm32"))]
    eprintln!("batchlab-worker runs in a browser's Web Worker: build it with scripts/build-web.sh");
}
