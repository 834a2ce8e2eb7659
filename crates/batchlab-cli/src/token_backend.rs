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
//!
//! `auto` looks for an adapter only once the token passes are big enough to pay for it
//! (`AUTO_GPU_MIN_STEPS`); smaller ones run on the CPU without creating a wgpu instance.

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

/// Token steps (output tokens) under which `auto` does not look for a GPU: what the CPU
/// pass does in the time the look takes (~80 ms to find lavapipe; the CPU pass runs
/// ~1.5e9 steps/s, README "Speed"). Counted over the process's passes so far, this
/// one included (a many-run job looks once its CPU passes have cost a look), so a
/// small job never pays more than twice the best choice made knowing its size.
pub const AUTO_GPU_MIN_STEPS: u64 = 120_000_000;

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
    /// Token steps of the passes run on the CPU while undecided (`auto`).
    cpu_steps: u64,
    /// Times an adapter was looked for (0 or 1).
    pub probes: u32,
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
        Ok(TokenBackend { arg: args.token_backend, state, elapsed_s: 0.0, passes: 0, auto_takes_software: false, cpu_steps: 0, probes: 0 })
    }

    /// Let `auto` use a software adapter too (for timing it; see the module docs).
    pub fn accept_software_adapter(mut self) -> Self {
        self.auto_takes_software = true;
        self
    }

    /// `prepare` if the option asks for a GPU and the coming pass of about `steps` token
    /// steps is big enough for `auto` to look for one (`AUTO_GPU_MIN_STEPS`). Else the
    /// pass decides by its exact size.
    pub fn prepare_for(&mut self, steps: u64) -> batchlab::Result<()> {
        if self.looks_for_gpu(steps) {
            self.prepare()?;
        }
        Ok(())
    }

    /// Whether a pass of `steps` token steps, still undecided, should look for a GPU.
    fn looks_for_gpu(&self, steps: u64) -> bool {
        match (&self.state, self.arg) {
            (State::Undecided, BackendArg::Auto) => self.cpu_steps.saturating_add(steps) >= AUTO_GPU_MIN_STEPS,
            (State::Undecided, _) => true,
            _ => false,
        }
    }

    /// Open the GPU if the option asks for one (once). For `auto` and `gpu`, say on stderr
    /// which backend runs. Err only for `gpu` without an adapter.
    pub fn prepare(&mut self) -> batchlab::Result<()> {
        if !matches!(self.state, State::Undecided) {
            return Ok(());
        }
        self.probes += 1;
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
            State::Undecided if self.passes > 0 => format!(
                "CPU (small token pass{}: {} token steps, under the {AUTO_GPU_MIN_STEPS} worth looking for a GPU)",
                if self.passes > 1 { "es" } else { "" },
                self.cpu_steps
            ),
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
        // Undecided (`auto` so far): a small pass runs on the CPU and leaves it so.
        let small = match self.state {
            State::Undecided => Some(token_steps(w, s)).filter(|&steps| !self.looks_for_gpu(steps)),
            _ => None,
        };
        match small {
            Some(steps) => self.cpu_steps += steps,
            None => self.prepare()?,
        }
        let started = Instant::now();
        let out = match &self.state {
            #[cfg(feature = "gpu")]
            State::Gpu(g) => TokenPass::run(&mut &*g, w, s, cfg, slas).await,
            _ => CpuTokenPass.run(w, s, cfg, slas).await,
        };
        self.elapsed_s += started.elapsed().as_secs_f64();
        self.passes += 1;
        if small.is_some() && self.passes == 1 {
            // As `prepare` would: say once which backend runs, and why.
            let _ = writeln!(std::io::stderr().lock(), "token pass: {}", self.describe());
        }
        out
    }
}

/// Output tokens of the scheduled requests: one decode step each.
pub fn token_steps(w: &Workload, s: &Schedule) -> u64 {
    s.members.iter().map(|&i| u64::from(w.output_tokens[i as usize])).sum()
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

    /// A small run's workload and schedule, and its token model.
    fn small_run() -> (Workload, Schedule, TokenModelConfig, Slas) {
        use batchlab::config::{Config, Preset};
        use batchlab::latency::{CalibrationGrid, LatencyModel};
        let config = Config { requests: 300, ..Config::preset(Preset::Paper) };
        let model = LatencyModel::new(CalibrationGrid::for_preset(Preset::Paper), config.latency_mode).unwrap();
        let (tm, slas) = batchlab::run::token_inputs(&config, &model).unwrap();
        let w = batchlab::workload::build(batchlab::workload::Source::Synthetic(config.synthetic), 300, &config).unwrap();
        let (_, s) = batchlab::run::simulate_run_with_schedule(&w, &config, &model, "t").unwrap();
        (w, s, tm, slas)
    }

    #[test]
    fn auto_runs_small_passes_on_the_cpu_without_looking_for_a_gpu() {
        let (w, s, tm, slas) = small_run();
        let steps = token_steps(&w, &s);
        assert_eq!(steps, w.output_tokens.iter().map(|&o| u64::from(o)).sum::<u64>());
        assert!(steps > 0 && steps < AUTO_GPU_MIN_STEPS / 2);
        let mut b = TokenBackend::new(&args(BackendArg::Auto)).unwrap();
        b.prepare_for(steps).unwrap();
        for _ in 0..2 {
            let (m, _) = batchlab::token::now(b.run(&w, &s, &tm, &slas)).unwrap();
            let json = |m: &TokenMetrics| serde_json::to_string(m).unwrap();
            assert_eq!(json(&m), json(&batchlab::token::run_cpu(&w, &s, &tm, &slas).unwrap()));
        }
        assert_eq!((b.probes, b.passes), (0, 2));
        assert_eq!(b.describe(), format!("CPU (small token passes: {} token steps, under the {AUTO_GPU_MIN_STEPS} worth looking for a GPU)", 2 * steps));
        // Once the CPU passes add up to a look's worth, the next pass looks (once).
        b.cpu_steps = AUTO_GPU_MIN_STEPS - steps;
        let _ = batchlab::token::now(b.run(&w, &s, &tm, &slas));
        let _ = batchlab::token::now(b.run(&w, &s, &tm, &slas));
        assert_eq!(b.probes, 1);
        // A big pass announced looks before it.
        let mut big = TokenBackend::new(&args(BackendArg::Auto)).unwrap();
        big.prepare_for(AUTO_GPU_MIN_STEPS).unwrap();
        assert_eq!(big.probes, 1);
    }

    #[test]
    fn gpu_looks_for_an_adapter_even_for_a_small_pass_and_cpu_never() {
        let (w, s, tm, slas) = small_run();
        let mut cpu = TokenBackend::new(&args(BackendArg::Cpu)).unwrap();
        cpu.prepare_for(u64::MAX).unwrap();
        batchlab::token::now(cpu.run(&w, &s, &tm, &slas)).unwrap();
        assert_eq!(cpu.probes, 0);
        if GPU_BUILT {
            let mut gpu = TokenBackend::new(&args(BackendArg::Gpu)).unwrap();
            // No adapter here is an error, not a silent CPU pass: either way it looked.
            let _ = batchlab::token::now(gpu.run(&w, &s, &tm, &slas));
            assert_eq!(gpu.probes, 1);
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
