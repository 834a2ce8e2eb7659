//! Metrics of one run, computed from the workload and its schedule.
//! Percentiles are exact order statistics (numpy-linear), never sampled.

use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::engine::ScheduleView;
use crate::latency::LatencyModel;
use crate::stats::{mean, percentiles};
use crate::engine::iteration::IterationSchedule;
use crate::histogram::{bucket_f64_standard, edges_f64, LogHistogram};
use crate::token::TokenMetrics;
use crate::workload::Workload;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunMetrics {
    pub requests_completed: u64,
    /// Offered load: requests per second between the first and last arrival.
    pub arrival_rate_rps: f64,
    /// First arrival to last completion.
    pub makespan_s: f64,
    pub throughput_rps: f64,
    /// (prompt + output tokens) per second of makespan.
    pub throughput_tokens_per_s: f64,
    pub latency_mean_s: f64,
    pub latency_p50_s: f64,
    pub latency_p95_s: f64,
    pub latency_p99_s: f64,
    pub latency_max_s: f64,
    pub queue_delay_mean_s: f64,
    pub service_time_mean_s: f64,
    // The token-level fields below (TTFT, TBT, token SLA, capacity) are filled in by the
    // token pass (`token`, CPU or GPU) through `apply_token`; `compute` leaves them NaN.
    /// Time to first token: arrival to first output token.
    pub ttft_p50_s: f64,
    pub ttft_p95_s: f64,
    pub ttft_p99_s: f64,
    pub ttft_max_s: f64,
    /// Decode time between consecutive output tokens, over every gap of every request.
    pub tbt_p50_s: f64,
    pub tbt_p95_s: f64,
    pub tbt_p99_s: f64,
    pub tbt_max_s: f64,
    /// Share of requests whose largest decode gap exceeds the per-token SLA.
    pub token_sla_violation_rate: f64,
    /// Share of decode gaps (tokens) above the per-token SLA.
    pub token_sla_violation_rate_tokens: f64,
    /// Share of requests whose end-to-end latency exceeds the per-request SLA.
    pub request_sla_violation_rate: f64,
    /// Requests meeting both SLAs per second of makespan (goodput).
    pub capacity_under_sla_rps: f64,
    pub gpu_util_mean: f64,
    pub gpu_util_min: f64,
    pub gpu_util_max: f64,
    pub batch_count: u64,
    pub batch_size_mean: f64,
    pub batch_size_min: u32,
    pub batch_size_max: u32,
    /// Whether the per-token SLA can be violated at all: the slowest possible decode gap
    /// (`worst_token_gap_s`: a batch of B_max, with the context cost of the longest
    /// sequence) exceeds D_SLA_token. When false the token SLA never binds.
    pub token_sla_can_bind: bool,
    /// Continuous batching only (None for the batch schedulers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub continuous: Option<ContinuousMetrics>,
}

/// What only the iteration engine measures.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ContinuousMetrics {
    pub ttft_mean_s: f64,
    /// Time per output token after the first, `(finish - first token) / (output - 1)`,
    /// averaged over requests with at least two output tokens.
    pub tpot_mean_s: f64,
    /// Share of requests meeting the SLO: TTFT within `ttft_slo_s` and at least 99% of
    /// their gaps within `tbt_slo_s`.
    pub slo_attainment: f64,
    /// Requests meeting the SLO per second of makespan.
    pub slo_goodput_rps: f64,
    pub preemptions: u64,
    /// Mean share of the KV-cache blocks in use (all GPUs, over the makespan), and the
    /// peak share on one GPU.
    pub kv_util_mean: f64,
    pub kv_util_max: f64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BinStats {
    pub bin: u32,
    /// Predicted-length range [lo, hi) of the bin (hi = inf for the last one).
    pub predicted_lo: f64,
    pub predicted_hi: f64,
    pub requests: u64,
    pub batches: u64,
    pub batch_size_mean: f64,
    pub output_tokens_min: u32,
    pub output_tokens_max: u32,
    pub latency_mean_s: f64,
}

