//! Where a run's requests come from and what the scheduler believes about them: the
//! output-length predictor, the load scaling of arrival times, the synthetic sources.

use serde::{Deserialize, Serialize};

use super::named::named_enum;
use crate::error::{Error, Result};

/// Who decides a request's bin: an estimate of its output length.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Predictor {
    /// `clamp(floor(1.5 * prompt^0.7 * LogNormal(0, 0.1)), 1, 4096)` — the original's
    /// formula, its noise drawn from the run's generator.
    Prompt,
    /// The same formula with the original's noise: numpy's legacy stream after
    /// `np.random.seed(seed)`, one lognormal per request in row order.
    PromptNumpy,
    /// `max(1, round(output * LogNormal(0, sigma)))`.
    Noisy { sigma: f64 },
    /// The true output length.
    Oracle,
    /// The trace's own `predicted_output_tokens` column (error if it has none).
    Trace,
}

named_enum! {
    /// The kinds of predictor, without their parameter.
    pub enum PredictorKind for "predictor" {
        /// From the prompt length only: clamp(floor(1.5 prompt^0.7 LogNormal(0, 0.1)), 1, 4096).
        Prompt = "prompt",
        /// As prompt, its noise drawn as the original did (numpy's legacy generator seeded with the seed, one draw per row).
        PromptNumpy = "prompt_numpy",
        /// The true output length times LogNormal(0, sigma).
        Noisy = "noisy",
        /// The true output length.
        Oracle = "oracle",
        /// The trace's predicted_output_tokens column.
        Trace = "trace",
    }
}

/// The largest seed `prompt_numpy` takes: `np.random.seed` rejects larger ones.
pub const NUMPY_MAX_SEED: u64 = u32::MAX as u64;

/// Sigma of the noisy predictor when none is given (CLI and page).
pub const DEFAULT_PREDICTOR_SIGMA: f64 = 0.5;

impl Predictor {
    pub fn kind(self) -> PredictorKind {
        match self {
            Predictor::Prompt => PredictorKind::Prompt,
            Predictor::PromptNumpy => PredictorKind::PromptNumpy,
            Predictor::Noisy { .. } => PredictorKind::Noisy,
            Predictor::Oracle => PredictorKind::Oracle,
            Predictor::Trace => PredictorKind::Trace,
        }
    }

    /// The predictor of `kind`; `sigma` is the noisy one's parameter (default
    /// `DEFAULT_PREDICTOR_SIGMA`) and an error for any other kind.
    pub fn of_kind(kind: PredictorKind, sigma: Option<f64>) -> Result<Predictor> {
        Ok(match (kind, sigma) {
            (PredictorKind::Noisy, sigma) => Predictor::Noisy { sigma: sigma.unwrap_or(DEFAULT_PREDICTOR_SIGMA) },
            (_, Some(_)) => return Err(Error::field("predictor.sigma", "applies only to the noisy predictor")),
            (PredictorKind::Prompt, None) => Predictor::Prompt,
            (PredictorKind::PromptNumpy, None) => Predictor::PromptNumpy,
            (PredictorKind::Oracle, None) => Predictor::Oracle,
            (PredictorKind::Trace, None) => Predictor::Trace,
        })
    }
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
    /// BurstGPT-like: bursty arrivals with a daily cycle, heavy-tailed correlated token counts (default).
    BurstGpt,
    /// Exponential inter-arrivals at `rate_rps` (before load scaling), same token counts.
    Poisson { rate_rps: f64 },
}

named_enum! {
    /// The kinds of synthetic source, without their parameter.
    pub enum SyntheticKind for "synthetic" {
        /// Bursty arrivals with a daily cycle, heavy-tailed token counts, fitted to BurstGPT.
        BurstGpt = "burstgpt",
        /// Exponential inter-arrivals at a given rate, same token counts.
        Poisson = "poisson",
    }
}

/// Rate of the Poisson source when none is given: BurstGPT's average (~0.27 req/s over
/// its 61 days), so the default load scaling gives the usual ~54 req/s.
pub const DEFAULT_POISSON_RATE: f64 = 0.27;

impl Synthetic {
    pub fn kind(self) -> SyntheticKind {
        match self {
            Synthetic::BurstGpt => SyntheticKind::BurstGpt,
            Synthetic::Poisson { .. } => SyntheticKind::Poisson,
        }
    }

    /// The source of `kind`; `rate_rps` is the Poisson one's parameter (default
    /// `DEFAULT_POISSON_RATE`) and an error for BurstGPT.
    pub fn of_kind(kind: SyntheticKind, rate_rps: Option<f64>) -> Result<Synthetic> {
        match (kind, rate_rps) {
            (SyntheticKind::Poisson, rate) => Ok(Synthetic::Poisson { rate_rps: rate.unwrap_or(DEFAULT_POISSON_RATE) }),
            (SyntheticKind::BurstGpt, Some(_)) => Err(Error::field("synthetic.rate_rps", "applies only to the poisson source")),
            (SyntheticKind::BurstGpt, None) => Ok(Synthetic::BurstGpt),
        }
    }
}
