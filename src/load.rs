//! The load a configuration puts on its cluster, in numbers a student can read: before a
//! run, the arrival rate the RPS scaling factor gives (req/s) and that rate as a share of
//! the cluster's estimated capacity; after one, whether the cluster kept up.
//!
//! The capacity is an estimate, said so on the page: every GPU serving back to back the
//! largest batches the scheduler, the memory cap and the SLA controller allow, made of
//! requests from a sample of the workload in arrival order (within bins of predicted
//! length for the multi-bin schedulers); for continuous batching, its most running
//! sequences (or what the KV cache holds) priced by the iteration roofline. Queueing,
//! bursts and partial batches are left out, so a load near 100 % is already too much.

use batchlab::config::{Config, ControllerRules, Load, MemoryRules, Preset, SchedulerKind, SlaSignal, Synthetic};
use batchlab::engine::iteration::blocks_per_gpu;
use batchlab::iteration_cost::IterationCost;
use batchlab::latency::{CalibrationGrid, LatencyModel};
use batchlab::memory::{bin_batch_limit, MemoryModel};
use batchlab::report::human;
use batchlab::workload::{self, Source, Workload};
use batchlab::RunResult;

/// Requests sampled from the workload for the capacity estimate.
const SAMPLE: usize = 4096;
/// A run whose throughput is below this share of its arrival rate did not keep up.
const KEPT_UP: f64 = 0.75;

/// What the user attached, by `UiState::files` slot: trace, calibration grid, profile.
pub type Attached = [bool; 3];

/// The load line beside the factor, and whether it warns of an overload.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadLine {
    pub text: String,
    pub overloaded: bool,
}

/// The run's mean arrival rate (req/s), or None for a trace (its rate is read in the
/// worker; a run shows it).
pub fn arrival_rate_rps(config: &Config, attached: Attached) -> Option<f64> {
    if attached[0] {
        return None;
    }
    let native = workload::mean_rate_rps(config.synthetic);
    Some(match config.load {
        Load::RpsScaling { factor } => native * factor,
        Load::RealTimestamps => native,
    })
}

/// The source's own mean arrival rate (req/s), which the factor multiplies into the rate
/// shown beside it: the synthetic workload's, or a trace's own as the worker read it
/// (None until then, or for a trace of no span).
pub fn native_rate_rps(config: &Config, attached: Attached, trace_rate_rps: Option<f64>) -> Option<f64> {
    let native = if attached[0] { trace_rate_rps? } else { workload::mean_rate_rps(config.synthetic) };
    Some(native).filter(|r| r.is_finite() && *r > 0.0)
}

/// The RPS scaling factor a typed arrival rate (req/s) gives on a source of `native`
/// req/s: the inverse of the rate shown (`native` × factor), to 12 significant digits
/// (10 req/s on one request per 3.69 s is a factor of 36.9, not 36.900000000000006).
/// Err: why the rate cannot be taken, in the factor's bounds (a positive number).
pub fn factor_for_rate(text: &str, native: f64) -> Result<f64, String> {
    let why = || {
        format!(
            "must be a positive number of requests per second; it sets the RPS scaling factor to the rate ÷ {}, the source's own rate",
            human::with_unit(native, "req/s")
        )
    };
    let rate: f64 = text.trim().parse().map_err(|_| why())?;
    let factor = significant(rate / native, 12);
    if rate.is_finite() && rate > 0.0 && factor.is_finite() && factor > 0.0 {
        Ok(factor)
    } else {
        Err(why())
    }
}

/// The rate field's text for a factor (6 significant digits: no float noise to read).
pub fn rate_text(native: f64, factor: f64) -> String {
    significant(native * factor, 6).to_string()
}

/// `x` rounded to `digits` significant digits (through its decimal text: exact).
fn significant(x: f64, digits: usize) -> f64 {
    if !x.is_finite() || x == 0.0 {
        return x;
    }
    format!("{x:.*e}", digits - 1).parse().unwrap_or(x)
}

