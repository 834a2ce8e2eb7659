//! Output-length predictors: what a multi-bin scheduler believes a
//! request's output length is before serving it.
//!
//! Each random predictor uses exactly one standard normal per request, in id order,
//! whatever its parameter (requests 2k and 2k + 1 share one Box–Muller draw). So with one
//! seed, a sweep of `noisy` over sigma perturbs every request with the same normal draw
//! scaled by sigma (common random numbers): the sweep shows the effect of sigma, not of
//! a reshuffled noise stream.
//!
//! `prompt_numpy` draws instead from numpy's legacy generator seeded with the run's seed
//! (`rng::numpy`), one lognormal per request in id order, and computes the formula as
//! the original's Python does, so it predicts exactly what the original predicted.

use crate::config::Predictor;
use crate::rng::numpy::NumpyLegacy;
use crate::rng::SimRng;

use super::synthetic::normal_pair;

/// The `prompt` predictor's constants (the original's formula):
/// `clamp(floor(1.5 * prompt^0.7 * LogNormal(0, 0.1)), 1, 4096)`.
const PROMPT_COEFF: f64 = 1.5;
const PROMPT_EXPONENT: f64 = 0.7;
const PROMPT_NOISE_SIGMA: f64 = 0.1;
const PROMPT_MAX_PREDICTION: f64 = 4096.0;

/// Predict every request's output length, request by request in id order.
///
/// `Predictor::Trace` takes its values from the trace file, which `workload::build`
/// handles before it ever calls this; given it here, the answer is the true output
/// length (the best a trace's own column can be), never a panic. `seed` seeds
/// `prompt_numpy`'s own generator (at most `NUMPY_MAX_SEED`: larger seeds are cut to 32
/// bits here, and refused by `Config::validate`).
pub fn predict_all(p: Predictor, prompt: &[u32], output: &[u32], rng: &mut SimRng, seed: u64) -> Vec<u32> {
    match p {
        Predictor::Prompt => with_normals(prompt, rng, predict_from_prompt),
        Predictor::PromptNumpy => {
            let mut numpy = NumpyLegacy::new(seed as u32);
            prompt.iter().map(|&p| predict_as_numpy(p, numpy.lognormal(0.0, PROMPT_NOISE_SIGMA))).collect()
        }
        Predictor::Noisy { sigma } => with_normals(output, rng, |tokens, z| noisy(tokens, sigma, z)),
        Predictor::Oracle | Predictor::Trace => output.to_vec(),
    }
}

/// `predict(tokens[i], z_i)` for each request, the z_i standard normals drawn in pairs.
fn with_normals(tokens: &[u32], rng: &mut SimRng, predict: impl Fn(u32, f64) -> u32) -> Vec<u32> {
    let mut out = Vec::with_capacity(tokens.len());
    for pair in tokens.chunks(2) {
        let (z0, z1) = normal_pair(rng);
        out.push(predict(pair[0], z0));
        if let Some(&second) = pair.get(1) {
            out.push(predict(second, z1));
        }
    }
    out
}

/// `clamp(floor(1.5 * prompt^0.7 * exp(0.1 * z)), 1, 4096)` for a standard normal `z`,
/// computed as 1.5 * exp(0.7 ln prompt + 0.1 z): one exp instead of a pow and an exp.
fn predict_from_prompt(prompt_tokens: u32, z: f64) -> u32 {
    // ln 0 = -inf gives exp(-inf) = 0, then the clamp's 1: an empty prompt predicts 1.
    let exponent = PROMPT_EXPONENT * libm::log(prompt_tokens as f64) + PROMPT_NOISE_SIGMA * z;
    let guess = PROMPT_COEFF * libm::exp(exponent);
    // Truncating a value clamped to [1, 4096] is its floor (and cheaper than `floor`).
    guess.clamp(1.0, PROMPT_MAX_PREDICTION) as u32
}

/// The original's `max(1, min(int(prompt ** 0.7 * 1.5 * noise), 4096))`, operation for
/// operation (a power, then two products), for a lognormal `noise`.
fn predict_as_numpy(prompt_tokens: u32, noise: f64) -> u32 {
    let guess = libm::pow(prompt_tokens as f64, PROMPT_EXPONENT) * PROMPT_COEFF * noise;
    guess.clamp(1.0, PROMPT_MAX_PREDICTION) as u32
}

