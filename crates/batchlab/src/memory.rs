//! The memory model: the KV-cache cap on batch size and the per-batch check.

use crate::config::MemoryConfig;

/// Derived capacities of one GPU, in tokens.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MemoryModel {
    /// `eta = (M_max - M_model) / kv_per_token`: KV-cache capacity.
    pub eta_tokens: f64,
    /// `L0 = safety_fraction * eta`: kept free by the batch-size cap.
    pub safety_tokens: f64,
    /// `(M_max - margin - M_model) / kv_per_token`: what a formed batch may hold.
    pub batch_limit_tokens: f64,
    pub b_min: u32,
    pub b_max: u32,
}

impl MemoryModel {
    pub fn new(m: &MemoryConfig, b_min: u32, b_max: u32) -> Self {
        let eta = (m.m_max_gb - m.m_model_gb) / m.kv_per_token_gb;
        MemoryModel {
            eta_tokens: eta,
            safety_tokens: m.safety_fraction * eta,
            batch_limit_tokens: (m.m_max_gb - m.margin_gb - m.m_model_gb) / m.kv_per_token_gb,
            b_min,
            b_max,
        }
    }

    /// `b_mem = clamp(floor((eta - L0) / mu), B_min, B_max)`, `mu` the running mean of
    /// (prompt + output) tokens per request. With no request seen yet, `B_max`.
    pub fn batch_cap(&self, mu_tokens: f64) -> u32 {
        if mu_tokens <= 0.0 || !mu_tokens.is_finite() {
            return self.b_max;
        }
        let b = ((self.eta_tokens - self.safety_tokens) / mu_tokens).floor();
        b.clamp(self.b_min as f64, self.b_max as f64) as u32
    }

    /// Whether a batch holding `total_tokens` (sum of prompt + output) fits:
    /// `M_model + kv * sum <= M_max - margin`.
    pub fn fits(&self, total_tokens: u64) -> bool {
        total_tokens as f64 <= self.batch_limit_tokens
    }
}

/// Running mean of tokens per request, for the batch-size cap.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct RunningMean {
    sum: f64,
    count: u64,
}

impl RunningMean {
    pub fn add(&mut self, x: f64) {
        self.sum += x;
        self.count += 1;
    }

    pub fn mean(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.sum / self.count as f64
        }
    }
}

/// The original's token statistics for b_mem (`MemoryRules::First` and `Final`): moving
/// averages of each finished batch's mean prompt and mean output tokens.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BatchTokenAverages {
    prompt: f64,
    output: f64,
}

/// The original's starting estimates and weight (`BatchStatistics`).
const START_PROMPT_TOKENS: f64 = 300.0;
const START_OUTPUT_TOKENS: f64 = 200.0;
const AVERAGE_WEIGHT: f64 = 0.2;

impl Default for BatchTokenAverages {
    fn default() -> Self {
        BatchTokenAverages { prompt: START_PROMPT_TOKENS, output: START_OUTPUT_TOKENS }
    }
}

impl BatchTokenAverages {
    /// Feed a finished batch: the sums of its members' prompt and output tokens.
    pub fn observe(&mut self, prompt_sum: u64, output_sum: u64, size: u32) {
        if size == 0 {
            return;
        }
        let n = size as f64;
        self.prompt = AVERAGE_WEIGHT * (prompt_sum as f64 / n) + (1.0 - AVERAGE_WEIGHT) * self.prompt;
        self.output = AVERAGE_WEIGHT * (output_sum as f64 / n) + (1.0 - AVERAGE_WEIGHT) * self.output;
    }

    /// Tokens per request, prompt + output.
    pub fn mean(&self) -> f64 {
        self.prompt + self.output
    }
}

