//! Options shared by `run` and `stress`: the preset, the workload source and every
//! constant of the model. Each is optional: a value not given comes from the preset,
//! and the help text shows the presets' values (read from the core, so it cannot drift).

use std::path::PathBuf;

use batchlab::config::{
    BinEdgeRule, BinPolicy, Completion, Config, IterationForm, Router, ControllerFeed, EventOrder, ControllerRules, LatencyMode, Load, MemoryRules, Named, Predictor, PredictorKind, Preset, SchedulerKind, Semantics, SlaSignal, Synthetic,
    SyntheticKind, DEFAULT_POISSON_RATE, DEFAULT_PREDICTOR_SIGMA,
};
use batchlab::session::{InputFile, Inputs, Session};
use batchlab::workload::RowLimit;
use clap::builder::{PossibleValue, PossibleValuesParser};
use clap::Args;

use crate::error::{read_file, CliResult};

/// `Config::validate`, which also bounds sizes (see `batchlab::config::MAX_REQUESTS`).
pub fn validate(c: &Config) -> CliResult<()> {
    Ok(c.validate()?)
}

/// The flag that sets each configuration field the core can name in an error
/// (`batchlab::config::FIELDS`): the only place the CLI's spellings meet the core's.
pub fn flag_of(field: &str) -> Option<&'static str> {
    Some(match field {
        "preset" => "--preset",
        "scheduler" => "--scheduler",
        "gpus" => "--gpus",
        "k_bins" => "--k",
        "bin_policy" => "--bin-policy",
        "bin_boundary_sample" => "--bin-sample",
        "bin_edge_rule" => "--bin-edge-rule",
        "event_order" => "--event-order",
        "b_static" => "--b-static",
        "b_fixed" => "--b-fixed",
        "b_min" => "--b-min",
        "b_max" => "--b-max",
        "memory.rules" => "--memory-rules",
        "memory.m_max_gb" => "--m-max-gb",
        "memory.m_model_gb" => "--m-model-gb",
        "memory.kv_per_token_gb" => "--kv-per-token-gb",
        "memory.margin_gb" => "--margin-gb",
        "memory.safety_fraction" => "--safety-fraction",
        "sla.rules" => "--sla-rules",
        "sla.signal" => "--sla-signal",
        "sla.d_s" => "--controller-target",
        "sla.eps_s" => "--sla-eps",
        "sla.ema_weight" => "--ema-weight",
        "sla.feed" => "--sla-feed",
        "d_sla_token_s" => "--d-sla-token",
        "d_sla_request_s" => "--d-sla-request",
        "completion" => "--completion",
        "latency_mode" => "--latency-mode",
        "calibration" => "--calibration",
        "predictor" => "--predictor",
        "predictor.sigma" => "--predictor-sigma",
        "keep_zero_output" => "--keep-zero-output",
        "load.factor" => "--rps-scaling",
        "synthetic" => "--synthetic",
        "synthetic.rate_rps" => "--poisson-rate",
        "requests" => "--requests",
        "seed" => "--seed",
        "timeseries_points" => "--timeseries-points",
        "token_semantics" => "--token-semantics",
        "token_kappa" => "--token-kappa",
        "token_context_ref_tokens" => "--token-context-ref",
        "iteration.router" => "--router",
        "iteration.form" => "--iteration-form",
        "iteration.block_tokens" => "--block-size",
        "iteration.max_seqs" => "--max-seqs",
        "iteration.max_batched_tokens" => "--max-batched-tokens",
        "iteration.chunked_prefill" => "--chunked-prefill",
        "iteration.watermark" => "--kv-watermark",
        "iteration.ttft_slo_s" => "--ttft-slo",
        "iteration.tbt_slo_s" => "--tbt-slo",
        "iteration.hardware.peak_tflops" => "--peak-tflops",
        "iteration.hardware.bandwidth_gb_s" => "--bandwidth-gb-s",
        "iteration.hardware.mfu" => "--mfu",
        "iteration.hardware.mbu" => "--mbu",
        "iteration.model.params_b" => "--params-b",
        "iteration.model.bytes_per_param" => "--bytes-per-param",
        "iteration_profile" => "--iteration-profile",
        "plan.steps" => "--step1-only/--step2-only/--step3-only",
        "plan.max_requests" => "--max-requests",
        "plan.max_gpus" => "--max-gpus",
        "plan.best_gpu_count" => "--best-gpu-count",
        "study.loads" => "--loads",
        "study.max_requests" => "--max-requests",
        "study.max_gpus" => "--max-gpus",
        "capacity.target" => "--target",
        "capacity.tolerance" => "--tolerance",
        "capacity.max_runs" => "--max-runs",
        _ => return None,
    })
}

