//! `batchlab compare`: every scheduler on the same workload, the runs on every core;
//! prints the headline metrics side by side and writes OUT/compare.csv (one row per
//! scheduler, the run CSV's columns).

use std::path::PathBuf;
use std::time::Instant;

use batchlab::plan::Hooks;
use batchlab::session::CompareJob;
use batchlab::tasks::WorkloadCache;
use batchlab::report::{compare_csv, metrics_table};
use batchlab::token::{now, CpuTokenPass};
use clap::Args;

use crate::error::CliResult;
use crate::many::Threads;
use crate::options::{self, ModelArgs};
use crate::output::{print_table, say, write_files, Align::*};

#[derive(Args, Debug)]
pub struct CompareArgs {
    /// Number of requests [default: the preset's].
    #[arg(long, value_name = "N")]
    pub requests: Option<usize>,

    /// Number of GPUs [default: the preset's].
    #[arg(long, value_name = "G")]
    pub gpus: Option<u32>,

    /// Number of bins of the multi-bin schedulers [default: the preset's].
    #[arg(long, value_name = "K")]
    pub k: Option<u32>,

    /// Threads to run on [default: every core]; token passes on the CPU.
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,

    /// Folder for compare.csv (created if missing).
    #[arg(long, value_name = "DIR", default_value = "out")]
    pub out: PathBuf,

    #[command(flatten)]
    pub model: ModelArgs,
}

/// The columns shown side by side.
const SHOWN: &[&str] = &[
    "throughput_rps",
    "latency_mean_s",
    "latency_p99_s",
    "ttft_p99_s",
    "tbt_p99_s",
    "capacity_under_sla_rps",
    "slo_attainment",
    "gpu_util_mean",
];

pub fn run(args: CompareArgs) -> CliResult<()> {
    let (preset, mut config) = args.model.config()?;
    if let Some(n) = args.requests {
        config.requests = n;
    }
    if let Some(g) = args.gpus {
        config.gpus = g;
    }
    if let Some(k) = args.k {
        config.k_bins = k;
    }
    options::validate(&config)?;
    let session = args.model.open_session_for(&config)?;
    let threads = Threads::new(args.threads.unwrap_or(0))?;
    let started = Instant::now();
    let clock = move || started.elapsed().as_secs_f64();
    let outputs = if threads.count() > 1 {
        let mut job = CompareJob::new(&config)?;
        threads.drive(&session, preset, &WorkloadCache::default(), &mut job, &mut |_| true)?;
        job.finish()?
    } else {
        now(session.compare(preset, &config, Hooks { clock: &clock, progress: &mut |_| true }, CpuTokenPass))?
    };
    say!(
        "compare: {} requests of {}, {} GPU(s), on {} thread(s), {:.2} s",
        outputs.first().map_or(0, |o| o.result.config.requests),
        session.source(&config).describe(),
        config.gpus,
        threads.count(),
        started.elapsed().as_secs_f64()
    );
    let mut columns = vec![("scheduler", Left)];
    columns.extend(SHOWN.iter().map(|&k| (metrics_table::metric(k).label, Right)));
    let rows = outputs.iter().map(|o| {
        let mut row = vec![o.result.config.scheduler.to_string()];
        row.extend(SHOWN.iter().map(|&k| metrics_table::metric(k).human(&o.result)));
        row
    });
    print_table(&columns, rows);
    let results: Vec<_> = outputs.into_iter().map(|o| o.result).collect();
    for path in write_files(&args.out, &[("compare.csv".to_string(), compare_csv(&results))])? {
        say!("Wrote {}", path.display());
    }
    Ok(())
}
