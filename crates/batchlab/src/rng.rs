//! The run's one random generator and the few distributions the core samples.
//!
//! Algorithm: PCG-XSL-RR 128/64 (MCG variant, `rand_pcg::Pcg64Mcg`), seeded with
//! `seed_from_u64`. Every transcendental function goes through `libm` (pure Rust), never
//! the platform's libm, so a seed yields bit-identical numbers natively and in wasm32.
//! (`sqrt` is exact under IEEE-754 everywhere, so the std one is fine.)

pub mod numpy;

use rand_core::{Rng, SeedableRng};
use rand_pcg::Pcg64Mcg;

pub struct SimRng {
    inner: Pcg64Mcg,
}

impl SimRng {
    pub fn new(seed: u64) -> Self {
        SimRng { inner: Pcg64Mcg::seed_from_u64(seed) }
    }

    pub fn next_u64(&mut self) -> u64 {
        self.inner.next_u64()
    }

    /// Uniform on [0, 1) with 53 random bits.
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform on (0, 1): never 0, so safe to take a logarithm of.
    pub fn uniform_open(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 0.5) * (1.0 / (1u64 << 53) as f64)
    }

    /// Standard normal by Box–Muller (one value per call; two uniforms consumed).
    pub fn standard_normal(&mut self) -> f64 {
        let u1 = self.uniform_open();
        let u2 = self.uniform();
        (-2.0 * libm::log(u1)).sqrt() * libm::cos(2.0 * std::f64::consts::PI * u2)
    }

    /// LogNormal(mu, sigma): exp of a normal with that mean and standard deviation.
    pub fn lognormal(&mut self, mu: f64, sigma: f64) -> f64 {
        libm::exp(mu + sigma * self.standard_normal())
    }

    /// Exponential with the given rate (mean 1 / rate).
    pub fn exponential(&mut self, rate: f64) -> f64 {
        -libm::log(self.uniform_open()) / rate
    }

    /// Gamma(shape, scale) by Marsaglia & Tsang (2000). For shape < 1 it uses the
    /// boost G(a) = G(a + 1) * U^(1/a), computed in log space because for the very small
    /// shapes of bursty traffic (a ~ 0.006) U^(1/a) underflows in linear space.
    pub fn gamma(&mut self, shape: f64, scale: f64) -> f64 {
        if shape < 1.0 {
            let g = self.gamma_at_least_one(shape + 1.0);
            let log_u = libm::log(self.uniform_open());
            return scale * libm::exp(libm::log(g) + log_u / shape);
        }
        scale * self.gamma_at_least_one(shape)
    }

    fn gamma_at_least_one(&mut self, shape: f64) -> f64 {
        let d = shape - 1.0 / 3.0;
        let c = 1.0 / (9.0 * d).sqrt();
        loop {
            let x = self.standard_normal();
            let v = 1.0 + c * x;
            if v <= 0.0 {
                continue;
            }
            let v = v * v * v;
            let u = self.uniform_open();
            if libm::log(u) < 0.5 * x * x + d - d * v + d * libm::log(v) {
                return d * v;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream_and_different_seed_differs() {
        let a: Vec<u64> = (0..4).map({ let mut r = SimRng::new(7); move |_| r.next_u64() }).collect();
        let b: Vec<u64> = (0..4).map({ let mut r = SimRng::new(7); move |_| r.next_u64() }).collect();
        let c: Vec<u64> = (0..4).map({ let mut r = SimRng::new(8); move |_| r.next_u64() }).collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    fn mean_var(xs: &[f64]) -> (f64, f64) {
        let n = xs.len() as f64;
        let m = xs.iter().sum::<f64>() / n;
        (m, xs.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / n)
    }

    #[test]
    fn distributions_have_their_moments() {
        let mut r = SimRng::new(1);
        let n = 200_000;
        let u: Vec<f64> = (0..n).map(|_| r.uniform()).collect();
        let (m, v) = mean_var(&u);
        assert!((m - 0.5).abs() < 0.01 && (v - 1.0 / 12.0).abs() < 0.002, "uniform {m} {v}");
        let z: Vec<f64> = (0..n).map(|_| r.standard_normal()).collect();
        let (m, v) = mean_var(&z);
        assert!(m.abs() < 0.01 && (v - 1.0).abs() < 0.02, "normal {m} {v}");
        let e: Vec<f64> = (0..n).map(|_| r.exponential(4.0)).collect();
        let (m, _) = mean_var(&e);
        assert!((m - 0.25).abs() < 0.005, "exponential {m}");
        for shape in [0.5, 2.5, 9.0] {
            let g: Vec<f64> = (0..n).map(|_| r.gamma(shape, 2.0)).collect();
            let (m, v) = mean_var(&g);
            assert!((m / (2.0 * shape) - 1.0).abs() < 0.02, "gamma({shape}) mean {m}");
            assert!((v / (4.0 * shape) - 1.0).abs() < 0.05, "gamma({shape}) var {v}");
        }
    }

    #[test]
    fn tiny_gamma_shape_does_not_underflow_to_nan() {
        let mut r = SimRng::new(3);
        for _ in 0..10_000 {
            let g = r.gamma(1.0 / (13.28 * 13.28), 1.0);
            assert!(g.is_finite() && g >= 0.0);
        }
    }
}
