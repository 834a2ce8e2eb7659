//! Every metric of a run, defined once: its CSV column, its label for people, its kind
//! (how to show it) and where to read it in a `RunResult`. The CSV header and cells, the
//! CLI's tables and the page's tables all come from these lists, so a metric cannot be
//! named or rounded differently in two places.

use super::{fmt_f64, human};
use crate::config::IterationCost;
use crate::metrics::ContinuousMetrics;
use crate::run::RunResult;

/// What a metric measures, which says how to show it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A duration in seconds: "5.74 ms", "41.8 min".
    Seconds,
    /// Seconds per output token (the fit's beta): "1.02 ms/token".
    SecondsPerToken,
    /// Something per second, with its unit: "3.25 req/s".
    Rate(&'static str),
    /// A fraction in [0, 1], shown as a percentage.
    Fraction,
    /// A plain number (a mean batch size, the fit's gamma).
    Number,
    /// A whole number.
    Count,
    /// True or false.
    Flag,
}

/// A metric's value as stored in `RunResult`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Value {
    Real(f64),
    Whole(u64),
    Flag(bool),
    /// Not measured by this run's engine: an empty cell, "–" for people.
    Missing,
}

pub struct Metric {
    /// The CSV column, with its unit in the name (`latency_p95_s`).
    pub key: &'static str,
    /// For people (`latency p95`); the unit goes with the value.
    pub label: &'static str,
    pub kind: Kind,
    pub value: fn(&RunResult) -> Value,
}

impl Metric {
    /// The CSV cell: floats with `fmt_f64`'s 6 decimals.
    pub fn csv(&self, r: &RunResult) -> String {
        match (self.value)(r) {
            Value::Real(x) => fmt_f64(x),
            Value::Whole(n) => n.to_string(),
            Value::Flag(b) => b.to_string(),
            Value::Missing => String::new(),
        }
    }

    /// Whether this run's engine measures it (the continuous-only metrics and the
    /// iteration costs do not apply to batch runs).
    pub fn applies(&self, r: &RunResult) -> bool {
        (self.value)(r) != Value::Missing
    }

    /// The cell for people, by the one human formatter.
    pub fn human(&self, r: &RunResult) -> String {
        match ((self.value)(r), self.kind) {
            (Value::Real(x), Kind::Seconds) => human::duration(x),
            (Value::Real(x), Kind::SecondsPerToken) => match human::duration(x) {
                d if x.is_finite() => format!("{d}/token"),
                d => d,
            },
            (Value::Real(x), Kind::Rate(unit)) => human::with_unit(x, unit),
            (Value::Real(x), Kind::Fraction) => human::percent(x),
            (Value::Real(x), _) => human::number(x),
            (Value::Whole(n), _) => n.to_string(),
            (Value::Flag(b), _) => human::yes_no(b),
            (Value::Missing, _) => human::number(f64::NAN),
        }
    }
}

use Kind::*;
use Value::{Flag as B, Missing, Real as F, Whole as N};

const REQ_S: Kind = Rate("req/s");

