//! Capacity search: the highest load (RPS scaling factor) at which a configuration's SLO
//! attainment stays at or above a target, by bracketing (doubling or halving the factor)
//! and bisection (geometric, to a relative tolerance). Attainment is the share of
//! requests meeting both SLAs (per token and per request) for the batch schedulers, and
//! the TTFT / TBT SLO for continuous batching.
//!
//! The search is pure logic (`Search`, a state machine): the session supplies the runs,
//! and `CapacityJob` runs several searches side by side on any executor.

use serde::{Deserialize, Serialize};

use crate::config::{Config, Load};
use crate::error::{Error, Result};
use crate::run::RunResult;
use crate::tasks::{Planner, Progress, RunTask, TaskDone};

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

/// One search, as a state machine: ask `next_factor`, run at that load, `record` its
/// attainment; a shell may run many searches' runs at once (`CapacityJob`).
#[derive(Debug, Clone)]
pub struct Search {
    spec: CapacitySpec,
    points: Vec<LoadPoint>,
    /// Highest factor meeting the target, lowest failing it, so far.
    lo: Option<f64>,
    hi: Option<f64>,
    /// The factor to run next; `None`: the search is over.
    next: Option<f64>,
    converged: bool,
}

impl Search {
    /// A search from `start` (a positive factor).
    pub fn new(spec: &CapacitySpec, start: f64) -> Result<Search> {
        spec.validate()?;
        if !(start.is_finite() && start > 0.0) {
            return Err(Error::field("load.factor", format!("the search starts from a positive factor (got {start})")));
        }
        Ok(Search { spec: *spec, points: Vec::new(), lo: None, hi: None, next: Some(start), converged: false })
    }

    /// The load factor to run next, or `None` once the search is over.
    pub fn next_factor(&self) -> Option<f64> {
        self.next
    }

    /// The run at `next_factor()`: its result.
    pub fn record(&mut self, r: &RunResult) {
        let Some(f) = self.next else { return };
        let a = attainment(r);
        self.points.push(LoadPoint { factor: f, arrival_rate_rps: r.metrics.arrival_rate_rps, attainment: a });
        let meets = a >= self.spec.target;
        let out_of_runs = self.points.len() >= self.spec.max_runs;
        match (self.lo, self.hi) {
            // Bisection (geometric): the bracket [lo, hi] shrinks around the capacity.
            (Some(_), Some(_)) if meets => self.lo = Some(f),
            (Some(_), Some(_)) => self.hi = Some(f),
            // Bracketing: double while the target is met, halve while it is not.
            _ if meets => self.lo = Some(f),
            _ => self.hi = Some(f),
        }
        self.next = match (self.lo, self.hi) {
            (Some(l), Some(h)) => {
                let closed = h / l - 1.0 <= self.spec.tolerance;
                self.converged = closed;
                (!closed && !out_of_runs).then(|| libm::sqrt(l * h))
            }
            // No load breaks it, or none meets it: stop before the factor runs away.
            (Some(l), None) => (!out_of_runs && l * 2.0 <= 1e12).then_some(l * 2.0),
            (None, Some(h)) => (!out_of_runs && h / 2.0 >= 1e-12).then_some(h / 2.0),
            (None, None) => None,
        };
    }

    /// The capacity found (once `next_factor()` is `None`; earlier: the best so far).
    pub fn finish(mut self) -> Capacity {
        self.points.sort_by(|a, b| a.factor.total_cmp(&b.factor));
        let best = self.lo.and_then(|l| self.points.iter().find(|p| p.factor == l).copied());
        Capacity {
            factor: best.map(|p| p.factor),
            arrival_rate_rps: best.map(|p| p.arrival_rate_rps),
            points: self.points,
            converged: self.converged,
        }
    }
}

/// Search from `start` (a positive factor); `run(factor)` simulates at that load.
pub fn search(spec: &CapacitySpec, start: f64, mut run: impl FnMut(f64) -> Result<RunResult>) -> Result<Capacity> {
    let mut s = Search::new(spec, start)?;
    while let Some(f) = s.next_factor() {
        s.record(&run(f)?);
    }
    Ok(s.finish())
}

/// The factor a configuration's search starts from: its own (1 with real timestamps).
pub fn start_factor(config: &Config) -> f64 {
    match config.load {
        Load::RpsScaling { factor } => factor,
        Load::RealTimestamps => 1.0,
    }
}

/// Capacity searches of several configurations as one job of runs (`tasks::Planner`):
/// each search is sequential, the searches run side by side.
pub struct CapacityJob {
    rows: Vec<(String, Config, Search)>,
    /// The search (row) each handed-out task belongs to, by task id.
    owner: Vec<usize>,
    /// Whether a row has a run under way.
    busy: Vec<bool>,
    runs_done: usize,
    requests_simulated: u64,
    last_label: String,
}

impl CapacityJob {
    /// One search per `(label, config)`, each from its configuration's own load.
    pub fn new(spec: &CapacitySpec, rows: Vec<(String, Config)>) -> Result<CapacityJob> {
        let rows = rows
            .into_iter()
            .map(|(label, config)| {
                config.validate()?;
                let search = Search::new(spec, start_factor(&config))?;
                Ok((label, config, search))
            })
            .collect::<Result<Vec<_>>>()?;
        let busy = vec![false; rows.len()];
        Ok(CapacityJob { rows, owner: Vec::new(), busy, runs_done: 0, requests_simulated: 0, last_label: String::new() })
    }

    /// `(label, capacity)` per configuration, in the given order.
    pub fn finish(self) -> Vec<(String, Capacity)> {
        self.rows.into_iter().map(|(label, _, s)| (label, s.finish())).collect()
    }
}

impl Planner for CapacityJob {
    fn ready(&mut self) -> Vec<RunTask> {
        let mut tasks = Vec::new();
        for (row, (label, config, search)) in self.rows.iter().enumerate() {
            let Some(factor) = search.next_factor().filter(|_| !self.busy[row]) else { continue };
            let config = Config { load: Load::RpsScaling { factor }, ..config.clone() };
            let id = self.owner.len();
            self.owner.push(row);
            self.busy[row] = true;
            let label = format!("{label} at load factor {factor}");
            tasks.push(RunTask { id, label, workload: config.clone(), config, keep_timeseries: false });
        }
        tasks
    }

    fn record(&mut self, done: TaskDone) -> Result<()> {
        let row = *self.owner.get(done.id).ok_or_else(crate::tasks::stalled)?;
        let result = done.outcome?;
        let (label, _, search) = &mut self.rows[row];
        search.record(&result);
        self.busy[row] = false;
        self.runs_done += 1;
        self.requests_simulated += result.config.requests as u64;
        self.last_label = format!("{label}: {} runs", search.points.len());
        Ok(())
    }

    fn progress(&self) -> Progress {
        // The searches still going need at least one more run each.
        let going = self.rows.iter().filter(|(_, _, s)| s.next_factor().is_some()).count();
        Progress { runs_done: self.runs_done, runs_total: self.runs_done + going, requests_simulated: self.requests_simulated, last_label: self.last_label.clone() }
    }

    fn finished(&self) -> bool {
        self.rows.iter().all(|(_, _, s)| s.next_factor().is_none())
    }
}
