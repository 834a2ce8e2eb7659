//! A sampled time series of the cluster's state, of bounded size, for charts.
//!
//! Samples are taken every `dt` seconds of simulated time; when the series would exceed
//! twice its target size, every other sample is dropped and `dt` doubles, so memory stays
//! bounded whatever the run's length.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TimeSeries {
    pub t_s: Vec<f64>,
    pub busy_gpus: Vec<u32>,
    /// `queue_len[bin][sample]`.
    pub queue_len: Vec<Vec<u32>>,
    /// Continuous batching only (empty otherwise): the share of all GPUs' KV blocks in
    /// use, and the sequences running.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kv_used: Vec<f32>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub running: Vec<u32>,
}

pub struct Sampler {
    dt: f64,
    next_t: f64,
    max_points: usize,
    pub series: TimeSeries,
}

impl Sampler {
    /// `horizon_s` is the expected span (e.g. the last arrival); `points` the target size.
    pub fn new(horizon_s: f64, points: usize, bins: usize) -> Self {
        let points = points.max(2);
        let dt = if horizon_s > 0.0 && horizon_s.is_finite() { horizon_s / points as f64 } else { 1.0 };
        Sampler {
            dt,
            next_t: 0.0,
            max_points: 2 * points,
            series: TimeSeries { queue_len: vec![Vec::new(); bins], ..Default::default() },
        }
    }

    /// Called before the state changes at time `t`: records the state that held over
    /// every sample time up to `t`.
    pub fn advance(&mut self, t: f64, busy: u32, queues: impl Fn(usize) -> u32) {
        self.sample_until(t, busy, queues, None::<fn() -> (f32, u32)>);
    }

    /// `advance`, also recording the KV cache's use and the running sequences (computed
    /// only when a sample is due).
    pub fn advance_with(&mut self, t: f64, busy: u32, queues: impl Fn(usize) -> u32, cache: impl Fn() -> (f32, u32)) {
        self.sample_until(t, busy, queues, Some(cache));
    }

    fn sample_until(&mut self, t: f64, busy: u32, queues: impl Fn(usize) -> u32, cache: Option<impl Fn() -> (f32, u32)>) {
        while self.next_t <= t {
            let s = &mut self.series;
            s.t_s.push(self.next_t);
            s.busy_gpus.push(busy);
            for (j, q) in s.queue_len.iter_mut().enumerate() {
                q.push(queues(j));
            }
            if let Some(cache) = &cache {
                let (kv, running) = cache();
                s.kv_used.push(kv);
                s.running.push(running);
            }
            self.next_t += self.dt;
            if s.t_s.len() >= self.max_points {
                self.decimate();
            }
        }
    }

    fn decimate(&mut self) {
        fn keep_even<T: Copy>(v: &mut Vec<T>) {
            let kept: Vec<T> = v.iter().step_by(2).copied().collect();
            *v = kept;
        }
        let s = &mut self.series;
        keep_even(&mut s.t_s);
        keep_even(&mut s.busy_gpus);
        keep_even(&mut s.kv_used);
        keep_even(&mut s.running);
        for q in &mut s.queue_len {
            keep_even(q);
        }
        self.dt *= 2.0;
        self.next_t = s.t_s.last().map_or(0.0, |t| t + self.dt);
    }

    pub fn finish(self) -> TimeSeries {
        self.series
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stays_bounded_and_sorted() {
        let mut s = Sampler::new(10.0, 8, 2);
        for i in 0..10_000 {
            s.advance(i as f64 * 0.1, (i % 3) as u32, |j| j as u32);
        }
        let ts = s.finish();
        assert!(ts.t_s.len() <= 16 && ts.t_s.len() >= 4, "{}", ts.t_s.len());
        assert!(ts.t_s.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(ts.queue_len[1].len(), ts.t_s.len());
        assert!(ts.queue_len[1].iter().all(|&q| q == 1));
    }
}
