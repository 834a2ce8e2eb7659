//! The token-level model and its metrics: when every
//! output token of every request is emitted, and the TTFT / TBT / per-token SLA metrics
//! that follow. The event simulation (engine.rs) decides which requests form a batch,
//! on which GPU and when it starts; this pass only times the tokens inside each batch.
//!
//! # The model
//!
//! A batch of `b` requests starts at `s`. Request i has `p_i` prompt and `o_i` output
//! tokens and occupies positions `1..=e_i`, `e_i = p_i + o_i` (as the latency model,
//! prompt tokens are processed at the decode rate, one position per step). The batch
//! pays the fixed cost `alpha`, then runs steps `j = 1, 2, ...`; step j takes
//!
//! ```text
//! d_j = step_b * h(n_j) / h(b) * (1 + kappa * c_j / context_ref)
//! ```
//!
//! - `step_b` is the batch's full-size step from the schedule, `T(b, L) = alpha +
//!   step_b * L`: `beta * h(b)` in fit mode (grid mode: `(T(b, L) - alpha) / L`).
//! - `n_j` is the number of sequences still stepping: `b` under `Padded` (all step until
//!   the longest, `L = max e_i`, finishes: static batching as the paper models it); under
//!   `EarlyExit` the members with `e_i >= j` (finished sequences leave, later steps get
//!   cheaper, and the batch ends after its longest member). `h(n) = 1 + gamma (n-1)/n`.
//! - `c_j = j`, the context length of every active sequence at step j (all sequences
//!   advance one position per step from position 0, so their mean context is j). The
//!   KV-cache reads grow with it through `kappa` (default 0: no context cost).
//!
//! Request i's k-th output token (k = 1..=o_i) is emitted at the end of step `p_i + k`:
//! `t_ik = s + alpha + D(p_i + k)`, `D(m) = d_1 + ... + d_m`. So
//! - TTFT_i = `t_i1 - arrival_i` (requests with `o_i = 0` emit no token and have none);
//! - its decode gaps (TBT) are `d_j` for `j = p_i + 2 ..= p_i + o_i` (`o_i - 1` gaps);
//! - it violates the per-token SLA when its largest gap exceeds `D_SLA_token` (the
//!   worst gap, TTFT excluded); every gap
//!   above `D_SLA_token` is also counted, for the violation rate by tokens;
//! - it violates the per-request SLA when `finish_i - arrival_i > D_SLA_request`, with
//!   `finish_i` the schedule's completion (as in metrics.rs); goodput counts the requests
//!   meeting both, per second of makespan (first arrival to last completion).
//!
//! With `Padded` and `kappa = 0` every step costs `step_b`: the batch takes `alpha +
//! L * step_b = T(b, L)`, token k of request i leaves at `s + alpha + step_b (p_i + k)`
//! and every gap is `step_b` — metrics.rs's closed form, so the paper's figures do not
//! move. The pass does not feed back into the event simulation: under `EarlyExit` the
//! GPU is still held until the schedule's batch end.
//!
//! # Arithmetic (why two backends give the same bits)
//!
//! The ~1e8 decode gaps are evaluated in f32 by both backends with the same operations:
//! `g = a * (1 + kr * j)` with `a = f32(step_b h(n)/h(b))` (the segment's cost, computed
//! once in f64) and `kr = f32(kappa / context_ref)`; `+` and `*` are correctly rounded in
//! Rust and in WGSL, and the shader blocks fused multiply-add, so each gap has the same
//! bits on CPU and GPU (within ~2 ulp, 2.4e-7 relative, of the real value). Buckets and
//! the SLA test are exact comparisons against f32 thresholds rounded the safe way (see
//! histogram.rs), so the integer counts match exactly. TTFT (one per request) and batch
//! times are f64 closed forms computed on the host for both backends.

mod cpu;
pub use crate::histogram;
mod pass;
mod plan;

use serde::{Deserialize, Serialize};

