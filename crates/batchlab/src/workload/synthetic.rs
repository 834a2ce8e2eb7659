//! Synthetic workloads. (Being written.)

use super::Workload;
use crate::config::Synthetic;
use crate::rng::SimRng;

/// Generate `n` requests request by request (prefix property), arrivals from 0.
pub fn generate(kind: Synthetic, n: usize, rng: &mut SimRng) -> Workload {
    let _ = (kind, n, rng);
    todo!("synthetic generators")
}
