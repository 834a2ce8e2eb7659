//! Capacity search: the highest load (RPS scaling factor) at which a configuration's SLO
//! attainment stays at or above a target, by bracketing (doubling or halving the factor)
//! and bisection (geometric, to a relative tolerance). Attainment is the share of
//! requests meeting both SLAs (per token and per request) for the batch schedulers, and
//! the TTFT / TBT SLO for continuous batching.
//!
//! The search is pure logic over a function from factor to run; the session supplies it.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::run::RunResult;

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CapacitySpec {
    /// Attainment the capacity must keep, in (0, 1].
    pub target: f64,
    /// Stop when the bracket's high end is within this share of its low end.
    pub tolerance: f64,
    /// Runs at most (a search that cannot bracket stops there and says so).
    pub max_runs: usize,
}

impl Default for CapacitySpec {
    fn default() -> Self {
        CapacitySpec { target: 0.9, tolerance: 0.02, max_runs: 40 }
    }
}

impl CapacitySpec {
    pub fn validate(&self) -> Result<()> {
        if !(self.target > 0.0 && self.target <= 1.0) {
            return Err(Error::field("capacity.target", format!("must be in (0, 1] (got {})", self.target)));
        }
        if !(self.tolerance > 0.0 && self.tolerance < 1.0) {
            return Err(Error::field("capacity.tolerance", format!("must be in (0, 1) (got {})", self.tolerance)));
        }
        if self.max_runs < 2 {
            return Err(Error::field("capacity.max_runs", format!("must be at least 2 (got {})", self.max_runs)));
        }
        Ok(())
    }
}

/// One load the search ran.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LoadPoint {
    pub factor: f64,
    pub arrival_rate_rps: f64,
    pub attainment: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Capacity {
    /// The highest factor run whose attainment met the target (None: not even the lowest).
    pub factor: Option<f64>,
    /// The arrival rate of that run.
    pub arrival_rate_rps: Option<f64>,
    /// Every load run, by factor.
    pub points: Vec<LoadPoint>,
    /// Whether the bracket closed to the tolerance (false: `max_runs` ran out).
    pub converged: bool,
}

/// The share of a run's requests meeting its SLO (see the module's text).
pub fn attainment(r: &RunResult) -> f64 {
    let m = &r.metrics;
    match &m.continuous {
        Some(c) => c.slo_attainment,
        None if m.requests_completed > 0 => m.capacity_under_sla_rps * m.makespan_s / m.requests_completed as f64,
        None => 0.0,
    }
}

/// Search from `start` (a positive factor); `run(factor)` simulates at that load.
pub fn search(spec: &CapacitySpec, start: f64, mut run: impl FnMut(f64) -> Result<RunResult>) -> Result<Capacity> {
    spec.validate()?;
    if !(start.is_finite() && start > 0.0) {
        return Err(Error::field("load.factor", format!("the search starts from a positive factor (got {start})")));
    }
    let mut points: Vec<LoadPoint> = Vec::new();
    let mut eval = |factor: f64, points: &mut Vec<LoadPoint>| -> Result<bool> {
        let r = run(factor)?;
        let a = attainment(&r);
        points.push(LoadPoint { factor, arrival_rate_rps: r.metrics.arrival_rate_rps, attainment: a });
        Ok(a >= spec.target)
    };
    // Bracket: lo meets the target, hi does not.
    let (mut lo, mut hi) = (None, None);
    let mut f = start;
    while points.len() < spec.max_runs && (lo.is_none() || hi.is_none()) {
        if eval(f, &mut points)? {
            lo = Some(f);
            f *= 2.0;
        } else {
            hi = Some(f);
            f /= 2.0;
        }
        if lo.is_some() && hi.is_none() && f > 1e12 || hi.is_some() && lo.is_none() && f < 1e-12 {
            break; // no load breaks it, or none meets it
        }
    }
    let mut converged = false;
    if let (Some(mut l), Some(mut h)) = (lo, hi) {
        while points.len() < spec.max_runs {
            if h / l - 1.0 <= spec.tolerance {
                converged = true;
                break;
            }
            let mid = libm::sqrt(l * h);
            if eval(mid, &mut points)? {
                l = mid;
            } else {
                h = mid;
            }
        }
        converged |= h / l - 1.0 <= spec.tolerance;
        lo = Some(l);
    }
    points.sort_by(|a, b| a.factor.total_cmp(&b.factor));
    let best = lo.and_then(|l| points.iter().find(|p| p.factor == l).copied());
    Ok(Capacity { factor: best.map(|p| p.factor), arrival_rate_rps: best.map(|p| p.arrival_rate_rps), points, converged })
}