/// `max(1, round(output * exp(sigma * z)))` for a standard normal `z`. With sigma = 0
/// the factor is exp(±0) = 1 exactly, so the prediction is the true length (an oracle).
fn noisy(output_tokens: u32, sigma: f64, z: f64) -> u32 {
    let guess = output_tokens as f64 * libm::exp(sigma * z);
    // Round half up by truncating guess + 0.5 (guess >= 0); `as` saturates at u32::MAX
    // for a huge factor, and NaN cannot occur (z is finite).
    ((guess + 0.5) as u32).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompt_predictor_matches_hand_computed_values() {
        // z = 0: 1.5 * 100^0.7 = 1.5 * 25.1189 = 37.68 -> 37.
        assert_eq!(predict_from_prompt(100, 0.0), 37);
        // 1.5 * 1000^0.7 = 1.5 * 125.893 = 188.84 -> 188; with z = 1: * e^0.1 = 208.70 -> 208.
        assert_eq!(predict_from_prompt(1000, 0.0), 188);
        assert_eq!(predict_from_prompt(1000, 1.0), 208);
        // An empty prompt still predicts at least 1 token; a huge one is capped at 4096.
        assert_eq!(predict_from_prompt(0, 0.0), 1);
        assert_eq!(predict_from_prompt(1_000_000, 0.0), 4096);
        assert_eq!(predict_from_prompt(u32::MAX, 5.0), 4096);
    }

    #[test]
    fn noisy_predictor_matches_hand_computed_values() {
        assert_eq!(noisy(100, 0.5, 0.0), 100);
        // 100 * e^(0.5 * 2) = 271.83 -> 272; 100 * e^-1 = 36.79 -> 37.
        assert_eq!(noisy(100, 0.5, 2.0), 272);
        assert_eq!(noisy(100, 0.5, -2.0), 37);
        // Never below one token, saturates instead of overflowing.
        assert_eq!(noisy(1, 3.0, -3.0), 1);
        assert_eq!(noisy(u32::MAX, 3.0, 3.0), u32::MAX);
    }

    #[test]
    fn noisy_with_sigma_zero_is_the_oracle_exactly() {
        let prompt: Vec<u32> = (0..5000).map(|i| 1 + i * 7 % 3000).collect();
        let output: Vec<u32> = (0..5000).map(|i| 1 + (i * 7919) % 7315).collect();
        let noisy0 = predict_all(Predictor::Noisy { sigma: 0.0 }, &prompt, &output, &mut SimRng::new(11), 11);
        let oracle = predict_all(Predictor::Oracle, &prompt, &output, &mut SimRng::new(11), 11);
        assert_eq!(noisy0, output);
        assert_eq!(oracle, output);
        let trace = predict_all(Predictor::Trace, &prompt, &output, &mut SimRng::new(11), 11);
        assert_eq!(trace, output);
    }

    #[test]
    fn random_predictors_use_one_normal_per_request_in_id_order() {
        let prompt = [10u32, 200, 3000, 0, 77];
        let output = [5u32, 50, 500, 1, 9];
        let mut rng = SimRng::new(42);
        let (pair0, pair1) = (normal_pair(&mut rng), normal_pair(&mut rng));
        let zs = [pair0.0, pair0.1, pair1.0, pair1.1];
        let by_prompt = predict_all(Predictor::Prompt, &prompt, &output, &mut SimRng::new(42), 42);
        let expected: Vec<u32> = prompt.iter().zip(&zs).map(|(&p, &z)| predict_from_prompt(p, z)).collect();
        assert_eq!(by_prompt[..4], expected[..]);
        assert_eq!(by_prompt.len(), 5);
        // The prefix property: predicting fewer requests gives the first ones unchanged.
        let fewer = predict_all(Predictor::Prompt, &prompt[..3], &output[..3], &mut SimRng::new(42), 42);
        assert_eq!(fewer[..], by_prompt[..3]);
        let by_noise = predict_all(Predictor::Noisy { sigma: 0.3 }, &prompt, &output, &mut SimRng::new(42), 42);
        let expected: Vec<u32> = output.iter().zip(&zs).map(|(&o, &z)| noisy(o, 0.3, z)).collect();
        assert_eq!(by_noise[..4], expected[..]);
        // The oracle consumes nothing from the stream.
        let mut rng = SimRng::new(42);
        predict_all(Predictor::Oracle, &prompt, &output, &mut rng, 42);
        assert_eq!(rng.next_u64(), SimRng::new(42).next_u64());
    }

    #[test]
    fn noisy_predictions_spread_with_sigma() {
        let output = vec![100u32; 20_000];
        let spread = |sigma: f64| {
            let p = predict_all(Predictor::Noisy { sigma }, &output, &output, &mut SimRng::new(5), 5);
            p.iter().map(|&x| (x as f64 - 100.0).abs()).sum::<f64>() / p.len() as f64
        };
        let (a, b, c) = (spread(0.0), spread(0.2), spread(0.8));
        assert!(a == 0.0 && a < b && b < c, "mean |error| {a} {b} {c}");
    }
}