/// The cluster's estimated capacity (req/s; see the module's text), or None where the
/// page cannot know it: the token counts of a trace, the latencies of a user's grid or
/// profile are read in the worker only.
pub fn capacity_rps(preset: Preset, config: &Config, attached: Attached) -> Option<f64> {
    if attached[0] || config.validate().is_err() {
        return None;
    }
    let sample = workload::build(Source::Synthetic(config.synthetic), SAMPLE, config).ok()?;
    let per_gpu = if config.scheduler.is_continuous() {
        if attached[2] {
            return None;
        }
        continuous_per_gpu(config, &sample)
    } else {
        if attached[1] {
            return None;
        }
        let model = LatencyModel::new(CalibrationGrid::for_preset(preset), config.latency_mode).ok()?;
        batch_per_gpu(config, &model, &sample)
    };
    Some(per_gpu * f64::from(config.gpus)).filter(|c| c.is_finite() && *c > 0.0)
}

/// Requests per second of one GPU serving full batches back to back.
fn batch_per_gpu(config: &Config, model: &LatencyModel, w: &Workload) -> f64 {
    let n = w.prompt_tokens.len();
    let mean_len = (0..n).map(|i| f64::from(w.total_tokens(i))).sum::<f64>() / n as f64;
    let memory = MemoryModel::new(&config.memory, config.b_min, config.b_max);
    // The queues batches are drawn from: one, or K bins of equal counts by prediction.
    let k = if config.scheduler.uses_bins() { config.k_bins.max(1) as usize } else { 1 };
    let prediction = |i: usize| w.predicted_output_tokens.get(i).copied().unwrap_or(0);
    let mut by_prediction: Vec<usize> = (0..n).collect();
    by_prediction.sort_by_key(|&i| (prediction(i), i));
    let ranges: Vec<&[usize]> = (0..k).map(|j| &by_prediction[j * n / k..(j + 1) * n / k]).collect();
    let bins: Vec<Vec<u32>> = ranges
        .iter()
        .map(|members| {
            let mut members = members.to_vec();
            members.sort_unstable();
            members.into_iter().map(|i| w.total_tokens(i)).collect()
        })
        .collect();
    // The final version's cap on each bin (`memory::bin_batch_limit`), from its edges.
    let bin_limit: Vec<u32> = (0..k)
        .map(|j| {
            if config.memory.rules != MemoryRules::Final || config.scheduler != SchedulerKind::MultiBinDynamic {
                return u32::MAX;
            }
            let lo = if j == 0 { 0.0 } else { ranges[j].first().map_or(0.0, |&i| f64::from(prediction(i))) };
            let hi = ranges.get(j + 1).and_then(|r| r.first()).map_or(10_000.0, |&i| f64::from(prediction(i)));
            bin_batch_limit(&config.memory, lo, hi, config.b_max)
        })
        .collect();
    // (requests, seconds, batches) of batches of at most b drawn in arrival order from each bin.
    let batches = |b: u32| -> (f64, f64, f64) {
        let (mut served, mut busy, mut count) = (0.0, 0.0, 0.0);
        for (bin, &limit) in bins.iter().zip(&bin_limit).filter(|(b, _)| !b.is_empty()) {
            for group in bin.chunks(b.min(limit).max(1) as usize) {
                let max_len = group.iter().copied().max().unwrap_or(0);
                served += group.len() as f64;
                busy += model.batch_time_s(group.len() as u32, max_len);
                count += 1.0;
            }
        }
        (served, busy, count)
    };
    let mem_cap = memory.batch_cap(mean_len);
    let checked = |b: u32| if config.memory.check_fixed_batches { b.min(mem_cap) } else { b };
    let b = match config.scheduler {
        SchedulerKind::StaticFifo => checked(config.b_static),
        SchedulerKind::MultiBinFixed => checked(config.b_fixed),
        _ => {
            // The largest b the SLA controller lets stand: its signal within D + its band.
            let band = match config.sla.rules {
                ControllerRules::First => 2.0 * config.sla.eps_s,
                ControllerRules::Final => config.sla.eps_s,
            };
            let limit = config.controller_target_s() + band;
            let within = |b: u32| match config.sla.signal {
                SlaSignal::TokenTime => model.token_step_s(b, mean_len as u32) <= limit,
                SlaSignal::BatchLatency => {
                    let (_, busy, count) = batches(b);
                    busy / count <= limit
                }
            };
            let lo = config.b_min.max(1);
            // The signal grows with b: the largest b within the limit, by bisection.
            let (mut best, mut low, mut high) = (lo, lo, config.b_max.min(mem_cap).max(lo));
            while low <= high {
                let mid = low + (high - low) / 2;
                if within(mid) {
                    best = mid;
                    low = mid + 1;
                } else {
                    high = mid - 1;
                }
            }
            best
        }
    };
    let (served, busy, _) = batches(b.max(1));
    served / busy
}

