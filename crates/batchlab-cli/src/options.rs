//! Options shared by `run` and `stress`: the preset, the workload source and every
//! constant of the model. Each is optional: a value not given comes from the preset,
//! and the help text shows the presets' values (read from the core, so it cannot drift).

use std::path::PathBuf;

use batchlab::config::{BinPolicy, Completion, Config, LatencyMode, Load, Predictor, Preset, SlaSignal, Synthetic};
use batchlab::latency::CalibrationGrid;
use batchlab::token::Semantics;
use batchlab::workload::{parse_trace, TraceData};
use clap::{Args, ValueEnum};

use crate::error::{read_file, CliError, CliResult};
use crate::output::say;

/// Rate of `--synthetic poisson` when `--poisson-rate` is not given: BurstGPT's average
/// (~0.27 req/s over its 61 days), so the default load scaling gives the usual ~54 req/s.
pub const DEFAULT_POISSON_RATE: f64 = 0.27;
/// Sigma of `--predictor noisy` when `--predictor-sigma` is not given (the web app's too).
pub const DEFAULT_PREDICTOR_SIGMA: f64 = 0.5;

/// `Config::validate`, which also bounds sizes (see `batchlab::config::MAX_REQUESTS`).
pub fn validate(c: &Config) -> CliResult<()> {
    Ok(c.validate()?)
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyntheticArg {
    /// Gamma (bursty) arrivals, heavy-tailed token counts fitted to BurstGPT.
    #[value(name = "burstgpt")]
    BurstGpt,
    /// Exponential inter-arrivals at --poisson-rate, same token counts.
    #[value(name = "poisson")]
    Poisson,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
#[value(rename_all = "snake_case")]
pub enum PredictorArg {
    /// From the prompt length only: clamp(floor(1.5 prompt^0.7 LogNormal(0, 0.1)), 1, 4096).
    Prompt,
    /// The true output length times LogNormal(0, --predictor-sigma).
    Noisy,
    /// The true output length.
    Oracle,
    /// The trace's predicted_output_tokens column.
    Trace,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
#[value(rename_all = "snake_case")]
pub enum BinPolicyArg {
    RoundRobin,
    LongestQueue,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
#[value(rename_all = "snake_case")]
pub enum CompletionArg {
    /// Every member of a batch completes when the batch does.
    BatchEnd,
    /// A member completes after its own last token.
    OwnFinish,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
#[value(rename_all = "snake_case")]
pub enum LatencyModeArg {
    /// T(b, L) = alpha + beta L (1 + gamma (b - 1) / b), least-squares fit to the grid.
    Fit,
    /// Bilinear interpolation in the grid itself.
    Grid,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
#[value(rename_all = "snake_case")]
pub enum SlaSignalArg {
    /// The batch's decode time per token, beta h(b).
    TokenTime,
    /// The batch's whole service time T(b, L).
    BatchLatency,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
#[value(rename_all = "snake_case")]
pub enum TokenSemanticsArg {
    /// Every sequence of a batch steps until the longest finishes (static batching; the
    /// batch's time equals the latency model's T(b, L)).
    Padded,
    /// Finished sequences leave the batch; later steps get cheaper.
    EarlyExit,
}

/// "TEXT [default: V]" when every preset agrees, else each preset's value.
fn preset_help(text: &str, value: impl Fn(&Config) -> String) -> String {
    let paper = value(&Config::preset(Preset::Paper));
    let first = value(&Config::preset(Preset::FirstResults));
    let compat = value(&Config::preset(Preset::Compat));
    if paper == first && first == compat {
        format!("{text} [default: {paper}]")
    } else if first == compat {
        format!("{text} [default: {paper} (paper), {first} (first-results, compat)]")
    } else {
        format!("{text} [default: {paper} (paper), {first} (first-results), {compat} (compat)]")
    }
}

fn lower_debug(v: impl std::fmt::Debug) -> String {
    // BinPolicy::RoundRobin -> "round_robin" (the CLI spelling).
    let s = format!("{v:?}");
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if ch.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(ch.to_ascii_lowercase());
    }
    out
}

fn predictor_name(p: &Predictor) -> String {
    match p {
        Predictor::Prompt => "prompt".into(),
        Predictor::Noisy { sigma } => format!("noisy (sigma {sigma})"),
        Predictor::Oracle => "oracle".into(),
        Predictor::Trace => "trace".into(),
    }
}

fn load_name(l: &Load) -> String {
    match l {
        Load::RpsScaling { factor } => format!("{factor}"),
        Load::RealTimestamps => "none (real timestamps)".into(),
    }
}

#[derive(Args, Debug)]
pub struct ModelArgs {
    /// Named set of defaults: paper (measured RTX 4080 grid, per-token SLA 10 ms),
    /// first-results (the first synthetic grid, batch-latency SLA 1.0 s), compat
    /// (first-results plus the original code's quirks). Options given explicitly
    /// override the preset's values.
    #[arg(long, visible_alias = "scheduler-preset", value_name = "NAME", default_value = "paper", help_heading = "Workload")]
    pub preset: String,

    /// Trace CSV to simulate (seed columns arrival_time,prompt_length,output_length,
    /// BurstGPT's native columns, or common spellings). Without it, the synthetic workload.
    #[arg(long, visible_alias = "dataset", value_name = "FILE", conflicts_with_all = ["synthetic", "poisson_rate"], help_heading = "Workload")]
    pub trace: Option<PathBuf>,

    /// Synthetic workload used when no --trace is given [default: burstgpt].
    #[arg(long, value_enum, value_name = "KIND", help_heading = "Workload")]
    pub synthetic: Option<SyntheticArg>,

    #[arg(long, value_name = "REQ_PER_S", allow_negative_numbers = true, help_heading = "Workload",
          help = format!("Arrival rate of --synthetic poisson, requests per second before load scaling (implies --synthetic poisson) [default: {DEFAULT_POISSON_RATE}]"))]
    pub poisson_rate: Option<f64>,

    #[arg(long, value_name = "FACTOR", allow_negative_numbers = true, conflicts_with = "real_timestamps", help_heading = "Workload",
          help = preset_help("Divide every arrival time by FACTOR (raises the request rate FACTOR times)", |c| load_name(&c.load)))]
    pub rps_scaling: Option<f64>,

    /// Keep the source's arrival times as they are (no load scaling).
    #[arg(long, visible_alias = "use-real-timestamps", help_heading = "Workload")]
    pub real_timestamps: bool,

    #[arg(long, value_name = "S", help_heading = "Workload",
          help = preset_help("Seed of the run's one random generator (synthetic workload, predictor)", |c| c.seed.to_string()))]
    pub seed: Option<u64>,

    #[arg(long, value_enum, value_name = "KIND", help_heading = "Workload",
          help = preset_help("Output-length predictor that assigns requests to bins", |c| predictor_name(&c.predictor)))]
    pub predictor: Option<PredictorArg>,

    #[arg(long, value_name = "SIGMA", allow_negative_numbers = true, help_heading = "Workload",
          help = format!("Log-normal sigma of --predictor noisy; 0 is an oracle (implies --predictor noisy) [default: {DEFAULT_PREDICTOR_SIGMA}]"))]
    pub predictor_sigma: Option<f64>,

    #[arg(long, value_enum, value_name = "POLICY", help_heading = "Scheduler",
          help = preset_help("Which non-empty bin an idle GPU serves next", |c| lower_debug(c.bin_policy)))]
    pub bin_policy: Option<BinPolicyArg>,

    #[arg(long, value_name = "N", help_heading = "Scheduler",
          help = preset_help("Number of first requests whose predictions set the bin edges", |c| c.bin_boundary_sample.to_string()))]
    pub bin_sample: Option<usize>,

    #[arg(long, value_name = "B", help_heading = "Scheduler",
          help = preset_help("Batch size of static_fifo", |c| c.b_static.to_string()))]
    pub b_static: Option<u32>,

    #[arg(long, value_name = "B", help_heading = "Scheduler",
          help = preset_help("Batch size of multi_bin_fixed", |c| c.b_fixed.to_string()))]
    pub b_fixed: Option<u32>,

    #[arg(long, value_name = "B", help_heading = "Scheduler",
          help = preset_help("Smallest batch the dynamic schedulers form", |c| c.b_min.to_string()))]
    pub b_min: Option<u32>,

    #[arg(long, value_name = "B", help_heading = "Scheduler",
          help = preset_help("Largest batch the dynamic schedulers form", |c| c.b_max.to_string()))]
    pub b_max: Option<u32>,

    #[arg(long, value_enum, value_name = "WHEN", help_heading = "Scheduler",
          help = preset_help("When a member of a batch counts as completed", |c| lower_debug(c.completion)))]
    pub completion: Option<CompletionArg>,

    #[arg(long, value_enum, value_name = "SIGNAL", help_heading = "SLA",
          help = preset_help("What the SLA controller regulates against --d-sla", |c| lower_debug(c.sla.signal)))]
    pub sla_signal: Option<SlaSignalArg>,

    #[arg(long, value_name = "SECONDS", allow_negative_numbers = true, help_heading = "SLA",
          help = preset_help("Target D of the SLA controller, seconds", |c| c.sla.d_s.to_string()))]
    pub d_sla: Option<f64>,

    #[arg(long, value_name = "SECONDS", allow_negative_numbers = true, help_heading = "SLA",
          help = preset_help("Tolerance eps of the SLA controller, seconds", |c| c.sla.eps_s.to_string()))]
    pub sla_eps: Option<f64>,

    #[arg(long, value_name = "W", allow_negative_numbers = true, help_heading = "SLA",
          help = preset_help("Weight of the newest batch in the controller's moving averages, in (0, 1]", |c| c.sla.ema_weight.to_string()))]
    pub ema_weight: Option<f64>,

    #[arg(long, value_name = "SECONDS", allow_negative_numbers = true, help_heading = "SLA",
          help = preset_help("Per-token SLA: a request violates it when its time between tokens exceeds this, seconds", |c| c.d_sla_token_s.to_string()))]
    pub d_sla_token: Option<f64>,

    #[arg(long, value_name = "SECONDS", allow_negative_numbers = true, help_heading = "SLA",
          help = preset_help("Per-request SLA: end-to-end latency limit, seconds", |c| c.d_sla_request_s.to_string()))]
    pub d_sla_request: Option<f64>,

    /// Calibration grid CSV (batch_size, max_seq_len, mean_latency_sec) [default: the
    /// preset's built-in grid: measured RTX 4080 (paper), synthetic first grid (others)].
    #[arg(long, value_name = "FILE", help_heading = "Latency model")]
    pub calibration: Option<PathBuf>,

    #[arg(long, value_enum, value_name = "MODE", help_heading = "Latency model",
          help = preset_help("How a batch's service time comes from the grid", |c| lower_debug(c.latency_mode)))]
    pub latency_mode: Option<LatencyModeArg>,

    #[arg(long, value_enum, value_name = "MODE", help_heading = "Token model",
          help = preset_help("How the sequences of a batch step in the token pass", |c| c.token_semantics.name().to_string()))]
    pub token_semantics: Option<TokenSemanticsArg>,

    #[arg(long, value_name = "KAPPA", allow_negative_numbers = true, help_heading = "Token model",
          help = preset_help("Context cost of a decode step: it takes (1 + KAPPA c / --token-context-ref) times longer at context length c; 0 = none", |c| c.token_kappa.to_string()))]
    pub token_kappa: Option<f64>,

    #[arg(long, value_name = "TOKENS", allow_negative_numbers = true, help_heading = "Token model",
          help = preset_help("Context length at which a step costs (1 + KAPPA) times the context-free step", |c| c.token_context_ref_tokens.to_string()))]
    pub token_context_ref: Option<f64>,

    #[arg(long, value_name = "GB", allow_negative_numbers = true, help_heading = "Memory",
          help = preset_help("GPU memory, GB", |c| c.memory.m_max_gb.to_string()))]
    pub m_max_gb: Option<f64>,

    #[arg(long, value_name = "GB", allow_negative_numbers = true, help_heading = "Memory",
          help = preset_help("Memory the model's weights take, GB", |c| c.memory.m_model_gb.to_string()))]
    pub m_model_gb: Option<f64>,

    #[arg(long, value_name = "GB", allow_negative_numbers = true, help_heading = "Memory",
          help = preset_help("KV-cache memory per token, GB", |c| c.memory.kv_per_token_gb.to_string()))]
    pub kv_per_token_gb: Option<f64>,

    #[arg(long, value_name = "GB", allow_negative_numbers = true, help_heading = "Memory",
          help = preset_help("Memory kept free besides model and KV cache, GB", |c| c.memory.margin_gb.to_string()))]
    pub margin_gb: Option<f64>,

    #[arg(long, value_name = "FRACTION", allow_negative_numbers = true, help_heading = "Memory",
          help = preset_help("Fraction of the KV capacity the batch-size cap keeps free, in [0, 1)", |c| c.memory.safety_fraction.to_string()))]
    pub safety_fraction: Option<f64>,

    #[arg(long, value_name = "N", help_heading = "Output",
          help = preset_help("Most points of the sampled time series in run.json", |c| c.timeseries_points.to_string()))]
    pub timeseries_points: Option<usize>,
}

