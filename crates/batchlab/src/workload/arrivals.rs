//! Arrival times of the synthetic sources, in trace seconds (before any load scaling).
//!
//! Poisson: exponential gaps at the given rate.
//!
//! BurstGPT-like: bursts, without exact ties. BurstGPT's gaps have mean 3.69 s and
//! coefficient of variation (CV) 13.28. A Gamma renewal process with that mean and CV
//! (shape 1/13.28^2 = 0.0057) is not usable: most of its gaps are below 1e-9 s, so ~85%
//! of consecutive arrivals share one f64 timestamp, in clumps of ~9 that decide how
//! batches form. Here instead a two-state Markov-modulated Poisson process (MMPP), fitted
//! in closed form to the mean and the CV, runs on a clock that goes faster by day and
//! slower by night (the daily cycle BurstGPT shows).
//!
//! # The MMPP and its gap moments
//!
//! Two states, burst (B) and calm (C). In state s requests arrive as a Poisson process of
//! rate `l_s`; the state leaves B at rate `r_B` and C at rate `r_C` (exponential stays of
//! mean `1/r_B`, `1/r_C`). With `R = r_B + r_C`, the share of time in B is `p = r_C / R`,
//! and the mean rate is `l = p l_B + (1 - p) l_C`.
//!
//! Let `X` be the gap after a typical arrival, and `m_s`, `q_s` its first two moments
//! when the gap starts in state s (o is the other state). The first event comes after an
//! exponential time `T` of rate `l_s + r_s`: an arrival ends the gap, a switch starts it
//! afresh from o. So `m_s = E[T] + P(switch) m_o`, and from `E[(T + X')^2]` with `T`
//! independent of `X'`:
//!
//! ```text
//! (l_s + r_s) m_s - r_s m_o = 1,        (l_s + r_s) q_s - r_s q_o = 2 m_s.
//! ```
//!
//! With `D = l_B l_C + l_B r_C + l_C r_B` the first system gives `m_B = (l_C + R) / D`,
//! `m_C = (l_B + R) / D`. A gap starts in s with the share of arrivals in s,
//! `a_B = p l_B / l`, `a_C = (1 - p) l_C / l`, and averaging over it gives
//!
//! ```text
//! E[X] = 1 / l,        E[X^2] = 2 (h + R) / (l D),   h = (1 - p) l_B + p l_C,
//! ```
//!
//! (h weighs the rates with the shares of time swapped), so, with `D = l_B l_C + l R`,
//!
//! ```text
//! 1 + CV^2 = E[X^2] / E[X]^2 = 2 l (h + R) / (l_B l_C + l R).
//! ```
//!
//! (Checks: `l_B = l_C` gives CV = 1, Poisson; `R -> infinity` too, the states average
//! out; `R -> 0` gives the hyperexponential mixture of the two rates, the most bursty.)
//!
//! # The fit
//!
//! CHOSEN: `p`, the share of time in bursts (`BURST_TIME_SHARE`), and `u`, the share of
//! requests that arrive in calm periods (`CALM_REQUEST_SHARE`). FITTED: the rest.
//! The mean gap fixes `l = 1 / 3.69 s`; then by definition of p and u
//!
//! ```text
//! l_B = (1 - u) l / p,        l_C = u l / (1 - p),
//! ```
//!
//! and the CV equation above is linear in R:
//!
//! ```text
//! R = (2 l h - (1 + c^2) l_B l_C) / ((c^2 - 1) l),    r_B = (1 - p) R,  r_C = p R,
//! ```
//!
//! where c is the CV the MMPP must have before the daily cycle (below). R > 0 needs
//! `2 (p^2 / (1 - u) + (1 - p)^2 / u) > 1 + c^2`: a two-state MMPP reaches a CV of 13 only
//! when its calm state is nearly silent. With p = 0.1 calm periods can carry at most ~1%
//! of the requests, and as u nears that bound the switching slows without limit: bursts
//! of thousands of requests, and a count variance so high that the mean of a million
//! gaps still wanders. u = 0.2% keeps a burst at ~120 requests over ~44 s (at 10x the
//! mean rate), a calm period at ~400 s holding 0.24 requests on average, and the index of
//! dispersion of counts at ~190 (the Gamma's is 176), so 1M gaps pin the mean to ~1.4% (one sd).
//! `Fit::of` computes it all at run time; a test checks the moments numerically.
//!
//! # The daily cycle
//!
//! The MMPP runs on its own clock `tau`, and an arrival at `tau` lands at trace time
//!
//! ```text
//! t = H(tau) = tau - A D / (2 pi) (1 - cos(2 pi tau / D)),     D = 1 day,
//! ```
//!
//! with `H'(tau) = 1 - A sin(2 pi tau / D)` in `[1 - A, 1 + A]`. Time runs `1 / H'` faster,
//! and so do the arrivals and the switches: the trace-time rate is the MMPP's times
//! `1 / H'`, from `1 / (1 + A)` to `1 / (1 - A)` (2/3 to 2 for A = 0.5), highest a quarter
//! of the MMPP's day in, at trace time `t = (1/4 - A / (2 pi)) D` (~4 h), lowest at ~16 h.
//! `H(k D) = k D`, so every whole day of trace time holds the same expected number of
//! requests as without the cycle: the average rate over a day is preserved (and so is the
//! mean gap: each gap is stretched by `H'` at a phase uniform over the day, whose mean is
//! 1). A gap is short next to a day (calm periods last minutes), so its square is
//! stretched by the mean of `H'^2`, `1 + A^2 / 2`: the MMPP is fitted to
//! `1 + c^2 = (1 + 13.28^2) / (1 + A^2 / 2)` (c = 12.52 for A = 0.5), so the trace CV is
//! BurstGPT's. The cycle is in trace time: with `rps_scaling = 200` a day is 432 s
//! of scaled time.
//!
//! # Drawing
//!
//! A `Bursts` keeps its state, its clock and what is left of the current stay. For each
//! gap it draws an exponential gap at the state's rate; if that ends before the stay, the
//! arrival is there; otherwise the state switches at the end of the stay, a new stay is
//! drawn, and it tries again (exact, by memorylessness). The state at the first arrival is
//! drawn at the first gap, B with probability `1 - u` (the share of arrivals in bursts).
//! Gaps are exponential, so exact ties need a gap below the f64 spacing of the timestamps
//! (~5e-10 s after 40 days): a few in a billion.

