//! Synthetic workloads: BurstGPT-like (the embedded default) and Poisson.
//!
//! Requests are generated one at a time from a generator seeded by the run's one
//! generator, each drawing in a fixed order (its inter-arrival gap, unless it is the first, then its token counts),
//! so the first N requests of a workload generated for M >= N requests are exactly the
//! workload for N (the prefix property the stress plan relies on). The arrival times
//! (bursts with a daily cycle, or Poisson) come from `arrivals`; this module draws the
//! token counts.
//!
//! Every number below restates the published statistics of
//! BurstGPT_1.csv published with the dataset (Wang et al., "BurstGPT: A Real-World
//! Workload Dataset to Optimize LLM Serving Systems", arXiv 2401.17644), unless its
//! comment says it is a chosen or fitted value.

use super::arrivals::Arrivals;
use super::Workload;
use crate::config::Synthetic;
use crate::rng::SimRng;
use std::sync::OnceLock;

/// Correlation of the Gaussian copula that ties a response's length to its request's.
/// A CHOSEN value, not a published one: BurstGPT's figures only show that the median
/// response rises with the request, and 0.4 makes it rise clearly while leaving most of
/// a response's length to chance, as in the trace.
const REQUEST_RESPONSE_RHO: f64 = 0.4;

/// The marginal distribution of a token count, as an inverse CDF (quantile function).
///
/// Body: log-linear between the knots (0, 1), (0.25, q1), (0.5, q2), (0.75, q3), so it
/// passes exactly through the published quartiles. Tail (above the 75th percentile):
/// with t = ln(0.25 / (1 - u)) >= 0,
///   `x = q3 * exp(tail_scale * ((t + tail_shift)^tail_power - tail_shift^tail_power))`,
/// capped at the published max. With tail_power = 1 this is a Pareto tail of index
/// 1 / tail_scale, but no Pareto index fits both BurstGPT's mean and sd (fitted to the
/// mean it gives sd 1342 for requests, 372 for responses), so tail_power < 1 thins the
/// far tail (still heavier than any exponential). tail_shift keeps the density just
/// above q3 at 30% of the body's just below it, a CHOSEN smoothness: with no shift it
/// falls to zero there, a gap in a histogram and a jumpy sample 75th percentile.
struct Marginal {
    q1: f64,
    q2: f64,
    q3: f64,
    max: f64,
    tail_scale: f64,
    tail_power: f64,
    tail_shift: f64,
}

// tail_scale and tail_power below were FITTED once by a throwaway script: Newton's method
// on a quadrature of this quantile function (values rounded to whole tokens and capped
// as here, tail_shift tied to them by the 30% density ratio) so that the distribution's
// mean and sd are the published ones; they reproduce both to within 0.01%.

/// Request (prompt) tokens: quartiles 137 / 251 / 758, max 29,665; fitted to mean 611
/// and sd 782 (BurstGPT's published table). The published min is 0; a synthetic prompt has >= 1.
const PROMPT: Marginal = Marginal {
    q1: 137.0,
    q2: 251.0,
    q3: 758.0,
    max: 29_665.0,
    tail_scale: 1.700_398,
    tail_power: 0.252_879,
    tail_shift: 0.056_413,
};

/// Response (output) tokens: quartiles 7 / 34 / 134, max 7,315; fitted to mean 123 and
/// sd 268 (BurstGPT's published table). About 1 response in 10,000 lands on the cap. The
/// published min is 0 (failed requests); a synthetic request never fails: >= 1 token.
const RESPONSE: Marginal = Marginal {
    q1: 7.0,
    q2: 34.0,
    q3: 134.0,
    max: 7_315.0,
    tail_scale: 0.941_682,
    tail_power: 0.706_227,
    tail_shift: 0.001_413,
};

