//! `batchlab bench`: how fast the core is natively. Times the generation of a large
//! synthetic workload and its simulation separately (min and median over repeats), the
//! peak memory, and optionally the full stress plan. Writes no file.

use std::time::Instant;

use batchlab::config::{Config, Preset, SchedulerKind};
use batchlab::latency::LatencyModel;
use batchlab::plan::{run_plan, PlanSpec};
use batchlab::run::simulate_run;
use batchlab::workload::{build, Source};
use clap::Args;

use crate::error::{CliError, CliResult};
use crate::options;
use crate::output::{print_table, say};

#[derive(Args, Debug)]
pub struct BenchArgs {
    /// Number of synthetic (BurstGPT-like) requests.
    #[arg(long, value_name = "N", default_value_t = 1_000_000)]
    pub requests: usize,

    /// Number of GPUs (scheduler multi_bin_dynamic).
    #[arg(long, value_name = "G", default_value_t = 4)]
    pub gpus: u32,

    /// Number of bins K.
    #[arg(long, value_name = "K", default_value_t = 8)]
    pub k: u32,

    /// How many times to time each phase (the table shows min and median).
    #[arg(long, value_name = "R", default_value_t = 5)]
    pub repeat: usize,

    /// Also time the full 34-run stress plan (same preset and seed; no file written).
    #[arg(long)]
    pub plan: bool,

    /// Preset of every other value: paper, first-results or compat.
    #[arg(long, value_name = "NAME", default_value = "paper")]
    pub preset: String,
}

pub fn run(args: BenchArgs) -> CliResult<()> {
    if args.repeat < 1 {
        return Err(CliError::option("--repeat", "must be at least 1 (got 0)"));
    }
    let preset = Preset::parse(&args.preset)?;
    let config = Config {
        scheduler: SchedulerKind::MultiBinDynamic,
        gpus: args.gpus,
        k_bins: args.k,
        requests: args.requests,
        ..Config::preset(preset)
    };
    options::validate(&config)?;
    let model = LatencyModel::new(preset.calibration(), config.latency_mode)?;
    let source = Source::Synthetic(config.synthetic);
    say!(
        "bench: {} {} requests, {}, {} GPUs, K = {}, preset {}, {} repeat(s)",
        config.requests,
        source.describe(),
        config.scheduler.name(),
        config.gpus,
        config.k_bins,
        preset.name(),
        args.repeat
    );

    let mut generation = Vec::with_capacity(args.repeat);
    let mut simulation = Vec::with_capacity(args.repeat);
    let mut throughput = 0.0;
    for _ in 0..args.repeat {
        let t0 = Instant::now();
        let workload = build(source, config.requests, config.load, config.predictor, config.seed)?;
        let t1 = Instant::now();
        let result = simulate_run(&workload, &config, &model, &source.describe())?;
        let t2 = Instant::now();
        generation.push((t1 - t0).as_secs_f64());
        simulation.push((t2 - t1).as_secs_f64());
        // Keep the result observable so the work cannot be optimised away.
        throughput = result.metrics.throughput_rps;
    }

    let mut rows = vec![["phase", "min (s)", "median (s)", "requests/s (median)"].map(String::from).to_vec()];
    for (name, times) in [("workload generation", &mut generation), ("simulation", &mut simulation)] {
        let (min, median) = min_median(times);
        rows.push(vec![name.into(), format!("{min:.4}"), format!("{median:.4}"), format!("{:.0}", config.requests as f64 / median)]);
    }
    if args.plan {
        let spec = PlanSpec { base: config.clone(), ..PlanSpec::new(preset) };
        let started = Instant::now();
        let clock = move || started.elapsed().as_secs_f64();
        let mut simulated = 0u64;
        let plan = run_plan(source, &preset.calibration(), &spec, &clock, &mut |p| {
            simulated = p.requests_simulated;
            true
        })?;
        let total = started.elapsed().as_secs_f64();
        rows.push(vec![
            format!("stress plan ({} runs, once)", plan.runs.len()),
            format!("{total:.4}"),
            format!("{total:.4}"),
            format!("{:.0}", simulated as f64 / total),
        ]);
    }
    say!();
    print_table(&rows);
    say!();
    say!("peak memory (VmHWM): {}", peak_memory());
    say!("(simulated throughput of the run: {throughput:.3} req/s)");
    Ok(())
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
