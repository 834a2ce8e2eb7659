//! `batchlab run`: one configuration -> summary on stdout, OUT/run.csv, OUT/run.json.

use std::path::PathBuf;
use std::time::Instant;

use batchlab::config::{Config, Load, Preset, SchedulerKind};
use batchlab::latency::LatencyModel;
use batchlab::metrics::BinStats;
use batchlab::report::{human, metrics_table, run_csv, run_json};
use batchlab::run::{simulate_run_with, RunResult};
use batchlab::workload::{build, Source};
use clap::Args;

use crate::error::CliResult;
use crate::options::{self, print_import_report, ModelArgs};
use crate::output::{print_table, say, secs, write_files, Align::*};
use crate::token_backend::{TokenBackend, TokenBackendArgs};

fn paper() -> Config {
    Config::preset(Preset::Paper)
}

#[derive(Args, Debug)]
pub struct RunArgs {
    #[arg(long, value_name = "N", help_heading = "Run",
          help = format!("Number of requests: the first N of the source (a trace may hold fewer) [default: {}]", paper().requests))]
    pub requests: Option<usize>,

    #[arg(long, value_name = "NAME", help_heading = "Run",
          help = format!("Scheduler: static_fifo, dynamic_no_bins, multi_bin_dynamic or multi_bin_fixed [default: {}]", paper().scheduler.name()))]
    pub scheduler: Option<String>,

    #[arg(long, value_name = "G", help_heading = "Run",
          help = format!("Number of GPUs [default: {}]", paper().gpus))]
    pub gpus: Option<u32>,

    #[arg(long, value_name = "K", help_heading = "Run",
          help = format!("Number of bins of the multi-bin schedulers [default: {}]", paper().k_bins))]
    pub k: Option<u32>,

    /// Folder for run.csv and run.json (created if missing).
    #[arg(long, value_name = "DIR", default_value = "out", help_heading = "Output")]
    pub out: PathBuf,

    #[command(flatten)]
    pub model: ModelArgs,

    #[command(flatten)]
    pub token: TokenBackendArgs,
}

pub fn run(args: RunArgs) -> CliResult<()> {
    let (preset, mut config) = args.model.config()?;
    let mut backend = TokenBackend::new(&args.token)?;
    if let Some(name) = &args.scheduler {
        config.scheduler = SchedulerKind::parse(name)?;
    }
    if let Some(n) = args.requests {
        config.requests = n;
    }
    if let Some(g) = args.gpus {
        config.gpus = g;
    }
    if let Some(k) = args.k {
        config.k_bins = k;
    }
    // Check the options before reading a possibly large trace.
    options::validate(&config)?;
    let model = LatencyModel::new(args.model.calibration(preset)?, config.latency_mode)?;
    let trace = args.model.trace()?;
    let source = match &trace {
        Some(t) => {
            print_import_report(t);
            Source::Trace(t)
        }
        None => Source::Synthetic(config.synthetic),
    };
    let workload = build(source, config.requests, config.load, config.predictor, config.seed)?;
    if workload.len() < config.requests {
        say!("The source holds {} usable request(s); simulating all of them.", workload.len());
    }
    config.requests = workload.len();

    // Look for a GPU (slow, once) before the clock starts: the wall time is the run's.
    backend.prepare()?;
    let started = Instant::now();
    let mut token_pass = |w: &_, s: &_, t: &_, slas: &_| backend.run(w, s, t, slas);
    let mut result = simulate_run_with(&workload, &config, &model, &source.describe(), &mut token_pass)?;
    result.wall_time_s = started.elapsed().as_secs_f64();

    print_summary(&result, &format!("{}, {}", backend.describe(), secs(backend.elapsed_s)));
    let files = [("run.csv".to_string(), run_csv(&result)), ("run.json".to_string(), run_json(&result))];
    for path in write_files(&args.out, &files)? {
        say!("Wrote {}", path.display());
    }
    Ok(())
}

/// `token_pass`: the backend that ran the token pass and how long it took.
fn print_summary(r: &RunResult, token_pass: &str) {
    let c = &r.config;
    let load = match c.load {
        Load::RpsScaling { factor } => format!("arrival times / {factor}"),
        Load::RealTimestamps => "real timestamps".into(),
    };
    let bins = if c.scheduler.uses_bins() { format!(", K = {}", c.k_bins) } else { String::new() };
    say!();
    say!("Run: {} requests of {} ({load}, seed {})", c.requests, r.workload, c.seed);
    say!("     {}, {} GPU(s){bins}; calibration {}", c.scheduler.name(), c.gpus, r.calibration);
    say!(
        "     token model: {}, kappa {}, context ref {} tokens",
        c.token_semantics.name(),
        c.token_kappa,
        c.token_context_ref_tokens
    );
    say!("     SLA limits: {} per token gap, {} per request", secs(c.d_sla_token_s), secs(c.d_sla_request_s));
    say!();
    // Every metric, as the page shows it: the run's, the fit's, the wall time.
    let metrics = metrics_table::all().map(|m| vec![m.label.to_string(), m.human(r)]);
    let pass = ["token pass".to_string(), token_pass.to_string()];
    print_table(&[("metric", Left), ("value", Left)], metrics.chain([pass.to_vec()]));
    if c.scheduler.uses_bins() && !r.bins.is_empty() {
        say!();
        print_bins(&r.bins);
    }
    if !r.notes.is_empty() {
        say!();
        for n in &r.notes {
            say!("Note: {n}");
        }
    }
    say!();
}

/// Per-bin statistics (the CSV's `bin_*` lists), one row per bin.
fn print_bins(bins: &[BinStats]) {
    // Bin edges are whole tokens; the last bin is open ("∞").
    let edge = |x: f64| if x.is_finite() { format!("{x:.0}") } else { human::number(x) };
    let columns = [
        ("bin", Right),
        ("predicted length", Left),
        ("requests", Right),
        ("batches", Right),
        ("batch size mean", Right),
        ("output tokens", Right),
        ("latency mean", Right),
    ];
    let rows = bins.iter().map(|b| {
        vec![
            b.bin.to_string(),
            format!("[{}, {})", edge(b.predicted_lo), edge(b.predicted_hi)),
            b.requests.to_string(),
            b.batches.to_string(),
            human::number(b.batch_size_mean),
            format!("{}–{}", b.output_tokens_min, b.output_tokens_max),
            secs(b.latency_mean_s),
        ]
    });
    print_table(&columns, rows);
}