/// A clap parser for a core enum: its values and their help come from the core, so the
/// CLI spells every value exactly as CSV, JSON and the page do.
pub fn named<T: Named + Send + Sync>() -> impl clap::builder::TypedValueParser<Value = T> {
    use clap::builder::TypedValueParser;
    PossibleValuesParser::new(T::ALL.iter().map(|v| PossibleValue::new(v.name()).help(v.describe())))
        .try_map(|s: String| T::parse(&s))
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

fn predictor_name(p: &Predictor) -> String {
    match p {
        Predictor::Prompt => "prompt".into(),
        Predictor::PromptNumpy => "prompt_numpy".into(),
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
    #[arg(long, visible_alias = "scheduler-preset", value_name = "NAME", value_parser = named::<Preset>(), default_value = "paper", help_heading = "Workload")]
    pub preset: Preset,

    /// Trace CSV to simulate (seed columns arrival_time,prompt_length,output_length,
    /// BurstGPT's native columns, or common spellings). Without it, the synthetic workload.
    #[arg(long, visible_alias = "dataset", value_name = "FILE", conflicts_with_all = ["synthetic", "poisson_rate"], help_heading = "Workload")]
    pub trace: Option<PathBuf>,

    /// Synthetic workload used when no --trace is given [default: burstgpt].
    #[arg(long, value_name = "KIND", value_parser = named::<SyntheticKind>(), help_heading = "Workload")]
    pub synthetic: Option<SyntheticKind>,

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

    #[arg(long, value_name = "KIND", value_parser = named::<PredictorKind>(), help_heading = "Workload",
          help = preset_help("Output-length predictor that assigns requests to bins", |c| predictor_name(&c.predictor)))]
    pub predictor: Option<PredictorKind>,

    #[arg(long, value_name = "SIGMA", allow_negative_numbers = true, help_heading = "Workload",
          help = format!("Log-normal sigma of --predictor noisy; 0 is an oracle (implies --predictor noisy) [default: {DEFAULT_PREDICTOR_SIGMA}]"))]
    pub predictor_sigma: Option<f64>,

    #[arg(long, value_name = "BOOL", help_heading = "Workload",
          help = preset_help("Whether a trace's rows with 0 output tokens (failed requests) are requests of the run, as the original keeps them", |c| c.keep_zero_output.to_string()))]
    pub keep_zero_output: Option<bool>,

    #[arg(long, value_name = "POLICY", value_parser = named::<BinPolicy>(), help_heading = "Scheduler",
          help = preset_help("Which non-empty bin an idle GPU serves next", |c| c.bin_policy.to_string()))]
    pub bin_policy: Option<BinPolicy>,

    #[arg(long, value_name = "N", help_heading = "Scheduler",
          help = preset_help("Number of first requests whose predictions set the bin edges", |c| c.bin_boundary_sample.to_string()))]
    pub bin_sample: Option<usize>,

    #[arg(long, value_name = "RULE", value_parser = named::<BinEdgeRule>(), help_heading = "Scheduler",
          help = preset_help("Bin edges: exact quantiles, or truncated with int() as the original (a prediction below the sample's smallest then goes to the last bin)", |c| c.bin_edge_rule.to_string()))]
    pub bin_edge_rule: Option<BinEdgeRule>,

    #[arg(long, value_name = "ORDER", value_parser = named::<EventOrder>(), help_heading = "Scheduler",
          help = preset_help("Events at one instant: by_instant (one step: completions, arrivals, then dispatch) or one_at_a_time (the original's heap order)", |c| c.event_order.to_string()))]
    pub event_order: Option<EventOrder>,

    #[arg(long, value_name = "RULES", value_parser = named::<MemoryRules>(), help_heading = "Memory",
          help = preset_help("How b_mem estimates tokens per request: arrived (mean over arrived requests), first (dd5f07f: averages of finished batches), final (f1be833: also at least the running requests, at most each bin's BIN_B_MAX)", |c| c.memory.rules.to_string()))]
    pub memory_rules: Option<MemoryRules>,

    #[arg(long, value_name = "BOOL", help_heading = "Memory",
          help = preset_help("Whether the memory check also cuts the fixed-size batches of static_fifo and multi_bin_fixed", |c| c.memory.check_fixed_batches.to_string()))]
    pub memory_check_fixed: Option<bool>,

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

    #[arg(long, value_name = "WHEN", value_parser = named::<Completion>(), help_heading = "Scheduler",
          help = preset_help("When a member of a batch counts as completed", |c| c.completion.to_string()))]
    pub completion: Option<Completion>,

    #[arg(long, value_name = "RULES", value_parser = named::<ControllerRules>(), help_heading = "SLA",
          help = preset_help("Interval rules of the SLA controller: first (dd5f07f) or final (f1be833, \"Algorithm 2\")", |c| c.sla.rules.to_string()))]
    pub sla_rules: Option<ControllerRules>,

    #[arg(long, value_name = "SIGNAL", value_parser = named::<SlaSignal>(), help_heading = "SLA",
          help = preset_help("What the SLA controller regulates: token_time against --d-sla-token, batch_latency against --d-sla-request", |c| c.sla.signal.to_string()))]
    pub sla_signal: Option<SlaSignal>,

    #[arg(long, value_name = "SECONDS", allow_negative_numbers = true, help_heading = "SLA",
          help = preset_help("Advanced: a target D for the SLA controller other than the SLA its signal is measured against, seconds", |c| match c.sla.d_s {
              Some(d) => d.to_string(),
              None => "the SLA".to_string(),
          }))]
    pub controller_target: Option<f64>,

    #[arg(long, value_name = "WHICH", value_parser = named::<ControllerFeed>(), help_heading = "SLA",
          help = preset_help("Batches the SLA controller learns from: all, or limited (only those the SLA or memory limited, not a short queue)", |c| c.sla.feed.to_string()))]
    pub sla_feed: Option<ControllerFeed>,

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

    #[arg(long, value_name = "MODE", value_parser = named::<LatencyMode>(), help_heading = "Latency model",
          help = preset_help("How a batch's service time comes from the grid", |c| c.latency_mode.to_string()))]
    pub latency_mode: Option<LatencyMode>,

    #[arg(long, value_name = "MODE", value_parser = named::<Semantics>(), help_heading = "Token model",
          help = preset_help("How the sequences of a batch step in the token pass", |c| c.token_semantics.to_string()))]
    pub token_semantics: Option<Semantics>,

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

    #[arg(long, value_name = "ROUTER", value_parser = named::<Router>(), help_heading = "Continuous batching",
          help = preset_help("Which GPU of its group an arriving request goes to", |c| c.iteration.router.to_string()))]
    pub router: Option<Router>,

    #[arg(long, value_name = "FORM", value_parser = named::<IterationForm>(), help_heading = "Continuous batching",
          help = preset_help("How an iteration's compute and memory times combine: sum (linear, as a profile is fitted) or max (overlapped, as a roofline)", |c| c.iteration.form.to_string()))]
    pub iteration_form: Option<IterationForm>,

    #[arg(long, value_name = "TOKENS", help_heading = "Continuous batching",
          help = "Split prompts into chunks that fill each iteration's budget of TOKENS after its decodes (Sarathi-style; sets --max-batched-tokens) [default: off: whole prompts]")]
    pub chunked_prefill: Option<u32>,

    #[arg(long, value_name = "TOKENS", help_heading = "Continuous batching",
          help = preset_help("Most tokens one iteration processes (a decode is one, a prefill its prompt or chunk); at least --max-seqs", |c| c.iteration.max_batched_tokens.to_string()))]
    pub max_batched_tokens: Option<u32>,

    #[arg(long, value_name = "N", help_heading = "Continuous batching",
          help = preset_help("Most sequences running on one GPU", |c| c.iteration.max_seqs.to_string()))]
    pub max_seqs: Option<u32>,

    #[arg(long, value_name = "TOKENS", help_heading = "Continuous batching",
          help = preset_help("Tokens per KV-cache block", |c| c.iteration.block_tokens.to_string()))]
    pub block_size: Option<u32>,

    #[arg(long, value_name = "FRACTION", allow_negative_numbers = true, help_heading = "Continuous batching",
          help = preset_help("Share of the KV blocks kept free when admitting a request, in [0, 0.5)", |c| c.iteration.watermark.to_string()))]
    pub kv_watermark: Option<f64>,

    #[arg(long, value_name = "SECONDS", allow_negative_numbers = true, help_heading = "Continuous batching",
          help = preset_help("SLO: time to first token at most this, seconds", |c| c.iteration.ttft_slo_s.to_string()))]
    pub ttft_slo: Option<f64>,

    #[arg(long, value_name = "SECONDS", allow_negative_numbers = true, help_heading = "Continuous batching",
          help = preset_help("SLO: at least 99% of a request's gaps between tokens at most this, seconds", |c| c.iteration.tbt_slo_s.to_string()))]
    pub tbt_slo: Option<f64>,

    /// Measured iteration profile CSV (prefill_tokens, decode_seqs, context_tokens,
    /// seconds); its least-squares fit prices each iteration instead of the roofline.
    #[arg(long, value_name = "FILE", help_heading = "Continuous batching")]
    pub iteration_profile: Option<PathBuf>,

    #[arg(long, value_name = "TFLOPS", allow_negative_numbers = true, help_heading = "Continuous batching",
          help = preset_help("Roofline: the GPU's dense 16-bit peak, TFLOP/s", |c| c.iteration.hardware.peak_tflops.to_string()))]
    pub peak_tflops: Option<f64>,

    #[arg(long, value_name = "GB_PER_S", allow_negative_numbers = true, help_heading = "Continuous batching",
          help = preset_help("Roofline: the GPU's memory bandwidth, GB/s", |c| c.iteration.hardware.bandwidth_gb_s.to_string()))]
    pub bandwidth_gb_s: Option<f64>,

    #[arg(long, value_name = "FRACTION", allow_negative_numbers = true, help_heading = "Continuous batching",
          help = preset_help("Roofline: model-FLOPs utilisation of prefill, in (0, 1]", |c| c.iteration.hardware.mfu.to_string()))]
    pub mfu: Option<f64>,

    #[arg(long, value_name = "FRACTION", allow_negative_numbers = true, help_heading = "Continuous batching",
          help = preset_help("Roofline: memory-bandwidth utilisation, in (0, 1]", |c| c.iteration.hardware.mbu.to_string()))]
    pub mbu: Option<f64>,

    #[arg(long, value_name = "BILLIONS", allow_negative_numbers = true, help_heading = "Continuous batching",
          help = preset_help("Roofline: the model's parameters, billions", |c| c.iteration.model.params_b.to_string()))]
    pub params_b: Option<f64>,

    #[arg(long, value_name = "BYTES", allow_negative_numbers = true, help_heading = "Continuous batching",
          help = preset_help("Roofline: bytes per parameter", |c| c.iteration.model.bytes_per_param.to_string()))]
    pub bytes_per_param: Option<f64>,
}

