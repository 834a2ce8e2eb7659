//! The price of one iteration of continuous batching:
//!
//! ```text
//! t = c0 + c_prefill * prefill_tokens + c_decode * decode_seqs + c_ctx * context_tokens_read
//! ```
//!
//! Built in from a roofline of the configuration's GPU and model (`roofline`), or fitted
//! to a measured iteration profile (`IterationProfile`, a CSV of prefill tokens, decode
//! sequences, context tokens and seconds).
//!
//! The roofline at the datasheet's peaks (times `mbu` and `mfu`, 1 by default), term by
//! term: every iteration reads the weights once (`c0 = params * bytes_per_param /
//! bandwidth`); decodes are bound by memory, so each reads the KV of its context
//! (`c_ctx = kv_bytes_per_token / bandwidth`, also paid by a later prefill chunk for the
//! chunks before it) and adds no compute term (`c_decode = 0`: below the ridge point a
//! decode's `2 * params` FLOPs hide under the weight reads); prefill is bound by compute,
//! `2 * params` FLOPs per token (`c_prefill = 2 * params / flops`). The terms are added,
//! not maxed: a linear model a profile can be fitted to, pessimistic where a prefill's
//! compute overlaps the iteration's reads. Attention FLOPs (quadratic in a prompt's
//! length) are left out.

use serde::{Deserialize, Serialize};

pub use crate::config::{IterationCost, IterationModel};
use crate::config::{Config, IterationForm};
use crate::csv_input::{Field, Rows, Table};
use crate::error::{Error, Result};

impl IterationCost {
    /// The roofline of `cfg.iteration`'s hardware and model (see the module's text).
    pub fn roofline(cfg: &Config) -> Self {
        let (hw, m) = (&cfg.iteration.hardware, &cfg.iteration.model);
        let bytes_per_s = hw.bandwidth_gb_s * 1e9 * hw.mbu;
        let flops_per_s = hw.peak_tflops * 1e12 * hw.mfu;
        IterationCost {
            c0_s: m.params_b * 1e9 * m.bytes_per_param / bytes_per_s,
            prefill_token_s: 2.0 * m.params_b * 1e9 / flops_per_s,
            // Added to the memory time, a decode's compute is left out (it hides under
            // the weight reads below the ridge point); overlapped, it is counted.
            decode_seq_s: if cfg.iteration.form == IterationForm::Max { 2.0 * m.params_b * 1e9 / flops_per_s } else { 0.0 },
            context_token_s: cfg.memory.kv_per_token_gb * 1e9 / bytes_per_s,
        }
    }

    /// Seconds of one iteration.
    pub fn iteration_s(&self, prefill_tokens: f64, decode_seqs: f64, context_tokens: f64) -> f64 {
        self.c0_s + self.prefill_token_s * prefill_tokens + self.decode_seq_s * decode_seqs + self.context_token_s * context_tokens
    }

    /// The coefficients as the engines use them: whole femtoseconds (see
    /// `engine::iteration`), or an error naming `field` when one cannot be used.
    pub fn femtoseconds(&self, field: &str) -> Result<[u128; 4]> {
        let all = [self.c0_s, self.prefill_token_s, self.decode_seq_s, self.context_token_s];
        let names = ["c0", "c_prefill", "c_decode", "c_ctx"];
        let mut out = [0u128; 4];
        for ((o, v), name) in out.iter_mut().zip(all).zip(names) {
            if !(v.is_finite() && (0.0..=1e6).contains(&v)) {
                return Err(Error::field(field, format!("the iteration cost {name} must be a number of seconds in [0, 1e6] (got {v})")));
            }
            *o = (v * 1e15).round() as u128;
        }
        if out[0] + out[2] == 0 {
            return Err(Error::field(field, "an iteration with one decoding sequence must take some time (c0 + c_decode > 0)"));
        }
        Ok(out)
    }
}

impl IterationModel {
    pub fn roofline(cfg: &Config) -> Self {
        let it = &cfg.iteration;
        IterationModel {
            cost: IterationCost::roofline(cfg),
            source: format!("roofline {} / {}", it.hardware.name, it.model.name),
            r2: None,
        }
    }
}