/// The run's metrics, in the CSV's order (between the configuration and the bins).
pub const METRICS: &[Metric] = &[
    m("requests_completed", "requests completed", Count, |r| N(r.metrics.requests_completed)),
    m("arrival_rate_rps", "arrival rate", REQ_S, |r| F(r.metrics.arrival_rate_rps)),
    m("makespan_s", "makespan", Seconds, |r| F(r.metrics.makespan_s)),
    m("throughput_rps", "throughput", REQ_S, |r| F(r.metrics.throughput_rps)),
    m("throughput_tokens_per_s", "token throughput", Rate("tokens/s"), |r| F(r.metrics.throughput_tokens_per_s)),
    m("latency_mean_s", "latency mean", Seconds, |r| F(r.metrics.latency_mean_s)),
    m("latency_p50_s", "latency p50", Seconds, |r| F(r.metrics.latency_p50_s)),
    m("latency_p95_s", "latency p95", Seconds, |r| F(r.metrics.latency_p95_s)),
    m("latency_p99_s", "latency p99", Seconds, |r| F(r.metrics.latency_p99_s)),
    m("latency_max_s", "latency max", Seconds, |r| F(r.metrics.latency_max_s)),
    m("queue_delay_mean_s", "queue delay mean", Seconds, |r| F(r.metrics.queue_delay_mean_s)),
    m("service_time_mean_s", "service time mean", Seconds, |r| F(r.metrics.service_time_mean_s)),
    m("ttft_p50_s", "TTFT p50", Seconds, |r| F(r.metrics.ttft_p50_s)),
    m("ttft_p95_s", "TTFT p95", Seconds, |r| F(r.metrics.ttft_p95_s)),
    m("ttft_p99_s", "TTFT p99", Seconds, |r| F(r.metrics.ttft_p99_s)),
    m("ttft_max_s", "TTFT max", Seconds, |r| F(r.metrics.ttft_max_s)),
    m("tbt_p50_s", "TBT p50", Seconds, |r| F(r.metrics.tbt_p50_s)),
    m("tbt_p95_s", "TBT p95", Seconds, |r| F(r.metrics.tbt_p95_s)),
    m("tbt_p99_s", "TBT p99", Seconds, |r| F(r.metrics.tbt_p99_s)),
    m("tbt_max_s", "TBT max", Seconds, |r| F(r.metrics.tbt_max_s)),
    m("token_sla_violation_rate", "token SLA violations (requests)", Fraction, |r| F(r.metrics.token_sla_violation_rate)),
    m("token_sla_violation_rate_tokens", "token SLA violations (tokens)", Fraction, |r| {
        F(r.metrics.token_sla_violation_rate_tokens)
    }),
    m("request_sla_violation_rate", "request SLA violations", Fraction, |r| F(r.metrics.request_sla_violation_rate)),
    m("capacity_under_sla_rps", "goodput: both SLAs met", REQ_S, |r| F(r.metrics.capacity_under_sla_rps)),
    m("token_sla_can_bind", "token SLA can bind", Flag, |r| B(r.metrics.token_sla_can_bind)),
    m("gpu_util_mean", "GPU utilisation mean", Fraction, |r| F(r.metrics.gpu_util_mean)),
    m("gpu_util_min", "GPU utilisation min", Fraction, |r| F(r.metrics.gpu_util_min)),
    m("gpu_util_max", "GPU utilisation max", Fraction, |r| F(r.metrics.gpu_util_max)),
    m("batch_count", "batches", Count, |r| N(r.metrics.batch_count)),
    m("batch_size_mean", "batch size mean", Number, |r| F(r.metrics.batch_size_mean)),
    m("batch_size_min", "batch size min", Count, |r| N(r.metrics.batch_size_min.into())),
    m("batch_size_max", "batch size max", Count, |r| N(r.metrics.batch_size_max.into())),
    // Continuous batching only.
    m("ttft_mean_s", "TTFT mean", Seconds, |r| cont(r, |c| F(c.ttft_mean_s))),
    m("tpot_mean_s", "time per output token mean", Seconds, |r| cont(r, |c| F(c.tpot_mean_s))),
    m("slo_attainment", "SLO attainment (TTFT and TBT)", Fraction, |r| cont(r, |c| F(c.slo_attainment))),
    m("slo_goodput_rps", "goodput: SLO met", REQ_S, |r| cont(r, |c| F(c.slo_goodput_rps))),
    m("preemptions", "preemptions", Count, |r| cont(r, |c| N(c.preemptions))),
    m("kv_util_mean", "KV cache in use mean", Fraction, |r| cont(r, |c| F(c.kv_util_mean))),
    m("kv_util_max", "KV cache in use max", Fraction, |r| cont(r, |c| F(c.kv_util_max))),
];

fn cont(r: &RunResult, value: fn(&ContinuousMetrics) -> Value) -> Value {
    r.metrics.continuous.as_ref().map_or(Missing, value)
}

/// The iteration costs a continuous run used (roofline or profile fit), in the CSV's order.
pub const ITERATION: &[Metric] = &[
    m("iteration_c0_s", "iteration cost c0", Seconds, |r| iter(r, |c| c.c0_s)),
    m("iteration_prefill_token_s", "iteration cost per prefill token", Seconds, |r| iter(r, |c| c.prefill_token_s)),
    m("iteration_decode_seq_s", "iteration cost per decoding sequence", Seconds, |r| iter(r, |c| c.decode_seq_s)),
    m("iteration_context_token_s", "iteration cost per context token", Seconds, |r| iter(r, |c| c.context_token_s)),
];