use crate::rng::SimRng;

/// BurstGPT's mean inter-arrival time (about 0.27 req/s over its 61-day window).
pub(super) const BURSTGPT_MEAN_GAP_S: f64 = 3.69;
/// BurstGPT's inter-arrival coefficient of variation (extremely bursty traffic).
pub(super) const BURSTGPT_GAP_CV: f64 = 13.28;

/// The share of trace time spent in bursts, p. A CHOSEN value: it sets how intense a
/// burst is (about 1 / p = 10 times the mean rate) while the fit keeps the mean and the
/// CV; 10% makes bursts stand far above the mean without being a handful of spikes.
const BURST_TIME_SHARE: f64 = 0.1;
/// The share of requests that arrive in calm periods, u. A CHOSEN value, bounded above by
/// the CV (~1% here, see the module doc): 0.2% keeps calm periods nearly silent, bursts
/// at ~120 requests and the count variance close to the Gamma's.
const CALM_REQUEST_SHARE: f64 = 0.002;
/// Amplitude A of the daily cycle. A CHOSEN value: BurstGPT shows daily cycles but
/// publishes no amplitude; 0.5 gives a busiest hour about 3 times as busy as the quietest
/// (rates from 2/3 to 2 times the daily average), a clear day/night swing.
const DAILY_AMPLITUDE: f64 = 0.5;
/// Length of the cycle in trace seconds.
const DAY_S: f64 = 86_400.0;

