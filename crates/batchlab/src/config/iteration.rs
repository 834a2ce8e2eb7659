//! Continuous (iteration-level) batching: the router, the paged KV cache's limits, the
//! SLO of a request, and the hardware and model whose roofline prices an iteration.

use serde::{Deserialize, Serialize};

use super::named::named_enum;
use super::positive;
use crate::error::{Error, Result};

named_enum! {
    /// How an iteration's compute and memory times combine.
    pub enum IterationForm for "iteration.form" {
        /// Added: c0 + c_prefill P + c_decode n + c_ctx ctx (a linear model a measured profile is fitted to).
        Sum = "sum",
        /// Overlapped, as a roofline: max(c0 + c_ctx ctx, c_prefill P + c_decode n), memory against compute.
        Max = "max",
    }
}

named_enum! {
    /// Which GPU of its group an arriving request is sent to (continuous batching).
    pub enum Router for "iteration.router" {
        /// The group's GPUs in turn.
        RoundRobin = "round_robin",
        /// The GPU with the fewest outstanding tokens (prompt + predicted output of the requests routed there and not finished; ties to the lower GPU).
        LeastLoaded = "least_loaded",
    }
}

/// A GPU as its datasheet states it, and the share of its peaks an engine reaches.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hardware {
    pub name: String,
    /// Dense 16-bit tensor throughput, TFLOP/s.
    pub peak_tflops: f64,
    /// Memory bandwidth, GB/s.
    pub bandwidth_gb_s: f64,
    /// Model-FLOPs utilisation of prefill compute, (0, 1]; 1: the roofline's peak.
    pub mfu: f64,
    /// Memory-bandwidth utilisation when reading weights and KV, (0, 1]; 1: the peak.
    pub mbu: f64,
}

/// The served model, as far as the roofline needs it (its KV bytes per token are the
/// memory model's `kv_per_token_gb`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelShape {
    pub name: String,
    /// Parameters, billions (every one is read once per iteration).
    pub params_b: f64,
    pub bytes_per_param: f64,
}

/// The price of one iteration, seconds per unit (see `iteration_cost`):
/// `c0 + prefill_token * prefill_tokens + decode_seq * decoders + context_token * context_read`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct IterationCost {
    pub c0_s: f64,
    pub prefill_token_s: f64,
    pub decode_seq_s: f64,
    pub context_token_s: f64,
}

/// Iteration costs and where they came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IterationModel {
    pub cost: IterationCost,
    /// "roofline RTX 4080 / Qwen3-1.7B", or the profile's file name.
    pub source: String,
    /// The fit's R² over a profile (None for the roofline).
    pub r2: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IterationConfig {
    pub router: Router,
    pub form: IterationForm,
    /// Tokens per KV-cache block.
    pub block_tokens: u32,
    /// Most sequences running on one GPU at once.
    pub max_seqs: u32,
    /// Most tokens one iteration processes (each decode is one, each prefill its
    /// prompt, or its chunk with chunked prefill); at least `max_seqs`.
    pub max_batched_tokens: u32,
    /// Split prompts into chunks that fill each iteration's token budget after its
    /// decodes (Sarathi-style), instead of prefilling each prompt whole.
    pub chunked_prefill: bool,
    /// Share of the KV blocks kept free when admitting a request (vLLM's watermark).
    pub watermark: f64,
    /// A request meets the SLO when its time to first token is at most this...
    pub ttft_slo_s: f64,
    /// ...and at least 99% of its gaps between tokens are at most this (nearest-rank p99).
    pub tbt_slo_s: f64,
    pub hardware: Hardware,
    pub model: ModelShape,
    /// Costs fitted to a measured iteration profile; None: the roofline of `hardware`
    /// and `model`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<IterationModel>,
}

impl Hardware {
    /// NVIDIA GeForce RTX 4080 (AD103): 97.5 TFLOP/s dense FP16 with FP32 accumulate,
    /// 716.8 GB/s GDDR6X (NVIDIA's Ada whitepaper).
    pub fn rtx4080() -> Self {
        Hardware { name: "RTX 4080".into(), peak_tflops: 97.5, bandwidth_gb_s: 716.8, mfu: 1.0, mbu: 1.0 }
    }