fn iter(r: &RunResult, value: fn(&IterationCost) -> f64) -> Value {
    r.iteration.as_ref().map_or(Missing, |m| F(value(&m.cost)))
}

/// The latency model fitted to the calibration grid, in the CSV's order.
pub const FIT: &[Metric] = &[
    m("alpha_s", "fit alpha", Seconds, |r| F(r.fit.alpha_s)),
    m("beta_s", "fit beta", SecondsPerToken, |r| F(r.fit.beta_s)),
    m("gamma", "fit gamma", Number, |r| F(r.fit.gamma)),
    m("fit_r2", "fit R²", Number, |r| F(r.fit.r2)),
];

/// How long the run took on the machine: the CSV's last column, the only one that differs
/// between identical runs.
pub const WALL_TIME: Metric = m("wall_time_s", "wall time", Seconds, |r| F(r.wall_time_s));

const fn m(key: &'static str, label: &'static str, kind: Kind, value: fn(&RunResult) -> Value) -> Metric {
    Metric { key, label, kind, value }
}

/// Every metric: the run's, the fit's and the wall time.
pub fn all() -> impl Iterator<Item = &'static Metric> {
    METRICS.iter().chain(FIT).chain(ITERATION).chain(std::iter::once(&WALL_TIME))
}

/// The metric of a CSV column, for tables that show a few.
///
/// # Panics
/// On a key that no metric has: a typo in the caller, caught by its tests.
pub fn metric(key: &str) -> &'static Metric {
    all().find(|m| m.key == key).unwrap_or_else(|| panic!("no metric has the CSV column {key:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_labels_are_unique_and_values_match_their_kind() {
        let r = RunResult::default();
        let metrics: Vec<&Metric> = all().collect();
        for (i, a) in metrics.iter().enumerate() {
            for b in &metrics[i + 1..] {
                assert!(a.key != b.key && a.label != b.label, "{} / {}", a.key, b.key);
            }
            let ok = match ((a.value)(&r), a.kind) {
                (Value::Missing, _) => true,
                (Value::Whole(_), Kind::Count) | (Value::Flag(_), Kind::Flag) => true,
                (Value::Real(_), kind) => kind != Kind::Count && kind != Kind::Flag,
                _ => false,
            };
            assert!(ok, "{}: value and kind disagree", a.key);
        }
        assert_eq!(metric("latency_p95_s").label, "latency p95");
    }

    #[test]
    fn cells_for_files_and_for_people() {
        let mut r = RunResult::default();
        r.metrics.ttft_p95_s = 2510.329767;
        r.metrics.tbt_p50_s = f64::NAN;
        r.metrics.gpu_util_mean = 0.8766;
        r.metrics.throughput_rps = 12.3456;
        r.metrics.batch_size_max = 32;
        r.metrics.token_sla_can_bind = true;
        r.fit.beta_s = 0.00102;
        let cell = |key, r: &RunResult| (metric(key).csv(r), metric(key).human(r));
        assert_eq!(cell("ttft_p95_s", &r), ("2510.329767".into(), "41.8 min".into()));
        assert_eq!(cell("tbt_p50_s", &r), ("".into(), "–".into()));
        assert_eq!(cell("gpu_util_mean", &r), ("0.876600".into(), "87.7 %".into()));
        assert_eq!(cell("throughput_rps", &r), ("12.345600".into(), "12.3 req/s".into()));
        assert_eq!(cell("batch_size_max", &r), ("32".into(), "32".into()));
        assert_eq!(cell("token_sla_can_bind", &r), ("true".into(), "yes".into()));
        assert_eq!(cell("beta_s", &r), ("0.001020".into(), "1.02 ms/token".into()));
        r.fit.beta_s = f64::NAN;
        assert_eq!(cell("beta_s", &r).1, "–");
    }

    #[test]
    #[should_panic(expected = "no metric has the CSV column")]
    fn an_unknown_key_is_a_bug() {
        metric("latency_p42_s");
    }
}
