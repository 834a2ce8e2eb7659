//! `batchlab run`: one configuration -> summary on stdout, OUT/run.csv, OUT/run.json.

use std::path::PathBuf;
use std::time::Instant;

use batchlab::config::Load;
use batchlab::metrics::BinStats;
use batchlab::report::{human, metrics_table};
use batchlab::run::RunResult;
use batchlab::token::now;
use clap::Args;

use crate::error::CliResult;
use crate::options::{self, ModelArgs, RunPointArgs};
use crate::output::{print_table, say, secs, write_files, Align::*};
use crate::token_backend::{TokenBackend, TokenBackendArgs};

/// Mean output tokens of a synthetic request (BurstGPT's mean response, which the
/// generator is fitted to): the token pass's expected steps per request.
const SYNTHETIC_MEAN_OUTPUT_TOKENS: u64 = 123;

#[derive(Args, Debug)]
pub struct RunArgs {
    #[command(flatten)]
    pub point: RunPointArgs,

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
    args.point.apply(&mut config);
    // Check the options before reading a possibly large trace.
    options::validate(&config)?;
    let session = args.model.open_session_for(&config)?;
    // Look for a GPU (slow, once) before the clock starts: the wall time is the run's;
    // under `auto` only for a token pass worth it, judged by its output tokens.
    // Continuous batching times its tokens in its engine: no token pass, no GPU.
    let continuous = config.scheduler.is_continuous();
    if !continuous {
        let steps = match session.trace() {
            // The rows read are the run's (`open_session_for`); failed ones add 0.
            Some(t) => t.output_tokens.iter().map(|&o| u64::from(o)).sum(),
            None => config.requests as u64 * SYNTHETIC_MEAN_OUTPUT_TOKENS,
        };
        backend.prepare_for(steps)?;
    }
    let started = Instant::now();
    let clock = move || started.elapsed().as_secs_f64();
    let out = now(session.run(preset, &config, &clock, &mut backend))?;
    if out.result.config.requests < config.requests {
        say!("The source holds {} usable request(s); simulated all of them.", out.result.config.requests);
    }
    let token_pass = if continuous {
        "none: the iteration engine timed every token".to_string()
    } else {
        format!("{}, {}", backend.describe(), secs(out.token_pass.seconds))
    };
    print_summary(&out.result, &token_pass);
    let files = [("run.csv".to_string(), out.csv), ("run.json".to_string(), out.json)];
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
    if let Some(m) = r.iteration.as_ref().filter(|_| c.scheduler.is_continuous()) {
        let it = &c.iteration;
        let chunked = if it.chunked_prefill { "chunked prefill" } else { "whole prompts" };
        say!(
            "     continuous: router {}, at most {} sequences and {} tokens per iteration ({chunked}), KV blocks of {} tokens",
            it.router.name(),
            it.max_seqs,
            it.max_batched_tokens,
            it.block_tokens
        );
        let k = &m.cost;
        say!(
            "     iteration cost ({}): {} + {} per prefill token + {} per decoding sequence + {} per context token",
            m.source,
            secs(k.c0_s),
            secs(k.prefill_token_s),
            secs(k.decode_seq_s),
            secs(k.context_token_s)
        );
        say!("     SLO: TTFT within {}, 99% of gaps within {}", secs(it.ttft_slo_s), secs(it.tbt_slo_s));
    } else {
        say!(
            "     token model: {}, kappa {}, context ref {} tokens",
            c.token_semantics.name(),
            c.token_kappa,
            c.token_context_ref_tokens
        );
    }
    say!("     SLA limits: {} per token gap, {} per request", secs(c.d_sla_token_s), secs(c.d_sla_request_s));
    say!();
    // Every metric this run has, as the page shows it: the run's, the fit's, the wall time.
    let metrics = metrics_table::all().filter(|m| m.applies(r)).map(|m| vec![m.label.to_string(), m.human(r)]);
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
