//! The host side of the token pass, shared by both backends: one walk over the batches
//! that builds each batch's step segments, computes every TTFT and request-SLA verdict
//! (f64 closed forms, one per request), and hands each request's decode gaps — the bulk
//! work — to a `DecodeSink` (the CPU loop, or the GPU crate's upload buffers).

use super::histogram::{bucket_f64, edges_f32_extended, edges_f64, f32_round_down, LogHistogram};
use super::{Semantics, Slas, TokenModelConfig, MAX_SEQUENCE_TOKENS};
use crate::engine::Schedule;
use crate::error::{Error, Result};
use crate::workload::Workload;

/// Steps `start_step..=end_step` of one batch, during which the number of stepping
/// sequences (so the per-step cost at zero context) is constant. A batch's segments are
/// consecutive from step 1, none empty.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Segment {
    pub start_step: u32,
    pub end_step: u32,
    /// `step_b h(n) / h(b)`: the cost of a step at zero context, f64 and as the f32 gaps use it.
    pub a: f64,
    pub a32: f32,
    /// `D(start_step - 1)`: the time of every step before this segment (f64).
    pub before_s: f64,
}

/// Run-wide constants both backends use: the bucket tables and the f32 parameters.
#[derive(Debug, Clone)]
pub struct Constants {
    /// Bucket edges `E_k` (f64) and the extended f32 table (see histogram.rs).
    pub edges: Vec<f64>,
    pub ext32: Vec<f32>,
    /// `kappa / context_ref`, f64 (TTFT) and f32 (gaps).
    pub kr: f64,
    pub kr32: f32,
    /// A gap `g` violates the per-token SLA iff `g > thr32` (== `g > D_SLA_token` exactly).
    pub thr32: f32,
}

impl Constants {
    pub fn new(cfg: &TokenModelConfig, slas: &Slas) -> Result<Self> {
        cfg.validate()?;
        if !(slas.d_sla_token_s.is_finite() && slas.d_sla_token_s > 0.0) {
            return Err(Error::field("d_sla_token_s", format!("must be a finite number > 0 (got {})", slas.d_sla_token_s)));
        }
        if slas.d_sla_request_s.is_nan() {
            return Err(Error::field("d_sla_request_s", "must be a number (got NaN)"));
        }
        let edges = edges_f64();
        let ext32 = edges_f32_extended(&edges);
        let kr = cfg.kappa / cfg.context_ref_tokens;
        Ok(Constants { edges, ext32, kr, kr32: kr as f32, thr32: f32_round_down(slas.d_sla_token_s) })
    }
}

/// The one decode gap formula of both backends (the shader's `gap()` mirrors it, with
/// fused multiply-add blocked): `a * (1 + kr * j)` in f32.
#[inline(always)]
pub fn gap_f32(a32: f32, kr32: f32, j: u32) -> f32 {
    a32 * (1.0 + kr32 * j as f32)
}

/// The decode gaps of one request: steps `first_step..=last_step` (at least one),
/// starting in segment `segment` of its batch (an index into the slice last given to
/// `DecodeSink::batch`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestGaps {
    pub request: u32,
    pub first_step: u32,
    pub last_step: u32,
    pub segment: u32,
}

/// Receives the bulk work, batch by batch.
pub trait DecodeSink {
    /// The next batch's segments; the requests that follow belong to it.
    fn batch(&mut self, segments: &[Segment]);
    /// A request with at least one decode gap, and whether it meets the per-request SLA.
    fn request(&mut self, gaps: RequestGaps, request_sla_ok: bool);
}

/// What the host computes itself, per request.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HostTotals {
    pub requests: u64,
    pub output_tokens: u64,
    pub ttft: LogHistogram,
    pub request_sla_violating: u64,
    /// Requests with no decode gap (o <= 1: the token SLA holds) meeting the request SLA.
    pub good_without_gaps: u64,
    pub makespan_s: f64,
}

/// Build batch `b`'s segments into `out` (cleared first). `exits` is scratch space.
pub fn batch_segments(
    w: &Workload,
    members: &[u32],
    step_s: f64,
    cfg: &TokenModelConfig,
    kr: f64,
    exits: &mut Vec<u32>,
    out: &mut Vec<Segment>,
) {
    out.clear();
    exits.clear();
    exits.extend(members.iter().map(|&r| w.prompt_tokens[r as usize] + w.output_tokens[r as usize]));
    let b = members.len() as u32;
    let h_b = cfg.h(b);
    let push = |start: u32, end: u32, a: f64, out: &mut Vec<Segment>| {
        let before_s = out.last().map_or(0.0, |s: &Segment| s.before_s + steps_time(s.a, kr, s.start_step, s.end_step));
        out.push(Segment { start_step: start, end_step: end, a, a32: a as f32, before_s });
    };
    match cfg.semantics {
        Semantics::Padded => {
            let longest = exits.iter().copied().max().unwrap_or(0);
            if longest > 0 {
                push(1, longest, step_s, out);
            }
        }
        Semantics::EarlyExit => {
            exits.sort_unstable();
            let mut start = 1u32;
            for (k, &e) in exits.iter().enumerate() {
                if e >= start {
                    // Members k.. (sorted) have e_i >= e: they all step through `start..=e`.
                    let n = b - k as u32;
                    let a = if n == b { step_s } else { step_s * (cfg.h(n) / h_b) };
                    push(start, e, a, out);
                    start = e + 1;
                }
            }
        }
    }
}