    /// NVIDIA H100 SXM5: 989 TFLOP/s dense BF16, 3,350 GB/s HBM3 (NVIDIA's datasheet).
    pub fn h100_sxm() -> Self {
        Hardware { name: "H100 SXM".into(), peak_tflops: 989.0, bandwidth_gb_s: 3350.0, mfu: 1.0, mbu: 1.0 }
    }
}

impl ModelShape {
    /// Qwen3-1.7B in 16 bits: 1.72B parameters with its tied embedding counted once
    /// (28 layers of 50.3M, 311M of embedding).
    pub fn qwen3_1_7b() -> Self {
        ModelShape { name: "Qwen3-1.7B".into(), params_b: 1.72, bytes_per_param: 2.0 }
    }

    /// Llama-3.1-8B in BF16: 8.03B parameters.
    pub fn llama3_1_8b() -> Self {
        ModelShape { name: "Llama-3.1-8B".into(), params_b: 8.03, bytes_per_param: 2.0 }
    }
}

impl Default for IterationConfig {
    /// vLLM's defaults for the cache and the limits; an SLO of 2 s to the first token and
    /// 100 ms between tokens (the order of MLPerf's interactive LLM scenarios).
    fn default() -> Self {
        IterationConfig {
            router: Router::LeastLoaded,
            form: IterationForm::Sum,
            block_tokens: 16,
            max_seqs: 256,
            max_batched_tokens: 8192,
            chunked_prefill: false,
            watermark: 0.01,
            ttft_slo_s: 2.0,
            tbt_slo_s: 0.1,
            hardware: Hardware::rtx4080(),
            model: ModelShape::qwen3_1_7b(),
            profile: None,
        }
    }
}

/// Upper bounds that keep a slip of the keyboard from exhausting memory.
pub const MAX_BLOCK_TOKENS: u32 = 1024;
pub const MAX_SEQS: u32 = 1 << 20;

impl IterationConfig {
    pub fn validate(&self) -> Result<()> {
        fn share(field: &str, v: f64) -> Result<()> {
            if v > 0.0 && v <= 1.0 {
                Ok(())
            } else {
                Err(Error::field(field, format!("must be in (0, 1] (got {v})")))
            }
        }
        if !(1..=MAX_BLOCK_TOKENS).contains(&self.block_tokens) {
            return Err(Error::field("iteration.block_tokens", format!("must be 1 to {MAX_BLOCK_TOKENS} (got {})", self.block_tokens)));
        }
        if !(1..=MAX_SEQS).contains(&self.max_seqs) {
            return Err(Error::field("iteration.max_seqs", format!("must be 1 to {MAX_SEQS} (got {})", self.max_seqs)));
        }
        if self.max_batched_tokens < self.max_seqs {
            return Err(Error::field(
                "iteration.max_batched_tokens",
                format!(
                    "must be at least max_seqs ({}), so every running sequence can decode in each iteration (got {})",
                    self.max_seqs, self.max_batched_tokens
                ),
            ));
        }
        if !(0.0..0.5).contains(&self.watermark) {
            return Err(Error::field("iteration.watermark", format!("must be in [0, 0.5) (got {})", self.watermark)));
        }
        positive("iteration.ttft_slo_s", self.ttft_slo_s)?;
        positive("iteration.tbt_slo_s", self.tbt_slo_s)?;
        positive("iteration.hardware.peak_tflops", self.hardware.peak_tflops)?;
        positive("iteration.hardware.bandwidth_gb_s", self.hardware.bandwidth_gb_s)?;
        share("iteration.hardware.mfu", self.hardware.mfu)?;
        share("iteration.hardware.mbu", self.hardware.mbu)?;
        positive("iteration.model.params_b", self.model.params_b)?;
        positive("iteration.model.bytes_per_param", self.model.bytes_per_param)
    }
}
