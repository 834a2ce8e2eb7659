//! Shared by the GPU tests: one device per test binary, and the no-GPU policy.

use std::sync::OnceLock;

use batchlab::token::TokenMetrics;
use batchlab_gpu::GpuTokenPass;

/// The GPU, or None when there is none and BATCHLAB_ALLOW_NO_GPU=1 says that is fine.
/// Without an adapter and without that variable the tests fail: CI installs lavapipe
/// (Mesa's software Vulkan), so there they must run.
pub fn gpu() -> Option<&'static GpuTokenPass> {
    static GPU: OnceLock<Option<GpuTokenPass>> = OnceLock::new();
    GPU.get_or_init(|| open(None)).as_ref()
}

/// A second device whose chunks hold at most `TINY_CHUNK_ITEMS` work items.
pub fn gpu_tiny_chunks() -> Option<&'static GpuTokenPass> {
    static GPU: OnceLock<Option<GpuTokenPass>> = OnceLock::new();
    GPU.get_or_init(|| open(Some(TINY_CHUNK_ITEMS))).as_ref()
}

pub const TINY_CHUNK_ITEMS: usize = 3;

fn open(chunk_items: Option<usize>) -> Option<GpuTokenPass> {
    match GpuTokenPass::new() {
        Ok(mut g) => {
            if let Some(n) = chunk_items {
                g.set_max_items_per_chunk(n);
            }
            eprintln!("GPU: {} ({})", g.adapter_name(), g.backend());
            Some(g)
        }
        Err(e) if std::env::var("BATCHLAB_ALLOW_NO_GPU").as_deref() == Ok("1") => {
            eprintln!("skipping the GPU tests (BATCHLAB_ALLOW_NO_GPU=1): {e}");
            None
        }
        Err(e) => panic!(
            "{e}. Install a Vulkan driver (Debian: mesa-vulkan-drivers libvulkan1) or set BATCHLAB_ALLOW_NO_GPU=1 to skip"
        ),
    }
}

/// Metrics compared as their JSON (NaN percentiles of an empty histogram compare equal).
pub fn same(a: &TokenMetrics, b: &TokenMetrics) -> bool {
    serde_json::to_string(a).unwrap() == serde_json::to_string(b).unwrap()
}
