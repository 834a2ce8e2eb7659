//! Configuration of one simulation run, its presets, and validation.
//!
//! Every constant of the model is a field here. The presets reproduce published sets of
//! results; `Config::validate` turns any out-of-range value into an `Error::Field` naming
//! the field (see `FIELDS`), never a shell's spelling of it.
//!
//! The ground floor of the core: it imports nothing of the core but `error`.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

mod controller;
mod iteration;
mod named;
mod scheduling;
mod workload;
pub use controller::{ControllerFeed, ControllerRules, SlaControllerConfig, SlaSignal};
pub use iteration::{Hardware, IterationConfig, IterationCost, IterationForm, IterationModel, ModelShape, Router};
pub use scheduling::{BinEdgeRule, BinPolicy, Completion, EventOrder, SchedulerKind};
pub use workload::{Load, Predictor, PredictorKind, Synthetic, SyntheticKind, DEFAULT_POISSON_RATE, DEFAULT_PREDICTOR_SIGMA, NUMPY_MAX_SEED};
pub(crate) use named::named_enum;
pub use named::Named;

named_enum! {
    /// How the service time of a batch is computed from the calibration grid.
    pub enum LatencyMode for "latency_mode" {
        /// T(b, L) = alpha + beta L (1 + gamma (b - 1) / b), least-squares fit to the grid.
        Fit = "fit",
        /// Bilinear interpolation in the grid itself (linear extrapolation past its edges).
        Grid = "grid",
    }
}

named_enum! {
    /// How the sequences of a batch step in the token pass (see `token`).
    pub enum Semantics for "token_semantics" {
        /// Every sequence steps until the longest finishes (static batching; the batch takes T(b, L)).
        Padded = "padded",
        /// Finished sequences leave the batch; later steps get cheaper.
        EarlyExit = "early_exit",
    }
}

// By hand: `named_enum!` declares the enum, so `#[default]` cannot mark a variant.
#[allow(clippy::derivable_impls)]
impl Default for Semantics {
    fn default() -> Self {
        Semantics::Padded
    }
}

/// Default context length at which a decode step costs `1 + kappa` times the context-free
/// step (the token model's `context_ref_tokens`).
pub const DEFAULT_CONTEXT_REF_TOKENS: f64 = 1024.0;

