//! Workloads: where requests come from (trace file, synthetic generators), how their
//! arrival times are scaled, and how their output lengths are predicted.
//!
//! Requests are stored as a structure of flat arrays (`Workload`), indexed by request id
//! (the row order of the source), so a 1M-request run holds ~16 MB of request data.
//!
//! Prefix property: request i is generated from the random stream after requests
//! 0..i, so the first N requests of a workload built for M >= N requests are exactly the
//! workload built for N. The stress plan relies on it to build the source once.

mod arrivals;
pub mod predictor;
pub mod synthetic;
pub mod trace;

use crate::config::{Config, Load, Predictor, Synthetic};
use crate::error::{Error, Result};
use crate::rng::SimRng;

pub use trace::{parse_trace, parse_trace_first, read_trace, ImportReport, MaxRows, Reading, RowLimit, TraceData, ZeroOutputRows};

/// The requests of one run, as flat arrays indexed by request id, sorted by arrival.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Workload {
    /// Seconds from the start of the run (the first request arrives at 0 for traces).
    pub arrival_s: Vec<f64>,
    pub prompt_tokens: Vec<u32>,
    pub output_tokens: Vec<u32>,
    /// What the scheduler believes the output length is (only bins look at it).
    pub predicted_output_tokens: Vec<u32>,
}

impl Workload {
    pub fn len(&self) -> usize {
        self.arrival_s.len()
    }

    pub fn is_empty(&self) -> bool {
        self.arrival_s.is_empty()
    }

    /// The first `n` requests (all of them if there are fewer).
    pub fn prefix(&self, n: usize) -> Workload {
        let n = n.min(self.len());
        Workload {
            arrival_s: self.arrival_s[..n].to_vec(),
            prompt_tokens: self.prompt_tokens[..n].to_vec(),
            output_tokens: self.output_tokens[..n].to_vec(),
            predicted_output_tokens: self.predicted_output_tokens[..n].to_vec(),
        }
    }

    /// Total tokens (prompt + output) of request `i`: what its sequence occupies.
    pub fn total_tokens(&self, i: usize) -> u32 {
        self.prompt_tokens[i] + self.output_tokens[i]
    }
}

/// Where the requests of a run come from.
#[derive(Debug, Clone, Copy)]
pub enum Source<'a> {
    Trace(&'a TraceData),
    Synthetic(Synthetic),
}

impl Source<'_> {
    /// A short description for reports ("trace BurstGPT_1.csv", "synthetic burstgpt").
    pub fn describe(&self) -> String {
        match self {
            Source::Trace(t) => format!("trace {}", t.file),
            Source::Synthetic(Synthetic::BurstGpt) => "synthetic burstgpt".to_string(),
            Source::Synthetic(Synthetic::Poisson { rate_rps }) => format!("synthetic poisson {rate_rps} req/s"),
        }
    }
}

/// A synthetic source's mean arrival rate before load scaling (req/s): one request per
/// BurstGPT's mean gap (whole days keep it), or the Poisson rate.
pub fn mean_rate_rps(kind: Synthetic) -> f64 {
    match kind {
        Synthetic::BurstGpt => 1.0 / arrivals::BURSTGPT_MEAN_GAP_S,
        Synthetic::Poisson { rate_rps } => rate_rps,
    }
}

