//! `batchlab bench`: how fast the core is natively. Times the generation of a large
//! synthetic workload, its request-level simulation and its token pass (CPU, and GPU
//! when an adapter is found; both must agree), and the same workload under continuous
//! batching (the iteration engine, which times its tokens itself), separately (min and
//! median over repeats), the peak memory, a small run from a large trace end to end
//! (`bench_small`), and optionally the full stress plan. Writes no file (but the trace,
//! with `--write-small-trace`).

use batchlab::latency::CalibrationGrid;
use std::time::Instant;

use batchlab::config::{Config, Preset, SchedulerKind};
use batchlab::latency::LatencyModel;
use batchlab::plan::{Hooks, PlanSpec, Progress};
use batchlab::session::{Inputs, Session, PLAN_PREFIX};
use batchlab::report::human;
use batchlab::run::{simulate_continuous_run, simulate_run_with_schedule, token_inputs};
use batchlab::token::{now, run_cpu, TokenMetrics, TokenPass};
use batchlab::workload::{build, Source};
use clap::Args;

use crate::error::{CliError, CliResult};
use crate::options;
use crate::output::{print_table, say, secs, Align::*};
use crate::token_backend::{is_software_adapter, BackendArg, TokenBackend, TokenBackendArgs};

#[derive(Args, Debug)]
pub struct BenchArgs {
    /// Number of synthetic (BurstGPT-like) requests.
    #[arg(long, value_name = "N", default_value_t = 1_000_000)]
    pub requests: usize,

    /// Number of GPUs (scheduler multi_bin_dynamic).
    #[arg(long, value_name = "G", default_value_t = 4)]
    pub gpus: u32,

    /// Number of bins K [default: the preset's K].
    #[arg(long, value_name = "K")]
    pub k: Option<u32>,

    /// How many times to time each phase (the table shows min and median).
    #[arg(long, value_name = "R", default_value_t = 5)]
    pub repeat: usize,

    /// Also time the full 34-run stress plan (same preset and seed; no file written).
    #[arg(long)]
    pub plan: bool,

    /// Preset of every other value: paper, first-results or compat.
    #[arg(long, value_name = "NAME", value_parser = options::named::<Preset>(), default_value = "paper")]
    pub preset: Preset,

    /// Which token-pass backends to time: the CPU always; auto adds the GPU if an adapter
    /// is found (a software one too), gpu adds the GPU or fails, cpu times the CPU only.
    /// The --plan runs use the GPU when it is timed.
    #[arg(long, value_enum, value_name = "WHERE", default_value = "auto")]
    pub token_backend: BackendArg,

    /// Requests of the small-run figure: `run --requests N` from a large trace, end to
    /// end (read, parse the rows needed, simulate, token pass under auto, reports).
    #[arg(long, value_name = "N", default_value_t = 100_000)]
    pub small_requests: usize,

    /// Rows of the BurstGPT-like trace the small run reads from (generated in a
    /// temporary file from the synthetic workload).
    #[arg(long, value_name = "ROWS", default_value_t = 1_000_000)]
    pub small_trace_rows: usize,

    /// A trace file for the small run instead of the generated one.
    #[arg(long, value_name = "FILE", conflicts_with = "write_small_trace")]
    pub small_trace: Option<std::path::PathBuf>,

    /// Keep the generated trace at FILE (to time `batchlab run --trace FILE` on it).
    #[arg(long, value_name = "FILE")]
    pub write_small_trace: Option<std::path::PathBuf>,
}

