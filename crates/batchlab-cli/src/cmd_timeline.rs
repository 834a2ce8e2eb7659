//! `batchlab timeline`: one configuration (the options of `run`), and a window of it as
//! the page's "Inside the cluster" has it (`Session::timeline`: the same run, bounded to
//! the first 32 GPUs and the 3,000 boxes that start first): OUT/timeline_boxes.csv and
//! OUT/timeline_series.csv. The page draws the timeline in its own code, so no SVG here.

use std::path::PathBuf;

use batchlab::report::timeline::timeline_files;
use batchlab::tasks::WorkloadCache;
use batchlab::timeline::{busiest_window, Window, MAX_BOXES, MAX_LANES};
use batchlab::token::{now, CpuTokenPass};
use clap::Args;

use crate::error::{CliError, CliResult};
use crate::options::{self, ModelArgs, RunPointArgs};
use crate::output::{say, secs, write_files};

/// The default window's width, seconds: a minute, as on the page.
const DEFAULT_WIDTH_S: f64 = 60.0;

#[derive(Args, Debug)]
pub struct TimelineArgs {
    #[command(flatten)]
    pub point: RunPointArgs,

    /// Start of the window, seconds of simulated time [default: the run's busiest minute,
    /// as the page picks it; with only --to, a minute before it].
    #[arg(long, value_name = "S", help_heading = "Window")]
    pub from: Option<f64>,

    /// End of the window, seconds [default: a minute after its start].
    #[arg(long, value_name = "S", help_heading = "Window")]
    pub to: Option<f64>,

    /// Folder for timeline_boxes.csv and timeline_series.csv (created if missing).
    #[arg(long, value_name = "DIR", default_value = "out", help_heading = "Output")]
    pub out: PathBuf,

    #[command(flatten)]
    pub model: ModelArgs,
}

pub fn run(args: TimelineArgs) -> CliResult<()> {
    let (preset, mut config) = args.model.config()?;
    args.point.apply(&mut config);
    options::validate(&config)?;
    for (flag, v) in [("--from", args.from), ("--to", args.to)] {
        if v.is_some_and(|s| !(s.is_finite() && s >= 0.0)) {
            return Err(CliError::option(flag, "must be a number of seconds, 0 or more"));
        }
    }
    if let (Some(from), Some(to)) = (args.from, args.to) {
        if to <= from {
            return Err(CliError::option("--to", format!("must be after --from (got from {from} to {to})")));
        }
    }
    let session = args.model.open_session_for(&config)?;
    let cache = WorkloadCache::default();
    let window = match (args.from, args.to) {
        (Some(from_s), to) => Window { from_s, to_s: to.unwrap_or(from_s + DEFAULT_WIDTH_S) },
        (None, Some(to_s)) => Window { from_s: (to_s - DEFAULT_WIDTH_S).max(0.0), to_s },
        (None, None) => {
            // The page's default: the busiest minute of the run's own time series.
            let out = now(session.run(preset, &config, &|| 0.0, CpuTokenPass))?;
            config.requests = out.result.config.requests;
            busiest_window(&out.result.timeseries, DEFAULT_WIDTH_S)
        }
    };
    let t = session.timeline(preset, &config, window, &cache)?;
    say!(
        "Timeline of {} on {} GPU(s), {} to {} (the run ends at {}).",
        t.scheduler,
        t.gpus,
        secs(t.window.from_s),
        secs(t.window.to_s),
        secs(t.run_end_s)
    );
    let lanes = if t.lanes < t.gpus { format!(" on GPUs 0-{} (the first {MAX_LANES})", t.lanes - 1) } else { String::new() };
    say!("{} box(es){lanes}.", t.boxes.len());
    if t.left_out > 0 {
        say!(
            "{} more box(es) left out (at most {MAX_BOXES}, those that start first): every box starting before {} is there.",
            t.left_out,
            secs(t.complete_until_s)
        );
    }
    for path in write_files(&args.out, &timeline_files(&t))? {
        say!("Wrote {}", path.display());
    }
    Ok(())
}
