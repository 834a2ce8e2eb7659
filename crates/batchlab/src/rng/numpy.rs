//! numpy's legacy seeded stream, bit for bit: what `np.random.seed(s)` followed by
//! `np.random.lognormal(mean, sigma)` calls returns (the original simulator predicts
//! output lengths with it).
//!
//! - MT19937 (Matsumoto & Nishimura, 1998), seeded with the reference `init_genrand`;
//! - doubles of 53 bits from two outputs: `(a >> 5) * 2^26 + (b >> 6)`, over 2^53;
//! - normals by Marsaglia's polar method, two per accepted pair: the first call returns
//!   `f * x2` and keeps `f * x1` for the next call (numpy's `has_gauss` cache);
//! - a lognormal is `exp(mean + sigma * normal)`.
//!
//! `log` and `exp` go through `libm` like every transcendental function of the core.

const N: usize = 624;
const M: usize = 397;
const MATRIX_A: u32 = 0x9908_b0df;
const UPPER_MASK: u32 = 0x8000_0000;
const LOWER_MASK: u32 = 0x7fff_ffff;

/// The largest seed `np.random.seed` accepts (it rejects larger ones).
pub const MAX_SEED: u64 = u32::MAX as u64;

/// numpy's `RandomState` as far as the predictor uses it.
pub struct NumpyLegacy {
    mt: [u32; N],
    index: usize,
    /// The second normal of the last polar pair, not yet returned.
    cached_gauss: Option<f64>,
}

impl NumpyLegacy {
    /// The state after `np.random.seed(seed)`; `seed` must be at most `MAX_SEED` (numpy
    /// rejects larger ones: the configuration checks it first).
    pub fn new(seed: u32) -> Self {
        let mut mt = [0u32; N];
        mt[0] = seed;
        for i in 1..N {
            let prev = mt[i - 1];
            mt[i] = 1_812_433_253u32.wrapping_mul(prev ^ (prev >> 30)).wrapping_add(i as u32);
        }
        NumpyLegacy { mt, index: N, cached_gauss: None }
    }

    /// The next 32-bit output (tempered).
    pub fn next_u32(&mut self) -> u32 {
        if self.index >= N {
            self.twist();
        }
        let mut y = self.mt[self.index];
        self.index += 1;
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c_5680;
        y ^= (y << 15) & 0xefc6_0000;
        y ^ (y >> 18)
    }

    fn twist(&mut self) {
        for k in 0..N {
            let y = (self.mt[k] & UPPER_MASK) | (self.mt[(k + 1) % N] & LOWER_MASK);
            let mag = if y & 1 == 1 { MATRIX_A } else { 0 };
            self.mt[k] = self.mt[(k + M) % N] ^ (y >> 1) ^ mag;
        }
        self.index = 0;
    }

    /// Uniform on [0, 1) with 53 random bits (`random_sample`).
    pub fn next_double(&mut self) -> f64 {
        let a = (self.next_u32() >> 5) as f64;
        let b = (self.next_u32() >> 6) as f64;
        (a * 67_108_864.0 + b) / 9_007_199_254_740_992.0
    }

    /// A standard normal (`legacy_gauss`).
    pub fn gauss(&mut self) -> f64 {
        if let Some(g) = self.cached_gauss.take() {
            return g;
        }
        let (x1, x2, r2) = loop {
            let x1 = 2.0 * self.next_double() - 1.0;
            let x2 = 2.0 * self.next_double() - 1.0;
            let r2 = x1 * x1 + x2 * x2;
            if r2 < 1.0 && r2 != 0.0 {
                break (x1, x2, r2);
            }
        };
        let f = (-2.0 * libm::log(r2) / r2).sqrt();
        self.cached_gauss = Some(f * x1);
        f * x2
    }

    /// `np.random.lognormal(mean, sigma)`.
    pub fn lognormal(&mut self, mean: f64, sigma: f64) -> f64 {
        libm::exp(mean + sigma * self.gauss())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mt19937_matches_the_reference_outputs() {
        // The reference implementation's init_genrand(5489): first outputs and the
        // 10,000th (3,495,982,640 ... , 4,123,659,995 as in C++'s std::mt19937 check).
        let mut r = NumpyLegacy::new(5489);
        assert_eq!(r.next_u32(), 3_499_211_612);
        assert_eq!(r.next_u32(), 581_869_302);
        let mut r = NumpyLegacy::new(5489);
        let tenth_thousand = (0..10_000).map(|_| r.next_u32()).last().unwrap();
        assert_eq!(tenth_thousand, 4_123_659_995);
    }

    #[test]
    fn normals_come_in_cached_pairs() {
        let mut a = NumpyLegacy::new(1);
        let first = a.gauss();
        assert!(a.cached_gauss.is_some());
        let second = a.gauss();
        assert!(a.cached_gauss.is_none() && first != second);
    }
}