/// Generate `n` requests request by request (prefix property), arrivals from 0.
///
/// `Poisson { rate_rps }` needs a positive rate; `Config::validate` checks it.
pub fn generate(kind: Synthetic, n: usize, rng: &mut SimRng) -> Workload {
    // The requests come from a child generator seeded by one draw of the run's, so the
    // run's stream advances by exactly one draw whatever n: what the caller draws next
    // (the predictions, in `workload::build`) is the same for every n, and the prefix
    // property holds for the whole built workload, not just for the generated part.
    let rng = &mut SimRng::new(rng.next_u64());
    let mut w = Workload {
        arrival_s: Vec::with_capacity(n),
        prompt_tokens: Vec::with_capacity(n),
        output_tokens: Vec::with_capacity(n),
        // Filled by `workload::build` from the predictor.
        predicted_output_tokens: Vec::new(),
    };
    let mut arrivals = match kind {
        Synthetic::BurstGpt => Arrivals::burstgpt(),
        Synthetic::Poisson { rate_rps } => Arrivals::poisson(rate_rps),
    };
    let (prompt, response) = score_tables();
    let rho = REQUEST_RESPONSE_RHO;
    let mut now_s = 0.0;
    for i in 0..n {
        if i > 0 {
            now_s = arrivals.next(rng);
        }
        // Gaussian copula: the response's normal score leans on the prompt's by rho.
        let (z_prompt, independent) = normal_pair(rng);
        let z_response = rho * z_prompt + (1.0 - rho * rho).sqrt() * independent;
        w.arrival_s.push(now_s);
        w.prompt_tokens.push(prompt.tokens_at(z_prompt));
        w.output_tokens.push(response.tokens_at(z_response));
    }
    w
}

/// Two independent standard normals from one Box–Muller transform (the cos and sin
/// halves; `SimRng::standard_normal` keeps only one per pair of uniforms). Also used by
/// the predictors.
pub(super) fn normal_pair(rng: &mut SimRng) -> (f64, f64) {
    let radius = (-2.0 * libm::log(rng.uniform_open())).sqrt();
    let (sin, cos) = libm::sincos(2.0 * std::f64::consts::PI * rng.uniform());
    (radius * cos, radius * sin)
}

impl Marginal {
    /// The value of the quantile function at u = Phi(z) (exact; `ScoreTable` caches it).
    fn value_at(&self, z: f64) -> f64 {
        self.uncapped_value_at(z).min(self.max)
    }

    fn uncapped_value_at(&self, z: f64) -> f64 {
        // Phi(z) = erfc(-z / sqrt 2) / 2, and 1 - Phi(z) = erfc(z / sqrt 2) / 2: erfc keeps
        // full relative precision in each tail, where 1 - erf(..) would cancel.
        let u = 0.5 * libm::erfc(-z * std::f64::consts::FRAC_1_SQRT_2);
        if u < 0.25 {
            return libm::pow(self.q1, 4.0 * u);
        } else if u < 0.5 {
            return self.q1 * libm::pow(self.q2 / self.q1, 4.0 * (u - 0.25));
        } else if u <= 0.75 {
            return self.q2 * libm::pow(self.q3 / self.q2, 4.0 * (u - 0.5));
        }
        let survival = 0.5 * libm::erfc(z * std::f64::consts::FRAC_1_SQRT_2);
        if survival <= 0.0 {
            return f64::INFINITY; // beyond ~38 sd erfc underflows: the far end of the tail.
        }
        // max(0): u and survival are computed separately and may disagree by an ulp.
        let t = libm::log(0.25 / survival).max(0.0);
        let stretched = libm::pow(t + self.tail_shift, self.tail_power) - libm::pow(self.tail_shift, self.tail_power);
        self.q3 * libm::exp(self.tail_scale * stretched)
    }
}

/// The 75th percentile of the standard normal.
const Z75: f64 = 0.674_489_750_196_081_7;
/// Table step: z75 / 170 (about 0.004), so the quartile scores 0 and +-z75 are grid points
/// and the table passes through the published quartiles like the exact function.
const Z_STEP: f64 = Z75 / 170.0;
/// Grid points on each side of z = 0: the table spans |z| <= 8.5 (all but 2e-17 of draws).
const HALF_WIDTH: usize = 2142;

/// A marginal's quantile function tabulated against the normal score z and read by
/// linear interpolation: erfc, pow and exp cost ~150 ns a request, the table a few ns,
/// and it differs from the exact function by less than 0.2 tokens (tested; the worst is
/// just above q3, where the tail bends sharply), so a rounded count differs by at most
/// one token, and only near a rounding tie.
struct ScoreTable {
    marginal: &'static Marginal,
    /// values[k] = marginal.uncapped_value_at((k - HALF_WIDTH) * Z_STEP): the cap is
    /// applied after interpolating, so the table has no kink where it starts to bite.
    values: Vec<f64>,
}

/// The two tables, built once per process (deterministically, from libm).
fn score_tables() -> &'static (ScoreTable, ScoreTable) {
    static TABLES: OnceLock<(ScoreTable, ScoreTable)> = OnceLock::new();
    TABLES.get_or_init(|| (ScoreTable::of(&PROMPT), ScoreTable::of(&RESPONSE)))
}

