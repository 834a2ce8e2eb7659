//! Exact order statistics: percentiles with linear interpolation between closest ranks,
//! numpy's default (`method="linear"`): the q-quantile of sorted x[0..n] is at rank
//! h = (n - 1) q, interpolated between x[floor h] and x[ceil h].

/// Percentiles (q in [0, 1]) of `values`, which are reordered in place. Uses selection
/// (O(n) each) rather than a full sort. Empty input gives NaN.
pub fn percentiles(values: &mut [f64], qs: &[f64]) -> Vec<f64> {
    let n = values.len();
    if n == 0 {
        return vec![f64::NAN; qs.len()];
    }
    qs.iter()
        .map(|&q| {
            let h = (n - 1) as f64 * q.clamp(0.0, 1.0);
            let lo = h.floor() as usize;
            let hi = (lo + 1).min(n - 1);
            let (_, x_lo, rest) = values.select_nth_unstable_by(lo, f64::total_cmp);
            let x_lo = *x_lo;
            if hi == lo || h == lo as f64 {
                return x_lo;
            }
            // The next order statistic is the minimum of everything above rank lo.
            let x_hi = rest.iter().copied().fold(f64::INFINITY, f64::min);
            x_lo + (x_hi - x_lo) * (h - lo as f64)
        })
        .collect()
}

pub fn mean(values: &[f64]) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    values.iter().sum::<f64>() / values.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_numpy_linear_percentiles() {
        // numpy.percentile([1, 2, 3, 4, 10], [0, 25, 50, 90, 99, 100]) =
        // [1.0, 2.0, 3.0, 7.6, 9.76, 10.0]
        let mut v = vec![10.0, 3.0, 1.0, 4.0, 2.0];
        let p = percentiles(&mut v, &[0.0, 0.25, 0.5, 0.9, 0.99, 1.0]);
        let want = [1.0, 2.0, 3.0, 7.6, 9.76, 10.0];
        for (a, b) in p.iter().zip(want) {
            assert!((a - b).abs() < 1e-12, "{p:?}");
        }
    }

    #[test]
    fn single_and_empty() {
        assert_eq!(percentiles(&mut [5.0], &[0.5, 0.99]), vec![5.0, 5.0]);
        assert!(percentiles(&mut [], &[0.5])[0].is_nan());
    }
}