pub fn run(args: BenchArgs) -> CliResult<()> {
    if args.repeat < 1 {
        return Err(CliError::option("--repeat", "must be at least 1 (got 0)"));
    }
    let mut backend = TokenBackend::new(&TokenBackendArgs { token_backend: args.token_backend })?.accept_software_adapter();
    let preset = args.preset;
    let config = Config {
        scheduler: SchedulerKind::MultiBinDynamic,
        gpus: args.gpus,
        k_bins: args.k.unwrap_or(Config::preset(preset).k_bins),
        requests: args.requests,
        ..Config::preset(preset)
    };
    options::validate(&config)?;
    let model = LatencyModel::new(CalibrationGrid::for_preset(preset), config.latency_mode)?;
    let (token_model, slas) = token_inputs(&config, &model)?;
    let source = Source::Synthetic(config.synthetic);
    say!(
        "bench: {} {} requests, {}, {} GPUs, K = {}, preset {}, token model {}, {} repeat(s)",
        config.requests,
        source.describe(),
        config.scheduler.name(),
        config.gpus,
        config.k_bins,
        preset.name(),
        config.token_semantics.name(),
        args.repeat
    );
    // The CPU pass is always timed (it is the reference); the GPU's when the option
    // allows it and an adapter is found. Opening the device is timed apart: once per process.
    let opened = Instant::now();
    backend.prepare()?;
    let open_s = opened.elapsed().as_secs_f64();
    let gpu = backend.gpu_adapter();

    let mut generation = Vec::with_capacity(args.repeat);
    let mut simulation = Vec::with_capacity(args.repeat);
    let mut token_cpu = Vec::with_capacity(args.repeat);
    let mut token_gpu = Vec::with_capacity(args.repeat);
    let mut continuous = Vec::with_capacity(args.repeat);
    let mut iterations = 0u64;
    let continuous_config = Config { scheduler: SchedulerKind::Continuous, ..config.clone() };
    let mut throughput = 0.0;
    let mut token_steps = 0u64;
    for _ in 0..args.repeat {
        let t0 = Instant::now();
        let workload = build(source, config.requests, &config)?;
        let t1 = Instant::now();
        let (result, schedule) = simulate_run_with_schedule(&workload, &config, &model, &source.describe())?;
        let t2 = Instant::now();
        let on_cpu = run_cpu(&workload, &schedule, &token_model, &slas)?;
        let t3 = Instant::now();
        generation.push((t1 - t0).as_secs_f64());
        simulation.push((t2 - t1).as_secs_f64());
        token_cpu.push((t3 - t2).as_secs_f64());
        if gpu.is_some() {
            let before = backend.elapsed_s;
            let (on_gpu, _) = now(backend.run(&workload, &schedule, &token_model, &slas))?;
            token_gpu.push(backend.elapsed_s - before);
            if !same_metrics(&on_cpu, &on_gpu) {
                return Err(CliError::new(format!(
                    "the GPU token pass ({}) differs from the CPU's on this run: a bug, please report it",
                    backend.describe()
                )));
            }
        }
        let t4 = Instant::now();
        let c = simulate_continuous_run(&workload, &continuous_config, &model, &source.describe())?;
        continuous.push(t4.elapsed().as_secs_f64());
        iterations = c.metrics.batch_count;
        // Keep the results observable so the work cannot be optimised away.
        throughput = result.metrics.throughput_rps;
        token_steps = on_cpu.output_tokens;
    }

    let mut rows = Vec::new();
    let mut row = |name: String, times: &mut [f64], work: f64, unit: &str| {
        let (min, median) = min_median(times);
        rows.push(vec![name, secs(min), secs(median), human::with_unit(work / median, unit)]);
    };
    let requests = config.requests as f64;
    row("workload generation".into(), &mut generation, requests, "requests/s");
    row("simulation (request level)".into(), &mut simulation, requests, "requests/s");
    row("token pass, CPU".into(), &mut token_cpu, token_steps as f64, "token steps/s");
    if gpu.is_some() {
        row("token pass, GPU".into(), &mut token_gpu, token_steps as f64, "token steps/s");
    }
    let mut generation_and_continuous: Vec<f64> = generation.iter().zip(&continuous).map(|(g, c)| g + c).collect();
    row("simulation (continuous, iteration level)".into(), &mut continuous.clone(), requests, "requests/s");
    row("  the same, simulated iterations".into(), &mut continuous, iterations as f64, "iterations/s");
    row("generation + continuous simulation".into(), &mut generation_and_continuous, requests, "requests/s");
    // Before the small run's trace (a 1M-row file in memory) adds to it.
    let peak = peak_memory();
    let small = crate::bench_small::time(preset, args.small_requests, args.small_trace_rows, args.small_trace.as_deref(), args.write_small_trace.as_deref(), args.repeat)?;
    let name = format!("run of {} requests from a {}-row trace, end to end", small.requests, small.rows_in_file);
    row(name, &mut small.seconds.clone(), small.requests as f64, "requests/s");
    if args.plan {
        let spec = PlanSpec { base: config.clone(), ..PlanSpec::new(preset) };
        let started = Instant::now();
        let clock = move || started.elapsed().as_secs_f64();
        let mut simulated = 0u64;
        let mut progress = |p: &Progress| {
            simulated = p.requests_simulated;
            true
        };
        let hooks = Hooks { clock: &clock, progress: &mut progress };
        let session = Session::open(&Inputs::default())?;
        let plan = now(session.plan(preset, &spec, hooks, &mut backend, PLAN_PREFIX))?.result;
        let mut total = [started.elapsed().as_secs_f64()];
        let backend_name = if gpu.is_some() { "GPU" } else { "CPU" };
        let name = format!("stress plan ({} runs, once; token pass {backend_name})", plan.runs.len());
        row(name, &mut total, simulated as f64, "requests/s");
    }
    say!();
    print_table(&[("phase", Left), ("min", Right), ("median", Right), ("rate (median)", Right)], rows);
    say!();
    say!("token steps: {token_steps} (output tokens of the run: one decode step each)");
    say!("continuous: {iterations} iterations on {} GPUs (all GPUs' iterations together)", config.gpus);
    match &gpu {
        Some((adapter, api)) => {
            say!("GPU adapter: {adapter} ({api}), device opened in {}; results identical to the CPU's", secs(open_s));
            if is_software_adapter(adapter) {
                say!("  (a software adapter: it runs on the CPU, so its speed says nothing about a real GPU's)");
            }
        }
        None => say!("GPU: not timed ({})", backend.describe()),
    }
    say!(
        "small run: {} rows of {:.1} MB read for its {} requests; token pass {}",
        small.rows_read,
        small.file_mb,
        small.requests,
        small.token_pass
    );
    say!("peak memory (VmHWM) before the small run: {peak}");
    say!("(simulated throughput of the run: {throughput:.3} req/s)");
    Ok(())
}

/// Equal metrics, compared as JSON so that an undefined (NaN) percentile equals itself.
fn same_metrics(a: &TokenMetrics, b: &TokenMetrics) -> bool {
    serde_json::to_string(a).ok() == serde_json::to_string(b).ok()
}

fn min_median(times: &mut [f64]) -> (f64, f64) {
    times.sort_by(f64::total_cmp);
    let n = times.len();
    let median = if n % 2 == 1 { times[n / 2] } else { (times[n / 2 - 1] + times[n / 2]) / 2.0 };
    (times[0], median)
}

/// The process's peak resident memory, from /proc/self/status (Linux only).
fn peak_memory() -> String {
    #[cfg(target_os = "linux")]
    {
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        let kb = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok());
        if let Some(kb) = kb {
            return format!("{:.1} MiB", kb / 1024.0);
        }
    }
    "n/a".into()
}
