//! `batchlab stress`: the three-step stress plan (see `batchlab::plan`) with a progress bar;
//! writes the plan's 4 CSVs and analysis JSON into OUT.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use batchlab::plan::{Hooks, PlanResult, PlanSpec, Progress, STEP3_K};
use batchlab::session::plan_output;
use batchlab::tasks::WorkloadCache;
use batchlab::session::PLAN_PREFIX;
use batchlab::token::now;
use batchlab::report::metrics_table::metric;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use crate::error::CliResult;
use crate::many::Threads;
use crate::options::{self, ModelArgs};
use crate::output::{print_table, say, secs, write_files, Align::*};
use crate::token_backend::{TokenBackend, TokenBackendArgs};

#[derive(Args, Debug)]
pub struct StressArgs {
    /// Run only step 1 (request scaling: N in 1K, 10K, 100K, 1M x five scheduler/GPU configurations).
    #[arg(long, conflicts_with_all = ["step2_only", "step3_only"], help_heading = "Plan")]
    pub step1_only: bool,

    /// Run only step 2 (GPU scaling: 1, 2, 4, ..., 64, 100 GPUs, multi_bin_dynamic).
    #[arg(long, conflicts_with = "step3_only", help_heading = "Plan")]
    pub step2_only: bool,

    #[arg(long, help_heading = "Plan", help = format!(
        "Run only step 3 (K sensitivity: K in {STEP3_K:?}) on --best-gpu-count GPUs (default {}; compat {})",
        batchlab::plan::DEFAULT_STEP3_GPUS,
        batchlab::plan::COMPAT_STEP3_GPUS
    ))]
    pub step3_only: bool,

    /// GPU count of step 3 [default: the step-2 count with the highest capacity under SLA].
    #[arg(long, value_name = "N", help_heading = "Plan")]
    pub best_gpu_count: Option<u32>,

    /// Cap on the number of requests: step 1 keeps the sizes <= N, steps 2 and 3 run at min(1M, N).
    #[arg(long, value_name = "N", default_value_t = 1_000_000, help_heading = "Plan")]
    pub max_requests: usize,

    /// GPU counts above N are left out.
    #[arg(long, value_name = "N", default_value_t = 100, help_heading = "Plan")]
    pub max_gpus: u32,

    /// Number of bins K of steps 1 and 2 (step 3 varies it) [default: the preset's K]
    #[arg(long, value_name = "K", help_heading = "Plan")]
    pub k: Option<u32>,

    /// Prefix of the output file names.
    #[arg(long, value_name = "PREFIX", default_value = PLAN_PREFIX, help_heading = "Output")]
    pub output: String,

    /// Folder for the output files (created if missing).
    #[arg(long, value_name = "DIR", default_value = "out", help_heading = "Output")]
    pub out: PathBuf,

    /// Threads for the runs of each stage [default: every core]; with the token pass on
    /// a GPU the runs go one at a time.
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,

    #[command(flatten)]
    pub model: ModelArgs,

    #[command(flatten)]
    pub token: TokenBackendArgs,
}