/// `sum_{j=lo..=hi} a (1 + kr j)` in f64, closed form (0 when hi < lo).
#[inline]
fn steps_time(a: f64, kr: f64, lo: u32, hi: u32) -> f64 {
    if hi < lo {
        return 0.0;
    }
    let count = (hi - lo + 1) as u64;
    let sum_j = (lo as u64 + hi as u64) * count / 2;
    a * (count as f64 + kr * sum_j as f64)
}

/// `D(m)`: the time of steps `1..=m` (m within the segments).
pub fn time_through(segments: &[Segment], kr: f64, m: u32) -> f64 {
    let k = segment_of(segments, m);
    let s = &segments[k];
    s.before_s + steps_time(s.a, kr, s.start_step, m)
}

/// Index of the segment holding step `j` (the last one if j is past the end).
#[inline]
pub fn segment_of(segments: &[Segment], j: u32) -> usize {
    segments.partition_point(|s| s.end_step < j).min(segments.len().saturating_sub(1))
}

/// A batch's total time under the token model: `alpha + D(L)` (tests check the walk
/// against it).
#[cfg(test)]
pub fn batch_total_s(segments: &[Segment], cfg: &TokenModelConfig, kr: f64) -> f64 {
    match segments.last() {
        Some(last) => cfg.alpha_s + time_through(segments, kr, last.end_step),
        None => cfg.alpha_s,
    }
}

/// Walk every batch of the schedule: TTFTs and request-SLA verdicts here, decode gaps
/// to `sink`. Errors (one line) if the schedule does not belong to the workload or a
/// sequence is too long for f32 positions.
pub fn walk(
    w: &Workload,
    s: &Schedule,
    cfg: &TokenModelConfig,
    slas: &Slas,
    consts: &Constants,
    sink: &mut impl DecodeSink,
) -> Result<HostTotals> {
    let n = w.len();
    if s.start_s.len() != n || s.finish_s.len() != n || s.members.len() != n || s.member_start.len() != s.batches.len() + 1 {
        return Err(Error::token_pass(
            format!("the schedule covers {} requests but the workload has {n}", s.members.len()),
        ));
    }
    if let Some(i) = (0..n).find(|&i| (w.prompt_tokens[i] as u64 + w.output_tokens[i] as u64) >= MAX_SEQUENCE_TOKENS) {
        return Err(Error::token_pass(
            format!("request {} has {} tokens; the token pass supports fewer than 2^24 per request", i + 1, w.prompt_tokens[i] as u64 + w.output_tokens[i] as u64),
        ));
    }
    let mut totals = HostTotals { requests: n as u64, ..Default::default() };
    let first_arrival = w.arrival_s.first().copied().unwrap_or(0.0);
    let last_finish = s.finish_s.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    totals.makespan_s = (last_finish - first_arrival).max(0.0);
    let (mut exits, mut segments) = (Vec::new(), Vec::new());
    let (mut ttft_lo, mut ttft_hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for (b, batch) in s.batches.iter().enumerate() {
        let members = s.members_of(b);
        batch_segments(w, members, batch.step_s, cfg, consts.kr, &mut exits, &mut segments);
        sink.batch(&segments);
        for &r in members {
            let i = r as usize;
            let (p, o) = (w.prompt_tokens[i], w.output_tokens[i]);
            totals.output_tokens += o as u64;
            // Violated iff latency > D (metrics.rs's test; a NaN latency does not violate).
            let request_violated = s.finish_s[i] - w.arrival_s[i] > slas.d_sla_request_s;
            let request_ok = !request_violated;
            totals.request_sla_violating += request_violated as u64;
            if o >= 1 {
                // Same expression order as metrics.rs's closed form, so padded/kappa = 0 is bit-equal.
                let ttft = s.start_s[i] + cfg.alpha_s + time_through(&segments, consts.kr, p + 1) - w.arrival_s[i];
                totals.ttft.add_to_bucket(bucket_f64(&consts.edges, ttft), 1);
                ttft_lo = ttft_lo.min(ttft);
                ttft_hi = ttft_hi.max(ttft);
            }
            if o >= 2 {
                let first_step = p + 2;
                let segment = segment_of(&segments, first_step) as u32;
                sink.request(RequestGaps { request: r, first_step, last_step: p + o, segment }, request_ok);
            } else if request_ok {
                totals.good_without_gaps += 1;
            }
        }
    }
    if totals.ttft.total > 0 {
        totals.ttft.cover(ttft_lo, ttft_hi);
    }
    Ok(totals)
}