pub use crate::config::{Semantics, DEFAULT_CONTEXT_REF_TOKENS};
use crate::config::Config;
use crate::engine::Schedule;
use crate::error::{Error, Result};
use crate::latency::LatencyModel;
use crate::workload::Workload;

pub use histogram::LogHistogram;
pub use pass::{is_software_adapter, now, CpuTokenPass, TokenDevice, TokenPass};
// For token-pass backends (`batchlab-gpu`): the host part every backend shares (the
// walk over batches into step segments) and the sink a backend's decode loop fills.
pub use plan::{walk, Constants, DecodeSink, HostTotals, RequestGaps, Segment};

/// Parameters of the step-time function. `alpha_s` and `gamma` come from the latency
/// fit (`from_latency`); `kappa` and `context_ref_tokens` default to no context cost.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TokenModelConfig {
    pub semantics: Semantics,
    /// Fixed per-batch cost before the first step (prefill / first token), seconds.
    pub alpha_s: f64,
    /// Batch-size penalty of `h(n) = 1 + gamma (n - 1) / n`.
    pub gamma: f64,
    /// Context cost: a step at context c costs `(1 + kappa c / context_ref_tokens)` times more.
    pub kappa: f64,
    pub context_ref_tokens: f64,
}

/// Positions are counted in f32 by both backends: exact below 2^24.
pub const MAX_SEQUENCE_TOKENS: u64 = 1 << 24;

impl TokenModelConfig {
    /// The model that reproduces the latency model: padded, no context cost.
    pub fn from_latency(model: &LatencyModel) -> Self {
        TokenModelConfig {
            semantics: Semantics::Padded,
            alpha_s: model.alpha_s(),
            gamma: model.fit.gamma,
            kappa: 0.0,
            context_ref_tokens: DEFAULT_CONTEXT_REF_TOKENS,
        }
    }

    /// The run's model: alpha and gamma from the latency fit, the rest from `cfg`.
    pub fn from_config(cfg: &Config, model: &LatencyModel) -> Self {
        TokenModelConfig {
            semantics: cfg.token_semantics,
            kappa: cfg.token_kappa,
            context_ref_tokens: cfg.token_context_ref_tokens,
            ..Self::from_latency(model)
        }
    }

    pub fn validate(&self) -> Result<()> {
        // alpha and gamma come from the calibration's fit.
        let check = |ok: bool, field: &str, what: String| if ok { Ok(()) } else { Err(Error::field(field, what)) };
        check(self.alpha_s.is_finite() && self.alpha_s >= 0.0, "calibration", format!("the fit's alpha must be a finite number >= 0 (got {})", self.alpha_s))?;
        check(self.gamma.is_finite() && self.gamma > -1.0, "calibration", format!("the fit's gamma must be a finite number > -1 (got {})", self.gamma))?;
        check(self.kappa.is_finite() && self.kappa >= 0.0, "token_kappa", format!("must be a finite number >= 0 (got {})", self.kappa))?;
        check(
            self.context_ref_tokens.is_finite() && self.context_ref_tokens > 0.0,
            "token_context_ref_tokens",
            format!("must be a finite number > 0 (got {})", self.context_ref_tokens),
        )
    }

    /// `h(n) = 1 + gamma (n - 1) / n`, the same expression as the latency fit's.
    pub fn h(&self, n: u32) -> f64 {
        let n = n.max(1) as f64;
        1.0 + self.gamma * (n - 1.0) / n
    }
}

/// The two SLA limits the token pass judges against (from the run's Config).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Slas {
    pub d_sla_token_s: f64,
    pub d_sla_request_s: f64,
}

impl Slas {
    pub fn from_config(cfg: &Config) -> Self {
        Slas { d_sla_token_s: cfg.d_sla_token_s, d_sla_request_s: cfg.d_sla_request_s }
    }
}

/// What a backend computes from the decode gaps (the bulk part). Both backends return
/// exactly equal values for the same input.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DecodeTotals {
    /// Every decode gap; min and max are the exact f32 extremes.
    pub tbt: LogHistogram,
    /// Gaps above D_SLA_token.
    pub violating_gaps: u64,
    /// Requests with a gap above D_SLA_token.
    pub token_violating_requests: u64,
    /// Requests with at least one gap that meet both SLAs.
    pub good_requests: u64,
}

