//! Shared by the GPU tests: one device per test binary, and the no-GPU policy.
//!
//! No-GPU policy (the same in crates/batchlab-cli/tests/common):
//! - An adapter is found: the tests run.
//! - No adapter: the tests FAIL, unless BATCHLAB_ALLOW_NO_GPU=1 (a developer's machine
//!   without a Vulkan driver). Then each test that needed the GPU writes one line
//!   `SKIPPED: no GPU adapter: <test>: <why>` straight to stderr (past cargo's output
//!   capture, so it shows even though the test "passes") and appends it to the file
//!   named by BATCHLAB_SKIP_LOG, if set: scripts/test.sh reads that file and counts the
//!   suite as skipped, not passed, in its closing line.
//! - In CI (CI=true) BATCHLAB_ALLOW_NO_GPU is refused: scripts/setup.sh installs lavapipe
//!   there, so a missing adapter is a broken set-up and must fail.

use std::collections::HashSet;
use std::io::Write;
use std::sync::{Mutex, OnceLock};

use batchlab::token::TokenMetrics;
use batchlab_gpu::GpuTokenPass;

/// The GPU, or None when there is none and BATCHLAB_ALLOW_NO_GPU=1 says that is fine
/// (the calling test is then reported as skipped; see the module docs).
#[track_caller]
pub fn gpu() -> Option<&'static GpuTokenPass> {
    static GPU: OnceLock<Result<GpuTokenPass, String>> = OnceLock::new();
    checked(GPU.get_or_init(|| open(None)))
}

/// A second device whose chunks hold at most `TINY_CHUNK_ITEMS` work items.
#[track_caller]
pub fn gpu_tiny_chunks() -> Option<&'static GpuTokenPass> {
    static GPU: OnceLock<Result<GpuTokenPass, String>> = OnceLock::new();
    checked(GPU.get_or_init(|| open(Some(TINY_CHUNK_ITEMS))))
}

pub const TINY_CHUNK_ITEMS: usize = 3;

fn open(chunk_items: Option<usize>) -> Result<GpuTokenPass, String> {
    let mut g = GpuTokenPass::new()?;
    if let Some(n) = chunk_items {
        g.set_max_items_per_chunk(n);
    }
    eprintln!("GPU: {} ({})", g.adapter_name(), g.backend());
    Ok(g)
}

#[track_caller]
fn checked(found: &'static Result<GpuTokenPass, String>) -> Option<&'static GpuTokenPass> {
    match found {
        Ok(g) => Some(g),
        Err(e) => {
            no_adapter(e);
            None
        }
    }
}

/// No adapter: panic, or (BATCHLAB_ALLOW_NO_GPU=1 outside CI) report the calling test as
/// skipped, once per test.
#[track_caller]
fn no_adapter(reason: &str) {
    let allowed = std::env::var("BATCHLAB_ALLOW_NO_GPU").as_deref() == Ok("1");
    let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0");
    if !allowed || ci {
        let why = if ci && allowed { " (CI is set: BATCHLAB_ALLOW_NO_GPU is ignored, scripts/setup.sh installs lavapipe)" } else { "" };
        panic!(
            "{reason}{why}. Install a Vulkan driver (Debian: mesa-vulkan-drivers libvulkan1) \
             or, outside CI, set BATCHLAB_ALLOW_NO_GPU=1 to skip"
        );
    }
    // libtest names each test's thread after the test (else: where the GPU was asked for).
    let test = match std::thread::current().name() {
        Some(name) if name != "main" => name.to_string(),
        _ => std::panic::Location::caller().to_string(),
    };
    static SEEN: Mutex<Option<HashSet<String>>> = Mutex::new(None);
    if !SEEN.lock().unwrap().get_or_insert_with(HashSet::new).insert(test.clone()) {
        return;
    }
    let line = format!("SKIPPED: no GPU adapter: {test}: {}\n", reason.replace('\n', " "));
    let _ = std::io::stderr().write_all(line.as_bytes());
    if let Some(path) = std::env::var_os("BATCHLAB_SKIP_LOG") {
        let log = std::fs::OpenOptions::new().create(true).append(true).open(&path);
        let _ = log.and_then(|mut f| f.write_all(line.as_bytes()));
    }
}

/// Metrics compared as their JSON (NaN percentiles of an empty histogram compare equal).
pub fn same(a: &TokenMetrics, b: &TokenMetrics) -> bool {
    serde_json::to_string(a).unwrap() == serde_json::to_string(b).unwrap()
}