pub fn set<T>(target: &mut T, value: Option<T>) {
    if let Some(v) = value {
        *target = v;
    }
}

/// What one run is of: the options `run` and `timeline` share, over a preset.
#[derive(Args, Debug)]
pub struct RunPointArgs {
    #[arg(long, value_name = "N", help_heading = "Run",
          help = preset_help("Number of requests: the first N of the source (a trace may hold fewer)", |c| c.requests.to_string()))]
    pub requests: Option<usize>,

    #[arg(long, value_name = "NAME", value_parser = named::<SchedulerKind>(), help_heading = "Run",
          help = preset_help("Scheduler", |c| c.scheduler.to_string()))]
    pub scheduler: Option<SchedulerKind>,

    #[arg(long, value_name = "G", help_heading = "Run", help = preset_help("Number of GPUs", |c| c.gpus.to_string()))]
    pub gpus: Option<u32>,

    #[arg(long, value_name = "K", help_heading = "Run",
          help = preset_help("Number of bins of the multi-bin schedulers", |c| c.k_bins.to_string()))]
    pub k: Option<u32>,
}

impl RunPointArgs {
    /// `config` with the options given.
    pub fn apply(&self, config: &mut Config) {
        set(&mut config.scheduler, self.scheduler);
        set(&mut config.requests, self.requests);
        set(&mut config.gpus, self.gpus);
        set(&mut config.k_bins, self.k);
    }
}

