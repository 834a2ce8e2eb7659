//! `batchlab paper`: the final paper's study (see `batchlab::study`) with a progress bar;
//! writes each load's `step1_grid_search.csv` and `step2_comparison.csv` into
//! OUT/<the original's folder for that load>/, figure 5's two CSVs and the five figures
//! (SVG, `batchlab_charts::study`) into OUT/figures/ with the same figures drawn from
//! the published numbers in OUT/figures/published/, and prints step 2.

use std::time::Instant;

use batchlab::config::Preset;
use batchlab::plan::{Hooks, Progress};
use batchlab::report::metrics_table::metric;
use batchlab::study::{StudySpec, STUDY_LOADS};
use clap::Args;

use crate::cmd_stress::progress_bar;
use crate::error::{CliError, CliResult};
use crate::options::{self, ModelArgs};
use crate::output::{print_table, say, secs, write_files, Align::*};

#[derive(Args, Debug)]
pub struct PaperArgs {
    /// Cap on requests per run: sizes 1K, 10K, 100K, 1M above it are left out.
    #[arg(long, value_name = "N", default_value_t = 1_000_000, help_heading = "Study")]
    pub max_requests: usize,

    /// GPU counts (1, 2, 4, ..., 64, 100) above N are left out.
    #[arg(long, value_name = "N", default_value_t = 100, help_heading = "Study")]
    pub max_gpus: u32,

    /// The loads to run, as RPS scaling factors: any of 100, 10, 1 (comma-separated).
    #[arg(long, value_name = "LIST", default_value = "100,10,1", help_heading = "Study")]
    pub loads: String,

    /// Folder for the output files (created if missing).
    #[arg(long, value_name = "DIR", default_value = "out", help_heading = "Output")]
    pub out: std::path::PathBuf,

    #[command(flatten)]
    pub model: ModelArgs,
}

/// `--loads`: which of the study's loads are on.
fn parse_loads(text: &str) -> CliResult<[bool; 3]> {
    let mut on = [false; 3];
    for part in text.split(',').map(str::trim) {
        let i = STUDY_LOADS
            .iter()
            .position(|(rps, _)| part.parse::<f64>().ok() == Some(*rps))
            .ok_or_else(|| CliError::option("--loads", format!("'{part}' is not one of the study's loads 100, 10, 1")))?;
        on[i] = true;
    }
    Ok(on)
}

pub fn run(args: PaperArgs) -> CliResult<()> {
    let (preset, base) = args.model.config()?;
    let mut spec = StudySpec::new(base);
    spec.max_requests = args.max_requests;
    spec.max_gpus = args.max_gpus;
    spec.loads = parse_loads(&args.loads)?;
    spec.validate()?;
    options::validate(&spec.base)?;
    let session = args.model.open_session()?;
    let source = session.source(&spec.base).describe();
    say!("The final paper's study: {} run(s) on {source}, preset {preset}, seed {}.", spec.run_count(), spec.base.seed);
    if preset != Preset::Paper {
        say!("(The published study ran the final version, preset paper.)");
    }
    let bar = progress_bar(spec.run_count() as u64);
    let started = Instant::now();
    let clock = move || started.elapsed().as_secs_f64();
    let mut on_progress = |p: &Progress| {
        bar.set_position(p.runs_done as u64);
        bar.set_message(p.last_label.clone());
        true
    };
    let out = session.study(preset, &spec, Hooks { clock: &clock, progress: &mut on_progress });
    bar.finish_and_clear();
    let out = out?;
    say!("Finished in {}.", secs(started.elapsed().as_secs_f64()));
    for load in &out.result.loads {
        say!();
        say!("Step 2 at x{} load:", load.rps_scaling);
        let shown = ["throughput_rps", "latency_mean_s", "request_sla_violation_rate"].map(metric);
        let mut columns = vec![("requests", Right), ("method", Left)];
        columns.extend(shown.iter().map(|m| (m.label, Right)));
        let rows = load.comparison.iter().map(|r| {
            let mut row = vec![r.result.config.requests.to_string(), r.method.clone().unwrap_or_default()];
            row.extend(shown.iter().map(|m| m.human(&r.result)));
            row
        });
        print_table(&columns, rows);
    }
    say!();
    let mut figures = batchlab_charts::study::study_figures(&out.result);
    figures.extend(batchlab_charts::study::published_figures());
    for path in write_files(&args.out, &out.files)?.into_iter().chain(write_files(&args.out, &figures)?) {
        say!("Wrote {}", path.display());
    }
    Ok(())
}
