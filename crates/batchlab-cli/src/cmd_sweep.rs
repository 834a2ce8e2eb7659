//! `batchlab sweep SPEC.toml` and `batchlab merge SHARD_DIR...`: many runs of one spec,
//! in parallel on every core, whole or as the I-th of N shards.
//!
//! Runs are independent and each is a pure function of its configuration, so they run
//! in any order on any thread and are written in the sweep's order: the files are the
//! same bytes (wall-clock cells aside) whatever the thread count or the sharding.

use std::path::PathBuf;
use std::time::Instant;

use batchlab::report::sweep::{merge, ShardInfo, RUNS_FILE, SHARD_FILE, SUMMARY_FILE};
use batchlab::session::{sweep_output, Inputs, Session};
use batchlab::sweep::{shard_range, SweepJob, SweepSpec};
use batchlab::tasks::WorkloadCache;
use clap::Args;

use crate::cmd_stress::progress_bar;
use crate::many::Threads;
use crate::error::{read_file, CliError, CliResult};
use crate::output::{say, write_files};

#[derive(Args, Debug)]
pub struct SweepArgs {
    /// The sweep's spec: a preset, [base] fields and [axes] of values (see examples/).
    #[arg(value_name = "SPEC.toml")]
    pub spec: PathBuf,

    /// Folder for sweep_runs.csv and sweep_summary.csv (a shard's: also sweep_shard.json).
    #[arg(long, value_name = "DIR", default_value = "out")]
    pub out: PathBuf,

    /// Run only the I-th of N equal slices of the sweep (1-based), for `batchlab merge`
    /// [default: from SLURM_ARRAY_TASK_ID / SLURM_ARRAY_TASK_COUNT or a Kubernetes Indexed
    /// Job's JOB_COMPLETION_INDEX with BATCHLAB_SHARDS, else the whole sweep].
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,

    /// Threads to run on [default: every core].
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
}

#[derive(Args, Debug)]
pub struct MergeArgs {
    /// Shard folders written by `batchlab sweep --shard`.
    #[arg(value_name = "SHARD_DIR", required = true)]
    pub shards: Vec<PathBuf>,

    /// Folder for the merged sweep_runs.csv and sweep_summary.csv.
    #[arg(long, value_name = "DIR", default_value = "out")]
    pub out: PathBuf,
}

/// `I/N` from the option, else from a cluster scheduler's environment.
fn shard_of(arg: Option<&str>) -> CliResult<Option<(usize, usize)>> {
    let parse = |s: &str, what: &str| -> CliResult<(usize, usize)> {
        let bad = || CliError::option("--shard", format!("{what} must be I/N with 1 <= I <= N (got '{s}')"));
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let (i, n): (usize, usize) = (i.trim().parse().map_err(|_| bad())?, n.trim().parse().map_err(|_| bad())?);
        if i < 1 || i > n {
            return Err(bad());
        }
        Ok((i, n))
    };
    if let Some(s) = arg {
        return parse(s, "the shard").map(Some);
    }
    let var = |name: &str| std::env::var(name).ok();
    // Slurm arrays count from the array's first index (usually 0 or 1); we take the task
    // count and the offset from SLURM_ARRAY_TASK_MIN.
    if let (Some(id), Some(count)) = (var("SLURM_ARRAY_TASK_ID"), var("SLURM_ARRAY_TASK_COUNT")) {
        let min = var("SLURM_ARRAY_TASK_MIN").unwrap_or_else(|| "0".into());
        let (id, min): (usize, usize) = (id.parse().unwrap_or(usize::MAX), min.parse().unwrap_or(0));
        return parse(&format!("{}/{count}", id.wrapping_sub(min).wrapping_add(1)), "SLURM_ARRAY_TASK_ID").map(Some);
    }
    if let (Some(index), Some(count)) = (var("JOB_COMPLETION_INDEX"), var("BATCHLAB_SHARDS")) {
        let index: usize = index.parse().unwrap_or(usize::MAX);
        return parse(&format!("{}/{count}", index.wrapping_add(1)), "JOB_COMPLETION_INDEX").map(Some);
    }
    Ok(None)
}

pub fn run(args: SweepArgs) -> CliResult<()> {
    let name = args.spec.display().to_string();
    let spec = SweepSpec::parse_toml(&read_file(&args.spec)?, &name)?;
    let total = spec.run_count()?;
    let shard = shard_of(args.shard.as_deref())?;
    let range = match shard {
        Some((i, n)) => shard_range(total, i, n),
        None => 0..total,
    };
    let points = spec.points(range.clone())?;
    let session = Session::open(&Inputs::default())?;
    let pool = Threads::new(args.threads.unwrap_or(0))?;
    say!(
        "sweep {name}: {} run(s){} on {} thread(s)",
        points.len(),
        shard.map_or(String::new(), |(i, n)| format!(" (shard {i}/{n} of {total})")),
        pool.count()
    );
    let bar = progress_bar(points.len() as u64);
    let started = Instant::now();
    let mut job = SweepJob::new(&spec, points);
    pool.drive(&session, spec.preset, &WorkloadCache::default(), &mut job, &mut |p| {
        bar.set_position(p.runs_done as u64);
        true
    })?;
    let results = job.finish();
    bar.finish_and_clear();
    // The same files as the page's sweep; a shard leaves the summary to `merge`.
    let output = sweep_output(&spec, &results)?;
    let mut files = output.files;
    if let Some((i, n)) = shard {
        files.retain(|(name, _)| name != SUMMARY_FILE);
        let info = ShardInfo {
            spec_fingerprint: spec.fingerprint(),
            shard: i,
            shards: n,
            first_run: range.start,
            end_run: range.end,
            total_runs: total,
            axes: output.axes,
        };
        files.push((SHARD_FILE.to_string(), serde_json::to_string_pretty(&info).expect("serialises")));
    }
    say!("{} run(s) in {:.2} s, {} failed", output.runs, started.elapsed().as_secs_f64(), output.failed);
    for path in write_files(&args.out, &files)? {
        say!("Wrote {}", path.display());
    }
    Ok(())
}

pub fn merge_shards(args: MergeArgs) -> CliResult<()> {
    let mut shards = Vec::new();
    for dir in &args.shards {
        let info_path = dir.join(SHARD_FILE);
        let info = ShardInfo::parse_json(&read_file(&info_path)?, &info_path.display().to_string())?;
        let runs = String::from_utf8(read_file(&dir.join(RUNS_FILE))?)
            .map_err(|_| CliError::new(format!("{}: not UTF-8 text", dir.join(RUNS_FILE).display())))?;
        shards.push((info, runs));
    }
    let (runs, summary) = merge(shards)?;
    let files = [(RUNS_FILE.to_string(), runs), (SUMMARY_FILE.to_string(), summary)];
    for path in write_files(&args.out, &files)? {
        say!("Wrote {}", path.display());
    }
    Ok(())
}
