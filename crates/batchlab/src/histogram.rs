//! The log-bucketed histogram of the token pass (TTFT over requests, TBT over decode gaps).
//!
//! Buckets grow by the ratio 1.001 from 1 µs: bucket 0 holds values below `E_0 = 1e-6 s`,
//! bucket `k` (1..=NB) holds `[E_{k-1}, E_k)` with `E_k = 1e-6 * 1.001^k` (libm::pow, so
//! the edges are the same bits natively and in wasm), and bucket NB + 1 holds values at
//! or above `E_NB` (>= 1e7 s). A percentile read from the histogram is the geometric
//! middle of its bucket, so it is within a factor sqrt(1.001) (0.05%) of the exact order
//! statistic; min and max are tracked exactly, and clamp every reading.
//!
//! Decode gaps are f32 (see `mod.rs`): they are bucketed against `edges_f32`, each edge
//! rounded *up* to f32, so for every f32 value `g`, `g >= edges_f32[k]` exactly when
//! `g >= E_k` in real arithmetic. Comparisons are exact, so the GPU (which does the
//! same comparisons against the same table) puts every gap in the same bucket.

use serde::{Deserialize, Serialize};

/// Bucket growth ratio.
pub const RATIO: f64 = 1.001;
/// Lower edge of the first regular bucket, seconds.
pub const LOWEST_S: f64 = 1e-6;
/// Regular buckets: the smallest NB with `1e-6 * 1.001^NB >= 1e7`.
pub const REGULAR_BUCKETS: usize = 29_949;
/// All buckets: underflow + regular + overflow.
pub const BUCKETS: usize = REGULAR_BUCKETS + 2;

/// `E_k` for k in 0..=NB, in f64.
pub fn edges_f64() -> Vec<f64> {
    (0..=REGULAR_BUCKETS).map(|k| LOWEST_S * libm::pow(RATIO, k as f64)).collect()
}

/// The smallest f32 that is >= `x` (x positive and finite).
pub fn f32_round_up(x: f64) -> f32 {
    let f = x as f32;
    if (f as f64) < x {
        f32::from_bits(f.to_bits() + 1)
    } else {
        f
    }
}

/// The largest f32 that is <= `x` (x positive and finite): for every f32 `g`,
/// `g > f32_round_down(x)` exactly when `g > x` in real arithmetic.
pub fn f32_round_down(x: f64) -> f32 {
    let f = x as f32;
    if (f as f64) > x {
        f32::from_bits(f.to_bits() - 1)
    } else {
        f
    }
}

/// The f32 bucket table shared by the CPU and GPU paths: `ext[0] = -f32::MAX`,
/// `ext[1..=NB+1]` the edges rounded up, `ext[NB+2] = f32::MAX`, so bucket `c` is
/// `[ext[c], ext[c+1])` for every c in 0..BUCKETS (no infinities: WGSL may assume none).
pub fn edges_f32_extended(edges: &[f64]) -> Vec<f32> {
    let mut ext = Vec::with_capacity(edges.len() + 2);
    ext.push(-f32::MAX);
    ext.extend(edges.iter().map(|&e| f32_round_up(e)));
    ext.push(f32::MAX);
    ext
}

/// Bucket of an f32 value in the extended table: the largest c with `ext[c] <= g`.
#[inline]
pub fn bucket_f32(ext: &[f32], g: f32) -> usize {
    ext[1..BUCKETS].partition_point(|&e| e <= g)
}

/// Bucket of an f64 value against the f64 edges.
#[inline]
pub fn bucket_f64(edges: &[f64], x: f64) -> usize {
    edges.partition_point(|&e| e <= x)
}

/// `bucket_f64` against the standard edges (`edges_f64()`), in O(1): a guess from the
/// logarithm, then corrected against the edges themselves, so the answer is exactly
/// `bucket_f64`'s whatever the logarithm's rounding.
#[inline]
pub fn bucket_f64_standard(edges: &[f64], x: f64) -> usize {
    debug_assert_eq!(edges.len(), REGULAR_BUCKETS + 1);
    let n = edges.len();
    // Below the first edge, or NaN (which compares false with every edge).
    if x.is_nan() || x < edges[0] {
        return 0;
    }
    if x >= edges[n - 1] {
        return n;
    }
    let guess = libm::log(x / LOWEST_S) / libm::log(RATIO);
    let mut c = (guess.max(0.0) as usize + 1).clamp(1, n - 1);
    while edges[c - 1] > x {
        c -= 1;
    }
    while edges[c] <= x {
        c += 1;
    }
    c
}

