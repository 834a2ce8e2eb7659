//! The adaptive SLA controller: the original simulator's two versions of its rules
//! (`ControllerRules`; ARCHITECTURE.md lists them).
//!
//! It keeps an interval [b_low, b_high] of batch sizes and exponential moving averages of
//! the observed signal (`tau_avg`) and batch size (`b_avg`). The interval moves after
//! each batch (or, in the original's state, on every b_SLA computation); the batch size
//! it proposes is the interval's midpoint.

use crate::config::{ControllerRules, SlaControllerConfig};

/// Steps of the final version's rules ("Algorithm 2": alpha_step, delta_step).
const FINAL_GROW_STEP: i64 = 4;
const FINAL_SHRINK_STEP: i64 = 2;

#[derive(Debug, Clone, PartialEq)]
pub struct SlaController {
    rules: ControllerRules,
    d: f64,
    eps: f64,
    w: f64,
    original_state: bool,
    b_min: u32,
    b_max: u32,
    b_low: u32,
    b_high: u32,
    tau_avg: f64,
    b_avg: f64,
    updates: u64,
    /// Requests running on the other GPUs when the last batch finished (final rules'
    /// floor of b_SLA).
    running_elsewhere: u32,
}

impl SlaController {
    /// A controller for batch sizes in [b_min, b_max] regulating its signal to `target_s`
    /// (`Config::controller_target_s`).
    pub fn new(cfg: &SlaControllerConfig, target_s: f64, b_min: u32, b_max: u32) -> Self {
        SlaController {
            rules: cfg.rules,
            d: target_s,
            eps: cfg.eps_s,
            w: cfg.ema_weight,
            original_state: cfg.original_state,
            b_min,
            b_max,
            b_low: b_min,
            b_high: b_max,
            tau_avg: 0.0,
            // The original starts at the integer midpoint, float((B_min + B_max) // 2).
            b_avg: if cfg.original_state { u32::midpoint(b_min, b_max) as f64 } else { (b_min as f64 + b_max as f64) / 2.0 },
            updates: 0,
            running_elsewhere: 0,
        }
    }

    /// Feed one finished batch: its observed signal (token time or batch latency), its
    /// size, and the requests then running on the other GPUs.
    pub fn observe(&mut self, signal: f64, batch_size: u32, running_elsewhere: u32) {
        if batch_size == 0 {
            return;
        }
        // The original's averages start from 0.0, so tau_avg is 0.2 x the first signal
        // after one batch; otherwise the first signal starts the average.
        if self.updates == 0 && !self.original_state {
            self.tau_avg = signal;
        } else {
            self.tau_avg = self.w * signal + (1.0 - self.w) * self.tau_avg;
        }
        self.b_avg = self.w * batch_size as f64 + (1.0 - self.w) * self.b_avg;
        self.running_elsewhere = running_elsewhere;
        self.updates += 1;
        if !self.original_state && self.updates >= 3 {
            self.adjust();
        }
    }

    /// The batch size the controller allows now. In the original's state this also moves
    /// the interval (its quirk), so calling it changes the state.
    pub fn b_sla(&mut self) -> u32 {
        let warming_up = self.updates < 3 || (self.original_state && self.tau_avg == 0.0);
        if warming_up {
            return u32::midpoint(self.b_low, self.b_high);
        }
        if self.original_state {
            self.adjust();
        }
        let mid = u32::midpoint(self.b_low, self.b_high);
        let b = match self.rules {
            ControllerRules::First => mid,
            // Never below the requests running elsewhere ("don't starve decode requests").
            ControllerRules::Final => mid.max(self.running_elsewhere).min(self.b_max),
        };
        b.max(self.b_min)
    }