/// Requests per second of one GPU running its most sequences at once, each iteration
/// decoding one token of each, prefilling new prompts at the rate requests finish.
fn continuous_per_gpu(config: &Config, w: &Workload) -> f64 {
    let n = w.prompt_tokens.len() as f64;
    let prompt = w.prompt_tokens.iter().map(|&p| f64::from(p)).sum::<f64>() / n;
    let output = (w.output_tokens.iter().map(|&o| f64::from(o)).sum::<f64>() / n).max(1.0);
    let it = &config.iteration;
    // A sequence holds its prompt and, on average, half its output in the KV cache.
    let kv_tokens = (blocks_per_gpu(config) * u64::from(it.block_tokens)) as f64;
    let seqs = f64::from(it.max_seqs.min(it.max_batched_tokens)).min((kv_tokens / (prompt + output / 2.0)).floor()).max(1.0);
    let cost = IterationCost::roofline(config);
    let iteration = cost.iteration_s(seqs * prompt / output, seqs, seqs * (prompt + output / 2.0));
    seqs / (output * iteration)
}

/// The line beside the factor: the arrival rate and, where it is known, the load.
pub fn describe(preset: Preset, config: &Config, attached: Attached) -> LoadLine {
    let source = match config.synthetic {
        Synthetic::BurstGpt => "the synthetic BurstGPT-like workload's",
        Synthetic::Poisson { .. } => "the synthetic Poisson workload's",
    };
    let native = human::with_unit(workload::mean_rate_rps(config.synthetic), "req/s");
    let Some(arrival) = arrival_rate_rps(config, attached) else {
        let text = match config.load {
            Load::RpsScaling { factor } => format!("Arrivals: your trace's own rate × {}; a run shows it.", human::number(factor)),
            Load::RealTimestamps => "Arrivals: your trace's own timestamps; a run shows the rate.".to_string(),
        };
        return LoadLine { text, overloaded: false };
    };
    let rate = human::with_unit(arrival, "req/s");
    let how = match config.load {
        Load::RpsScaling { factor } => format!("{source} mean {native} × {}", human::number(factor)),
        Load::RealTimestamps => format!("{source} own mean"),
    };
    match capacity_rps(preset, config, attached) {
        Some(capacity) if arrival > capacity => LoadLine {
            text: format!(
                "Overloaded: arrivals ({rate}, {how}) exceed the cluster's estimated capacity ({}, load {}); queues will grow without bound.",
                human::with_unit(capacity, "req/s"),
                human::percent(arrival / capacity)
            ),
            overloaded: true,
        },
        Some(capacity) => LoadLine {
            text: format!(
                "Arrivals ≈ {rate} ({how}): {} of the cluster's estimated capacity ({}).",
                human::percent(arrival / capacity),
                human::with_unit(capacity, "req/s")
            ),
            overloaded: false,
        },
        None => LoadLine { text: format!("Arrivals ≈ {rate} ({how}); capacity not estimated with your files."), overloaded: false },
    }
}