/// Counts per bucket plus the exact count, min and max. Serialized sparsely (only the
/// non-empty buckets), so a run's JSON stays small.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(from = "SparseHistogram", into = "SparseHistogram")]
pub struct LogHistogram {
    pub counts: Vec<u64>,
    pub total: u64,
    /// Smallest and largest value counted (NaN while empty).
    pub min: f64,
    pub max: f64,
}

impl Default for LogHistogram {
    fn default() -> Self {
        LogHistogram { counts: vec![0; BUCKETS], total: 0, min: f64::NAN, max: f64::NAN }
    }
}

impl LogHistogram {
    /// Add `n` values that all fell in `bucket`.
    #[inline]
    pub fn add_to_bucket(&mut self, bucket: usize, n: u64) {
        self.counts[bucket] += n;
        self.total += n;
    }

    /// Widen the tracked min and max to cover `lo` and `hi`.
    pub fn cover(&mut self, lo: f64, hi: f64) {
        self.min = if self.min.is_nan() { lo } else { self.min.min(lo) };
        self.max = if self.max.is_nan() { hi } else { self.max.max(hi) };
    }

    /// Percentiles (q in [0, 1]) with numpy's linear rule applied to bucket middles:
    /// rank h = (total - 1) q between the values of ranks floor(h) and floor(h) + 1.
    /// Empty histogram: NaN.
    pub fn percentiles(&self, edges: &[f64], qs: &[f64]) -> Vec<f64> {
        qs.iter().map(|&q| self.percentile(edges, q)).collect()
    }

    fn percentile(&self, edges: &[f64], q: f64) -> f64 {
        if self.total == 0 {
            return f64::NAN;
        }
        let h = (self.total - 1) as f64 * q.clamp(0.0, 1.0);
        let lo = h.floor() as u64;
        let x_lo = self.value_at_rank(edges, lo);
        if lo + 1 >= self.total || h == lo as f64 {
            return x_lo;
        }
        let x_hi = self.value_at_rank(edges, lo + 1);
        x_lo + (x_hi - x_lo) * (h - lo as f64)
    }

    /// The representative value of the rank-th smallest counted value (0-based).
    fn value_at_rank(&self, edges: &[f64], rank: u64) -> f64 {
        if rank == 0 {
            return self.min;
        }
        if rank + 1 == self.total {
            return self.max;
        }
        let mut seen = 0u64;
        let mut bucket = BUCKETS - 1;
        for (k, &c) in self.counts.iter().enumerate() {
            seen += c;
            if seen > rank {
                bucket = k;
                break;
            }
        }
        let middle = match bucket {
            0 => self.min,
            k if k == BUCKETS - 1 => self.max,
            k => (edges[k - 1] * edges[k]).sqrt(),
        };
        middle.clamp(self.min, self.max)
    }

    /// Add another histogram's counts (chunks, backends).
    pub fn merge(&mut self, other: &LogHistogram) {
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a += b;
        }
        self.total += other.total;
        if other.total > 0 {
            self.cover(other.min, other.max);
        }
    }
}

#[derive(Serialize, Deserialize)]
struct SparseHistogram {
    /// (bucket, count) for every non-empty bucket, ascending.
    nonzero: Vec<(u32, u64)>,
    total: u64,
    /// None while empty (JSON has no NaN).
    min: Option<f64>,
    max: Option<f64>,
}

impl From<LogHistogram> for SparseHistogram {
    fn from(h: LogHistogram) -> Self {
        let nonzero = h.counts.iter().enumerate().filter(|(_, &c)| c > 0).map(|(k, &c)| (k as u32, c)).collect();
        let finite = |x: f64| (!x.is_nan()).then_some(x);
        SparseHistogram { nonzero, total: h.total, min: finite(h.min), max: finite(h.max) }
    }
}