    /// Move the interval by the rules, from tau_avg and b_avg. `int` is Python's `int()`
    /// of a positive number: truncation.
    fn adjust(&mut self) {
        let (b_min, b_max) = (self.b_min as i64, self.b_max as i64);
        let (mut lo, mut hi) = (self.b_low as i64, self.b_high as i64);
        let int = |x: f64| x as i64;
        let b_avg = self.b_avg;
        match self.rules {
            ControllerRules::First => {
                if self.tau_avg > self.d + 2.0 * self.eps {
                    hi = hi.min(b_min.max(int(0.9 * b_avg)));
                    lo = b_min.max(lo.min(int(0.7 * b_avg)));
                } else if self.tau_avg < self.d - 2.0 * self.eps {
                    lo = lo.max(int(b_avg));
                    hi = (hi + int(0.3 * b_avg)).min(b_max);
                } else {
                    let margin = 2.max(int(0.15 * (hi - lo) as f64));
                    lo = int(b_avg) - margin;
                    hi = int(b_avg) + margin;
                }
            }
            ControllerRules::Final => {
                if self.tau_avg > self.d + self.eps {
                    hi = hi.min(int(b_avg).max(lo + FINAL_GROW_STEP));
                    lo = (lo - FINAL_SHRINK_STEP).max(b_min);
                } else if self.tau_avg < self.d - self.eps {
                    lo = lo.max(int(b_avg).min(hi - FINAL_GROW_STEP));
                    hi = (hi + FINAL_SHRINK_STEP).min(b_max);
                } else {
                    hi = (int(b_avg) + FINAL_SHRINK_STEP / 2).min(b_max);
                    lo = (int(b_avg) - FINAL_SHRINK_STEP / 2).max(b_min);
                }
            }
        }
        // Keep B_min <= b_low <= b_high <= B_max. An inverted interval: the original lowers
        // b_low to b_high; otherwise b_high rises to b_low (b_low came from the sizes
        // batches actually had).
        lo = lo.clamp(b_min, b_max);
        hi = hi.clamp(b_min, b_max);
        if self.original_state {
            lo = lo.min(hi);
        } else {
            hi = hi.max(lo);
        }
        self.b_low = lo as u32;
        self.b_high = hi as u32;
    }

    pub fn interval(&self) -> (u32, u32) {
        (self.b_low, self.b_high)
    }

    pub fn updates(&self) -> u64 {
        self.updates
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Config, Preset};

    fn controller(d: f64, eps: f64) -> SlaController {
        let mut cfg = Config::preset(Preset::FirstResults).sla;
        cfg.eps_s = eps;
        SlaController::new(&cfg, d, 1, 128)
    }

    #[test]
    fn midpoint_until_three_updates() {
        let mut c = controller(1.0, 0.1);
        assert_eq!(c.b_sla(), 64);
        c.observe(5.0, 10, 0);
        c.observe(5.0, 10, 0);
        assert_eq!(c.b_sla(), 64);
    }

    #[test]
    fn too_slow_shrinks_the_interval_by_hand() {
        let mut c = controller(1.0, 0.1);
        // b_avg: 64.5 -> 0.2*10+0.8*64.5 = 53.6 -> 44.88 -> 37.904
        c.observe(5.0, 10, 0);
        c.observe(5.0, 10, 0);
        c.observe(5.0, 10, 0);
        // tau_avg 5 > 1.2: b_high = min(128, max(1, floor(0.9*37.904)=34)) = 34;
        // b_low = max(1, min(1, floor(0.7*37.904)=26)) = 1; b_SLA = floor(35/2) = 17.
        assert_eq!(c.interval(), (1, 34));
        assert_eq!(c.b_sla(), 17);
    }

    #[test]
    fn too_fast_grows_the_interval_by_hand() {
        let mut c = controller(1.0, 0.1);
        for _ in 0..3 {
            c.observe(0.1, 100, 0);
        }
        // b_avg: 64.5 -> 71.6 -> 77.28 -> 81.824; tau 0.1 < 0.8:
        // b_low = max(1, 81) = 81; b_high = min(128 + 24, 128) = 128; b_SLA = 104.
        assert_eq!(c.interval(), (81, 128));
        assert_eq!(c.b_sla(), 104);
    }

    #[test]
    fn on_target_centres_on_b_avg() {
        let mut c = controller(1.0, 0.1);
        for _ in 0..3 {
            c.observe(1.0, 20, 0);
        }
        // b_avg: 64.5 -> 55.6 -> 48.48 -> 42.784; margin = max(2, floor(0.15*127)=19) = 19
        // interval [23.784, 61.784] -> [23, 61]; b_SLA = 42.
        assert_eq!(c.interval(), (23, 61));
        assert_eq!(c.b_sla(), 42);
        // The margin follows the interval's width: b_avg 4 + 34.2272 = 38.2272, margin
        // max(2, floor(0.15 * 38)) = 5 -> [33.2272, 43.2272] -> (33, 43).
        c.observe(1.0, 20, 0);
        assert_eq!(c.interval(), (33, 43));
        assert_eq!((c.b_sla(), c.updates()), (38, 4));
    }

    #[test]
    fn band_edges_count_as_on_target() {
        // D = 1, eps = 0.25: the band is [0.5, 1.5]; with weight 0.5 the moving average of
        // a constant stays exactly that constant. b_avg: 64.5 -> 42.25 -> 31.125 ->
        // 25.5625; on target: margin 19 -> [6.5625, 44.5625] -> (6, 44). (Too slow would
        // give (1, 23), too fast (25, 128).)
        for edge in [1.5, 0.5] {
            let mut cfg = Config::preset(Preset::FirstResults).sla;
            (cfg.eps_s, cfg.ema_weight) = (0.25, 0.5);
            let mut c = SlaController::new(&cfg, 1.0, 1, 128);
            for _ in 0..3 {
                c.observe(edge, 20, 0);
            }
            assert_eq!(c.interval(), (6, 44), "signal {edge}");
        }
    }

