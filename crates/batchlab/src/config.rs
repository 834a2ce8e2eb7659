//! Configuration of one simulation run, its presets, and validation.
//!
//! Every constant of MODEL.md §2–5 is a field here. Two presets reproduce the two
//! published sets of results; `Config::validate` turns any out-of-range value into an
//! `Error::Option` naming the option as the CLI spells it.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::token::{Semantics, DEFAULT_CONTEXT_REF_TOKENS};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SchedulerKind {
    StaticFifo,
    DynamicNoBins,
    MultiBinDynamic,
    MultiBinFixed,
}

impl SchedulerKind {
    pub const ALL: [SchedulerKind; 4] = [
        SchedulerKind::StaticFifo,
        SchedulerKind::DynamicNoBins,
        SchedulerKind::MultiBinDynamic,
        SchedulerKind::MultiBinFixed,
    ];

    pub fn name(self) -> &'static str {
        match self {
            SchedulerKind::StaticFifo => "static_fifo",
            SchedulerKind::DynamicNoBins => "dynamic_no_bins",
            SchedulerKind::MultiBinDynamic => "multi_bin_dynamic",
            SchedulerKind::MultiBinFixed => "multi_bin_fixed",
        }
    }

    pub fn parse(s: &str) -> Result<Self> {
        Self::ALL.into_iter().find(|k| k.name() == s).ok_or_else(|| {
            Error::option(
                "--scheduler",
                format!("unknown scheduler '{s}' (expected one of: static_fifo, dynamic_no_bins, multi_bin_dynamic, multi_bin_fixed)"),
            )
        })
    }

    /// Whether requests are split into K bins (otherwise one FIFO queue).
    pub fn uses_bins(self) -> bool {
        matches!(self, SchedulerKind::MultiBinDynamic | SchedulerKind::MultiBinFixed)
    }
}

/// Which non-empty bin an idle GPU serves next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BinPolicy {
    RoundRobin,
    LongestQueue,
}

/// Who decides a request's bin: an estimate of its output length.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Predictor {
    /// `clamp(floor(1.5 * prompt^0.7 * LogNormal(0, 0.1)), 1, 4096)` — the original's.
    Prompt,
    /// `max(1, round(output * LogNormal(0, sigma)))`.
    Noisy { sigma: f64 },
    /// The true output length.
    Oracle,
    /// The trace's own `predicted_output_tokens` column (error if it has none).
    Trace,
}

/// How arrival times of the source are turned into the run's arrival times.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Load {
    /// Divide every arrival time by `factor` (200 in the original stress test).
    RpsScaling { factor: f64 },
    /// Keep the source's timestamps.
    RealTimestamps,
}

/// The synthetic sources (a trace file is handed to the core separately, as bytes).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Synthetic {
    /// BurstGPT-like: Gamma arrivals, heavy-tailed correlated token counts (default).
    BurstGpt,
    /// Exponential inter-arrivals at `rate_rps` (before load scaling), same token counts.
    Poisson { rate_rps: f64 },
}

/// When a member of a batch counts as completed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Completion {
    /// Every member completes when the batch does (paper preset).
    BatchEnd,
    /// A member completes after its own last token; the GPU stays busy to the batch end.
    OwnFinish,
}

/// What the SLA controller regulates against `d_s`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SlaSignal {
    /// The batch's decode time per token, `beta * h(b)` (paper preset).
    TokenTime,
    /// The batch's whole service time `T(b, L)` (first results).
    BatchLatency,
}

