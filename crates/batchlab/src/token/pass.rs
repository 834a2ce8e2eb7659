//! The one token-pass interface. A backend times every output token of a schedule and
//! returns `TokenMetrics`; every backend returns the same metrics for the same input
//! (the CPU pass here is the reference, `batchlab-gpu` runs the same arithmetic on a
//! GPU). The interface is async because WebGPU hands its results back through a
//! promise; the CPU pass never waits, so callers on the CPU drive it with [`now`].

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use serde::{Deserialize, Serialize};

use super::{run_cpu, Slas, TokenMetrics, TokenModelConfig};
use crate::engine::Schedule;
use crate::error::{Error, Result};
use crate::workload::Workload;

/// Which device ran a token pass. The metrics are the same whichever did.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TokenDevice {
    /// The GPU adapter that ran it; `None`: the CPU did.
    pub gpu: Option<String>,
    /// Why the CPU ran it when a GPU was asked for (a one-line error), if so.
    pub gpu_error: Option<String>,
}

/// A token pass: one implementation per device.
#[allow(async_fn_in_trait)] // driven on one thread (a Web Worker, or the CLI's main thread)
pub trait TokenPass {
    /// Time every output token of `schedule`, and say which device did it.
    async fn run(&mut self, w: &Workload, s: &Schedule, cfg: &TokenModelConfig, slas: &Slas) -> Result<(TokenMetrics, TokenDevice)>;
}

/// The CPU token pass (`token::run_cpu`): the reference and the fallback; ready at once.
#[derive(Debug, Clone, Copy, Default)]
pub struct CpuTokenPass;

impl TokenPass for CpuTokenPass {
    async fn run(&mut self, w: &Workload, s: &Schedule, cfg: &TokenModelConfig, slas: &Slas) -> Result<(TokenMetrics, TokenDevice)> {
        Ok((run_cpu(w, s, cfg, slas)?, TokenDevice::default()))
    }
}

impl<P: TokenPass + ?Sized> TokenPass for &mut P {
    async fn run(&mut self, w: &Workload, s: &Schedule, cfg: &TokenModelConfig, slas: &Slas) -> Result<(TokenMetrics, TokenDevice)> {
        (**self).run(w, s, cfg, slas).await
    }
}

/// The result of a future that never waits: any job whose token pass is ready at once
/// (the CPU pass, or a native GPU pass that blocks). A future that does wait is an
/// error, never a hang.
pub fn now<T>(job: impl Future<Output = Result<T>>) -> Result<T> {
    match pin!(job).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(r) => r,
        Poll::Pending => Err(Error::token_pass("internal error: a pass that must be ready at once waited")),
    }
}

/// Whether a GPU adapter's name is a software rasteriser (Mesa's llvmpipe / lavapipe,
/// Chromium's SwiftShader): it runs on the CPU, slower than the CPU pass, so shells skip
/// it unless asked.
pub fn is_software_adapter(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    ["llvmpipe", "lavapipe", "swiftshader"].iter().any(|s| name.contains(s))
}
