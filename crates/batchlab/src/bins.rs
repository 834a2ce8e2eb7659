//! Equal-mass length bins: boundaries at the empirical quantiles of the
//! predicted lengths of the first requests; the last bin is open-ended.

use crate::config::BinEdgeRule;
use crate::stats::percentiles;

#[derive(Debug, Clone, PartialEq)]
pub struct Bins {
    /// K - 1 inner edges, non-decreasing. Bin j holds predictions in [edge[j-1], edge[j]).
    pub edges: Vec<f64>,
    /// `BinEdgeRule::Truncated`: a prediction below this goes to the last bin (the
    /// original has no bin for it). `None`: it goes to the first bin.
    pub below_goes_last: Option<f64>,
}

impl Bins {
    /// One bin for everything.
    pub fn single() -> Self {
        Bins { edges: Vec::new(), below_goes_last: None }
    }

    /// `equal_mass`, then cut by `rule`: the original truncates every quantile with
    /// Python's `int()` (edges and the smallest sampled prediction).
    pub fn equal_mass_by(predicted: &[u32], k: u32, sample: usize, rule: BinEdgeRule) -> Self {
        let mut bins = Bins::equal_mass(predicted, k, sample);
        if rule == BinEdgeRule::Truncated && bins.k() > 1 {
            for e in &mut bins.edges {
                *e = e.trunc();
            }
            let smallest = predicted[..sample.min(predicted.len())].iter().min().copied().unwrap_or(0);
            bins.below_goes_last = Some(smallest as f64);
        }
        bins
    }

    /// K bins from the predictions of the first `sample` requests (numpy-linear quantiles).
    pub fn equal_mass(predicted: &[u32], k: u32, sample: usize) -> Self {
        let k = k.max(1) as usize;
        if k == 1 || predicted.is_empty() {
            return Bins::single();
        }
        let mut xs: Vec<f64> = predicted[..sample.min(predicted.len())].iter().map(|&p| p as f64).collect();
        let qs: Vec<f64> = (1..k).map(|j| j as f64 / k as f64).collect();
        Bins { edges: percentiles(&mut xs, &qs), below_goes_last: None }
    }

    pub fn k(&self) -> usize {
        self.edges.len() + 1
    }

    /// The bin whose [lo, hi) holds `predicted`. With repeated edges (many equal
    /// predictions) the empty bins in between are skipped.
    pub fn bin_of(&self, predicted: u32) -> usize {
        let x = predicted as f64;
        if self.below_goes_last.is_some_and(|lo| x < lo) {
            return self.edges.len();
        }
        self.edges.partition_point(|&e| e <= x)
    }

    /// [lo, hi) of bin j; hi is infinite for the last bin, lo is 0 for the first.
    pub fn range(&self, j: usize) -> (f64, f64) {
        let lo = if j == 0 { 0.0 } else { self.edges[j - 1] };
        let hi = if j + 1 >= self.k() { f64::INFINITY } else { self.edges[j] };
        (lo, hi)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quartile_edges_by_hand() {
        // 1..=8: quantiles 0.25, 0.5, 0.75 at ranks 1.75, 3.5, 5.25 -> 2.75, 4.5, 6.25
        let p: Vec<u32> = (1..=8).collect();
        let b = Bins::equal_mass(&p, 4, 5000);
        assert_eq!(b.edges, vec![2.75, 4.5, 6.25]);
        let bins: Vec<usize> = p.iter().map(|&x| b.bin_of(x)).collect();
        assert_eq!(bins, vec![0, 0, 1, 1, 2, 2, 3, 3]);
        assert_eq!(b.range(0), (0.0, 2.75));
        assert_eq!(b.range(3).0, 6.25);
        assert!(b.range(3).1.is_infinite());
    }

    #[test]
    fn truncated_edges_and_below_the_sample_to_the_last_bin() {
        // 5..=12: quartiles 6.75, 8.5, 10.25 -> int() 6, 8, 10; smallest sampled 5.
        let p: Vec<u32> = (5..=12).collect();
        let b = Bins::equal_mass_by(&p, 4, 5000, BinEdgeRule::Truncated);
        assert_eq!((b.edges.clone(), b.below_goes_last), (vec![6.0, 8.0, 10.0], Some(5.0)));
        let bins: Vec<usize> = (3..=13).map(|x| b.bin_of(x)).collect();
        // 3 and 4 lie below every sampled prediction: the last bin, as in the original.
        assert_eq!(bins, vec![3, 3, 0, 1, 1, 2, 2, 3, 3, 3, 3]);
        let exact = Bins::equal_mass_by(&p, 4, 5000, BinEdgeRule::Exact);
        assert_eq!((exact.bin_of(3), exact.edges), (0, vec![6.75, 8.5, 10.25]));
        assert_eq!(Bins::equal_mass_by(&p, 1, 5000, BinEdgeRule::Truncated), Bins::single());
    }

    #[test]
    fn only_the_sample_sets_edges_and_k1_is_one_bin() {
        let p = vec![1, 2, 3, 4, 1000, 1000, 1000, 1000];
        let b = Bins::equal_mass(&p, 2, 4);
        assert_eq!(b.edges, vec![2.5]);
        assert_eq!(b.bin_of(1000), 1);
        let one = Bins::equal_mass(&p, 1, 4);
        assert_eq!(one.k(), 1);
        assert_eq!(one.bin_of(7), 0);
    }

    #[test]
    fn no_predictions_or_no_k_give_one_bin() {
        assert_eq!(Bins::equal_mass(&[], 4, 10).edges, Vec::<f64>::new());
        assert_eq!(Bins::equal_mass(&[1, 2, 3], 0, 10).k(), 1);
        // More bins than requests: edges repeat, every request still gets a bin.
        let b = Bins::equal_mass(&[5, 9], 4, 10);
        assert_eq!(b.edges, vec![6.0, 7.0, 8.0]);
        assert_eq!((b.bin_of(5), b.bin_of(9)), (0, 3));
    }

    #[test]
    fn value_on_an_edge_goes_up() {
        let b = Bins { edges: vec![10.0, 10.0, 20.0], below_goes_last: None };
        assert_eq!(b.bin_of(9), 0);
        assert_eq!(b.bin_of(10), 2);
        assert_eq!(b.bin_of(20), 3);
    }
}