pub fn run(args: StressArgs) -> CliResult<()> {
    let (preset, base) = args.model.config()?;
    let mut backend = TokenBackend::new(&args.token)?;
    let mut spec = PlanSpec::new(preset);
    spec.base = base;
    if args.step1_only || args.step2_only || args.step3_only {
        spec.steps = [args.step1_only, args.step2_only, args.step3_only];
    }
    spec.best_gpu_count = args.best_gpu_count;
    spec.max_requests = args.max_requests;
    spec.max_gpus = args.max_gpus;
    if let Some(k) = args.k {
        spec.k_bins = k;
    }
    // Check the options before reading a possibly large trace.
    spec.validate()?;
    options::validate(&spec.base)?;
    let session = args.model.open_session()?;
    let source = session.source(&spec.base).describe();
    say!("Stress plan: {} run(s) on {source}, preset {preset}, seed {}.", spec.run_count(), spec.base.seed);
    // Look for the GPU now, once for every run, and before the progress bar owns stderr.
    backend.prepare()?;

    let bar = progress_bar(spec.run_count() as u64);
    let started = Instant::now();
    let clock = move || started.elapsed().as_secs_f64();
    let mut on_progress = |p: &Progress| {
        bar.set_position(p.runs_done as u64);
        bar.set_message(format!("{} requests simulated; last: {}", p.requests_simulated, p.last_label));
        true
    };
    // The runs on every core, unless a GPU times the tokens (one device, one run at a
    // time) or one thread is asked for.
    let threads = Threads::new(args.threads.unwrap_or(0))?;
    let parallel = backend.gpu_adapter().is_none() && threads.count() > 1;
    let out = if parallel {
        let cache = WorkloadCache::default();
        session.plan_job(&spec, &cache).and_then(|mut job| {
            threads.drive(&session, preset, &cache, &mut job, &mut on_progress)?;
            Ok(plan_output(job.finish()?, &args.output))
        })
    } else {
        now(session.plan(preset, &spec, Hooks { clock: &clock, progress: &mut on_progress }, &mut backend, &args.output))
    };
    bar.finish_and_clear();
    let out = out?;
    let plan = &out.result;
    if parallel {
        say!("Finished in {} on {} threads; token passes on the CPU.", secs(started.elapsed().as_secs_f64()), threads.count());
    } else {
        say!(
            "Finished in {}; token passes: {} on {}, {}.",
            secs(started.elapsed().as_secs_f64()),
            backend.passes,
            backend.describe(),
            secs(backend.elapsed_s)
        );
    }
    say!();

    print_runs(plan);
    say!();
    for path in write_files(&args.out, &out.files)? {
        say!("Wrote {}", path.display());
    }
    print_published(plan);
    say!();
    match plan.best_gpu_count {
        Some(g) => say!("Best GPU count (step 3): {g} ({}).", plan.best_gpu_count_origin),
        None => say!("Best GPU count: n/a (step 3 not run)."),
    }
    print_findings(&out.findings);
    Ok(())
}

/// Runs done / total, requests simulated, elapsed, on stderr; hidden when stderr is not a
/// terminal (pipes and logs get only the final summary).
pub fn progress_bar(total: u64) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(total);
    let style = ProgressStyle::with_template("{bar:30.cyan/blue} {pos}/{len} runs [{elapsed_precise}] {wide_msg}")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
    bar.set_style(style);
    // Keep the elapsed time moving during long (1M-request) runs.
    bar.enable_steady_tick(Duration::from_millis(250));
    bar
}

fn print_runs(plan: &PlanResult) {
    // The run's headline metrics, named and shown as everywhere else.
    const SHOWN: [&str; 5] =
        ["throughput_rps", "latency_mean_s", "latency_p99_s", "token_sla_violation_rate", "capacity_under_sla_rps"];
    let shown = SHOWN.map(metric);
    let mut columns = vec![("run", Left)];
    columns.extend(shown.iter().map(|m| (m.label, Right)));
    let rows = plan.runs.iter().map(|run| {
        let mut row = vec![run.label.clone()];
        match &run.result {
            Ok(r) => row.extend(shown.iter().map(|m| m.human(r))),
            // A failed run: the error in the first metric's column, the rest left empty.
            Err(e) => row.push(format!("failed: {e}")),
        }
        row
    });
    print_table(&columns, rows);
}

/// How many runs have a published counterpart (`_published_vs_reproduced.csv`).
fn print_published(plan: &PlanResult) {
    let published = batchlab::plan::published::runs();
    let pairs = batchlab::plan::published::pair(&plan.runs, &published);
    let matched: Vec<_> = pairs.iter().filter_map(|(run, p)| Some((run.result.as_ref().ok()?, (*p)?))).collect();
    let same = matched.iter().filter(|(r, p)| p.same_setting(&r.config)).count();
    say!(
        "Published (dd5f07f): {} of {} runs have a published run of the same configuration, {same} of them at the same load and deadline.",
        matched.len(),
        plan.runs.len()
    );
}

/// The analysis's key findings, one per line.
fn print_findings(findings: &[String]) {
    if findings.is_empty() {
        return;
    }
    say!();
    say!("Key findings:");
    for f in findings {
        say!("  - {f}");
    }
}