/// One measured iteration.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ProfilePoint {
    pub prefill_tokens: f64,
    pub decode_seqs: f64,
    pub context_tokens: f64,
    pub seconds: f64,
}

/// A measured iteration profile (CSV), kept so the page and CLI can show it with its fit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IterationProfile {
    pub name: String,
    pub points: Vec<ProfilePoint>,
}

const PROFILE_FIELDS: [Field; 4] = [
    Field { spellings: &["prefill_tokens", "prefill"], required: true },
    Field { spellings: &["decode_seqs", "decode_sequences", "decodes"], required: true },
    Field { spellings: &["context_tokens", "context"], required: true },
    Field { spellings: &["seconds", "latency_s", "time_s"], required: true },
];

impl IterationProfile {
    /// Read a profile; a bad cell is an error naming file, row and column.
    pub fn parse_csv(bytes: &[u8], file: &str) -> Result<Self> {
        let (mut table, columns) = Table::open(bytes, file, &PROFILE_FIELDS, Rows::Ragged)?;
        let cols = [0, 1, 2, 3].map(|i| columns[i].unwrap_or_default());
        let mut points = Vec::new();
        let mut record = csv::ByteRecord::new();
        while let Some(row) = table.next_row(&mut record)? {
            let mut v = [0.0; 4];
            for (k, &col) in cols.iter().enumerate() {
                let cell = table.cell(&record, row, col);
                let x = cell.number()?;
                let ok = x.is_finite() && if k == 3 { x > 0.0 } else { x >= 0.0 };
                if !ok {
                    let what = if k == 3 { "a positive number of seconds" } else { "a count >= 0" };
                    return Err(cell.error(format!("must be {what}, got {x}")));
                }
                v[k] = x;
            }
            points.push(ProfilePoint { prefill_tokens: v[0], decode_seqs: v[1], context_tokens: v[2], seconds: v[3] });
        }
        let profile = IterationProfile { name: file.to_string(), points };
        profile.fit()?;
        Ok(profile)
    }

    /// Least squares with every coefficient >= 0: the best of the fits on each subset of
    /// the four terms whose coefficients all come out non-negative (16 small solves).
    pub fn fit(&self) -> Result<IterationModel> {
        let fail = |msg: String| Error::input(&self.name, None, None, msg);
        if self.points.len() < 4 {
            return Err(fail(format!("only {} data row(s); an iteration profile needs at least 4", self.points.len())));
        }
        let row = |p: &ProfilePoint| [1.0, p.prefill_tokens, p.decode_seqs, p.context_tokens];
        let mut best: Option<([f64; 4], f64)> = None;
        for mask in 1u32..16 {
            let terms: Vec<usize> = (0..4).filter(|t| mask & (1 << t) != 0).collect();
            let Some(coef) = least_squares(&self.points, &terms, row) else { continue };
            if coef.iter().any(|&c| c < 0.0) {
                continue;
            }
            let mut full = [0.0; 4];
            for (&t, &c) in terms.iter().zip(&coef) {
                full[t] = c;
            }
            let sse: f64 = self.points.iter().map(|p| square(dot(&full, &row(p)) - p.seconds)).sum();
            if best.is_none_or(|(_, b)| sse < b) {
                best = Some((full, sse));
            }
        }
        let Some((c, sse)) = best else {
            return Err(fail("no non-negative fit of the iteration cost exists for these rows".into()));
        };
        let mean = self.points.iter().map(|p| p.seconds).sum::<f64>() / self.points.len() as f64;
        let sst: f64 = self.points.iter().map(|p| square(p.seconds - mean)).sum();
        let cost = IterationCost { c0_s: c[0], prefill_token_s: c[1], decode_seq_s: c[2], context_token_s: c[3] };
        cost.femtoseconds("iteration_profile")
            .map_err(|e| fail(format!("{}: the profile does not determine it", e.message())))?;
        Ok(IterationModel { cost, source: self.name.clone(), r2: Some(if sst > 0.0 { 1.0 - sse / sst } else { 1.0 }) })
    }
}

fn square(x: f64) -> f64 {
    x * x
}