/// The final version's per-bin batch limit (`BIN_B_MAX`), from a bin's edges [lo, hi)
/// (the last bin's hi is the original's 10,000): a request is taken to hold twice the
/// bin's midpoint in tokens, hi capped at 4,096, and the memory left after the model and
/// margin holds that many; clamped to [1, B_max].
pub fn bin_batch_limit(m: &MemoryConfig, lo: f64, hi: f64, b_max: u32) -> u32 {
    let midpoint = ((lo + hi.min(4096.0)) / 2.0).floor();
    let tokens = 2.0 * midpoint;
    if tokens <= 0.0 {
        return b_max;
    }
    let available = m.m_max_gb - m.m_model_gb - m.margin_gb;
    let b = (available / (tokens * m.kv_per_token_gb)).trunc();
    b.clamp(1.0, b_max as f64) as u32
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Config, Preset};

    #[test]
    fn paper_preset_capacities_by_hand() {
        let c = Config::preset(Preset::Paper);
        let m = MemoryModel::new(&c.memory, c.b_min, c.b_max);
        // eta = 8 GB / 1.875e-4 GB = 42666.67 tokens; L0 = 4266.67.
        assert!((m.eta_tokens - 42_666.666_666).abs() < 1e-3);
        assert!((m.safety_tokens - 4_266.666_666).abs() < 1e-3);
        // floor(38400 / 734) = 52.
        assert_eq!(m.batch_cap(734.0), 52);
        // Tiny requests hit B_max, huge ones B_min.
        assert_eq!(m.batch_cap(10.0), 128);
        assert_eq!(m.batch_cap(1e6), 1);
        // Batch limit: 7 GB / 1.875e-4 = 37333.3 tokens.
        assert!(m.fits(37_333));
        assert!(!m.fits(37_334));
    }

    #[test]
    fn cap_and_limit_at_their_boundaries() {
        // kv 0.25 GB/token: eta = 8 / 0.25 = 32 tokens, L0 = 0.25 * 32 = 8, so
        // b_mem = floor(24 / mu); the batch limit is (12 - 1 - 4) / 0.25 = 28 tokens.
        let c = MemoryConfig { kv_per_token_gb: 0.25, safety_fraction: 0.25, ..Config::preset(Preset::Paper).memory };
        let m = MemoryModel::new(&c, 2, 5);
        assert_eq!((m.eta_tokens, m.safety_tokens, m.batch_limit_tokens), (32.0, 8.0, 28.0));
        assert!(m.fits(28));
        assert!(!m.fits(29));
        assert_eq!(m.batch_cap(6.0), 4); // 24 / 6 = 4 exactly
        assert_eq!(m.batch_cap(6.1), 3);
        assert_eq!(m.batch_cap(4.0), 5); // 6, clamped to B_max
        assert_eq!(m.batch_cap(20.0), 2); // 1, clamped to B_min
        // No mean yet (or a meaningless one): B_max.
        for mu in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert_eq!(m.batch_cap(mu), 5, "mu {mu}");
        }
    }

    #[test]
    fn running_mean() {
        let mut r = RunningMean::default();
        assert_eq!(r.mean(), 0.0);
        r.add(2.0);
        r.add(4.0);
        assert_eq!(r.mean(), 3.0);
    }

    #[test]
    fn batch_averages_start_at_300_and_200_and_move_by_a_fifth() {
        let mut a = BatchTokenAverages::default();
        assert_eq!(a.mean(), 500.0);
        // A batch of 4 with 400 prompt and 40 output tokens in all: means 100 and 10.
        a.observe(400, 40, 4);
        assert_eq!(a.mean(), (0.2 * 100.0 + 0.8 * 300.0) + (0.2 * 10.0 + 0.8 * 200.0));
        a.observe(1, 1, 0);
        assert_eq!(a.mean(), 260.0 + 162.0);
    }

    #[test]
    fn bin_limits_by_hand() {
        // Paper memory: 12 - 4 - 1 = 7 GB at 1.875e-4 GB/token = 37,333.3 tokens.
        let m = Config::preset(Preset::Paper).memory;
        // One bin [0, 10000): midpoint (0 + 4096) / 2 = 2048, 4096 tokens -> 9.1 -> 9.
        assert_eq!(bin_batch_limit(&m, 0.0, 10_000.0, 128), 9);
        // A short bin [1, 10): midpoint 5, 10 tokens -> 3,733 -> B_max.
        assert_eq!(bin_batch_limit(&m, 1.0, 10.0, 128), 128);
        // [300, 10000): (300 + 4096) / 2 = 2198 -> 4396 tokens -> 8.49 -> 8.
        assert_eq!(bin_batch_limit(&m, 300.0, 10_000.0, 128), 8);
        // An empty bin at 0 has no tokens: B_max.
        assert_eq!(bin_batch_limit(&m, 0.0, 0.0, 128), 128);
    }
}
