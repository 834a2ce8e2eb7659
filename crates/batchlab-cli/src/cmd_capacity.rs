//! `batchlab capacity`: each scheduler's capacity, the highest load (RPS scaling factor)
//! at which its SLO attainment stays at or above a target; one search per scheduler, the
//! searches in parallel on every core. Writes OUT/capacity.csv and
//! OUT/capacity_points.csv (the attainment-vs-load points each search visited).

use std::path::PathBuf;
use std::time::Instant;

use batchlab::capacity::{CapacityJob, CapacitySpec};
use batchlab::tasks::WorkloadCache;
use batchlab::config::SchedulerKind;
use batchlab::report::capacity::capacity_files;
use batchlab::report::human;
use clap::Args;

use crate::many::Threads;
use crate::error::CliResult;
use crate::options::{self, ModelArgs};
use crate::output::{print_table, say, write_files, Align::*};

#[derive(Args, Debug)]
pub struct CapacityArgs {
    /// Schedulers to search, comma-separated [default: all six].
    #[arg(long, value_name = "LIST", value_delimiter = ',', value_parser = options::named::<SchedulerKind>())]
    pub schedulers: Vec<SchedulerKind>,

    /// Requests per run [default: 20000].
    #[arg(long, value_name = "N", default_value_t = 20_000)]
    pub requests: usize,

    /// Number of GPUs [default: the preset's].
    #[arg(long, value_name = "G")]
    pub gpus: Option<u32>,

    /// SLO attainment the capacity must keep, in (0, 1].
    #[arg(long, value_name = "SHARE", default_value_t = CapacitySpec::default().target)]
    pub target: f64,

    /// Stop when the bracket's ends are within this share of each other.
    #[arg(long, value_name = "SHARE", default_value_t = CapacitySpec::default().tolerance)]
    pub tolerance: f64,

    /// Most runs per search.
    #[arg(long, value_name = "N", default_value_t = CapacitySpec::default().max_runs)]
    pub max_runs: usize,

    /// Threads to run on [default: every core].
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,

    /// Folder for capacity.csv and capacity_points.csv (created if missing).
    #[arg(long, value_name = "DIR", default_value = "out")]
    pub out: PathBuf,

    #[command(flatten)]
    pub model: ModelArgs,
}

pub fn run(args: CapacityArgs) -> CliResult<()> {
    let (preset, mut config) = args.model.config()?;
    config.requests = args.requests;
    if let Some(g) = args.gpus {
        config.gpus = g;
    }
    options::validate(&config)?;
    let spec = CapacitySpec { target: args.target, tolerance: args.tolerance, max_runs: args.max_runs };
    spec.validate()?;
    let schedulers = if args.schedulers.is_empty() { SchedulerKind::ALL.to_vec() } else { args.schedulers.clone() };
    let session = args.model.open_session()?;
    let threads = Threads::new(args.threads.unwrap_or(0))?;
    say!(
        "capacity: {} scheduler(s), {} requests per run, target {}, tolerance {}, on {} thread(s)",
        schedulers.len(),
        config.requests,
        human::percent(spec.target),
        human::percent(spec.tolerance),
        threads.count()
    );
    let started = Instant::now();
    let bar = crate::cmd_stress::progress_bar(0);
    let rows = schedulers.iter().map(|&s| (s.name().to_string(), batchlab::Config { scheduler: s, ..config.clone() })).collect();
    let mut job = CapacityJob::new(&spec, rows)?;
    threads.drive(&session, preset, &WorkloadCache::default(), &mut job, &mut |p| {
        bar.set_length(p.runs_total as u64);
        bar.set_position(p.runs_done as u64);
        bar.set_message(p.last_label.clone());
        true
    })?;
    bar.finish_and_clear();
    let rows = job.finish();
    let table = rows.iter().map(|(label, c)| {
        vec![
            label.clone(),
            c.factor.map_or("below the lowest load tried".into(), human::number),
            c.arrival_rate_rps.map_or("–".into(), |r| human::with_unit(r, "req/s")),
            c.points.len().to_string(),
            if c.converged { "yes".into() } else { "no (ran out of runs)".into() },
        ]
    });
    print_table(&[("scheduler", Left), ("capacity (load factor)", Right), ("arrival rate", Right), ("runs", Right), ("converged", Left)], table);
    say!("{} searches in {:.2} s", rows.len(), started.elapsed().as_secs_f64());
    for path in write_files(&args.out, &capacity_files(&spec, &rows))? {
        say!("Wrote {}", path.display());
    }
    Ok(())
}