fn dot(a: &[f64; 4], b: &[f64; 4]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Ordinary least squares on the chosen terms (normal equations, Gaussian elimination
/// with partial pivoting); None when they are (nearly) collinear over these points.
fn least_squares(points: &[ProfilePoint], terms: &[usize], row: impl Fn(&ProfilePoint) -> [f64; 4]) -> Option<Vec<f64>> {
    let k = terms.len();
    // Scale each column by its largest magnitude so tokens and sequences weigh alike.
    let scale: Vec<f64> = terms
        .iter()
        .map(|&t| points.iter().map(|p| row(p)[t].abs()).fold(0.0, f64::max))
        .collect();
    if scale.contains(&0.0) {
        return None;
    }
    let mut a = vec![vec![0.0; k + 1]; k];
    for p in points {
        let r = row(p);
        let x: Vec<f64> = terms.iter().zip(&scale).map(|(&t, s)| r[t] / s).collect();
        for i in 0..k {
            for j in 0..k {
                a[i][j] += x[i] * x[j];
            }
            a[i][k] += x[i] * p.seconds;
        }
    }
    for col in 0..k {
        let pivot = (col..k).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[pivot][col].abs() < 1e-12 * points.len() as f64 {
            return None;
        }
        a.swap(col, pivot);
        let pivot_row = a[col].clone();
        for (r, row) in a.iter_mut().enumerate() {
            if r != col {
                let f = row[col] / pivot_row[col];
                for (x, p) in row[col..].iter_mut().zip(&pivot_row[col..]) {
                    *x -= f * p;
                }
            }
        }
    }
    Some((0..k).map(|i| a[i][k] / a[i][i] / scale[i]).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Preset;

    #[test]
    fn the_paper_roofline_decodes_one_sequence_near_the_measured_beta() {
        let cfg = Config::preset(Preset::Paper);
        let step = IterationCost::roofline(&cfg).iteration_s(0.0, 1.0, 1000.0);
        // The measured grid's fit: beta = 5.74 ms per token at batch 1.
        assert!((step / 0.00574 - 1.0).abs() < 0.2, "{step}");
    }

    #[test]
    fn a_profile_made_from_known_coefficients_fits_them_back() {
        let truth = IterationCost { c0_s: 0.005, prefill_token_s: 2e-5, decode_seq_s: 1e-4, context_token_s: 3e-7 };
        let mut csv = String::from("prefill_tokens,decode_seqs,context_tokens,seconds\n");
        for (p, d, c) in [(0, 1, 100), (512, 0, 0), (0, 64, 40000), (256, 32, 9000), (1024, 8, 3000), (0, 16, 500)] {
            csv += &format!("{p},{d},{c},{}\n", truth.iteration_s(p as f64, d as f64, c as f64));
        }
        let fit = IterationProfile::parse_csv(csv.as_bytes(), "p.csv").unwrap().fit().unwrap();
        for (a, b) in [(fit.cost.c0_s, truth.c0_s), (fit.cost.prefill_token_s, truth.prefill_token_s), (fit.cost.decode_seq_s, truth.decode_seq_s), (fit.cost.context_token_s, truth.context_token_s)] {
            assert!((a / b - 1.0).abs() < 1e-6, "{a} vs {b}");
        }
        assert!(fit.r2.unwrap() > 0.999_999);
    }

    #[test]
    fn a_negative_trend_is_fitted_as_zero_and_bad_cells_name_row_and_column() {
        // Seconds fall slightly with context: the unconstrained fit would be negative.
        let csv = "prefill,decodes,context,seconds\n0,1,0,0.010\n0,2,10,0.0119\n0,4,20,0.0158\n0,8,40,0.0237\n";
        let fit = IterationProfile::parse_csv(csv.as_bytes(), "p.csv").unwrap().fit().unwrap();
        assert!(fit.cost.context_token_s >= 0.0 && fit.cost.prefill_token_s == 0.0);
        let err = IterationProfile::parse_csv(b"prefill,decodes,context,seconds\n0,1,0,-1\n", "p.csv").unwrap_err().to_string();
        assert!(err.contains("p.csv") && err.contains("row 2") && err.contains("seconds"), "{err}");
        let err = IterationProfile::parse_csv(b"prefill,decodes,context,seconds\n0,1,0,0.1\n", "p.csv").unwrap_err().to_string();
        assert!(err.contains("at least 4"), "{err}");
    }
}