    #[test]
    fn just_outside_the_band_moves_the_interval() {
        // Same as band_edges_count_as_on_target, 0.1 s outside the band: too slow (1.6)
        // shrinks to (1, floor(0.9 * 25.5625) = 23); too fast (0.4) grows to
        // (floor(25.5625) = 25, 128).
        for (signal, want) in [(1.6, (1, 23)), (0.4, (25, 128))] {
            let mut cfg = Config::preset(Preset::FirstResults).sla;
            (cfg.eps_s, cfg.ema_weight) = (0.25, 0.5);
            let mut c = SlaController::new(&cfg, 1.0, 1, 128);
            for _ in 0..3 {
                c.observe(signal, 20, 0);
            }
            assert_eq!(c.interval(), want, "signal {signal}");
        }
    }

    #[test]
    fn the_interval_stays_within_bounds() {
        // Far too slow for a long time: b_high falls to B_min, never below.
        let mut c = SlaController::new(&Config::preset(Preset::FirstResults).sla, 1.0, 4, 16);
        // Warm-up: the midpoint of [B_min, B_max], (4 + 16) / 2.
        assert_eq!(c.b_sla(), 10);
        for _ in 0..50 {
            c.observe(100.0, 4, 0);
        }
        assert_eq!((c.interval(), c.b_sla()), ((4, 4), 4));
        // Far too fast: b_high climbs back to B_max and stays there; b_avg approaches 16
        // from below, so b_low = floor(b_avg) = 15.
        for _ in 0..50 {
            c.observe(0.0, 16, 0);
        }
        assert_eq!((c.interval(), c.b_sla()), ((15, 16), 15));
        assert_eq!(c.updates(), 100);
    }

    /// One step of a script: a finished batch (signal, size, running elsewhere), or a query.
    enum Step {
        Batch(f64, u32, u32),
        Query,
    }
    use Step::{Batch, Query};

    /// Replay `script`; the (b_SLA, b_low, b_high) of each query.
    fn replay(c: &mut SlaController, script: &[Step]) -> Vec<(u32, u32, u32)> {
        let mut out = Vec::new();
        for step in script {
            match *step {
                Batch(signal, size, elsewhere) => c.observe(signal, size, elsewhere),
                Query => {
                    let b = c.b_sla();
                    out.push((b, c.interval().0, c.interval().1));
                }
            }
        }
        out
    }

    // The expected sequences below are the original's: its `SLAController` of each
    // commit, run on the same script by a throwaway script outside this repository.

    #[test]
    fn compat_replays_the_first_versions_controller() {
        let mut c = SlaController::new(&Config::preset(Preset::Compat).sla, 1.0, 1, 128);
        let mut script = vec![Query, Batch(5.0, 10, 0), Batch(5.0, 10, 0), Query, Batch(5.0, 10, 0), Query, Query];
        script.extend((0..12).map(|_| Batch(0.0, 10, 0)));
        script.extend([Query, Query, Query, Batch(1.0, 20, 0), Batch(1.0, 20, 0), Batch(1.0, 20, 0), Query, Query, Query]);
        let want = [(64, 1, 128), (64, 1, 128), (17, 1, 33), (17, 1, 33), (23, 11, 36), (25, 11, 39), (26, 11, 42), (30, 15, 46), (32, 15, 50), (34, 15, 54)];
        assert_eq!(replay(&mut c, &script), want);
    }

    #[test]
    fn paper_replays_the_final_versions_controller() {
        let paper = Config::preset(Preset::Paper);
        let mut c = SlaController::new(&paper.sla, paper.controller_target_s(), 1, 128);
        let mut script = vec![Query, Batch(0.006, 64, 0), Batch(0.006, 64, 0), Query, Batch(0.006, 64, 0)];
        script.extend((0..5).map(|_| Query));
        script.extend([Batch(0.02, 8, 0), Batch(0.02, 8, 0), Batch(0.02, 8, 0), Batch(0.02, 8, 0), Query, Query, Query, Query]);
        // On target (10 ms +- 1 ms), then the floor of the requests running elsewhere.
        script.extend([Batch(0.010, 30, 0), Batch(0.010, 30, 0), Query, Query]);
        script.extend([Batch(0.006, 10, 200), Query, Batch(0.0105, 10, 50), Query, Query]);
        let want = [
            (64, 1, 128), (64, 1, 128), (96, 64, 128), (96, 64, 128), (96, 64, 128), (96, 64, 128), (96, 64, 128),
            (65, 62, 68), (63, 60, 66), (61, 58, 64), (59, 56, 62), (57, 54, 60), (55, 52, 58),
            (128, 25, 27), (50, 22, 24), (50, 22, 24),
        ];
        assert_eq!(replay(&mut c, &script), want);
    }