impl ScoreTable {
    fn of(marginal: &'static Marginal) -> ScoreTable {
        let values =
            (0..=2 * HALF_WIDTH).map(|k| marginal.uncapped_value_at((k as f64 - HALF_WIDTH as f64) * Z_STEP)).collect();
        ScoreTable { marginal, values }
    }

    /// The token count at normal score z, rounded, at least 1.
    fn tokens_at(&self, z: f64) -> u32 {
        // Round half up by truncating x + 0.5 (x >= 1: cheaper than a call to `round`);
        // x is at most max, and `as` would saturate anyway.
        ((self.value_at(z) + 0.5) as u32).max(1)
    }

    fn value_at(&self, z: f64) -> f64 {
        let position = z / Z_STEP + HALF_WIDTH as f64;
        if position >= 0.0 && position < (2 * HALF_WIDTH) as f64 {
            let k = position as usize;
            let (lo, hi) = (self.values[k], self.values[k + 1]);
            (lo + (position - k as f64) * (hi - lo)).min(self.marginal.max)
        } else {
            self.marginal.value_at(z)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::arrivals::{BURSTGPT_GAP_CV, BURSTGPT_MEAN_GAP_S};
    use super::*;
    use std::sync::OnceLock;

    const MILLION: usize = 1_000_000;

    /// One 1M-request BurstGPT-like workload shared by the statistical tests.
    fn million() -> &'static Workload {
        static W: OnceLock<Workload> = OnceLock::new();
        W.get_or_init(|| generate(Synthetic::BurstGpt, MILLION, &mut SimRng::new(2024)))
    }

    /// The sample quantile at `p` (nearest rank) of `xs`.
    fn quantile(xs: &[u32], p: f64) -> f64 {
        let mut v = xs.to_vec();
        let k = ((p * v.len() as f64) as usize).min(v.len() - 1);
        *v.select_nth_unstable(k).1 as f64
    }

    fn mean_sd(xs: impl Iterator<Item = f64> + Clone) -> (f64, f64) {
        let (n, sum) = xs.clone().fold((0.0, 0.0), |(n, s), x| (n + 1.0, s + x));
        let mean = sum / n;
        let var = xs.map(|x| (x - mean) * (x - mean)).sum::<f64>() / n;
        (mean, var.sqrt())
    }

    fn within(actual: f64, target: f64, tolerance: f64) -> bool {
        (actual / target - 1.0).abs() <= tolerance
    }

    #[test]
    fn quantile_function_passes_through_the_published_quartiles() {
        let (prompt, response) = score_tables();
        // z = 0 is the median exactly; the 25th/75th percentiles are at z = -/+z75.
        assert_eq!(prompt.tokens_at(0.0), 251);
        assert_eq!(response.tokens_at(0.0), 34);
        let z75 = Z75;
        assert_eq!((prompt.tokens_at(-z75), prompt.tokens_at(z75)), (137, 758));
        assert_eq!((response.tokens_at(-z75), response.tokens_at(z75)), (7, 134));
        // Monotone, at least 1, capped at the published max, even far out.
        let mut last = (0, 0);
        for i in -4000..=4000 {
            let z = i as f64 / 100.0;
            let now = (prompt.tokens_at(z), response.tokens_at(z));
            assert!(now.0 >= last.0 && now.1 >= last.1, "not monotone at z = {z}");
            last = now;
        }
        assert_eq!(prompt.tokens_at(-40.0), 1);
        assert_eq!((prompt.tokens_at(40.0), response.tokens_at(40.0)), (29_665, 7_315));
        assert_eq!(prompt.tokens_at(f64::INFINITY), 29_665);
    }

    #[test]
    fn tail_joins_the_body_without_a_gap_at_the_75th_percentile() {
        let z75 = Z75;
        for (q, q3) in [(&PROMPT, PROMPT.q3), (&RESPONSE, RESPONSE.q3)] {
            // +-0.003 in z is about +-0.1% of probability: the value must barely move.
            let (below, above) = (q.value_at(z75 - 0.003), q.value_at(z75 + 0.003));
            assert!(below < q3 && below > 0.99 * q3, "{q3}: {below} just below");
            assert!(above > q3 && above < 1.03 * q3, "{q3}: {above} just above");
        }
    }

    #[test]
    fn table_agrees_with_the_exact_quantile_function() {
        let (prompt, response) = score_tables();
        let mut rng = SimRng::new(17);
        for i in 0..200_000 {
            // Mostly normal scores, plus a sweep out past the table's edges.
            let z = if i % 2 == 0 { rng.standard_normal() } else { (i as f64 / 200_000.0 - 0.5) * 20.0 };
            for table in [prompt, response] {
                let (approx, exact) = (table.value_at(z), table.marginal.value_at(z));
                // Off by a fraction of a token: rounding differs at most by one, near ties.
                assert!((approx - exact).abs() < 0.2, "z = {z}: table {approx}, exact {exact}");
            }
        }
    }

    #[test]
    fn token_quartiles_means_and_sds_match_burstgpt_at_1m() {
        let w = million();
        for (name, xs, m) in [("prompt", &w.prompt_tokens, &PROMPT), ("response", &w.output_tokens, &RESPONSE)] {
            for (p, target) in [(0.25, m.q1), (0.5, m.q2), (0.75, m.q3)] {
                let q = quantile(xs, p);
                assert!(within(q, target, 0.10), "{name} p{p}: {q} vs {target}");
            }
            assert!(xs.iter().all(|&x| x >= 1 && x as f64 <= m.max), "{name} out of [1, max]");
        }
        // The tails were fitted to the published means and sds (611/782, 123/268).
        let (mean, sd) = mean_sd(w.prompt_tokens.iter().map(|&x| x as f64));
        assert!(within(mean, 611.0, 0.05) && within(sd, 782.0, 0.15), "prompt mean {mean} sd {sd}");
        let (mean, sd) = mean_sd(w.output_tokens.iter().map(|&x| x as f64));
        assert!(within(mean, 123.0, 0.05) && within(sd, 268.0, 0.15), "response mean {mean} sd {sd}");
    }

    #[test]
    fn inter_arrivals_have_burstgpt_mean_and_cv_and_no_ties_at_1m() {
        let w = million();
        assert_eq!(w.arrival_s[0], 0.0);
        assert!(w.arrival_s.windows(2).all(|p| p[0] <= p[1]), "arrivals go back in time");
        let gaps = w.arrival_s.windows(2).map(|p| p[1] - p[0]);
        let (mean, sd) = mean_sd(gaps.clone());
        assert!(within(mean, BURSTGPT_MEAN_GAP_S, 0.05), "mean gap {mean}");
        assert!(within(sd / mean, BURSTGPT_GAP_CV, 0.20), "gap CV {}", sd / mean);
        // Bursts, not ties: the Gamma renewal process this replaced had 85% of gaps at 0.
        let zero = gaps.clone().filter(|&g| g == 0.0).count();
        assert!(zero < (MILLION - 1) / 100, "{zero} gaps of exactly 0");
        let below_ms = gaps.filter(|&g| g < 1e-3).count();
        assert!(below_ms < (MILLION - 1) / 100, "{below_ms} gaps below 1 ms");
    }

    /// Requests per window of `window_s` trace seconds, from 0 to the last arrival.
    fn counts_per_window(w: &Workload, window_s: f64) -> Vec<u32> {
        let mut counts = vec![0; (w.arrival_s[w.len() - 1] / window_s) as usize + 1];
        for &a in &w.arrival_s {
            counts[(a / window_s) as usize] += 1;
        }
        counts
    }

    #[test]
    fn arrivals_come_in_bursts_many_times_the_mean_rate() {
        // In 10 s windows: most requests arrive in windows at >= 5x the mean rate, the
        // busiest 1% of windows run at >= 10x; Poisson arrivals at the same rate never do.
        let burst_shares = |w: &Workload| {
            let counts = counts_per_window(w, 10.0);
            let mean = w.len() as f64 / counts.len() as f64;
            let in_busy = counts.iter().filter(|&&c| c as f64 >= 5.0 * mean).sum::<u32>();
            let mut sorted = counts.clone();
            sorted.sort_unstable();
            let p99 = sorted[(0.99 * sorted.len() as f64) as usize] as f64 / mean;
            (in_busy as f64 / w.len() as f64, p99)
        };
        let (busy, p99) = burst_shares(million());
        assert!(busy > 0.7 && p99 >= 10.0, "{busy} of requests in busy windows, p99 window {p99}x");
        let same_rate = Synthetic::Poisson { rate_rps: 1.0 / BURSTGPT_MEAN_GAP_S };
        let poisson = generate(same_rate, 200_000, &mut SimRng::new(5));
        let (busy, p99) = burst_shares(&poisson);
        assert!(busy < 0.001 && p99 < 3.0, "poisson: {busy} {p99}");
    }

    #[test]
    fn arrivals_follow_a_daily_cycle_that_keeps_the_daily_mean() {
        // 1M requests span ~43 days of trace time. The cycle peaks at ~4 h into the day
        // and bottoms out at ~16 h (`arrivals`' module doc): hours 1-7 should hold 2.37
        // times as many requests as hours 13-19, and whole days the mean number.
        let w = million();
        let hours = counts_per_window(w, 3600.0);
        let mut by_hour = [0u64; 24];
        let days = hours.len() / 24;
        for (h, &c) in hours[..days * 24].iter().enumerate() {
            by_hour[h % 24] += c as u64;
        }
        let block = |from: usize| (from..from + 6).map(|h| by_hour[h % 24]).sum::<u64>() as f64;
        let (busiest, quietest) = (block(1), block(13));
        assert!(within(busiest / quietest, 2.37, 0.15), "{busiest} vs {quietest} requests");
        let per_day = by_hour.iter().sum::<u64>() as f64 / days as f64;
        assert!(within(per_day, 86_400.0 / BURSTGPT_MEAN_GAP_S, 0.05), "{per_day} requests a day");
    }

    #[test]
    fn median_response_rises_with_the_prompt() {
        let w = million();
        let (q1, q3) = (quantile(&w.prompt_tokens, 0.25), quantile(&w.prompt_tokens, 0.75));
        let responses_where = |keep: &dyn Fn(f64) -> bool| -> Vec<u32> {
            w.prompt_tokens.iter().zip(&w.output_tokens).filter(|(&p, _)| keep(p as f64)).map(|(_, &o)| o).collect()
        };
        let short = quantile(&responses_where(&|p| p < q1), 0.5);
        let long = quantile(&responses_where(&|p| p > q3), 0.5);
        assert!(long > 1.5 * short, "median response: {short} for short prompts, {long} for long");
    }

    #[test]
    fn a_workload_is_a_prefix_of_a_longer_one() {
        for kind in [Synthetic::BurstGpt, Synthetic::Poisson { rate_rps: 2.0 }] {
            let short = generate(kind, 1000, &mut SimRng::new(9));
            let long = generate(kind, 2500, &mut SimRng::new(9));
            assert_eq!(short.len(), 1000);
            assert_eq!(long.arrival_s[..1000], short.arrival_s[..]);
            assert_eq!(long.prompt_tokens[..1000], short.prompt_tokens[..]);
            assert_eq!(long.output_tokens[..1000], short.output_tokens[..]);
        }
    }

    #[test]
    fn the_callers_stream_advances_by_one_draw_whatever_n() {
        let next_after = |n: usize| {
            let mut rng = SimRng::new(4);
            generate(Synthetic::BurstGpt, n, &mut rng);
            rng.next_u64()
        };
        let mut reference = SimRng::new(4);
        reference.next_u64();
        let expected = reference.next_u64();
        assert!([0, 1, 10, 5000].iter().all(|&n| next_after(n) == expected));
    }

    #[test]
    fn same_seed_same_workload_different_seed_different() {
        let a = generate(Synthetic::BurstGpt, 500, &mut SimRng::new(1));
        let b = generate(Synthetic::BurstGpt, 500, &mut SimRng::new(1));
        let c = generate(Synthetic::BurstGpt, 500, &mut SimRng::new(2));
        assert_eq!(a, b);
        assert_ne!(a.prompt_tokens, c.prompt_tokens);
        assert_ne!(a.output_tokens, c.output_tokens);
        assert_ne!(a.arrival_s, c.arrival_s);
        assert!(a.predicted_output_tokens.is_empty());
        assert!(generate(Synthetic::BurstGpt, 0, &mut SimRng::new(1)).is_empty());
    }

    #[test]
    fn poisson_gaps_are_exponential_at_the_rate() {
        let w = generate(Synthetic::Poisson { rate_rps: 4.0 }, 200_000, &mut SimRng::new(3));
        assert_eq!(w.arrival_s[0], 0.0);
        let (mean, sd) = mean_sd(w.arrival_s.windows(2).map(|p| p[1] - p[0]));
        assert!(within(mean, 0.25, 0.02), "mean gap {mean}");
        assert!(within(sd / mean, 1.0, 0.03), "gap CV {}", sd / mean);
        // Same token model as the BurstGPT-like source.
        assert!(within(quantile(&w.prompt_tokens, 0.5), 251.0, 0.05));
        assert!(within(quantile(&w.output_tokens, 0.5), 34.0, 0.05));
    }
}