/// A two-state MMPP: arrival rates and the rates of leaving each state (per second of the
/// MMPP's own clock).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Fit {
    pub burst_rate: f64,
    pub calm_rate: f64,
    pub leave_burst: f64,
    pub leave_calm: f64,
}

impl Fit {
    /// The closed-form fit of the module doc: mean gap `mean_s` and gap CV `cv` (before
    /// the daily cycle) from the chosen share of time in bursts `p` and share of requests
    /// in calm periods `u`. `None` if no MMPP with these shares reaches the CV.
    pub fn of(mean_s: f64, cv: f64, p: f64, u: f64) -> Option<Fit> {
        let rate = 1.0 / mean_s;
        let burst_rate = (1.0 - u) * rate / p;
        let calm_rate = u * rate / (1.0 - p);
        let swapped = (1.0 - p) * burst_rate + p * calm_rate;
        let c2 = cv * cv;
        let r = (2.0 * rate * swapped - (1.0 + c2) * burst_rate * calm_rate) / ((c2 - 1.0) * rate);
        (r > 0.0).then_some(Fit { burst_rate, calm_rate, leave_burst: (1.0 - p) * r, leave_calm: p * r })
    }

    /// BurstGPT's: its mean gap, and the CV that the daily cycle stretches to BurstGPT's.
    pub fn burstgpt() -> Fit {
        let c2 = (1.0 + BURSTGPT_GAP_CV * BURSTGPT_GAP_CV) / (1.0 + DAILY_AMPLITUDE * DAILY_AMPLITUDE / 2.0) - 1.0;
        Fit::of(BURSTGPT_MEAN_GAP_S, c2.sqrt(), BURST_TIME_SHARE, CALM_REQUEST_SHARE)
            .expect("the chosen shares reach BurstGPT's CV (tested)")
    }
}

/// The arrival process of a synthetic source; `next` gives the next arrival time.
pub(super) enum Arrivals {
    Poisson { rate_rps: f64, now_s: f64 },
    Bursts(Bursts),
}

impl Arrivals {
    pub fn poisson(rate_rps: f64) -> Arrivals {
        Arrivals::Poisson { rate_rps, now_s: 0.0 }
    }

    pub fn burstgpt() -> Arrivals {
        Arrivals::Bursts(Bursts { fit: Fit::burstgpt(), state: None, clock_s: 0.0, last_s: 0.0 })
    }

    /// The arrival after the previous one (the first request arrives at 0 and calls nothing).
    pub fn next(&mut self, rng: &mut SimRng) -> f64 {
        match self {
            Arrivals::Poisson { rate_rps, now_s } => {
                *now_s += rng.exponential(*rate_rps);
                *now_s
            }
            Arrivals::Bursts(b) => b.next(rng),
        }
    }
}

pub(super) struct Bursts {
    fit: Fit,
    /// (in a burst, what is left of the current stay), drawn at the first gap.
    state: Option<(bool, f64)>,
    /// The MMPP's clock at the last arrival.
    clock_s: f64,
    /// Trace time of the last arrival.
    last_s: f64,
}

impl Bursts {
    fn next(&mut self, rng: &mut SimRng) -> f64 {
        let fit = self.fit;
        let leave = |burst: bool| if burst { fit.leave_burst } else { fit.leave_calm };
        let (mut burst, mut left) = self.state.unwrap_or_else(|| {
            // At an arrival the state is B with the share of arrivals in bursts.
            let burst = rng.uniform() >= CALM_REQUEST_SHARE;
            (burst, rng.exponential(leave(burst)))
        });
        loop {
            let gap = rng.exponential(if burst { fit.burst_rate } else { fit.calm_rate });
            if gap < left {
                left -= gap;
                self.clock_s += gap;
                break;
            }
            self.clock_s += left;
            burst = !burst;
            left = rng.exponential(leave(burst));
        }
        self.state = Some((burst, left));
        // H is increasing, but its rounding could put a gap of ~1e-12 s back in time.
        self.last_s = trace_time(self.clock_s).max(self.last_s);
        self.last_s
    }
}