/// Build the first `n` requests of `source` as `config` says: its load scaling, its
/// predictor, its seed (all randomness is drawn from one generator seeded with it, but
/// `prompt_numpy`'s, seeded with it too), and for a trace whether rows with 0 output
/// tokens are requests (`keep_zero_output`) or are left out (then the first request
/// left arrives at 0 and the first `n` others are taken).
pub fn build(source: Source<'_>, n: usize, config: &Config) -> Result<Workload> {
    if n == 0 {
        return Err(Error::field("requests", "must be at least 1 (got 0)"));
    }
    let mut rng = SimRng::new(config.seed);
    let mut w = match source {
        Source::Trace(t) => from_trace(t, n, config.keep_zero_output)?,
        Source::Synthetic(kind) => synthetic::generate(kind, n, &mut rng),
    };
    w.predicted_output_tokens = match (config.predictor, source) {
        (Predictor::Trace, Source::Trace(t)) => match &t.predicted_output_tokens {
            Some(p) => rows_of(t, n, config.keep_zero_output).map(|i| p[i]).collect(),
            None => {
                return Err(Error::field(
                    "predictor",
                    format!("'trace' needs a predicted_output_tokens column, which {} lacks", t.file),
                ))
            }
        },
        (Predictor::Trace, Source::Synthetic(_)) => {
            return Err(Error::field("predictor", "'trace' needs a trace file with a predicted_output_tokens column"))
        }
        (p, _) => predictor::predict_all(p, &w.prompt_tokens, &w.output_tokens, &mut rng, config.seed),
    };
    if let Load::RpsScaling { factor } = config.load {
        for a in &mut w.arrival_s {
            *a /= factor;
        }
    }
    // Beyond ~30 million years of simulated time a run's clocks and samplers lose their
    // meaning (a tiny load factor scales a workload out to ~1e300 s): refuse it.
    let last = w.arrival_s.iter().fold(0.0f64, |m, &a| if a > m || a.is_nan() { a } else { m });
    if last.is_nan() || last > MAX_ARRIVAL_S {
        let field = if matches!(config.load, Load::RpsScaling { .. }) { "load.factor" } else { "load" };
        return Err(Error::field(field, format!("puts the last arrival at {last:e} s, past the {MAX_ARRIVAL_S:e} s a run can time: use a larger load factor")));
    }
    Ok(w)
}

/// The latest arrival a run accepts, in seconds (~32 million years).
pub const MAX_ARRIVAL_S: f64 = 1e15;

/// The indices of the rows of `t` that make the first `n` requests.
fn rows_of(t: &TraceData, n: usize, keep_zero_output: bool) -> impl Iterator<Item = usize> + '_ {
    (0..t.arrival_s.len()).filter(move |&i| keep_zero_output || t.output_tokens[i] > 0).take(n)
}