fn set<T>(target: &mut T, value: Option<T>) {
    if let Some(v) = value {
        *target = v;
    }
}

impl ModelArgs {
    /// The preset's configuration with every option given applied (not yet validated:
    /// the command sets its own fields first).
    pub fn config(&self) -> CliResult<(Preset, Config)> {
        let preset = Preset::parse(&self.preset)?;
        let mut c = Config::preset(preset);

        c.synthetic = match (self.synthetic, self.poisson_rate) {
            (Some(SyntheticArg::Poisson), rate) | (None, rate @ Some(_)) => {
                Synthetic::Poisson { rate_rps: rate.unwrap_or(DEFAULT_POISSON_RATE) }
            }
            (Some(SyntheticArg::BurstGpt), Some(_)) => {
                return Err(CliError::option("--poisson-rate", "applies only to --synthetic poisson"))
            }
            (Some(SyntheticArg::BurstGpt), None) => Synthetic::BurstGpt,
            (None, None) => c.synthetic,
        };
        if self.real_timestamps {
            c.load = Load::RealTimestamps;
        } else if let Some(factor) = self.rps_scaling {
            c.load = Load::RpsScaling { factor };
        }
        set(&mut c.seed, self.seed);
        c.predictor = match (self.predictor, self.predictor_sigma) {
            (Some(PredictorArg::Noisy), sigma) | (None, sigma @ Some(_)) => {
                Predictor::Noisy { sigma: sigma.unwrap_or(DEFAULT_PREDICTOR_SIGMA) }
            }
            (Some(_), Some(_)) => return Err(CliError::option("--predictor-sigma", "applies only to --predictor noisy")),
            (Some(PredictorArg::Prompt), None) => Predictor::Prompt,
            (Some(PredictorArg::Oracle), None) => Predictor::Oracle,
            (Some(PredictorArg::Trace), None) => Predictor::Trace,
            (None, None) => c.predictor,
        };
        if let Some(p) = self.bin_policy {
            c.bin_policy = match p {
                BinPolicyArg::RoundRobin => BinPolicy::RoundRobin,
                BinPolicyArg::LongestQueue => BinPolicy::LongestQueue,
            };
        }
        set(&mut c.bin_boundary_sample, self.bin_sample);
        set(&mut c.b_static, self.b_static);
        set(&mut c.b_fixed, self.b_fixed);
        set(&mut c.b_min, self.b_min);
        set(&mut c.b_max, self.b_max);
        if let Some(w) = self.completion {
            c.completion = match w {
                CompletionArg::BatchEnd => Completion::BatchEnd,
                CompletionArg::OwnFinish => Completion::OwnFinish,
            };
        }
        if let Some(s) = self.sla_signal {
            c.sla.signal = match s {
                SlaSignalArg::TokenTime => SlaSignal::TokenTime,
                SlaSignalArg::BatchLatency => SlaSignal::BatchLatency,
            };
        }
        set(&mut c.sla.d_s, self.d_sla);
        set(&mut c.sla.eps_s, self.sla_eps);
        set(&mut c.sla.ema_weight, self.ema_weight);
        set(&mut c.d_sla_token_s, self.d_sla_token);
        set(&mut c.d_sla_request_s, self.d_sla_request);
        if let Some(m) = self.latency_mode {
            c.latency_mode = match m {
                LatencyModeArg::Fit => LatencyMode::Fit,
                LatencyModeArg::Grid => LatencyMode::Grid,
            };
        }
        if let Some(s) = self.token_semantics {
            c.token_semantics = match s {
                TokenSemanticsArg::Padded => Semantics::Padded,
                TokenSemanticsArg::EarlyExit => Semantics::EarlyExit,
            };
        }
        set(&mut c.token_kappa, self.token_kappa);
        set(&mut c.token_context_ref_tokens, self.token_context_ref);
        set(&mut c.memory.m_max_gb, self.m_max_gb);
        set(&mut c.memory.m_model_gb, self.m_model_gb);
        set(&mut c.memory.kv_per_token_gb, self.kv_per_token_gb);
        set(&mut c.memory.margin_gb, self.margin_gb);
        set(&mut c.memory.safety_fraction, self.safety_fraction);
        set(&mut c.timeseries_points, self.timeseries_points);
        Ok((preset, c))
    }

