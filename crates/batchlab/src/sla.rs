//! The adaptive SLA controller (the original simulator's rules; ARCHITECTURE.md summarises them).
//!
//! It keeps an interval [b_low, b_high] of batch sizes and exponential moving averages of
//! the observed signal (`tau_avg`) and batch size (`b_avg`). After each batch it moves the
//! interval; the batch size it proposes is the interval's midpoint.

use crate::config::SlaControllerConfig;

#[derive(Debug, Clone, PartialEq)]
pub struct SlaController {
    d: f64,
    eps: f64,
    w: f64,
    adjust_on_every_query: bool,
    b_min: u32,
    b_max: u32,
    b_low: u32,
    b_high: u32,
    tau_avg: f64,
    b_avg: f64,
    updates: u64,
}

impl SlaController {
    pub fn new(cfg: &SlaControllerConfig, b_min: u32, b_max: u32) -> Self {
        SlaController {
            d: cfg.d_s,
            eps: cfg.eps_s,
            w: cfg.ema_weight,
            adjust_on_every_query: cfg.adjust_on_every_query,
            b_min,
            b_max,
            b_low: b_min,
            b_high: b_max,
            tau_avg: 0.0,
            b_avg: (b_min as f64 + b_max as f64) / 2.0,
            updates: 0,
        }
    }

    /// Feed one finished batch: its observed signal (token time or batch latency) and size.
    pub fn observe(&mut self, signal: f64, batch_size: u32) {
        if self.updates == 0 {
            self.tau_avg = signal;
        } else {
            self.tau_avg = self.w * signal + (1.0 - self.w) * self.tau_avg;
        }
        self.b_avg = self.w * batch_size as f64 + (1.0 - self.w) * self.b_avg;
        self.updates += 1;
        if !self.adjust_on_every_query {
            self.adjust();
        }
    }

    /// The batch size the controller allows now. In compat mode this also moves the
    /// interval (the original code's quirk), so calling it changes the state.
    pub fn b_sla(&mut self) -> u32 {
        if self.adjust_on_every_query {
            self.adjust();
        }
        if self.updates < 3 {
            return (self.b_min + self.b_max) / 2;
        }
        (self.b_low + self.b_high) / 2
    }

    fn adjust(&mut self) {
        if self.updates < 3 {
            return;
        }
        let (b_min, b_max) = (self.b_min as f64, self.b_max as f64);
        let (mut lo, mut hi) = (self.b_low as f64, self.b_high as f64);
        if self.tau_avg > self.d + 2.0 * self.eps {
            hi = hi.min(b_min.max((0.9 * self.b_avg).floor()));
            lo = b_min.max(lo.min((0.7 * self.b_avg).floor()));
        } else if self.tau_avg < self.d - 2.0 * self.eps {
            lo = lo.max(self.b_avg.floor());
            hi = (hi + (0.3 * self.b_avg).floor()).min(b_max);
        } else {
            let margin = 2f64.max((0.15 * (hi - lo)).floor());
            lo = self.b_avg - margin;
            hi = self.b_avg + margin;
        }
        // Keep B_min <= b_low <= b_high <= B_max (integers).
        let lo = lo.floor().clamp(b_min, b_max);
        let hi = hi.floor().clamp(lo, b_max);
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
        cfg.d_s = d;
        cfg.eps_s = eps;
        SlaController::new(&cfg, 1, 128)
    }

    #[test]
    fn midpoint_until_three_updates() {
        let mut c = controller(1.0, 0.1);
        assert_eq!(c.b_sla(), 64);
        c.observe(5.0, 10);
        c.observe(5.0, 10);
        assert_eq!(c.b_sla(), 64);
    }

    #[test]
    fn too_slow_shrinks_the_interval_by_hand() {
        let mut c = controller(1.0, 0.1);
        // b_avg: 64.5 -> 0.2*10+0.8*64.5 = 53.6 -> 44.88 -> 37.904
        c.observe(5.0, 10);
        c.observe(5.0, 10);
        c.observe(5.0, 10);
        // tau_avg 5 > 1.2: b_high = min(128, max(1, floor(0.9*37.904)=34)) = 34;
        // b_low = max(1, min(1, floor(0.7*37.904)=26)) = 1; b_SLA = floor(35/2) = 17.
        assert_eq!(c.interval(), (1, 34));
        assert_eq!(c.b_sla(), 17);
    }