/// Token-level metrics of one run (the same type whichever backend ran).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TokenMetrics {
    pub semantics: Semantics,
    pub requests: u64,
    /// Requests with at least one output token (they have a TTFT).
    pub requests_with_output: u64,
    /// Decode gaps evaluated: the sum over requests of `o_i - 1` (the TBT samples).
    pub decode_gaps: u64,
    /// Output tokens emitted (sum of `o_i`).
    pub output_tokens: u64,
    pub ttft_p50_s: f64,
    pub ttft_p95_s: f64,
    pub ttft_p99_s: f64,
    pub ttft_max_s: f64,
    /// Over every decode gap of every request.
    pub tbt_p50_s: f64,
    pub tbt_p95_s: f64,
    pub tbt_p99_s: f64,
    pub tbt_max_s: f64,
    pub token_sla_violating_requests: u64,
    pub token_sla_violating_gaps: u64,
    /// Share of requests whose largest gap exceeds D_SLA_token.
    pub token_sla_violation_rate_requests: f64,
    /// Share of decode gaps above D_SLA_token (0 when there is none).
    pub token_sla_violation_rate_tokens: f64,
    pub request_sla_violating_requests: u64,
    /// Requests meeting both the per-token and the per-request SLA.
    pub requests_meeting_both: u64,
    pub makespan_s: f64,
    /// `requests_meeting_both` per second of makespan.
    pub goodput_rps: f64,
    pub ttft_histogram: LogHistogram,
    pub tbt_histogram: LogHistogram,
}

/// The token pass on the CPU (the reference backend, and the fallback without a GPU).
pub fn run_cpu(w: &Workload, s: &Schedule, cfg: &TokenModelConfig, slas: &Slas) -> Result<TokenMetrics> {
    let consts = plan::Constants::new(cfg, slas)?;
    let mut decode = cpu::CpuDecode::new(&consts);
    let host = plan::walk(w, s, cfg, slas, &consts, &mut decode)?;
    Ok(finish(cfg, &consts, host, decode.into_totals()))
}

/// Combine the host's per-request part with a backend's decode totals.
pub fn finish(cfg: &TokenModelConfig, consts: &plan::Constants, host: HostTotals, decode: DecodeTotals) -> TokenMetrics {
    let qs = [0.5, 0.95, 0.99];
    let tt = host.ttft.percentiles(&consts.edges, &qs);
    let tb = decode.tbt.percentiles(&consts.edges, &qs);
    let ratio = |a: u64, b: u64| if b > 0 { a as f64 / b as f64 } else { 0.0 };
    let meeting_both = host.good_without_gaps + decode.good_requests;
    TokenMetrics {
        semantics: cfg.semantics,
        requests: host.requests,
        requests_with_output: host.ttft.total,
        decode_gaps: decode.tbt.total,
        output_tokens: host.output_tokens,
        ttft_p50_s: tt[0],
        ttft_p95_s: tt[1],
        ttft_p99_s: tt[2],
        ttft_max_s: host.ttft.max,
        tbt_p50_s: tb[0],
        tbt_p95_s: tb[1],
        tbt_p99_s: tb[2],
        tbt_max_s: decode.tbt.max,
        token_sla_violating_requests: decode.token_violating_requests,
        token_sla_violating_gaps: decode.violating_gaps,
        token_sla_violation_rate_requests: ratio(decode.token_violating_requests, host.requests),
        token_sla_violation_rate_tokens: ratio(decode.violating_gaps, decode.tbt.total),
        request_sla_violating_requests: host.request_sla_violating,
        requests_meeting_both: meeting_both,
        makespan_s: host.makespan_s,
        goodput_rps: if host.makespan_s > 0.0 { meeting_both as f64 / host.makespan_s } else { 0.0 },
        ttft_histogram: host.ttft,
        tbt_histogram: decode.tbt,
    }
}

#[cfg(test)]
mod tests;