impl From<SparseHistogram> for LogHistogram {
    fn from(s: SparseHistogram) -> Self {
        let mut counts = vec![0; BUCKETS];
        for (k, c) in s.nonzero {
            if let Some(slot) = counts.get_mut(k as usize) {
                *slot = c;
            }
        }
        LogHistogram { counts, total: s.total, min: s.min.unwrap_or(f64::NAN), max: s.max.unwrap_or(f64::NAN) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::SimRng;
    use crate::stats::percentiles;

    #[test]
    fn the_edges_reach_past_1e7_seconds_and_round_the_right_way() {
        let e = edges_f64();
        assert_eq!(e.len(), REGULAR_BUCKETS + 1);
        assert!(e[REGULAR_BUCKETS] >= 1e7 && e[REGULAR_BUCKETS - 1] < 1e7);
        for &x in &[1e-6, 0.0103, 0.1, 1.0 / 3.0, 7.77e4] {
            let (u, d) = (f32_round_up(x), f32_round_down(x));
            assert!(u as f64 >= x && f32::from_bits(u.to_bits() - 1) as f64 <= x);
            assert!(d as f64 <= x && f32::from_bits(d.to_bits() + 1) as f64 > x);
        }
    }

    #[test]
    fn the_standard_bucket_is_the_searched_one() {
        let edges = edges_f64();
        let mut x = 1e-9;
        while x < 1e9 {
            for y in [x, x * (1.0 + 1e-12), x * (1.0 - 1e-12)] {
                assert_eq!(bucket_f64_standard(&edges, y), bucket_f64(&edges, y), "{y}");
            }
            x *= 1.000_37;
        }
        for &e in edges.iter().step_by(97) {
            assert_eq!(bucket_f64_standard(&edges, e), bucket_f64(&edges, e));
            let below = f64::from_bits(e.to_bits() - 1);
            assert_eq!(bucket_f64_standard(&edges, below), bucket_f64(&edges, below));
        }
        assert_eq!(bucket_f64_standard(&edges, f64::NAN), 0);
        assert_eq!(bucket_f64_standard(&edges, f64::INFINITY), edges.len());
    }

    #[test]
    fn f32_buckets_agree_with_real_edges() {
        let e = edges_f64();
        let ext = edges_f32_extended(&e);
        let mut rng = SimRng::new(3);
        for _ in 0..20_000 {
            let g = libm::exp(rng.uniform() * 20.0 - 16.0) as f32;
            let c = bucket_f32(&ext, g);
            assert_eq!(c, bucket_f64(&e, g as f64), "{g}");
            assert!(ext[c] <= g && g < ext[c + 1]);
        }
        // Right at an edge and one ulp below it.
        let edge = ext[500];
        assert_eq!(bucket_f32(&ext, edge), 500);
        assert_eq!(bucket_f32(&ext, f32::from_bits(edge.to_bits() - 1)), 499);
    }

    #[test]
    fn percentiles_are_within_half_a_permille_of_exact_order_statistics() {
        let e = edges_f64();
        let mut rng = SimRng::new(11);
        let mut values: Vec<f64> = (0..50_001).map(|_| rng.lognormal(-4.0, 1.2)).collect();
        let mut h = LogHistogram::default();
        for &v in &values {
            h.add_to_bucket(bucket_f64(&e, v), 1);
            h.cover(v, v);
        }
        let qs = [0.0, 0.25, 0.5, 0.9, 0.95, 0.99, 0.999, 1.0];
        let approx = h.percentiles(&e, &qs);
        let exact = percentiles(&mut values, &qs);
        for ((a, x), q) in approx.iter().zip(&exact).zip(qs) {
            assert!(((a - x) / x).abs() <= 5.1e-4, "q {q}: histogram {a} vs exact {x}");
        }
        assert_eq!(approx[0], exact[0]);
        assert_eq!(approx[7], exact[7]);
    }

    #[test]
    fn empty_histogram_has_nan_percentiles_and_sparse_serde_round_trips() {
        let h = LogHistogram::default();
        assert!(h.percentiles(&edges_f64(), &[0.5])[0].is_nan());
        let back: LogHistogram = serde_json::from_str(&serde_json::to_string(&h).unwrap()).unwrap();
        assert!(back.total == 0 && back.min.is_nan() && back.counts.len() == BUCKETS);
        let mut h = LogHistogram::default();
        h.add_to_bucket(7, 3);
        h.add_to_bucket(BUCKETS - 1, 1);
        h.cover(2e-6, 3e8);
        let json = serde_json::to_string(&h).unwrap();
        assert!(json.len() < 120, "{json}");
        assert_eq!(serde_json::from_str::<LogHistogram>(&json).unwrap(), h);
    }
}