impl ModelArgs {
    /// The preset's configuration with every option given applied (not yet validated:
    /// the command sets its own fields first).
    pub fn config(&self) -> CliResult<(Preset, Config)> {
        let preset = self.preset;
        let mut c = Config::preset(preset);
        c.synthetic = match (self.synthetic, self.poisson_rate) {
            (None, None) => c.synthetic,
            (kind, rate) => Synthetic::of_kind(kind.unwrap_or(SyntheticKind::Poisson), rate)?,
        };
        if self.real_timestamps {
            c.load = Load::RealTimestamps;
        } else if let Some(factor) = self.rps_scaling {
            c.load = Load::RpsScaling { factor };
        }
        set(&mut c.seed, self.seed);
        c.predictor = match (self.predictor, self.predictor_sigma) {
            (None, None) => c.predictor,
            (kind, sigma) => Predictor::of_kind(kind.unwrap_or(PredictorKind::Noisy), sigma)?,
        };
        set(&mut c.keep_zero_output, self.keep_zero_output);
        set(&mut c.bin_policy, self.bin_policy);
        set(&mut c.bin_boundary_sample, self.bin_sample);
        set(&mut c.bin_edge_rule, self.bin_edge_rule);
        set(&mut c.event_order, self.event_order);
        set(&mut c.memory.check_fixed_batches, self.memory_check_fixed);
        set(&mut c.memory.rules, self.memory_rules);
        set(&mut c.b_static, self.b_static);
        set(&mut c.b_fixed, self.b_fixed);
        set(&mut c.b_min, self.b_min);
        set(&mut c.b_max, self.b_max);
        set(&mut c.completion, self.completion);
        set(&mut c.sla.rules, self.sla_rules);
        set(&mut c.sla.signal, self.sla_signal);
        if self.controller_target.is_some() {
            c.sla.d_s = self.controller_target;
        }
        set(&mut c.sla.feed, self.sla_feed);
        set(&mut c.sla.eps_s, self.sla_eps);
        set(&mut c.sla.ema_weight, self.ema_weight);
        set(&mut c.d_sla_token_s, self.d_sla_token);
        set(&mut c.d_sla_request_s, self.d_sla_request);
        set(&mut c.latency_mode, self.latency_mode);
        set(&mut c.token_semantics, self.token_semantics);
        set(&mut c.token_kappa, self.token_kappa);
        set(&mut c.token_context_ref_tokens, self.token_context_ref);
        set(&mut c.memory.m_max_gb, self.m_max_gb);
        set(&mut c.memory.m_model_gb, self.m_model_gb);
        set(&mut c.memory.kv_per_token_gb, self.kv_per_token_gb);
        set(&mut c.memory.margin_gb, self.margin_gb);
        set(&mut c.memory.safety_fraction, self.safety_fraction);
        set(&mut c.timeseries_points, self.timeseries_points);
        let it = &mut c.iteration;
        set(&mut it.router, self.router);
        set(&mut it.form, self.iteration_form);
        if let Some(tokens) = self.chunked_prefill {
            it.chunked_prefill = true;
            it.max_batched_tokens = tokens;
        }
        set(&mut it.max_batched_tokens, self.max_batched_tokens);
        set(&mut it.max_seqs, self.max_seqs);
        set(&mut it.block_tokens, self.block_size);
        set(&mut it.watermark, self.kv_watermark);
        set(&mut it.ttft_slo_s, self.ttft_slo);
        set(&mut it.tbt_slo_s, self.tbt_slo);
        set(&mut it.hardware.peak_tflops, self.peak_tflops);
        set(&mut it.hardware.bandwidth_gb_s, self.bandwidth_gb_s);
        set(&mut it.hardware.mfu, self.mfu);
        set(&mut it.hardware.mbu, self.mbu);
        set(&mut it.model.params_b, self.params_b);
        set(&mut it.model.bytes_per_param, self.bytes_per_param);
        Ok((preset, c))
    }