    /// The calibration grid: the file given (parsed and checked), else the preset's.
    pub fn calibration(&self, preset: Preset) -> CliResult<CalibrationGrid> {
        match &self.calibration {
            Some(path) => Ok(CalibrationGrid::parse_csv(&read_file(path)?, &path.display().to_string())?),
            None => Ok(preset.calibration()),
        }
    }

    /// The trace, if one was given.
    pub fn trace(&self) -> CliResult<Option<TraceData>> {
        match &self.trace {
            Some(path) => Ok(Some(parse_trace(&read_file(path)?, &path.display().to_string())?)),
            None => Ok(None),
        }
    }
}

/// Print what the trace import did: rows loaded, columns used, rows skipped and why.
pub fn print_import_report(t: &TraceData) {
    let r = &t.report;
    say!("Loaded {} request(s) from {} ({} data row(s) read).", r.rows_loaded, t.file, r.rows_read);
    if !r.columns.is_empty() {
        say!("  columns: {}", r.columns);
    }
    let skipped: usize = r.skipped.iter().map(|s| s.count).sum();
    if skipped == 0 {
        say!("  skipped 0 rows.");
    }
    for s in &r.skipped {
        say!("  skipped {} row(s): {} (first at row {}).", s.count, s.reason, s.first_row);
    }
}
