//! Which GPUs serve which bin under `multi_bin_continuous` (`continuous` has one bin).

use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// The GPUs of each bin, from the bins' token loads (prompt + predicted output of their
/// requests). With at least as many GPUs as bins, every bin gets its own GPUs: one each,
/// then each further GPU to the bin with the most load per GPU so far (ties to the lower
/// bin), which keeps the busiest GPU's load as low as whole GPUs allow. With fewer GPUs than bins, consecutive bins share
/// a GPU: GPU g serves the bins whose load falls in the g-th G-quantile of the total,
/// each GPU at least one bin.
pub fn bin_gpus(load: &[f64], gpus: u32) -> Vec<Vec<u32>> {
    let k = load.len();
    let g_total = gpus as usize;
    if g_total >= k {
        #[derive(PartialEq)]
        struct Claim(f64, usize);
        impl Eq for Claim {}
        impl PartialOrd for Claim {
            fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
                Some(self.cmp(o))
            }
        }
        impl Ord for Claim {
            // Highest load per GPU first, then the lower bin.
            fn cmp(&self, o: &Self) -> Ordering {
                self.0.total_cmp(&o.0).then(o.1.cmp(&self.1))
            }
        }
        let mut count = vec![1usize; k];
        let mut heap: BinaryHeap<Claim> = (0..k).map(|j| Claim(load[j], j)).collect();
        for _ in k..g_total {
            let Claim(_, j) = heap.pop().expect("k >= 1");
            count[j] += 1;
            heap.push(Claim(load[j] / count[j] as f64, j));
        }
        let mut next = 0u32;
        return count
            .iter()
            .map(|&c| {
                let ids = (next..next + c as u32).collect();
                next += c as u32;
                ids
            })
            .collect();
    }
    // Fewer GPUs than bins: contiguous runs of bins, GPU g starting at the first bin
    // whose middle is past g/G of the load, and after at least one bin per earlier GPU
    // (so the starts strictly increase).
    let total: f64 = load.iter().sum();
    let mut first_bin = vec![0usize; g_total];
    let mut cum = 0.0;
    let mut j = 0;
    for (g, first) in first_bin.iter_mut().enumerate().skip(1) {
        let target = total * g as f64 / g_total as f64;
        while j < g || (j < k && cum + load[j] / 2.0 < target) {
            cum += load[j];
            j += 1;
        }
        *first = j;
    }
    // ...and before at least one bin per later GPU.
    for (g, first) in first_bin.iter_mut().enumerate().skip(1) {
        *first = (*first).min(k - (g_total - g));
    }
    (0..k)
        .map(|bin| {
            let g = first_bin.partition_point(|&f| f <= bin) - 1;
            vec![g as u32]
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_follow_load_and_every_gpu_and_bin_is_used() {
        assert_eq!(bin_gpus(&[1.0], 3), vec![vec![0, 1, 2]]);
        // 8 GPUs for loads 1 : 3: two and six.
        assert_eq!(bin_gpus(&[1.0, 3.0], 8), vec![vec![0, 1], vec![2, 3, 4, 5, 6, 7]]);
        assert_eq!(bin_gpus(&[5.0, 5.0, 5.0], 3), vec![vec![0], vec![1], vec![2]]);
        // 3 : 2 on 4 GPUs: two each (1.5 and 1 per GPU; three and one would leave 2).
        assert_eq!(bin_gpus(&[3.0, 2.0], 4), vec![vec![0, 1], vec![2, 3]]);
        assert_eq!(bin_gpus(&[5.0, 1.0], 3), vec![vec![0, 1], vec![2]]);
        assert_eq!(bin_gpus(&[1.0, 2.0, 4.0], 7), vec![vec![0], vec![1, 2], vec![3, 4, 5, 6]]);
        // Fewer GPUs than bins: contiguous bins share, every GPU serves one at least.
        assert_eq!(bin_gpus(&[1.0, 1.0, 1.0, 1.0], 2), vec![vec![0], vec![0], vec![1], vec![1]]);
        assert_eq!(bin_gpus(&[100.0, 1.0, 1.0, 1.0], 2), vec![vec![0], vec![1], vec![1], vec![1]]);
        assert_eq!(bin_gpus(&[1.0, 1.0, 1.0, 100.0], 3), vec![vec![0], vec![0], vec![1], vec![2]]);
        assert_eq!(bin_gpus(&[0.0; 5], 1), vec![vec![0]; 5]);
        assert_eq!(bin_gpus(&[1.0; 6], 3), vec![vec![0], vec![0], vec![1], vec![1], vec![2], vec![2]]);
        // A bin whose middle falls exactly on a cut goes to the later GPU.
        assert_eq!(bin_gpus(&[2.0, 2.0, 2.0], 2), vec![vec![0], vec![1], vec![1]]);
    }
}
