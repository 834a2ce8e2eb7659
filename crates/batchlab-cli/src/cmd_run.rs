//! `batchlab run`: one configuration -> summary on stdout, OUT/run.csv, OUT/run.json.

use std::path::PathBuf;
use std::time::Instant;

use batchlab::config::{Config, Load, Preset, SchedulerKind};
use batchlab::run::RunResult;
use batchlab::session::Session;
use batchlab::token::now;
use clap::Args;

use crate::error::CliResult;
use crate::options::{self, ModelArgs};
use crate::output::{num, pct, print_pairs, print_table, say, secs, write_files};
use crate::token_backend::{TokenBackend, TokenBackendArgs};

fn paper() -> Config {
    Config::preset(Preset::Paper)
}

#[derive(Args, Debug)]
pub struct RunArgs {
    #[arg(long, value_name = "N", help_heading = "Run",
          help = format!("Number of requests: the first N of the source (a trace may hold fewer) [default: {}]", paper().requests))]
    pub requests: Option<usize>,

    #[arg(long, value_name = "NAME", value_parser = options::named::<SchedulerKind>(), help_heading = "Run",
          help = format!("Scheduler [default: {}]", paper().scheduler))]
    pub scheduler: Option<SchedulerKind>,

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
    set(&mut config.scheduler, args.scheduler);
    set(&mut config.requests, args.requests);
    set(&mut config.gpus, args.gpus);
    set(&mut config.k_bins, args.k);
    // Check the options before reading a possibly large trace.
    options::validate(&config)?;
    let session = Session::open(&args.model.inputs()?)?;
    for line in session.describe_inputs()? {
        say!("{line}");
    }
    // Look for a GPU (slow, once) before the clock starts: the wall time is the run's.
    backend.prepare()?;
    let started = Instant::now();
    let clock = move || started.elapsed().as_secs_f64();
    let out = now(session.run(preset, &config, &clock, &mut backend))?;
    if out.result.config.requests < config.requests {
        say!("The source holds {} usable request(s); simulated all of them.", out.result.config.requests);
    }
    print_summary(&out.result, &format!("{}, {}", backend.describe(), secs(out.token_pass.seconds)));
    let files = [("run.csv".to_string(), out.csv), ("run.json".to_string(), out.json)];
    for path in write_files(&args.out, &files)? {
        say!("Wrote {}", path.display());
    }
    Ok(())
}

fn set<T>(target: &mut T, value: Option<T>) {
    if let Some(v) = value {
        *target = v;
    }
}

/// A bin edge: whole tokens, or "inf" for the open end of the last bin.
fn edge(x: f64) -> String {
    if x.is_infinite() {
        "inf".into()
    } else {
        num(x, 0)
    }
}

/// `token_pass`: the backend that ran the token pass and how long it took.
fn print_summary(r: &RunResult, token_pass: &str) {
    let c = &r.config;
    let m = &r.metrics;
    let load = match c.load {
        Load::RpsScaling { factor } => format!("arrival times / {factor}"),
        Load::RealTimestamps => "real timestamps".into(),
    };
    let bins = if c.scheduler.uses_bins() { format!(", K = {}", c.k_bins) } else { String::new() };
    say!();
    say!("Run: {} requests of {} ({load}, seed {})", c.requests, r.workload, c.seed);
    say!("     {}, {} GPU(s){bins}; calibration {}", c.scheduler.name(), c.gpus, r.calibration);
    say!(
        "     fit: alpha {:.3} ms, beta {:.4} ms/token, gamma {:.4}, R^2 {:.4}",
        r.fit.alpha_s * 1e3,
        r.fit.beta_s * 1e3,
        r.fit.gamma,
        r.fit.r2
    );
    say!(
        "     token model: {}, kappa {}, context ref {} tokens",
        c.token_semantics.name(),
        c.token_kappa,
        c.token_context_ref_tokens
    );
    say!();
    let four = |a: f64, b: f64, c: f64, d: f64| format!("{} / {} / {} / {}", secs(a), secs(b), secs(c), secs(d));
    print_pairs(&[
        ("requests completed", m.requests_completed.to_string()),
        ("arrival rate", format!("{} req/s", num(m.arrival_rate_rps, 3))),
        ("makespan", secs(m.makespan_s)),
        ("throughput", format!("{} req/s, {} tokens/s", num(m.throughput_rps, 3), num(m.throughput_tokens_per_s, 1))),
        ("latency mean", secs(m.latency_mean_s)),
        ("latency p50 / p95 / p99 / max", four(m.latency_p50_s, m.latency_p95_s, m.latency_p99_s, m.latency_max_s)),
        ("queue delay mean", secs(m.queue_delay_mean_s)),
        ("service time mean", secs(m.service_time_mean_s)),
        ("TTFT p50 / p95 / p99 / max", four(m.ttft_p50_s, m.ttft_p95_s, m.ttft_p99_s, m.ttft_max_s)),
        ("TBT p50 / p95 / p99 / max", four(m.tbt_p50_s, m.tbt_p95_s, m.tbt_p99_s, m.tbt_max_s)),
        (
            "token SLA violations",
            format!(
                "{} of requests, {} of tokens (limit {}{})",
                pct(m.token_sla_violation_rate),
                pct(m.token_sla_violation_rate_tokens),
                secs(c.d_sla_token_s),
                if m.token_sla_can_bind { "" } else { "; cannot bind" }
            ),
        ),
        ("request SLA violations", format!("{} (limit {})", pct(m.request_sla_violation_rate), secs(c.d_sla_request_s))),
        ("goodput (capacity under SLA)", format!("{} req/s", num(m.capacity_under_sla_rps, 3))),
        (
            "GPU utilisation mean (min-max)",
            format!("{} ({} - {})", pct(m.gpu_util_mean), pct(m.gpu_util_min), pct(m.gpu_util_max)),
        ),
        (
            "batches, mean size (min-max)",
            format!("{}, {} ({} - {})", m.batch_count, num(m.batch_size_mean, 2), m.batch_size_min, m.batch_size_max),
        ),
        ("wall time", secs(r.wall_time_s)),
        ("token pass", token_pass.to_string()),
    ]);
    if c.scheduler.uses_bins() && !r.bins.is_empty() {
        say!();
        let mut rows = vec![["bin", "predicted length", "requests", "batches", "mean batch", "output tokens", "mean latency"]
            .map(String::from)
            .to_vec()];
        for b in &r.bins {
            rows.push(vec![
                b.bin.to_string(),
                format!("[{}, {})", edge(b.predicted_lo), edge(b.predicted_hi)),
                b.requests.to_string(),
                b.batches.to_string(),
                num(b.batch_size_mean, 2),
                format!("{}-{}", b.output_tokens_min, b.output_tokens_max),
                secs(b.latency_mean_s),
            ]);
        }
        print_table(&rows);
    }
    if !r.notes.is_empty() {
        say!();
        for n in &r.notes {
            say!("Note: {n}");
        }
    }
    say!();
}
