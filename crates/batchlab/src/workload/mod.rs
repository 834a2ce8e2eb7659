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

use crate::config::{Load, Predictor, Synthetic};
use crate::error::{Error, Result};
use crate::rng::SimRng;

pub use trace::{parse_trace, ImportReport, SkippedRows, TraceData};

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

/// Build the first `n` requests of `source`, scaled by `load`, with predictions from
/// `predictor`, all randomness drawn from one generator seeded with `seed`.
pub fn build(source: Source<'_>, n: usize, load: Load, predictor: Predictor, seed: u64) -> Result<Workload> {
    if n == 0 {
        return Err(Error::field("requests", "must be at least 1 (got 0)"));
    }
    let mut rng = SimRng::new(seed);
    let mut w = match source {
        Source::Trace(t) => {
            if t.arrival_s.is_empty() {
                return Err(Error::input(&t.file, None, None, "the trace has no usable request"));
            }
            let n = n.min(t.arrival_s.len());
            Workload {
                arrival_s: t.arrival_s[..n].to_vec(),
                prompt_tokens: t.prompt_tokens[..n].to_vec(),
                output_tokens: t.output_tokens[..n].to_vec(),
                predicted_output_tokens: Vec::new(),
            }
        }
        Source::Synthetic(kind) => synthetic::generate(kind, n, &mut rng),
    };
    w.predicted_output_tokens = match (predictor, source) {
        (Predictor::Trace, Source::Trace(t)) => match &t.predicted_output_tokens {
            Some(p) => p[..w.len()].to_vec(),
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
        (p, _) => predictor::predict_all(p, &w.prompt_tokens, &w.output_tokens, &mut rng),
    };
    if let Load::RpsScaling { factor } = load {
        for a in &mut w.arrival_s {
            *a /= factor;
        }
    }
    Ok(w)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_built_workload_is_a_prefix_of_a_longer_one_predictions_included() {
        let trace = parse_trace(b"time,prompt,output\n0,100,10\n1,2000,300\n1,50,0\n4,700,70\n9,30,3\n", "t.csv")
            .expect("valid trace");
        let sources = [Source::Synthetic(Synthetic::BurstGpt), Source::Synthetic(Synthetic::Poisson { rate_rps: 3.0 })];
        for source in sources.into_iter().chain([Source::Trace(&trace)]) {
            for predictor in [Predictor::Prompt, Predictor::Noisy { sigma: 0.5 }, Predictor::Oracle] {
                let long = build(source, 3000, Load::RealTimestamps, predictor, 5).unwrap();
                let short = build(source, 3, Load::RealTimestamps, predictor, 5).unwrap();
                assert_eq!(long.prefix(3), short, "{} {predictor:?}", source.describe());
                assert_eq!(long.predicted_output_tokens.len(), long.len());
            }
        }
    }

    #[test]
    fn rps_scaling_divides_arrivals_and_trace_predictions_come_from_the_file() {
        let trace = parse_trace(b"time,prompt,output,predicted_output\n10,1,5,6\n12,2,7,8\n", "t.csv").unwrap();
        let scaled = build(Source::Trace(&trace), 10, Load::RpsScaling { factor: 4.0 }, Predictor::Trace, 1).unwrap();
        assert_eq!(scaled.arrival_s, vec![0.0, 0.5]);
        assert_eq!(scaled.predicted_output_tokens, vec![6, 8]);
    }

    #[test]
    fn trace_predictor_errors_name_the_option_and_the_file() {
        // Synthetic requests have no predictions to read.
        let e = build(Source::Synthetic(Synthetic::BurstGpt), 10, Load::RealTimestamps, Predictor::Trace, 1).unwrap_err();
        assert_eq!(e.to_string(), "predictor: 'trace' needs a trace file with a predicted_output_tokens column");
        // A trace without the column: the message names the file that lacks it.
        let trace = parse_trace(b"time,prompt,output\n0,1,5\n", "plain.csv").unwrap();
        let e = build(Source::Trace(&trace), 10, Load::RealTimestamps, Predictor::Trace, 1).unwrap_err();
        assert_eq!(
            e.to_string(),
            "predictor: 'trace' needs a predicted_output_tokens column, which plain.csv lacks"
        );
        let e = build(Source::Synthetic(Synthetic::BurstGpt), 0, Load::RealTimestamps, Predictor::Prompt, 1).unwrap_err();
        assert_eq!(e.to_string(), "requests: must be at least 1 (got 0)");
    }
}