/// Compute every request-level metric from either engine's schedule. Requests are all
/// served (the engines drain their queues).
pub fn compute(w: &Workload, cfg: &Config, model: &LatencyModel, s: &impl ScheduleView) -> (RunMetrics, Vec<BinStats>) {
    let n = w.len();
    let first_arrival = w.arrival_s.first().copied().unwrap_or(0.0);
    let (start_s, finish_s) = (s.start_s(), s.finish_s());
    let last_finish = finish_s.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let makespan = (last_finish - first_arrival).max(0.0);
    let per_s = |x: f64| if makespan > 0.0 { x / makespan } else { 0.0 };

    let mut latency = Vec::with_capacity(n);
    let mut queue = 0.0;
    let mut service = 0.0;
    let mut tokens = 0u64;
    let mut request_viol = 0u64;
    for i in 0..n {
        let lat = finish_s[i] - w.arrival_s[i];
        latency.push(lat);
        queue += start_s[i] - w.arrival_s[i];
        service += finish_s[i] - start_s[i];
        tokens += w.total_tokens(i) as u64;
        request_viol += (lat > cfg.d_sla_request_s) as u64;
    }
    let lat_mean = mean(&latency);
    let lp = percentiles(&mut latency, &[0.5, 0.95, 0.99, 1.0]);
    let utils: Vec<f64> = s.gpu_busy_s().iter().map(|&b| per_s(b)).collect();
    let batches = s.batch_summary();
    let metrics = RunMetrics {
        requests_completed: n as u64,
        arrival_rate_rps: {
            let span = w.arrival_s.last().copied().unwrap_or(0.0) - first_arrival;
            if span > 0.0 { (n as f64 - 1.0) / span } else { f64::INFINITY }
        },
        makespan_s: makespan,
        throughput_rps: per_s(n as f64),
        throughput_tokens_per_s: per_s(tokens as f64),
        latency_mean_s: lat_mean,
        latency_p50_s: lp[0],
        latency_p95_s: lp[1],
        latency_p99_s: lp[2],
        latency_max_s: lp[3],
        queue_delay_mean_s: queue / n as f64,
        service_time_mean_s: service / n as f64,
        request_sla_violation_rate: request_viol as f64 / n as f64,
        gpu_util_mean: mean(&utils),
        gpu_util_min: utils.iter().copied().fold(f64::INFINITY, f64::min),
        gpu_util_max: utils.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        batch_count: batches.count,
        batch_size_mean: batches.members as f64 / batches.count.max(1) as f64,
        batch_size_min: batches.size_min,
        batch_size_max: batches.size_max,
        token_sla_can_bind: worst_token_gap_s(w, cfg, model) > cfg.d_sla_token_s,
        ..RunMetrics::default()
    };
    (metrics.with_token_fields_unset(), bin_stats(w, s, &batches.per_bin))
}

/// An upper bound on every decode gap of the token pass (`token`): the slowest step of
/// a batch of B_max, times the context cost at the longest sequence of the workload
/// (`1 + kappa * c / context_ref`, c <= prompt + output). Gaps above D_SLA_token are
/// impossible when this is not above it.
pub fn worst_token_gap_s(w: &Workload, cfg: &Config, model: &LatencyModel) -> f64 {
    let step = model.token_step_s(cfg.b_max, 1).max(model.token_step_s(cfg.b_max, 4096));
    let longest = (0..w.len()).map(|i| w.total_tokens(i)).max().unwrap_or(0);
    step * (1.0 + cfg.token_kappa * longest as f64 / cfg.token_context_ref_tokens)
}

impl RunMetrics {
    fn with_token_fields_unset(self) -> Self {
        let nan = f64::NAN;
        RunMetrics {
            ttft_p50_s: nan,
            ttft_p95_s: nan,
            ttft_p99_s: nan,
            ttft_max_s: nan,
            tbt_p50_s: nan,
            tbt_p95_s: nan,
            tbt_p99_s: nan,
            tbt_max_s: nan,
            token_sla_violation_rate: nan,
            token_sla_violation_rate_tokens: nan,
            capacity_under_sla_rps: nan,
            ..self
        }
    }

    /// Fill the token-level fields from the token pass (whichever backend ran it).
    pub fn apply_token(&mut self, t: &TokenMetrics) {
        self.ttft_p50_s = t.ttft_p50_s;
        self.ttft_p95_s = t.ttft_p95_s;
        self.ttft_p99_s = t.ttft_p99_s;
        self.ttft_max_s = t.ttft_max_s;
        self.tbt_p50_s = t.tbt_p50_s;
        self.tbt_p95_s = t.tbt_p95_s;
        self.tbt_p99_s = t.tbt_p99_s;
        self.tbt_max_s = t.tbt_max_s;
        self.token_sla_violation_rate = t.token_sla_violation_rate_requests;
        self.token_sla_violation_rate_tokens = t.token_sla_violation_rate_tokens;
        self.capacity_under_sla_rps = t.goodput_rps;
    }
}

