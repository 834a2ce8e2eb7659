//! A run of iterations in closed form. While a GPU's members stay the same and none of
//! them prefills, iteration j of the run (j = 0, 1, ...) takes
//!
//! ```text
//! d_j = base + c_ctx * (ctx0 + n * j)          (whole femtoseconds)
//! ```
//!
//! because each of its `n` decoding sequences adds one token to the context it reads.
//! So the run's end after k iterations, the number of its gaps above a limit and its
//! gaps' histogram all follow without visiting every iteration. Everything is integer
//! arithmetic on femtoseconds, so a run split in two gives exactly the same times and
//! gaps as the whole (the literal engine of the tests relies on it).

use crate::histogram::{bucket_f64_standard, LogHistogram};

/// Femtoseconds (u128: ~1e22 years; no run overflows it).
pub type Fs = u128;

/// Seconds to whole femtoseconds (arrival times; the engine's clock).
pub fn fs_of(seconds: f64) -> Fs {
    (seconds * 1e15).round() as Fs
}

/// Femtoseconds to seconds, the one conversion every output goes through.
#[inline]
pub fn seconds_of(fs: Fs) -> f64 {
    // Through u64 when it fits (every iteration does): the same value, converted faster.
    match u64::try_from(fs) {
        Ok(small) => small as f64 * 1e-15,
        Err(_) => fs as f64 * 1e-15,
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Arith {
    /// Iteration 0's time before its context reads: `c0`, plus the compute when the
    /// form adds them (`IterationForm::Sum`).
    pub base: Fs,
    /// The compute time an iteration overlaps with its memory time
    /// (`IterationForm::Max`; 0 when added into `base`).
    pub compute: Fs,
    pub c_ctx: Fs,
    pub ctx0: u128,
    /// Decoding sequences: the context grows by n each iteration.
    pub n: u128,
}

impl Arith {
    /// Iteration j's memory (or added) time.
    #[inline]
    fn memory(&self, j: u64) -> Fs {
        self.base + self.c_ctx * (self.ctx0 + self.n * j as u128)
    }

    /// Duration of iteration j.
    #[inline]
    pub fn duration(&self, j: u64) -> Fs {
        self.memory(j).max(self.compute)
    }

    /// The first iteration whose memory time reaches the compute time (u64::MAX: none).
    fn crossover(&self) -> u64 {
        let m0 = self.memory(0);
        if m0 >= self.compute {
            return 0;
        }
        let step = self.c_ctx * self.n;
        if step == 0 {
            return u64::MAX;
        }
        ((self.compute - m0).div_ceil(step)).min(u64::MAX as u128) as u64
    }

    /// Total duration of iterations 0..k: compute-bound ones first, then memory-bound.
    pub fn total(&self, k: u64) -> Fs {
        let a = self.crossover().min(k);
        let (k, a128) = (k as u128, a as u128);
        let pairs = |x: u128| if x == 0 { 0 } else { x * (x - 1) / 2 };
        let memory_bound = (k - a128) * (self.base + self.c_ctx * self.ctx0) + self.c_ctx * self.n * (pairs(k) - pairs(a128));
        a128 * self.compute + memory_bound
    }

    /// The gap of iteration j in seconds (histograms and SLA comparisons use this value).
    #[inline]
    pub fn gap_s(&self, j: u64) -> f64 {
        seconds_of(self.duration(j))
    }

    /// The first k in 1..=m whose end (`total(k)`) is at or after `elapsed` (m if none).
    pub fn first_end_at_or_after(&self, elapsed: Fs, m: u64) -> u64 {
        let (mut lo, mut hi) = (1u64, m.max(1));
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if self.total(mid) >= elapsed {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        lo
    }

    /// How many of iterations 0..m have a gap above `limit_s` (gaps never shrink along
    /// a run, so they are the last ones).
    pub fn count_above(&self, m: u64, limit_s: f64) -> u64 {
        if m == 0 || self.gap_s(m - 1) <= limit_s {
            return 0;
        }
        if self.gap_s(0) > limit_s {
            return m;
        }
        // The first j whose gap is above the limit.
        let (mut lo, mut hi) = (0u64, m);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if self.gap_s(mid) > limit_s {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        m - lo
    }

    /// Add the gaps of iterations 0..m, each `weight` times, to `h`: bucket range by
    /// bucket range (a binary search for the last iteration below each bucket's upper
    /// edge). `last` is the caller's cache of the bucket used last (gaps repeat).
    pub fn add_to_histogram(&self, m: u64, weight: u64, edges: &[f64], last: &mut usize, h: &mut LogHistogram) {
        if m == 0 || weight == 0 {
            return;
        }
        let (first, last_gap) = (self.gap_s(0), self.gap_s(m - 1));
        if first == last_gap {
            // One value (a single iteration, or a run without context growth).
            h.add_to_bucket(bucket_cached(edges, first, last), m * weight);
            h.cover(first, first);
            return;
        }
        let mut j = 0u64;
        while j < m {
            let g = self.gap_s(j);
            let bucket = bucket_cached(edges, g, last);
            // Gaps are non-decreasing in j: the iterations below the bucket's upper edge
            // are a prefix of j..m.
            let end = if bucket < edges.len() {
                let upper = edges[bucket];
                let (mut lo, mut hi) = (j + 1, m);
                while lo < hi {
                    let mid = lo + (hi - lo) / 2;
                    if self.gap_s(mid) < upper {
                        lo = mid + 1;
                    } else {
                        hi = mid;
                    }
                }
                lo
            } else {
                m
            };
            h.add_to_bucket(bucket, (end - j) * weight);
            j = end;
        }
        h.cover(first, last_gap);
    }
}

/// The bucket of `x` in the standard edges, trying the previous value's first.
#[inline]
pub fn bucket_cached(edges: &[f64], x: f64, last: &mut usize) -> usize {
    let c = *last;
    if c >= 1 && c < edges.len() && edges[c - 1] <= x && x < edges[c] {
        return c;
    }
    *last = bucket_f64_standard(edges, x);
    *last
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::histogram::{bucket_f64, edges_f64};

    #[test]
    fn femtoseconds_convert_to_seconds_small_and_huge() {
        assert_eq!(seconds_of(2_500_000_000_000_000), 2.5);
        assert_eq!(seconds_of(1 << 70), (1u128 << 70) as f64 * 1e-15);
        assert_eq!(fs_of(seconds_of(123_456_000)), 123_456_000);
    }

    #[test]
    fn closed_forms_equal_walking_the_iterations() {
        for compute in [0, 5_020_000_000_000] {
        let a = Arith { base: 5_000_000_000_000, compute, c_ctx: 261_579, ctx0: 12_345, n: 37 };
        let edges = edges_f64();
        let mut walked = LogHistogram::default();
        let (mut t, mut above) = (0u128, 0u64);
        for j in 0..5000u64 {
            t += a.duration(j);
            let g = a.gap_s(j);
            walked.add_to_bucket(bucket_f64(&edges, g), 3);
            walked.cover(g, g);
            above += (g > 0.00502) as u64;
            assert_eq!(a.total(j + 1), t);
        }
        let mut closed = LogHistogram::default();
        a.add_to_histogram(5000, 3, &edges, &mut 0, &mut closed);
        assert_eq!(closed, walked);
        assert_eq!(a.count_above(5000, 0.00502), above);
        assert!(above > 0 && above < 5000);
        assert_eq!(a.first_end_at_or_after(a.total(17), 5000), 17);
        assert_eq!(a.first_end_at_or_after(a.total(17) + 1, 5000), 18);
        assert_eq!(a.first_end_at_or_after(u128::MAX, 40), 40);
        }
    }
}