    #[test]
    fn too_fast_grows_the_interval_by_hand() {
        let mut c = controller(1.0, 0.1);
        for _ in 0..3 {
            c.observe(0.1, 100);
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
            c.observe(1.0, 20);
        }
        // b_avg: 64.5 -> 55.6 -> 48.48 -> 42.784; margin = max(2, floor(0.15*127)=19) = 19
        // interval [23.784, 61.784] -> [23, 61]; b_SLA = 42.
        assert_eq!(c.interval(), (23, 61));
        assert_eq!(c.b_sla(), 42);
        // The margin follows the interval's width: b_avg 4 + 34.2272 = 38.2272, margin
        // max(2, floor(0.15 * 38)) = 5 -> [33.2272, 43.2272] -> (33, 43).
        c.observe(1.0, 20);
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
            (cfg.d_s, cfg.eps_s, cfg.ema_weight) = (1.0, 0.25, 0.5);
            let mut c = SlaController::new(&cfg, 1, 128);
            for _ in 0..3 {
                c.observe(edge, 20);
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
            (cfg.d_s, cfg.eps_s, cfg.ema_weight) = (1.0, 0.25, 0.5);
            let mut c = SlaController::new(&cfg, 1, 128);
            for _ in 0..3 {
                c.observe(signal, 20);
            }
            assert_eq!(c.interval(), want, "signal {signal}");
        }
    }

    #[test]
    fn the_interval_stays_within_bounds() {
        // Far too slow for a long time: b_high falls to B_min, never below.
        let mut c = SlaController::new(&Config::preset(Preset::FirstResults).sla, 4, 16);
        // Warm-up: the midpoint of [B_min, B_max], (4 + 16) / 2.
        assert_eq!(c.b_sla(), 10);
        for _ in 0..50 {
            c.observe(100.0, 4);
        }
        assert_eq!((c.interval(), c.b_sla()), ((4, 4), 4));
        // Far too fast: b_high climbs back to B_max and stays there; b_avg approaches 16
        // from below, so b_low = floor(b_avg) = 15.
        for _ in 0..50 {
            c.observe(0.0, 16);
        }
        assert_eq!((c.interval(), c.b_sla()), ((15, 16), 15));
        assert_eq!(c.updates(), 100);
    }

    #[test]
    fn compat_mode_moves_on_every_query() {
        let mut cfg = Config::preset(Preset::Compat).sla;
        cfg.d_s = 1.0;
        let mut c = SlaController::new(&cfg, 1, 128);
        // Too slow three times (shrinks the interval on the first query) ...
        for _ in 0..3 {
            c.observe(5.0, 10);
        }
        assert_eq!(c.b_sla(), 17);
        assert_eq!(c.interval(), (1, 34));
        // ... then fast: 12 updates bring tau_avg to 5 * 0.8^12 = 0.3436 < D - 2 eps and
        // b_avg to 11.9175, but nothing moves the interval until it is queried; each query
        // grows it: b_low = max(1, floor(11.9175)) = 11, b_high = 34 + floor(0.3 * 11.9175)
        // = 37 -> 24; then 40 -> 25; then 43 -> 27.
        for _ in 0..12 {
            c.observe(0.0, 10);
        }
        assert_eq!(c.interval(), (1, 34));
        assert_eq!([c.b_sla(), c.b_sla(), c.b_sla()], [24, 25, 27]);
        assert_eq!(c.interval(), (11, 43));
        // The clean controller, fed the same, moves after each update and not when queried.
        // Updates 1-6 are still slow (tau 4.0 ... 1.31 > 1.2) and shrink it to (1, 15);
        // 7 (tau 1.05, on target) centres it on b_avg 15.85 +- 2 -> (13, 17); 8 (0.84, on
        // target) -> (12, 16); 9-12 are fast: b_low = 13, b_high grows by floor(0.3 b_avg)
        // = 4, 3, 3, 3 -> (13, 29), b_SLA 21.
        let mut clean = SlaController::new(&Config::preset(Preset::FirstResults).sla, 1, 128);
        for _ in 0..3 {
            clean.observe(5.0, 10);
        }
        for _ in 0..12 {
            clean.observe(0.0, 10);
        }
        assert_eq!(clean.interval(), (13, 29));
        assert_eq!([clean.b_sla(), clean.b_sla()], [21, 21]);
        assert_eq!(clean.interval(), (13, 29));
    }
}