/// How the service time of a batch is computed from the calibration grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LatencyMode {
    /// `T(b, L) = alpha + beta * L * (1 + gamma * (b - 1) / b)`, least-squares fit.
    Fit,
    /// Bilinear interpolation in the grid (linear extrapolation past its edges).
    Grid,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemoryConfig {
    pub m_max_gb: f64,
    pub m_model_gb: f64,
    pub kv_per_token_gb: f64,
    pub margin_gb: f64,
    /// Fraction of the KV capacity kept free by the batch-size cap (L0 = this * eta).
    pub safety_fraction: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SlaControllerConfig {
    pub signal: SlaSignal,
    /// Target `D` of the controller, seconds.
    pub d_s: f64,
    /// Tolerance `eps`, seconds.
    pub eps_s: f64,
    /// Weight of the newest observation in the moving averages.
    pub ema_weight: f64,
    /// Original-code quirk: the interval rules run on every b_SLA computation, not only
    /// after each batch. Only the `compat` preset turns it on.
    pub adjust_on_every_query: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Config {
    pub scheduler: SchedulerKind,
    pub gpus: u32,
    pub k_bins: u32,
    pub bin_policy: BinPolicy,
    /// Requests whose predictions set the bin boundaries (first N of the run).
    pub bin_boundary_sample: usize,
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
    pub latency_mode: LatencyMode,
    pub predictor: Predictor,
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
}

/// Upper bounds checked before the core allocates its per-request, per-GPU, per-bin and
/// time-series arrays: past them a slip of the keyboard (a few extra zeros) would exhaust
/// memory and abort instead of giving an error. Each is far above any meaningful
/// experiment (the stress plan's largest values are 1M requests, 100 GPUs, K = 32).
pub const MAX_REQUESTS: usize = 100_000_000;
pub const MAX_GPUS: u32 = 100_000;
pub const MAX_K: u32 = 100_000;
pub const MAX_TIMESERIES_POINTS: usize = 1_000_000;

/// Error unless `value <= max`, naming the option.
pub fn at_most(option: &str, value: u64, max: u64) -> Result<()> {
    if value <= max {
        Ok(())
    } else {
        Err(Error::option(option, format!("must be at most {max} (got {value})")))
    }
}

/// Named sets of defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Preset {
    /// Final calibration (measured grid), per-token SLA 10 ms / 5 ms, memory of Qwen3-1.7B.
    Paper,
    /// The first results: synthetic grid, batch-latency SLA 1.0 s / 0.1 s, M_model 2 GB.
    FirstResults,
    /// `first-results` plus the original code's quirks (controller adjusts on every query,
    /// plan bins from the first 1,000 requests).
    Compat,
}

impl Preset {
    pub const ALL: [Preset; 3] = [Preset::Paper, Preset::FirstResults, Preset::Compat];

    pub fn name(self) -> &'static str {
        match self {
            Preset::Paper => "paper",
            Preset::FirstResults => "first-results",
            Preset::Compat => "compat",
        }
    }

    pub fn parse(s: &str) -> Result<Self> {
        Self::ALL.into_iter().find(|p| p.name() == s).ok_or_else(|| {
            Error::option("--preset", format!("unknown preset '{s}' (expected one of: paper, first-results, compat)"))
        })
    }

    /// The calibration grid this preset uses unless the user loads one.
    pub fn calibration(self) -> crate::latency::CalibrationGrid {
        match self {
            Preset::Paper => crate::latency::CalibrationGrid::measured_rtx4080(),
            Preset::FirstResults | Preset::Compat => crate::latency::CalibrationGrid::first_results_synthetic(),
        }
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
            bin_boundary_sample: 5_000,
            b_static: 8,
            b_fixed: 32,
            b_min: 1,
            b_max: 128,
            memory: MemoryConfig {
                m_max_gb: 12.0,
                m_model_gb: 4.0,
                kv_per_token_gb: 1.875e-4,
                margin_gb: 1.0,
                safety_fraction: 0.1,
            },
            sla: SlaControllerConfig {
                signal: SlaSignal::TokenTime,
                d_s: 0.010,
                eps_s: 0.005,
                ema_weight: 0.2,
                adjust_on_every_query: false,
            },
            d_sla_token_s: 0.010,
            d_sla_request_s: 20.0,
            completion: Completion::BatchEnd,
            latency_mode: LatencyMode::Fit,
            predictor: Predictor::Prompt,
            load: Load::RpsScaling { factor: 200.0 },
            synthetic: Synthetic::BurstGpt,
            requests: 100_000,
            seed: 42,
            timeseries_points: 512,
            token_semantics: Semantics::Padded,
            token_kappa: 0.0,
            token_context_ref_tokens: DEFAULT_CONTEXT_REF_TOKENS,
        };
        match preset {
            Preset::Paper => paper,
            Preset::FirstResults | Preset::Compat => Config {
                memory: MemoryConfig { m_model_gb: 2.0, kv_per_token_gb: 5e-6, ..paper.memory.clone() },
                sla: SlaControllerConfig {
                    signal: SlaSignal::BatchLatency,
                    d_s: 1.0,
                    eps_s: 0.1,
                    adjust_on_every_query: preset == Preset::Compat,
                    ..paper.sla.clone()
                },
                ..paper
            },
        }
    }

    /// Check every field; the error names the option as the CLI spells it.
    pub fn validate(&self) -> Result<()> {
        fn positive(option: &str, v: f64) -> Result<()> {
            if v.is_finite() && v > 0.0 {
                Ok(())
            } else {
                Err(Error::option(option, format!("must be a positive number (got {v})")))
            }
        }
        fn non_negative(option: &str, v: f64) -> Result<()> {
            if v.is_finite() && v >= 0.0 {
                Ok(())
            } else {
                Err(Error::option(option, format!("must be a number >= 0 (got {v})")))
            }
        }
        if self.gpus < 1 {
            return Err(Error::option("--gpus", format!("must be at least 1 (got {})", self.gpus)));
        }
        if self.k_bins < 1 {
            return Err(Error::option("--k", format!("must be at least 1 (got {})", self.k_bins)));
        }
        if self.requests < 1 {
            return Err(Error::option("--requests", "must be at least 1 (got 0)"));
        }
        if self.b_min < 1 || self.b_min > self.b_max {
            return Err(Error::option(
                "--b-min",
                format!("must satisfy 1 <= b_min <= b_max (got b_min {}, b_max {})", self.b_min, self.b_max),
            ));
        }
        if self.b_static < 1 {
            return Err(Error::option("--b-static", "must be at least 1 (got 0)"));
        }
        if self.b_fixed < 1 {
            return Err(Error::option("--b-fixed", "must be at least 1 (got 0)"));
        }
        if self.bin_boundary_sample < 1 {
            return Err(Error::option("--bin-sample", "must be at least 1 (got 0)"));
        }
        let m = &self.memory;
        positive("--m-max-gb", m.m_max_gb)?;
        non_negative("--m-model-gb", m.m_model_gb)?;
        positive("--kv-per-token-gb", m.kv_per_token_gb)?;
        non_negative("--margin-gb", m.margin_gb)?;
        if !(0.0..1.0).contains(&m.safety_fraction) {
            return Err(Error::option("--safety-fraction", format!("must be in [0, 1) (got {})", m.safety_fraction)));
        }
        if m.m_model_gb + m.margin_gb >= m.m_max_gb {
            return Err(Error::option(
                "--m-max-gb",
                format!(
                    "GPU memory {} GB leaves no room for the KV cache after the model ({} GB) and margin ({} GB)",
                    m.m_max_gb, m.m_model_gb, m.margin_gb
                ),
            ));
        }
        positive("--d-sla", self.sla.d_s)?;
        non_negative("--sla-eps", self.sla.eps_s)?;
        if !(self.sla.ema_weight > 0.0 && self.sla.ema_weight <= 1.0) {
            return Err(Error::option("--ema-weight", format!("must be in (0, 1] (got {})", self.sla.ema_weight)));
        }
        positive("--d-sla-token", self.d_sla_token_s)?;
        positive("--d-sla-request", self.d_sla_request_s)?;
        match self.load {
            Load::RpsScaling { factor } => positive("--rps-scaling", factor)?,
            Load::RealTimestamps => {}
        }
        if let Predictor::Noisy { sigma } = self.predictor {
            non_negative("--predictor-sigma", sigma)?;
        }
        if let Synthetic::Poisson { rate_rps } = self.synthetic {
            positive("--poisson-rate", rate_rps)?;
        }
        if self.timeseries_points < 2 {
            return Err(Error::option("--timeseries-points", "must be at least 2"));
        }
        non_negative("--token-kappa", self.token_kappa)?;
        positive("--token-context-ref", self.token_context_ref_tokens)?;
        at_most("--requests", self.requests as u64, MAX_REQUESTS as u64)?;
        at_most("--gpus", self.gpus.into(), MAX_GPUS.into())?;
        at_most("--k", self.k_bins.into(), MAX_K.into())?;
        at_most("--timeseries-points", self.timeseries_points as u64, MAX_TIMESERIES_POINTS as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_are_valid() {
        for p in Preset::ALL {
            Config::preset(p).validate().unwrap();
            assert_eq!(Preset::parse(p.name()).unwrap(), p);
        }
    }

    #[test]
    fn first_results_keeps_the_old_memory_and_sla() {
        let c = Config::preset(Preset::FirstResults);
        assert_eq!(c.memory.m_model_gb, 2.0);
        assert_eq!(c.memory.kv_per_token_gb, 5e-6);
        assert_eq!(c.sla.signal, SlaSignal::BatchLatency);
        assert_eq!((c.sla.d_s, c.sla.eps_s), (1.0, 0.1));
        assert!(!c.sla.adjust_on_every_query);
        assert!(Config::preset(Preset::Compat).sla.adjust_on_every_query);
    }

    #[test]
    fn bad_values_name_their_option() {
        let c = Config { k_bins: 0, ..Config::default() };
        assert_eq!(c.validate().unwrap_err().to_string(), "option --k: must be at least 1 (got 0)");
        let c = Config { gpus: 0, ..Config::default() };
        assert_eq!(c.validate().unwrap_err().to_string(), "option --gpus: must be at least 1 (got 0)");
        let c = Config { load: Load::RpsScaling { factor: f64::NAN }, ..Config::default() };
        assert!(c.validate().unwrap_err().to_string().starts_with("option --rps-scaling:"));
        let c = Config { requests: MAX_REQUESTS + 1, ..Config::default() };
        assert_eq!(c.validate().unwrap_err().to_string(), format!("option --requests: must be at most {MAX_REQUESTS} (got {})", MAX_REQUESTS + 1));
        assert!(SchedulerKind::parse("fifo").unwrap_err().to_string().starts_with("option --scheduler: unknown scheduler 'fifo'"));
    }
}
