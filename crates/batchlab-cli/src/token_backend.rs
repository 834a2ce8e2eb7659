//! `--token-backend gpu|cpu|auto`: where the token pass (the emission time of every
//! output token; TTFT, TBT, per-token SLA, goodput) runs. Both backends return the same
//! `TokenMetrics` for the same input, so the choice changes only how fast a run is.
//!
//! Finding a GPU adapter takes a noticeable time, so it happens once per process, at
//! the first token pass (or `prepare`), and the device is reused for every later run.
//!
//! `auto` passes over a software adapter (llvmpipe / lavapipe / SwiftShader: "GPU" code
//! run on the CPU): it is ~20x slower than the CPU pass (1M-request run: ~1.5 s against
//! ~0.08 s) and would break the speed targets of every default run. `gpu` still uses it,
//! and `bench` times it (see `accept_software_adapter`).

use std::io::Write;
use std::time::Instant;

use batchlab::engine::Schedule;
use batchlab::token::{CpuTokenPass, Slas, TokenDevice, TokenMetrics, TokenModelConfig, TokenPass};
use batchlab::workload::Workload;
use clap::{Args, ValueEnum};

use crate::error::{CliError, CliResult};

/// Whether this binary was built with the `gpu` feature (wgpu).
pub const GPU_BUILT: bool = cfg!(feature = "gpu");

const OPTION: &str = "--token-backend";

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum BackendArg {
    /// The GPU (wgpu: Vulkan, Metal or DX12); an error if no adapter is found.
    Gpu,
    /// The CPU (the reference implementation).
    Cpu,
    /// The GPU if a hardware adapter is found, else the CPU (says which on stderr).
    Auto,
}

#[derive(Args, Debug, Clone)]
pub struct TokenBackendArgs {
    /// Where the token pass runs (the timing of every output token: TTFT, TBT, per-token
    /// SLA, goodput). Both give identical results; only the speed differs.
    #[arg(long, value_enum, value_name = "WHERE", default_value = "auto", help_heading = "Token pass")]
    pub token_backend: BackendArg,
}

/// The chosen backend, ready or not yet (see `prepare`), and the time spent in it.
pub struct TokenBackend {
    arg: BackendArg,
    state: State,
    /// Seconds spent in token passes so far, over every run of this process.
    pub elapsed_s: f64,
    /// Token passes run so far.
    pub passes: u64,
    /// Whether `auto` takes a software adapter (bench: to time it) rather than the CPU.
    auto_takes_software: bool,
}

enum State {
    Undecided,
    /// The CPU, with the reason when the GPU was wanted but is not there.
    Cpu(Option<String>),
    #[cfg(feature = "gpu")]
    Gpu(batchlab_gpu::GpuTokenPass),
}

impl TokenBackend {
    /// The backend the option asks for. Cheap: an adapter is looked for only at the first
    /// pass or `prepare`. Err at once for `gpu` in a build without the `gpu` feature.
    pub fn new(args: &TokenBackendArgs) -> CliResult<Self> {
        let state = match args.token_backend {
            BackendArg::Gpu if !GPU_BUILT => return Err(CliError::option(OPTION, not_built_message())),
            BackendArg::Cpu => State::Cpu(None),
            _ => State::Undecided,
        };
        Ok(TokenBackend { arg: args.token_backend, state, elapsed_s: 0.0, passes: 0, auto_takes_software: false })
    }

    /// Let `auto` use a software adapter too (for timing it; see the module docs).
    pub fn accept_software_adapter(mut self) -> Self {
        self.auto_takes_software = true;
        self
    }

    /// Open the GPU if the option asks for one (once). For `auto` and `gpu`, say on stderr
    /// which backend runs. Err only for `gpu` without an adapter.
    pub fn prepare(&mut self) -> batchlab::Result<()> {
        if !matches!(self.state, State::Undecided) {
            return Ok(());
        }
        let gpu = open_gpu();
        self.state = match (gpu, self.arg) {
            (Ok(state), BackendArg::Auto) if !self.auto_takes_software => match software_adapter(&state) {
                Some(name) => State::Cpu(Some(format!(
                    "GPU adapter {name} is software, slower than the CPU; --token-backend gpu uses it anyway"
                ))),
                None => state,
            },
            (Ok(state), _) => state,
            (Err(reason), BackendArg::Auto) => State::Cpu(Some(reason)),
            (Err(reason), _) => {
                return Err(batchlab::Error::token_pass(format!("{reason} (use --token-backend cpu or auto)")))
            }
        };
        let _ = writeln!(std::io::stderr().lock(), "token pass: {}", self.describe());
        Ok(())
    }

    /// "GPU NVIDIA H200 (Vulkan)", "GPU llvmpipe (LLVM 15.0.6, 256 bits) (Vulkan,
    /// software)", "CPU", "CPU (no GPU adapter: ...)".
    pub fn describe(&self) -> String {
        match &self.state {
            State::Undecided => "not chosen yet".into(),
            State::Cpu(None) => "CPU".into(),
            State::Cpu(Some(reason)) => format!("CPU ({reason})"),
            #[cfg(feature = "gpu")]
            State::Gpu(g) => describe_gpu(g.adapter_name(), g.backend()),
        }
    }