    /// The files given but the trace, read into memory for the core's session (the
    /// trace is streamed: `trace_file`).
    fn read_inputs(&self) -> CliResult<Inputs> {
        let read = |path: &Option<PathBuf>| -> CliResult<Option<InputFile>> {
            match path {
                Some(p) => Ok(Some(InputFile { name: p.display().to_string(), bytes: read_file(p)? })),
                None => Ok(None),
            }
        };
        Ok(Inputs { trace: None, calibration: read(&self.calibration)?, iteration_profile: read(&self.iteration_profile)? })
    }

    /// Read and parse the files given, and say what they hold.
    pub fn open_session(&self) -> CliResult<Session> {
        self.open_session_with(None)
    }

    /// As `open_session` for a job of at most `config.requests` requests on one workload
    /// (run, compare): the trace is read only up to the rows that make them.
    pub fn open_session_for(&self, config: &batchlab::config::Config) -> CliResult<Session> {
        self.open_session_with(Some(RowLimit { usable: config.requests, keep_zero_output: config.keep_zero_output }))
    }

    fn open_session_with(&self, limit: Option<RowLimit>) -> CliResult<Session> {
        let inputs = self.read_inputs()?;
        let session = match &self.trace {
            Some(path) => crate::trace_file::open(path, &inputs, limit)?,
            None => Session::open(&inputs)?,
        };
        for line in session.describe_inputs()? {
            crate::output::say!("{line}");
        }
        Ok(session)
    }
}