    #[test]
    fn compat_lowers_b_low_to_b_high_when_the_interval_inverts() {
        // A script on which the first version's interval inverts (fast, b_avg far above
        // a shrunken b_high): the original lowers b_low to b_high, giving (46, 46).
        let mut c = SlaController::new(&Config::preset(Preset::Compat).sla, 1.0, 1, 128);
        let script = [
            Batch(5.0, 2, 0), Query, Query, Query, Batch(0.1, 2, 0), Query, Batch(1.0, 1, 0), Query,
            Batch(1.2, 1, 0), Query, Batch(0.1, 128, 0), Query,
        ];
        let want = [(64, 1, 128), (64, 1, 128), (64, 1, 128), (64, 1, 128), (33, 14, 52), (27, 22, 32), (46, 46, 46)];
        assert_eq!(replay(&mut c, &script), want);
    }

    #[test]
    fn paper_grows_from_a_narrow_interval_by_the_final_steps() {
        // Three slow batches (tau_avg 9.76 ms, inside 10 +- 1 ms): centred on 64 +- 1. Then
        // fast: b_low = max(b_low, min(int(b_avg) = 64, b_high - 4)) takes b_high - 4 while
        // the interval is narrow, and b_high grows by 2 per query.
        let paper = Config::preset(Preset::Paper);
        let mut c = SlaController::new(&paper.sla, paper.controller_target_s(), 1, 128);
        let mut script: Vec<Step> = (0..3).map(|_| Batch(0.02, 64, 0)).collect();
        script.extend((0..6).map(|_| Query));
        script.extend((0..8).map(|_| Batch(0.005, 64, 0)));
        script.extend((0..4).map(|_| Query));
        let want = [
            (64, 63, 65), (64, 63, 65), (64, 63, 65), (64, 63, 65), (64, 63, 65), (64, 63, 65),
            (65, 63, 67), (66, 63, 69), (67, 64, 71), (68, 64, 73),
        ];
        assert_eq!(replay(&mut c, &script), want);
    }

    #[test]
    fn the_final_band_edges_count_as_on_target() {
        // Final rules, clean state, D = 1, eps = 0.25 (band [0.75, 1.25]), weight 0.5: the
        // average of a constant signal is that constant. b_avg 64.5 -> 25.5625 after three
        // batches of 20, int 25. On an edge: centred, (24, 26); just outside: too slow
        // shrinks b_high to max(25, 1 + 4) = 25 and b_low to max(1 - 2, 1) = 1; too fast
        // lifts b_low to min(25, 128 - 4) = 25 and b_high to 128.
        for (signal, want) in [(1.25, (24, 26)), (0.75, (24, 26)), (1.26, (1, 25)), (0.74, (25, 128))] {
            let mut cfg = Config::preset(Preset::Paper).sla;
            (cfg.eps_s, cfg.ema_weight, cfg.original_state) = (0.25, 0.5, false);
            let mut c = SlaController::new(&cfg, 1.0, 1, 128);
            for _ in 0..3 {
                c.observe(signal, 20, 0);
            }
            assert_eq!(c.interval(), want, "signal {signal}");
        }
    }

    #[test]
    fn the_clean_state_moves_once_per_batch() {
        // first-results' controller, fed what compat was fed above: it moves after each
        // batch and not when queried. Batches 1-6 are still slow (tau 4.0 ... 1.31 > 1.2)
        // and shrink it to (1, 15); 7 (tau 1.05, on target) centres it on b_avg 15.85 +- 2
        // -> (13, 17); 8 (0.84, on target) -> (12, 16); 9-12 are fast: b_low = 13, b_high
        // grows by floor(0.3 b_avg) = 4, 3, 3, 3 -> (13, 29), b_SLA 21.
        let mut clean = SlaController::new(&Config::preset(Preset::FirstResults).sla, 1.0, 1, 128);
        for _ in 0..3 {
            clean.observe(5.0, 10, 0);
        }
        for _ in 0..12 {
            clean.observe(0.0, 10, 0);
        }
        assert_eq!(clean.interval(), (13, 29));
        assert_eq!([clean.b_sla(), clean.b_sla()], [21, 21]);
        assert_eq!(clean.interval(), (13, 29));
    }
}