/// H(tau) of the module doc: trace time of the MMPP's clock `tau`.
fn trace_time(tau: f64) -> f64 {
    // `%` is exact (IEEE remainder), so the phase is the same bits everywhere.
    let angle = 2.0 * std::f64::consts::PI * ((tau % DAY_S) / DAY_S);
    tau - DAILY_AMPLITUDE * DAY_S / (2.0 * std::f64::consts::PI) * (1.0 - libm::cos(angle))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fit's mean gap and gap CV, from its generator matrix instead of the closed form:
    /// the moments of the gap's phase-type law, `E[X^k] = k! a (-D0)^-k 1`, by solving the
    /// 2x2 systems of the module doc (B first).
    fn moments(f: &Fit) -> (f64, f64) {
        let (a, b) = (f.burst_rate + f.leave_burst, f.calm_rate + f.leave_calm);
        // Solve [[a, -leave_burst], [-leave_calm, b]] x = y by Cramer's rule.
        let solve = |y: (f64, f64)| {
            let det = a * b - f.leave_burst * f.leave_calm;
            ((y.0 * b + f.leave_burst * y.1) / det, (a * y.1 + f.leave_calm * y.0) / det)
        };
        let m = solve((1.0, 1.0));
        let q = solve((2.0 * m.0, 2.0 * m.1));
        let p = f.leave_calm / (f.leave_burst + f.leave_calm);
        let rate = p * f.burst_rate + (1.0 - p) * f.calm_rate;
        let (wb, wc) = (p * f.burst_rate / rate, (1.0 - p) * f.calm_rate / rate);
        let (mean, second) = (wb * m.0 + wc * m.1, wb * q.0 + wc * q.1);
        (mean, (second / (mean * mean) - 1.0).sqrt())
    }

    fn close(a: f64, b: f64, rel: f64) -> bool {
        (a / b - 1.0).abs() <= rel
    }

    #[test]
    fn the_closed_form_fit_has_the_mean_cv_and_shares_it_was_given() {
        let cases = [(3.69, 12.5, 0.1, 0.002), (3.69, 13.28, 0.05, 0.0), (0.5, 3.0, 0.3, 0.05), (2.0, 1.02, 0.5, 0.4)];
        for (mean, cv, p, u) in cases {
            let f = Fit::of(mean, cv, p, u).unwrap();
            let (m, c) = moments(&f);
            assert!(close(m, mean, 1e-12) && close(c, cv, 1e-9), "{mean} {cv} {p} {u}: {m} {c}");
            // The chosen shares: time in bursts and requests in calm periods.
            let share = f.leave_calm / (f.leave_burst + f.leave_calm);
            assert!(close(share, p, 1e-12));
            assert!((((1.0 - p) * f.calm_rate * m) - u).abs() < 1e-12);
        }
        // Too much traffic in calm periods for the CV: no MMPP, and the bound of the doc.
        assert_eq!(Fit::of(3.69, 12.5, 0.1, 0.011), None);
        let bound = |u: f64| 2.0 * (0.01 / (1.0 - u) + 0.81 / u) > 1.0 + 12.5 * 12.5;
        assert!(bound(0.0102) && !bound(0.0104) && Fit::of(3.69, 12.5, 0.1, 0.0102).is_some());
    }

    #[test]
    fn burstgpt_fit_is_the_documented_one() {
        let f = Fit::burstgpt();
        let (mean, cv) = moments(&f);
        assert!(close(mean, BURSTGPT_MEAN_GAP_S, 1e-12));
        // The daily cycle stretches the squared CV by 1 + A^2 / 2 to BurstGPT's.
        assert!(close((1.0 + cv * cv) * (1.0 + DAILY_AMPLITUDE * DAILY_AMPLITUDE / 2.0), 1.0 + 13.28 * 13.28, 1e-9));
        assert!(close(cv, 12.52, 0.001), "{cv}");
        // The module doc's figures: bursts at ~10x the mean rate, ~120 requests in ~44 s,
        // calm periods of ~400 s with 0.24 requests.
        assert!(close(f.burst_rate * mean, 9.98, 0.001));
        assert!(close(f.burst_rate / f.leave_burst, 119.0, 0.01) && close(1.0 / f.leave_burst, 44.1, 0.01));
        assert!(close(1.0 / f.leave_calm, 397.0, 0.01) && close(f.calm_rate / f.leave_calm, 0.239, 0.01));
        // Index of dispersion of counts: 1 + 2 p (1 - p) (l_B - l_C)^2 / (R l).
        let r = f.leave_burst + f.leave_calm;
        let p = f.leave_calm / r;
        let idc = 1.0 + 2.0 * p * (1.0 - p) * (f.burst_rate - f.calm_rate) * (f.burst_rate - f.calm_rate) / (r / mean);
        assert!(close(idc, 194.0, 0.01), "{idc}");
    }

    #[test]
    fn every_seed_lands_the_mean_and_the_cv_not_just_the_tested_one() {
        // The unit tests of `synthetic` check one 1M workload; this checks 10 more seeds
        // (1M gaps each, ~1 s in debug), so the tolerances are not met by a lucky seed. Mean
        // within 5% (its sd is ~1.4%), CV within 20% (its sd is ~1%), and almost no gap below
        // 1 ms (~0.3% expected).
        for seed in 0..10 {
            let (mut rng, mut arrivals) = (SimRng::new(seed), Arrivals::burstgpt());
            let (n, mut last, mut sum, mut sum_sq, mut below_ms) = (1_000_000, 0.0, 0.0, 0.0, 0);
            for _ in 0..n {
                let t = arrivals.next(&mut rng);
                let gap = t - last;
                (last, sum, sum_sq) = (t, sum + gap, sum_sq + gap * gap);
                below_ms += (gap < 1e-3) as usize;
            }
            let mean = sum / n as f64;
            let cv = (sum_sq / n as f64 - mean * mean).sqrt() / mean;
            let (mean_ok, cv_ok) = (close(mean, BURSTGPT_MEAN_GAP_S, 0.05), close(cv, BURSTGPT_GAP_CV, 0.2));
            assert!(mean_ok && cv_ok, "seed {seed}: mean {mean} CV {cv}");
            assert!(below_ms < n / 100, "seed {seed}: {below_ms} gaps below 1 ms");
        }
    }

    #[test]
    fn the_daily_clock_keeps_whole_days_and_stretches_squares_by_one_plus_half_a_squared() {
        // H(k D) = k D: whole days are kept, and H never goes back.
        for k in 0..50 {
            assert_eq!(trace_time(k as f64 * DAY_S), k as f64 * DAY_S);
        }
        let n = 100_000;
        let (mut sum, mut sum_sq, mut last) = (0.0, 0.0, 0.0);
        for i in 1..=n {
            let tau = i as f64 * DAY_S / n as f64;
            let t = trace_time(tau);
            assert!(t > last, "H decreases at {tau}");
            let slope = (t - last) * n as f64 / DAY_S;
            (sum, sum_sq, last) = (sum + slope, sum_sq + slope * slope, t);
        }
        assert!(close(sum / n as f64, 1.0, 1e-9));
        assert!(close(sum_sq / n as f64, 1.0 + DAILY_AMPLITUDE * DAILY_AMPLITUDE / 2.0, 1e-6));
        // Peak rate (slowest H) a quarter-day into the MMPP's clock: 1 / (1 - A) = 2x.
        let slope_at = |tau: f64| (trace_time(tau + 1.0) - trace_time(tau - 1.0)) / 2.0;
        assert!(close(slope_at(DAY_S / 4.0), 1.0 - DAILY_AMPLITUDE, 1e-6));
        assert!(close(slope_at(3.0 * DAY_S / 4.0), 1.0 + DAILY_AMPLITUDE, 1e-6));
    }
}
