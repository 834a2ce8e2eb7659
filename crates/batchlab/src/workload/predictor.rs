//! Output-length predictors. (Being written.)

use crate::config::Predictor;
use crate::rng::SimRng;

/// Predict every request's output length, request by request in id order.
pub fn predict_all(p: Predictor, prompt: &[u32], output: &[u32], rng: &mut SimRng) -> Vec<u32> {
    let _ = (p, prompt, output, rng);
    todo!("predictors")
}