/// The token-level metrics of a continuous run (the iteration engine timed every token
/// itself), and its own columns, written into `m`. The same definitions as the token
/// pass: TTFT over requests with an output token, TBT over every gap, the per-token SLA
/// broken by a request with a gap above `d_sla_token_s`, goodput counting requests that
/// meet both SLAs.
pub fn continuous(w: &Workload, cfg: &Config, s: &IterationSchedule, m: &mut RunMetrics) -> TokenMetrics {
    let edges = edges_f64();
    let it = &cfg.iteration;
    let mut ttft = LogHistogram::default();
    let (mut ttft_sum, mut ttft_lo, mut ttft_hi) = (0.0, f64::INFINITY, f64::NEG_INFINITY);
    let (mut tpot_sum, mut tpot_n) = (0.0, 0u64);
    let (mut token_bad, mut request_bad, mut both_ok, mut slo_ok, mut output_tokens) = (0u64, 0u64, 0u64, 0u64, 0u64);
    for i in 0..w.len() {
        let o = w.output_tokens[i];
        output_tokens += u64::from(o);
        let first = if o > 0 { s.first_token_s[i] } else { s.finish_s[i] };
        let to_first = first - w.arrival_s[i];
        if o > 0 {
            ttft.add_to_bucket(bucket_f64_standard(&edges, to_first), 1);
            ttft_sum += to_first;
            (ttft_lo, ttft_hi) = (ttft_lo.min(to_first), ttft_hi.max(to_first));
        }
        if o >= 2 {
            tpot_sum += (s.finish_s[i] - s.first_token_s[i]) / f64::from(o - 1);
            tpot_n += 1;
        }
        let token_violated = s.gaps_above_token_sla[i] > 0;
        let request_violated = s.finish_s[i] - w.arrival_s[i] > cfg.d_sla_request_s;
        token_bad += token_violated as u64;
        request_bad += request_violated as u64;
        both_ok += (!token_violated && !request_violated) as u64;
        // Nearest-rank p99 of its gaps within the limit: at most 1% of them above it.
        let gaps = o.saturating_sub(1);
        let allowed = gaps - (99 * u64::from(gaps)).div_ceil(100) as u32;
        slo_ok += (to_first <= it.ttft_slo_s && s.gaps_above_tbt_slo[i] <= allowed) as u64;
    }
    if ttft.total > 0 {
        ttft.cover(ttft_lo, ttft_hi);
    }
    let n = w.len() as u64;
    let ratio = |a: u64, b: u64| if b > 0 { a as f64 / b as f64 } else { 0.0 };
    let per_s = |x: u64| if m.makespan_s > 0.0 { x as f64 / m.makespan_s } else { 0.0 };
    let qs = [0.5, 0.95, 0.99];
    let (tt, tb) = (ttft.percentiles(&edges, &qs), s.tbt.percentiles(&edges, &qs));
    let violating_gaps: u64 = s.gaps_above_token_sla.iter().map(|&g| u64::from(g)).sum();
    m.continuous = Some(ContinuousMetrics {
        ttft_mean_s: if ttft.total > 0 { ttft_sum / ttft.total as f64 } else { f64::NAN },
        tpot_mean_s: if tpot_n > 0 { tpot_sum / tpot_n as f64 } else { f64::NAN },
        slo_attainment: ratio(slo_ok, n),
        slo_goodput_rps: per_s(slo_ok),
        preemptions: s.preemptions,
        kv_util_mean: s.kv_util_mean,
        kv_util_max: s.kv_util_max,
    });
    m.token_sla_can_bind = true;
    TokenMetrics {
        requests: n,
        requests_with_output: ttft.total,
        decode_gaps: s.tbt.total,
        output_tokens,
        ttft_p50_s: tt[0],
        ttft_p95_s: tt[1],
        ttft_p99_s: tt[2],
        ttft_max_s: ttft.max,
        tbt_p50_s: tb[0],
        tbt_p95_s: tb[1],
        tbt_p99_s: tb[2],
        tbt_max_s: s.tbt.max,
        token_sla_violating_requests: token_bad,
        token_sla_violating_gaps: violating_gaps,
        token_sla_violation_rate_requests: ratio(token_bad, n),
        token_sla_violation_rate_tokens: ratio(violating_gaps, s.tbt.total),
        request_sla_violating_requests: request_bad,
        requests_meeting_both: both_ok,
        makespan_s: m.makespan_s,
        goodput_rps: per_s(both_ok),
        ttft_histogram: ttft,
        tbt_histogram: s.tbt.clone(),
        ..TokenMetrics::default()
    }
}

/// Per-bin statistics; `batches_per_bin` is empty when batches are not formed per bin
/// (continuous batching: no batch columns).
fn bin_stats(w: &Workload, s: &impl ScheduleView, batches_per_bin: &[u64]) -> Vec<BinStats> {
    let (bins, bin_of, finish_s) = (s.bins(), s.bin_of(), s.finish_s());
    let k = bins.k();
    let mut out: Vec<BinStats> = (0..k)
        .map(|j| {
            let (lo, hi) = bins.range(j);
            BinStats { bin: j as u32, predicted_lo: lo, predicted_hi: hi, output_tokens_min: u32::MAX, ..Default::default() }
        })
        .collect();
    let mut lat_sum = vec![0.0; k];
    for i in 0..w.len() {
        let b = &mut out[bin_of[i] as usize];
        b.requests += 1;
        b.output_tokens_min = b.output_tokens_min.min(w.output_tokens[i]);
        b.output_tokens_max = b.output_tokens_max.max(w.output_tokens[i]);
        lat_sum[bin_of[i] as usize] += finish_s[i] - w.arrival_s[i];
    }
    for (b, &count) in out.iter_mut().zip(batches_per_bin) {
        b.batches = count;
    }
    for (b, l) in out.iter_mut().zip(lat_sum) {
        if b.requests == 0 {
            b.output_tokens_min = 0;
            b.latency_mean_s = f64::NAN;
            b.batch_size_mean = f64::NAN;
        } else {
            b.latency_mean_s = l / b.requests as f64;
            b.batch_size_mean = if b.batches > 0 { b.requests as f64 / b.batches as f64 } else { f64::NAN };
        }
    }
    out
}