    /// The GPU's adapter name and API, if the GPU runs the pass.
    pub fn gpu_adapter(&self) -> Option<(String, String)> {
        match &self.state {
            #[cfg(feature = "gpu")]
            State::Gpu(g) => Some((g.adapter_name().to_string(), g.backend().to_string())),
            _ => None,
        }
    }

}

/// The CLI's backend is the core's one token-pass interface; every pass is timed into
/// `elapsed_s`. Both devices are ready at once here (the native GPU pass blocks).
impl TokenPass for TokenBackend {
    async fn run(&mut self, w: &Workload, s: &Schedule, cfg: &TokenModelConfig, slas: &Slas) -> batchlab::Result<(TokenMetrics, TokenDevice)> {
        self.prepare()?;
        let started = Instant::now();
        let out = match &self.state {
            #[cfg(feature = "gpu")]
            State::Gpu(g) => TokenPass::run(&mut &*g, w, s, cfg, slas).await,
            _ => CpuTokenPass.run(w, s, cfg, slas).await,
        };
        self.elapsed_s += started.elapsed().as_secs_f64();
        self.passes += 1;
        out
    }
}

/// The adapter's name if the state is a GPU whose adapter is software.
fn software_adapter(state: &State) -> Option<String> {
    match state {
        #[cfg(feature = "gpu")]
        State::Gpu(g) if is_software_adapter(g.adapter_name()) => Some(g.adapter_name().to_string()),
        _ => None,
    }
}

#[cfg(feature = "gpu")]
fn open_gpu() -> Result<State, String> {
    batchlab_gpu::GpuTokenPass::new().map(State::Gpu)
}

#[cfg(not(feature = "gpu"))]
fn open_gpu() -> Result<State, String> {
    Err("this batchlab was built without the 'gpu' feature".into())
}

fn not_built_message() -> String {
    "this batchlab was built without the 'gpu' feature (no wgpu); \
     use --token-backend cpu or auto, or rebuild with default features"
        .into()
}

/// "GPU <adapter> (<API>)", with ", software" when the adapter is a CPU renderer.
#[cfg_attr(not(feature = "gpu"), allow(dead_code))]
pub fn describe_gpu(adapter: &str, api: &str) -> String {
    let software = if is_software_adapter(adapter) { ", software" } else { "" };
    format!("GPU {adapter} ({api}{software})")
}

/// Mesa's llvmpipe / lavapipe and Google's SwiftShader run "GPU" code on the CPU: their
/// speed says nothing about a real GPU's.
pub use batchlab::token::is_software_adapter;

#[cfg(test)]
mod tests {
    use super::*;

    fn args(arg: BackendArg) -> TokenBackendArgs {
        TokenBackendArgs { token_backend: arg }
    }

    #[test]
    fn software_adapters_are_recognised() {
        assert!(is_software_adapter("llvmpipe (LLVM 15.0.6, 256 bits)"));
        assert!(is_software_adapter("SwiftShader Device (Subzero)"));
        assert!(is_software_adapter("Lavapipe"));
        assert!(!is_software_adapter("NVIDIA H200"));
        assert_eq!(describe_gpu("llvmpipe (LLVM 15.0.6, 256 bits)", "Vulkan"), "GPU llvmpipe (LLVM 15.0.6, 256 bits) (Vulkan, software)");
        assert_eq!(describe_gpu("NVIDIA H200", "Vulkan"), "GPU NVIDIA H200 (Vulkan)");
    }

    #[test]
    fn cpu_is_chosen_without_looking_for_a_gpu() {
        let mut b = TokenBackend::new(&args(BackendArg::Cpu)).unwrap();
        b.prepare().unwrap();
        assert_eq!(b.describe(), "CPU");
        assert!(b.gpu_adapter().is_none());
    }

    #[test]
    fn gpu_without_the_feature_is_a_one_line_option_error() {
        let chosen = TokenBackend::new(&args(BackendArg::Gpu));
        if GPU_BUILT {
            // Accepted as `gpu`, and no adapter is looked for before the first pass.
            let b = chosen.unwrap_or_else(|e| panic!("--token-backend gpu refused with the gpu feature: {e}"));
            assert_eq!(b.arg, BackendArg::Gpu);
            assert_eq!(b.describe(), "not chosen yet");
            assert!(b.gpu_adapter().is_none());
        } else {
            let message = chosen.err().expect("an error without the gpu feature").to_string();
            assert!(message.contains("--token-backend") && message.contains("'gpu' feature"), "{message}");
            assert!(!message.contains('\n'));
        }
    }

    #[cfg(not(feature = "gpu"))]
    #[test]
    fn auto_without_the_feature_falls_back_to_the_cpu() {
        let mut b = TokenBackend::new(&args(BackendArg::Auto)).unwrap();
        b.prepare().unwrap();
        assert!(b.describe().starts_with("CPU (") && b.describe().contains("'gpu' feature"), "{}", b.describe());
    }
}
