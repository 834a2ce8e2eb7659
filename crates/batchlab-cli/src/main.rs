//! `batchlab`: the native shell of the BatchLab core.
//!
//! Thin by design: it parses arguments into a `Config`, reads files into bytes, calls the
//! core, shows progress and summaries, and writes the files the core's `report` layer
//! formats (the CLI never formats a CSV itself, so it and the web app write the same
//! bytes). Every error is one line `error: <message>` on stderr and exit code 2.

mod bench_small;
mod cmd_bench;
mod cmd_capacity;
mod cmd_compare;
mod cmd_fit;
mod cmd_run;
mod cmd_paper;
mod cmd_stress;
mod cmd_sweep;
mod cmd_timeline;
mod error;
mod many;
mod options;
mod output;
mod token_backend;
mod trace_file;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use error::CliError;

/// Simulate how LLM-serving clusters batch requests (static FIFO, SLA-constrained
/// dynamic batching, multi-bin dynamic batching, continuous batching) on a trace or a
/// synthetic BurstGPT-like workload.
#[derive(Parser, Debug)]
#[command(name = "batchlab", version, propagate_version = true, subcommand_required = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Simulate one configuration; write OUT/run.csv and OUT/run.json.
    Run(cmd_run::RunArgs),
    /// Simulate one configuration and write a window of it as the page's "Inside the
    /// cluster" shows it: OUT/timeline_boxes.csv (one row per batch or run of iterations)
    /// and OUT/timeline_series.csv (queues and memory).
    Timeline(cmd_timeline::TimelineArgs),
    /// Run every scheduler on the same workload (on every core); print them side by side
    /// and write OUT/compare.csv.
    Compare(cmd_compare::CompareArgs),
    /// Run the three-step stress plan (up to 34 runs); write its 4 CSVs and analysis JSON.
    Stress(cmd_stress::StressArgs),
    /// Run the final paper's study (step-1 grid and step-2 comparison at loads x100, x10,
    /// x1); write its CSVs with the published columns.
    Paper(cmd_paper::PaperArgs),
    /// Run a sweep (a base configuration and axes over its fields) on every core; write
    /// OUT/sweep_runs.csv and OUT/sweep_summary.csv (mean and 95% interval over seeds).
    Sweep(cmd_sweep::SweepArgs),
    /// Each scheduler's capacity: the highest load (RPS scaling factor) at which its SLO
    /// attainment stays at or above a target; write OUT/capacity.csv and the points.
    Capacity(cmd_capacity::CapacityArgs),
    /// Join the shards of a sweep (`sweep --shard I/N`) into the whole sweep's files.
    Merge(cmd_sweep::MergeArgs),
    /// Fit the latency model to a calibration grid and show how well it fits.
    FitCalibration(cmd_fit::FitArgs),
    /// Time workload generation, simulation and the token pass (CPU and GPU) of a large
    /// synthetic run (and optionally the stress plan).
    Bench(cmd_bench::BenchArgs),
}

/// Mesa's implicit Vulkan layer `VK_LAYER_MESA_device_select` asks Wayland for the
/// display's GPU while wgpu looks for an adapter; without a Wayland session (servers, CI,
/// ssh) libwayland then prints "error: XDG_RUNTIME_DIR is invalid or not set" twice, which
/// reads like a failure of ours. With no session there is no display GPU to prefer, so
/// the layer is switched off by its documented variable. wgpu picks the adapter itself
/// (high-performance preference) either way. Runs first in `main`, before any thread.
fn quiet_mesa_device_select() {
    let unset = |name| std::env::var_os(name).is_none();
    if token_backend::GPU_BUILT && unset("XDG_RUNTIME_DIR") && unset("NODEVICE_SELECT") {
        std::env::set_var("NODEVICE_SELECT", "1");
    }
}

fn main() -> ExitCode {
    quiet_mesa_device_select();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return error::clap_exit(e),
    };
    let outcome: Result<(), CliError> = match cli.command {
        Command::Run(args) => cmd_run::run(args),
        Command::Timeline(args) => cmd_timeline::run(args),
        Command::Compare(args) => cmd_compare::run(args),
        Command::Stress(args) => cmd_stress::run(args),
        Command::Paper(args) => cmd_paper::run(args),
        Command::Sweep(args) => cmd_sweep::run(args),
        Command::Merge(args) => cmd_sweep::merge_shards(args),
        Command::Capacity(args) => cmd_capacity::run(args),
        Command::FitCalibration(args) => cmd_fit::run(args),
        Command::Bench(args) => cmd_bench::run(args),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            error::print_error(&e.to_string());
            ExitCode::from(error::EXIT_USAGE)
        }
    }
}

#[cfg(test)]
mod tests {
    use batchlab::config::{BinPolicy, Completion, LatencyMode, Named, PredictorKind, Preset, SchedulerKind, Semantics, SlaSignal, SyntheticKind, FIELDS};
    use clap::CommandFactory;

    use super::Cli;
    use crate::options::flag_of;

    fn long_flags() -> Vec<String> {
        let cli = Cli::command();
        let mut flags = Vec::new();
        for sub in cli.get_subcommands() {
            flags.extend(sub.get_arguments().filter_map(|a| a.get_long().map(|l| format!("--{l}"))));
        }
        flags
    }

    /// Every field the core can name in an error is reported with a flag that exists.
    #[test]
    fn every_core_field_has_a_real_flag() {
        let flags = long_flags();
        for field in FIELDS {
            let flag = flag_of(field).unwrap_or_else(|| panic!("no flag for field {field}"));
            for f in flag.split('/') {
                assert!(flags.iter().any(|x| x == f), "{field} -> {f}, which no command has");
            }
        }
    }

    /// The CLI accepts exactly the core's spelling of every value of every named set.
    #[test]
    fn every_named_value_parses_with_the_core_spelling() {
        fn check<T: Named>(flag: &str, sub: &str) {
            for v in T::ALL {
                let args = ["batchlab", sub, flag, v.name()];
                assert!(Cli::try_parse_from_args(&args), "{args:?}");
            }
            assert!(!Cli::try_parse_from_args(&["batchlab", sub, flag, "not-a-value"]));
        }
        check::<Preset>("--preset", "run");
        check::<SchedulerKind>("--scheduler", "run");
        check::<BinPolicy>("--bin-policy", "run");
        check::<PredictorKind>("--predictor", "run");
        check::<SyntheticKind>("--synthetic", "stress");
        check::<Completion>("--completion", "run");
        check::<SlaSignal>("--sla-signal", "stress");
        check::<LatencyMode>("--latency-mode", "run");
        check::<Semantics>("--token-semantics", "run");
        check::<Preset>("--preset", "bench");
    }

    impl Cli {
        fn try_parse_from_args(args: &[&str]) -> bool {
            <Cli as clap::Parser>::try_parse_from(args).is_ok()
        }
    }
}