/// After runs: the ones whose throughput stayed well below their arrival rate.
pub fn after_runs(runs: &[&RunResult]) -> Option<String> {
    let behind: Vec<&&RunResult> =
        runs.iter().filter(|r| r.metrics.throughput_rps < KEPT_UP * r.metrics.arrival_rate_rps && r.metrics.arrival_rate_rps.is_finite()).collect();
    let rates = |r: &RunResult| {
        format!("throughput {} of {} arriving", human::with_unit(r.metrics.throughput_rps, "req/s"), human::with_unit(r.metrics.arrival_rate_rps, "req/s"))
    };
    match behind.as_slice() {
        [] => None,
        [r] if runs.len() == 1 => Some(format!(
            "Overloaded: the run's {}; the cluster could not keep up and its queues grew throughout the run.",
            rates(r)
        )),
        _ => Some(format!(
            "Overloaded: {}; those clusters could not keep up and their queues grew throughout the run.",
            behind.iter().map(|r| format!("{} ({})", crate::view::scheduler_words(r.config.scheduler), rates(r))).collect::<Vec<_>>().join(", ")
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::UiState;

    fn line(s: &UiState) -> LoadLine {
        describe(s.preset, &s.to_config(), [false; 3])
    }

    #[test]
    fn a_typed_rate_gives_the_factor_that_shows_it() {
        let paper = UiState::from_preset(Preset::Paper).to_config();
        let native = native_rate_rps(&paper, [false; 3], None).unwrap();
        assert_eq!(native, 1.0 / 3.69);
        // The inverse of the rate shown, without float noise; and shown back as typed.
        assert_eq!(factor_for_rate("10", native), Ok(36.9));
        assert_eq!(factor_for_rate(" 27.1 ", native), Ok(99.999));
        assert_eq!(rate_text(native, 36.9), "10");
        assert_eq!(rate_text(native, 100.0), "27.1003");
        let mut s = UiState::from_preset(Preset::Paper);
        s.rps_factor = factor_for_rate("10", native).unwrap();
        assert!(line(&s).text.contains("(10.0 req/s, the synthetic BurstGPT-like workload's mean 0.271 req/s × 36.9)"), "{}", line(&s).text);
        // Every typed rate round-trips through its factor to within the rounding.
        for rate in [1e-6, 0.5, 3.0, 12.34, 1e3, 7.77e7] {
            let f = factor_for_rate(&rate.to_string(), native).unwrap();
            assert!((native * f / rate - 1.0).abs() < 1e-11, "{rate}: {f}");
        }
        // A trace: its own rate, once the worker has read it.
        assert_eq!(native_rate_rps(&paper, [true, false, false], None), None);
        assert_eq!(native_rate_rps(&paper, [true, false, false], Some(f64::NAN)), None);
        assert_eq!(native_rate_rps(&paper, [true, false, false], Some(2.5)), Some(2.5));
        assert_eq!(factor_for_rate("10", 2.5), Ok(4.0));
        // The Poisson workload's own rate.
        let h100 = UiState::from_preset(Preset::H100Llama).to_config();
        assert_eq!(native_rate_rps(&h100, [false; 3], None), Some(50.0));
        assert_eq!(factor_for_rate("75", 50.0), Ok(1.5));
    }

    #[test]
    fn a_rate_that_gives_no_factor_says_the_bounds() {
        let why = "must be a positive number of requests per second; it sets the RPS scaling factor to the rate ÷ 0.271 req/s, the source's own rate";
        for bad in ["", "abc", "0", "-5", "inf", "NaN", "1e308"] {
            assert_eq!(factor_for_rate(bad, 1.0 / 3.69), Err(why.to_string()), "{bad}");
        }
    }

    #[test]
    fn the_factor_gives_a_rate_in_requests_per_second() {
        let mut s = UiState::from_preset(Preset::Paper);
        s.rps_factor = 200.0;
        let rate = arrival_rate_rps(&s.to_config(), [false; 3]).unwrap();
        assert!((rate - 200.0 / 3.69).abs() < 1e-9, "{rate}");
        assert!(line(&s).text.contains("54.2 req/s"), "{:?}", line(&s));
        s.real_timestamps = true;
        assert!((arrival_rate_rps(&s.to_config(), [false; 3]).unwrap() - 1.0 / 3.69).abs() < 1e-12);
        // A trace: its own rate, unknown to the page.
        assert_eq!(arrival_rate_rps(&s.to_config(), [true, false, false]), None);
        assert!(describe(s.preset, &s.to_config(), [true, false, false]).text.starts_with("Arrivals: your trace's own"));
        // Poisson: its rate.
        let h100 = UiState::from_preset(Preset::H100Llama);
        assert_eq!(arrival_rate_rps(&h100.to_config(), [false; 3]), Some(50.0));
    }

    #[test]
    fn capacity_grows_with_gpus_and_load_warns_past_it() {
        let mut s = UiState::from_preset(Preset::Paper);
        let c4 = capacity_rps(s.preset, &s.to_config(), [false; 3]).unwrap();
        s.gpus = 8;
        let c8 = capacity_rps(s.preset, &s.to_config(), [false; 3]).unwrap();
        assert!((c8 / c4 - 2.0).abs() < 1e-9, "{c4} {c8}");
        // Just below and just above the estimate.
        s.rps_factor = 0.9 * c8 * 3.69;
        let below = line(&s);
        assert!(!below.overloaded && below.text.contains("90.0 % of the cluster's estimated capacity"), "{below:?}");
        s.rps_factor = 1.1 * c8 * 3.69;
        let above = line(&s);
        assert!(above.overloaded && above.text.starts_with("Overloaded: arrivals") && above.text.contains("queues will grow without bound"), "{above:?}");
        // A user's grid: the page cannot price batches.
        assert_eq!(capacity_rps(s.preset, &s.to_config(), [false, true, false]), None);
    }

    #[test]
    fn capacity_follows_the_batch_size_limits() {
        // Static FIFO: a larger B_static serves more per batch.
        let mut s = UiState::from_preset(Preset::Paper);
        s.scheduler = SchedulerKind::StaticFifo;
        let at = |s: &UiState| capacity_rps(s.preset, &s.to_config(), [false; 3]).unwrap();
        let b8 = at(&s);
        s.b_static = 32;
        assert!(at(&s) > 1.5 * b8, "{} vs {b8}", at(&s));
        // Batch latency regulated to D: a tighter target allows smaller batches only.
        let mut f = UiState::from_preset(Preset::FirstResults);
        f.scheduler = SchedulerKind::DynamicNoBins;
        let loose = at(&f);
        f.sla_d_s = Some(0.2);
        assert!(at(&f) < loose, "{} vs {loose}", at(&f));
        // Bins of similar lengths waste less on padding than one queue.
        f.sla_d_s = None;
        f.scheduler = SchedulerKind::MultiBinDynamic;
        f.k_bins = 8;
        assert!(at(&f) > loose, "{} vs {loose}", at(&f));
        // Continuous batching: more running sequences, more capacity (until the KV cache).
        let mut h = UiState::from_preset(Preset::H100Llama);
        let c = at(&h);
        h.max_seqs = 8;
        assert!(at(&h) < c, "{} vs {c}", at(&h));
    }

    #[test]
    fn after_a_run_an_overload_is_named() {
        let mut ok = RunResult::default();
        ok.metrics.arrival_rate_rps = 50.0;
        ok.metrics.throughput_rps = 48.0;
        let mut behind = ok.clone();
        behind.metrics.throughput_rps = 20.0;
        assert_eq!(after_runs(&[&ok]), None);
        let one = after_runs(&[&behind]).unwrap();
        assert_eq!(one, "Overloaded: the run's throughput 20.0 req/s of 50.0 req/s arriving; the cluster could not keep up and its queues grew throughout the run.");
        behind.config.scheduler = SchedulerKind::StaticFifo;
        let many = after_runs(&[&ok, &behind]).unwrap();
        assert!(many.starts_with("Overloaded: static FIFO (throughput 20.0 req/s of 50.0 req/s arriving)"), "{many}");
    }
}