/// The first `n` requests of a trace, its rows with 0 output tokens kept or left out.
fn from_trace(t: &TraceData, n: usize, keep_zero_output: bool) -> Result<Workload> {
    let rows: Vec<usize> = rows_of(t, n, keep_zero_output).collect();
    let Some(&first) = rows.first() else {
        return Err(Error::field(
            "keep_zero_output",
            format!("is off, and all {} rows of {} have 0 output tokens (failed requests)", t.arrival_s.len(), t.file),
        ));
    };
    // Arrivals count from the first row of the file; from the first request when rows
    // before it were left out (a subtraction only then, so other arrivals stay exact).
    let start = t.arrival_s[first];
    let arrival = |i: usize| if start == 0.0 { t.arrival_s[i] } else { t.arrival_s[i] - start };
    Ok(Workload {
        arrival_s: rows.iter().map(|&i| arrival(i)).collect(),
        prompt_tokens: rows.iter().map(|&i| t.prompt_tokens[i]).collect(),
        output_tokens: rows.iter().map(|&i| t.output_tokens[i]).collect(),
        predicted_output_tokens: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The mean rate shells show is the one the generator draws: 50,000 BurstGPT-like
    /// arrivals come at 1 / 3.69 s on average (within their wander), Poisson at its rate.
    #[test]
    fn mean_rate_is_the_sources_own() {
        let rate = mean_rate_rps(Synthetic::BurstGpt);
        assert_eq!(rate, 1.0 / 3.69);
        let w = synthetic::generate(Synthetic::BurstGpt, 50_000, &mut SimRng::new(1));
        let measured = (w.len() - 1) as f64 / w.arrival_s[w.len() - 1];
        assert!((measured / rate - 1.0).abs() < 0.1, "{measured} vs {rate}");
        assert_eq!(mean_rate_rps(Synthetic::Poisson { rate_rps: 2.5 }), 2.5);
    }

    /// A configuration that builds with these values (the rest is the default's).
    fn cfg(load: Load, predictor: Predictor, seed: u64) -> Config {
        Config { load, predictor, seed, keep_zero_output: false, ..Config::default() }
    }

    #[test]
    fn a_built_workload_is_a_prefix_of_a_longer_one_predictions_included() {
        let trace = parse_trace(b"time,prompt,output\n0,100,10\n1,2000,300\n1,50,0\n4,700,70\n9,30,3\n", "t.csv")
            .expect("valid trace");
        let sources = [Source::Synthetic(Synthetic::BurstGpt), Source::Synthetic(Synthetic::Poisson { rate_rps: 3.0 })];
        for source in sources.into_iter().chain([Source::Trace(&trace)]) {
            for predictor in [Predictor::Prompt, Predictor::PromptNumpy, Predictor::Noisy { sigma: 0.5 }, Predictor::Oracle] {
                for keep_zero_output in [false, true] {
                    let c = Config { keep_zero_output, ..cfg(Load::RealTimestamps, predictor, 5) };
                    let long = build(source, 3000, &c).unwrap();
                    let short = build(source, 3, &c).unwrap();
                    assert_eq!(long.prefix(3), short, "{} {predictor:?}", source.describe());
                    assert_eq!(long.predicted_output_tokens.len(), long.len());
                }
            }
        }
    }

    #[test]
    fn rps_scaling_divides_arrivals_and_trace_predictions_come_from_the_file() {
        let trace = parse_trace(b"time,prompt,output,predicted_output\n10,1,5,6\n12,2,7,8\n", "t.csv").unwrap();
        let scaled = build(Source::Trace(&trace), 10, &cfg(Load::RpsScaling { factor: 4.0 }, Predictor::Trace, 1)).unwrap();
        assert_eq!(scaled.arrival_s, vec![0.0, 0.5]);
        assert_eq!(scaled.predicted_output_tokens, vec![6, 8]);
    }

    #[test]
    fn zero_output_rows_are_kept_or_left_out_as_configured() {
        let trace = parse_trace(b"time,prompt,output,predicted_output\n10,1,0,6\n12,2,7,8\n13,3,0,9\n15,4,5,10\n", "t.csv").unwrap();
        let keep = Config { keep_zero_output: true, ..cfg(Load::RealTimestamps, Predictor::Trace, 1) };
        let all = build(Source::Trace(&trace), 10, &keep).unwrap();
        assert_eq!(all.arrival_s, vec![0.0, 2.0, 3.0, 5.0]);
        assert_eq!(all.output_tokens, vec![0, 7, 0, 5]);
        assert_eq!(all.predicted_output_tokens, vec![6, 8, 9, 10]);
        // Left out: the first request left arrives at 0; the first n are of those left.
        let some = build(Source::Trace(&trace), 2, &Config { keep_zero_output: false, ..keep }).unwrap();
        assert_eq!(some.arrival_s, vec![0.0, 3.0]);
        assert_eq!((some.prompt_tokens, some.output_tokens), (vec![2, 4], vec![7, 5]));
        assert_eq!(some.predicted_output_tokens, vec![8, 10]);
        // The predictor's stream runs over the requests of the run: with the failed rows
        // kept, request 1 takes the second draw; left out, the first.
        let numpy = |keep_zero_output| {
            let c = Config { keep_zero_output, ..cfg(Load::RealTimestamps, Predictor::PromptNumpy, 42) };
            build(Source::Trace(&trace), 10, &c).unwrap().predicted_output_tokens
        };
        let (kept, left) = (numpy(true), numpy(false));
        assert_eq!(kept.len(), 4);
        assert_eq!(left, predictor::predict_all(Predictor::PromptNumpy, &[2, 4], &[7, 5], &mut SimRng::new(42), 42));
        // A trace of failed requests only has nothing to run without them.
        let failed = parse_trace(b"time,prompt,output\n1,2,0\n2,3,0\n", "f.csv").unwrap();
        let e = build(Source::Trace(&failed), 10, &cfg(Load::RealTimestamps, Predictor::Prompt, 1)).unwrap_err();
        assert_eq!(e.to_string(), "keep_zero_output: is off, and all 2 rows of f.csv have 0 output tokens (failed requests)");
    }

    #[test]
    fn trace_predictor_errors_name_the_option_and_the_file() {
        // Synthetic requests have no predictions to read.
        let e = build(Source::Synthetic(Synthetic::BurstGpt), 10, &cfg(Load::RealTimestamps, Predictor::Trace, 1)).unwrap_err();
        assert_eq!(e.to_string(), "predictor: 'trace' needs a trace file with a predicted_output_tokens column");
        // A trace without the column: the message names the file that lacks it.
        let trace = parse_trace(b"time,prompt,output\n0,1,5\n", "plain.csv").unwrap();
        let e = build(Source::Trace(&trace), 10, &cfg(Load::RealTimestamps, Predictor::Trace, 1)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "predictor: 'trace' needs a predicted_output_tokens column, which plain.csv lacks"
        );
        let e = build(Source::Synthetic(Synthetic::BurstGpt), 0, &cfg(Load::RealTimestamps, Predictor::Prompt, 1)).unwrap_err();
        assert_eq!(e.to_string(), "requests: must be at least 1 (got 0)");
    }
}