named_enum! {
    /// How the memory cap b_mem estimates a request's tokens, and what else bounds it.
    pub enum MemoryRules for "memory.rules" {
        /// The running mean of (prompt + output) over the requests that have arrived in the scope.
        Arrived = "arrived",
        /// The first version: moving averages (weight 0.2) of each finished batch's mean prompt and output, from 300 and 200 tokens.
        First = "first",
        /// The final version: the first version's averages; b_mem at least the requests running on the GPUs; each bin capped at its BIN_B_MAX (from the bin's edges and the memory), which also bounds the bin's controller.
        Final = "final",
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemoryConfig {
    pub rules: MemoryRules,
    pub m_max_gb: f64,
    pub m_model_gb: f64,
    pub kv_per_token_gb: f64,
    pub margin_gb: f64,
    /// Fraction of the KV capacity kept free by the batch-size cap (L0 = this * eta).
    pub safety_fraction: f64,
    /// Whether the memory check also cuts the fixed-size batches of `static_fifo` and
    /// `multi_bin_fixed` (it is the GPU's memory); the original checks only the
    /// batches it sizes dynamically.
    pub check_fixed_batches: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Config {
    pub scheduler: SchedulerKind,
    pub gpus: u32,
    pub k_bins: u32,
    pub bin_policy: BinPolicy,
    /// Requests whose predictions set the bin boundaries (first N of the run).
    pub bin_boundary_sample: usize,
    pub bin_edge_rule: BinEdgeRule,
    pub b_static: u32,
    pub b_fixed: u32,
    pub b_min: u32,
    pub b_max: u32,
    pub memory: MemoryConfig,
    pub sla: SlaControllerConfig,
    /// Per-token SLA: a request violates it when its decode time between tokens exceeds this.
    pub d_sla_token_s: f64,
    /// Per-request SLA: end-to-end latency limit.
    pub d_sla_request_s: f64,
    pub completion: Completion,
    pub event_order: EventOrder,
    pub latency_mode: LatencyMode,
    pub predictor: Predictor,
    /// Whether a trace's rows with 0 output tokens (failed requests) are requests of the
    /// run, as the original keeps them (they take part in batches and in the predictor's
    /// stream), or are left out. Traces only: synthetic requests have at least one token.
    pub keep_zero_output: bool,
    pub load: Load,
    pub synthetic: Synthetic,
    pub requests: usize,
    pub seed: u64,
    /// Upper bound on the number of points of the sampled time series.
    pub timeseries_points: usize,
    /// Token-level model (see `token`): batch semantics and context cost. Its alpha and
    /// gamma come from the latency fit, so the defaults reproduce `T(b, L)`.
    pub token_semantics: Semantics,
    pub token_kappa: f64,
    pub token_context_ref_tokens: f64,
    /// Continuous batching (`continuous`, `multi_bin_continuous`): router, KV cache,
    /// limits, SLO, and the roofline's hardware and model.
    pub iteration: IterationConfig,
}

/// Every field an `Error::Field` from the core can name: each shell maps all of them to
/// its own words (a test in each shell checks that none is missing). `plan.*` are the
/// fields of `PlanSpec`; `calibration` is the latency grid and its fit.
pub const FIELDS: &[&str] = &[
    "preset",
    "scheduler",
    "gpus",
    "k_bins",
    "bin_policy",
    "bin_boundary_sample",
    "bin_edge_rule",
    "b_static",
    "b_fixed",
    "b_min",
    "b_max",
    "memory.rules",
    "memory.m_max_gb",
    "memory.m_model_gb",
    "memory.kv_per_token_gb",
    "memory.margin_gb",
    "memory.safety_fraction",
    "sla.rules",
    "sla.signal",
    "sla.d_s",
    "sla.eps_s",
    "sla.ema_weight",
    "sla.feed",
    "d_sla_token_s",
    "d_sla_request_s",
    "completion",
    "event_order",
    "latency_mode",
    "calibration",
    "predictor",
    "predictor.sigma",
    "keep_zero_output",
    "load.factor",
    "synthetic",
    "synthetic.rate_rps",
    "requests",
    "seed",
    "timeseries_points",
    "token_semantics",
    "token_kappa",
    "token_context_ref_tokens",
    "iteration.router",
    "iteration.form",
    "iteration.block_tokens",
    "iteration.max_seqs",
    "iteration.max_batched_tokens",
    "iteration.chunked_prefill",
    "iteration.watermark",
    "iteration.ttft_slo_s",
    "iteration.tbt_slo_s",
    "iteration.hardware.peak_tflops",
    "iteration.hardware.bandwidth_gb_s",
    "iteration.hardware.mfu",
    "iteration.hardware.mbu",
    "iteration.model.params_b",
    "iteration.model.bytes_per_param",
    "iteration_profile",
    "plan.steps",
    "plan.max_requests",
    "plan.max_gpus",
    "plan.best_gpu_count",
    "study.loads",
    "study.max_requests",
    "study.max_gpus",
    "capacity.target",
    "capacity.tolerance",
    "capacity.max_runs",
];

/// Upper bounds checked before the core allocates its per-request, per-GPU, per-bin and
/// time-series arrays: past them a slip of the keyboard (a few extra zeros) would exhaust
/// memory and abort instead of giving an error. Each is far above any meaningful
/// experiment (the stress plan's largest values are 1M requests, 100 GPUs, K = 32).
pub const MAX_REQUESTS: usize = 100_000_000;
pub const MAX_GPUS: u32 = 10_000;
pub const MAX_K: u32 = 100_000;
pub const MAX_TIMESERIES_POINTS: usize = 1_000_000;
/// Tokens of KV cache one GPU may hold (an H100 holds ~4e5).
pub const MAX_KV_TOKENS: f64 = 1e12;

/// Error unless `v` is a finite number above 0, naming the field.
fn positive(field: &str, v: f64) -> Result<()> {
    if v.is_finite() && v > 0.0 {
        Ok(())
    } else {
        Err(Error::field(field, format!("must be a positive number (got {v})")))
    }
}

/// Error unless `value <= max`, naming the field.
pub fn at_most(field: &str, value: u64, max: u64) -> Result<()> {
    if value <= max {
        Ok(())
    } else {
        Err(Error::field(field, format!("must be at most {max} (got {value})")))
    }
}

named_enum! {
    /// Named sets of defaults.
    pub enum Preset for "preset" {
        /// The final version (f1be833): measured RTX 4080 grid, per-token SLA 10 ms with its controller ("Algorithm 2", eps 1 ms), request SLA 20 s, memory of Qwen3-1.7B.
        Paper = "paper",
        /// The first results' constants (dd5f07f: synthetic grid, batch-latency SLA and deadline 1.0 s, eps 0.1 s, M_model 2 GB) with the original's quirks fixed.
        FirstResults = "first-results",
        /// The first version as its stress test ran it, quirks included (controller state, plan bins from the first 1,000 requests).
        Compat = "compat",
        /// Continuous batching of Llama-3.1-8B (BF16) on one H100 SXM (datasheet roofline), chunked prefill of 8,192 tokens, Poisson arrivals at 50 req/s: the setting of the side-by-side with inference-lab.
        H100Llama = "h100-llama3.1-8b",
    }
}

impl Default for Config {
    fn default() -> Self {
        Config::preset(Preset::Paper)
    }
}

impl Config {
    pub fn preset(preset: Preset) -> Self {
        let paper = Config {
            scheduler: SchedulerKind::MultiBinDynamic,
            gpus: 4,
            k_bins: 8,
            bin_policy: BinPolicy::RoundRobin,
            // f1be833 computes the edges from every request of the run.
            bin_boundary_sample: MAX_REQUESTS,
            bin_edge_rule: BinEdgeRule::Truncated,
            b_static: 8,
            b_fixed: 32,
            b_min: 1,
            b_max: 128,
            memory: MemoryConfig {
                rules: MemoryRules::Final,
                m_max_gb: 12.0,
                m_model_gb: 4.0,
                kv_per_token_gb: 1.875e-4,
                margin_gb: 1.0,
                safety_fraction: 0.1,
                // The original checks memory only when it sizes a batch dynamically.
                check_fixed_batches: false,
            },
            // f1be833 as its published scripts ran it: the final rules, the target
            // following the per-token SLA, eps 1 ms as `step1_grid_search.py` and
            // `step2_comparison.py` pass it (the config's 5 ms default never ran).
            sla: SlaControllerConfig {
                rules: ControllerRules::Final,
                signal: SlaSignal::TokenTime,
                d_s: None,
                eps_s: 0.001,
                ema_weight: 0.2,
                original_state: true,
                feed: ControllerFeed::All,
            },
            d_sla_token_s: 0.010,
            d_sla_request_s: 20.0,
            completion: Completion::BatchEnd,
            // The presets that copy the original take its events as it did.
            event_order: EventOrder::OneAtATime,
            latency_mode: LatencyMode::Fit,
            // The original's predictions, numpy's stream included, on all its rows.
            predictor: Predictor::PromptNumpy,
            keep_zero_output: true,
            // `step1_grid_search.py` and `step2_comparison.py` scale arrivals by 100.
            load: Load::RpsScaling { factor: 100.0 },
            synthetic: Synthetic::BurstGpt,
            requests: 100_000,
            seed: 42,
            timeseries_points: 512,
            token_semantics: Semantics::Padded,
            token_kappa: 0.0,
            token_context_ref_tokens: DEFAULT_CONTEXT_REF_TOKENS,
            iteration: IterationConfig::default(),
        };
        match preset {
            Preset::Paper => paper,
            Preset::H100Llama => Config {
                scheduler: SchedulerKind::Continuous,
                gpus: 1,
                // 80 GB, of which 90% is used (inference-lab's default): 16.06 GB of
                // weights, 128 KiB of KV per token (32 layers x 8 KV heads x 128 x 2 x 2 B).
                memory: MemoryConfig {
                    rules: MemoryRules::Arrived,
                    m_max_gb: 80.0,
                    m_model_gb: 16.06,
                    kv_per_token_gb: 131_072e-9,
                    margin_gb: 8.0,
                    ..paper.memory.clone()
                },
                iteration: IterationConfig {
                    // Compute and memory overlap, as inference-lab's roofline has it.
                    form: IterationForm::Max,
                    chunked_prefill: true,
                    max_batched_tokens: 8192,
                    watermark: 0.0,
                    hardware: Hardware::h100_sxm(),
                    model: ModelShape::llama3_1_8b(),
                    ..IterationConfig::default()
                },
                d_sla_token_s: 0.1,
                synthetic: Synthetic::Poisson { rate_rps: 50.0 },
                load: Load::RpsScaling { factor: 1.0 },
                bin_boundary_sample: 5_000,
                bin_edge_rule: BinEdgeRule::Exact,
                event_order: EventOrder::ByInstant,
                predictor: Predictor::Prompt,
                keep_zero_output: false,
                ..paper
            },
            // dd5f07f: one `--d-sla` of 1.0 s is both the request deadline and the
            // controller's target. `compat` keeps the original's controller as it ran;
            // `first-results` moves it once per batch and feeds it only batches the
            // SLA or memory limited, so it cannot ratchet down.
            Preset::FirstResults | Preset::Compat => Config {
                memory: MemoryConfig {
                    rules: if preset == Preset::Compat { MemoryRules::First } else { MemoryRules::Arrived },
                    m_model_gb: 2.0,
                    kv_per_token_gb: 5e-6,
                    check_fixed_batches: preset == Preset::FirstResults,
                    ..paper.memory.clone()
                },
                // dd5f07f's stress test: edges from the first min(5,000, N) requests.
                bin_boundary_sample: 5_000,
                bin_edge_rule: if preset == Preset::Compat { BinEdgeRule::Truncated } else { BinEdgeRule::Exact },
                load: Load::RpsScaling { factor: 200.0 },
                sla: SlaControllerConfig {
                    rules: ControllerRules::First,
                    signal: SlaSignal::BatchLatency,
                    d_s: None,
                    eps_s: 0.1,
                    ema_weight: 0.2,
                    original_state: preset == Preset::Compat,
                    feed: if preset == Preset::Compat { ControllerFeed::All } else { ControllerFeed::Limited },
                },
                d_sla_request_s: 1.0,
                // first-results draws its noise from the run's own generator and leaves
                // failed requests out.
                predictor: if preset == Preset::Compat { Predictor::PromptNumpy } else { Predictor::Prompt },
                keep_zero_output: preset == Preset::Compat,
                event_order: if preset == Preset::Compat { EventOrder::OneAtATime } else { EventOrder::ByInstant },
                ..paper
            },
        }
    }

    /// The SLA controller's target D: its own setting if one is given, else the SLA its
    /// signal is measured against.
    pub fn controller_target_s(&self) -> f64 {
        self.sla.d_s.unwrap_or(match self.sla.signal {
            SlaSignal::TokenTime => self.d_sla_token_s,
            SlaSignal::BatchLatency => self.d_sla_request_s,
        })
    }

    /// Check every field; the error names the field (see `FIELDS`).
    pub fn validate(&self) -> Result<()> {
        fn non_negative(field: &str, v: f64) -> Result<()> {
            if v.is_finite() && v >= 0.0 {
                Ok(())
            } else {
                Err(Error::field(field, format!("must be a number >= 0 (got {v})")))
            }
        }
        if self.gpus < 1 {
            return Err(Error::field("gpus", format!("must be at least 1 (got {})", self.gpus)));
        }
        if self.k_bins < 1 {
            return Err(Error::field("k_bins", format!("must be at least 1 (got {})", self.k_bins)));
        }
        if self.requests < 1 {
            return Err(Error::field("requests", "must be at least 1 (got 0)"));
        }
        if self.b_min < 1 || self.b_min > self.b_max {
            return Err(Error::field(
                "b_min",
                format!("must satisfy 1 <= b_min <= b_max (got b_min {}, b_max {})", self.b_min, self.b_max),
            ));
        }
        if self.b_static < 1 {
            return Err(Error::field("b_static", "must be at least 1 (got 0)"));
        }
        if self.b_fixed < 1 {
            return Err(Error::field("b_fixed", "must be at least 1 (got 0)"));
        }
        if self.bin_boundary_sample < 1 {
            return Err(Error::field("bin_boundary_sample", "must be at least 1 (got 0)"));
        }
        let m = &self.memory;
        positive("memory.m_max_gb", m.m_max_gb)?;
        non_negative("memory.m_model_gb", m.m_model_gb)?;
        positive("memory.kv_per_token_gb", m.kv_per_token_gb)?;
        non_negative("memory.margin_gb", m.margin_gb)?;
        if !(0.0..1.0).contains(&m.safety_fraction) {
            return Err(Error::field("memory.safety_fraction", format!("must be in [0, 1) (got {})", m.safety_fraction)));
        }
        if m.m_model_gb + m.margin_gb >= m.m_max_gb {
            return Err(Error::field(
                "memory.m_max_gb",
                format!(
                    "GPU memory {} GB leaves no room for the KV cache after the model ({} GB) and margin ({} GB)",
                    m.m_max_gb, m.m_model_gb, m.margin_gb
                ),
            ));
        }
        // An infinite (or absurd) KV cache leaves the memory cap without meaning.
        let kv_tokens = (m.m_max_gb - m.m_model_gb) / m.kv_per_token_gb;
        if kv_tokens.is_nan() || kv_tokens > MAX_KV_TOKENS {
            return Err(Error::field(
                "memory.kv_per_token_gb",
                format!("leaves room for {kv_tokens:e} tokens of KV cache per GPU, more than {MAX_KV_TOKENS:e} (got {} GB per token)", m.kv_per_token_gb),
            ));
        }
        if let Some(d) = self.sla.d_s {
            positive("sla.d_s", d)?;
        }
        non_negative("sla.eps_s", self.sla.eps_s)?;
        if !(self.sla.ema_weight > 0.0 && self.sla.ema_weight <= 1.0) {
            return Err(Error::field("sla.ema_weight", format!("must be in (0, 1] (got {})", self.sla.ema_weight)));
        }
        positive("d_sla_token_s", self.d_sla_token_s)?;
        positive("d_sla_request_s", self.d_sla_request_s)?;
        match self.load {
            Load::RpsScaling { factor } => positive("load.factor", factor)?,
            Load::RealTimestamps => {}
        }
        if let Predictor::Noisy { sigma } = self.predictor {
            non_negative("predictor.sigma", sigma)?;
        }
        if self.predictor == Predictor::PromptNumpy && self.seed > NUMPY_MAX_SEED {
            return Err(Error::field(
                "seed",
                format!("must be at most {NUMPY_MAX_SEED} with the prompt_numpy predictor, as numpy's (got {})", self.seed),
            ));
        }
        if let Synthetic::Poisson { rate_rps } = self.synthetic {
            positive("synthetic.rate_rps", rate_rps)?;
        }
        if self.timeseries_points < 2 {
            return Err(Error::field("timeseries_points", "must be at least 2"));
        }
        non_negative("token_kappa", self.token_kappa)?;
        positive("token_context_ref_tokens", self.token_context_ref_tokens)?;
        self.iteration.validate()?;
        at_most("requests", self.requests as u64, MAX_REQUESTS as u64)?;
        at_most("gpus", self.gpus.into(), MAX_GPUS.into())?;
        at_most("k_bins", self.k_bins.into(), MAX_K.into())?;
        at_most("timeseries_points", self.timeseries_points as u64, MAX_TIMESERIES_POINTS as u64)
    }
}

#[cfg(test)]
mod tests;

/// A short fingerprint of bytes (FNV-1a, 64 bits, as 16 hex digits): stable across
/// platforms and versions. Names a configuration or a file in reproducibility stamps and
/// a sweep's spec in its shards.
pub fn fingerprint(bytes: &[u8]) -> String {
    let mut h = Fingerprint::default();
    h.update(bytes);
    h.hex()
}

/// `fingerprint` fed piece by piece (a file read as a stream).
#[derive(Debug, Clone, Copy)]
pub struct Fingerprint(u64);

impl Default for Fingerprint {
    fn default() -> Self {
        Fingerprint(0xcbf2_9ce4_8422_2325)
    }
}

impl Fingerprint {
    pub fn update(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }

    pub fn hex(&self) -> String {
        format!("{:016x}", self.0)
    }
}
