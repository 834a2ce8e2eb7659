//! The adaptive SLA controller of MODEL.md §4 (the original simulator's rules).
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
        // ... then fast until tau_avg < D - 2 eps: every query grows b_high again.
        for _ in 0..12 {
            c.observe(0.0, 10);
        }
        let first = c.b_sla();
        let second = c.b_sla();
        assert!(second > first, "querying again should grow the interval: {first} then {second}");
        // The clean controller, fed the same, does not move between queries.
        let mut clean = SlaController::new(&Config::preset(Preset::FirstResults).sla, 1, 128);
        for _ in 0..3 {
            clean.observe(5.0, 10);
        }
        for _ in 0..12 {
            clean.observe(0.0, 10);
        }
        assert_eq!(clean.b_sla(), clean.b_sla());
    }
}
