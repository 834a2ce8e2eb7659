//! The latency (service-time) model: calibration grids, the least-squares fit of
//! `T(b, L) = alpha + beta * L * h(b)`, `h(b) = 1 + gamma * (b - 1) / b`, and grid
//! interpolation. (Being written.)

use serde::{Deserialize, Serialize};

use crate::config::LatencyMode;
use crate::error::Result;

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CalibrationPoint {
    pub batch_size: u32,
    pub max_seq_len: u32,
    pub latency_s: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalibrationGrid {
    /// Where it came from: "built-in rtx4080-qwen3-1.7b", a file name, ...
    pub name: String,
    pub points: Vec<CalibrationPoint>,
}

/// Fitted parameters, seconds and seconds per token; `r2` over the grid.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LatencyFit {
    pub alpha_s: f64,
    pub beta_s: f64,
    pub gamma: f64,
    pub r2: f64,
}

impl LatencyFit {
    /// `h(b) = 1 + gamma * (b - 1) / b`.
    pub fn h(&self, b: u32) -> f64 {
        let b = b.max(1) as f64;
        1.0 + self.gamma * (b - 1.0) / b
    }
}

impl CalibrationGrid {
    /// Qwen3-1.7B FP16 on an RTX 4080 12 GB, measured by the original authors (MODEL.md §2).
    pub fn measured_rtx4080() -> Self {
        todo!("built-in grid")
    }

    /// The first results' grid: exactly the formula with alpha 15 ms, beta 0.3 ms, gamma 0.4.
    pub fn first_results_synthetic() -> Self {
        todo!("first-results grid")
    }

    /// Parse a grid CSV with columns batch_size, max_seq_len, mean_latency_sec.
    pub fn parse_csv(bytes: &[u8], file: &str) -> Result<Self> {
        let _ = (bytes, file);
        todo!("grid csv")
    }

    /// Least-squares fit of alpha, beta, gamma.
    pub fn fit(&self) -> Result<LatencyFit> {
        todo!("fit")
    }
}

/// What the engine asks: the service time of a batch and its per-token decode time.
#[derive(Debug, Clone, PartialEq)]
pub struct LatencyModel {
    pub fit: LatencyFit,
    pub mode: LatencyMode,
    pub grid: CalibrationGrid,
}

impl LatencyModel {
    pub fn new(grid: CalibrationGrid, mode: LatencyMode) -> Result<Self> {
        let fit = grid.fit()?;
        Ok(LatencyModel { fit, mode, grid })
    }

    /// Service time of a batch of `b` requests whose longest has `max_len` tokens.
    pub fn batch_time_s(&self, b: u32, max_len: u32) -> f64 {
        let _ = (b, max_len);
        todo!("batch time")
    }

    /// Fixed per-batch cost (prefill / first token): the fit's alpha in both modes.
    pub fn alpha_s(&self) -> f64 {
        self.fit.alpha_s
    }

    /// Per-token decode time of that batch: `beta * h(b)` in fit mode; in grid mode
    /// `(T(b, L) - alpha) / L`, so that `alpha + step * L == T(b, L)` in both modes.
    pub fn token_step_s(&self, b: u32, max_len: u32) -> f64 {
        let _ = (b, max_len);
        todo!("token step")
    }
}
