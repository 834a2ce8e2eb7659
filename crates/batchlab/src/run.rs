//! One simulation run: workload + config + latency model -> RunResult.

use serde::{Deserialize, Serialize};

use crate::config::{Config, ControllerRules, IterationModel, SlaSignal};
use crate::engine::iteration::simulate_continuous;
use crate::engine::{simulate, Schedule};
use crate::error::{Error, Result};
use crate::latency::{LatencyFit, LatencyModel};
use crate::metrics::{compute, continuous, worst_token_gap_s, BinStats, RunMetrics};
use crate::timeseries::TimeSeries;
use crate::token::{self, CpuTokenPass, LogHistogram, Slas, TokenDevice, TokenMetrics, TokenModelConfig, TokenPass};
use crate::workload::Workload;

/// The outcome of one run, shared by the CLI, the web app and the reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunResult {
    pub config: Config,
    /// "synthetic burstgpt", "trace BurstGPT_1.csv", ...
    pub workload: String,
    pub calibration: String,
    pub fit: LatencyFit,
    /// Continuous batching: the iteration costs the run used and their source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iteration: Option<IterationModel>,
    pub metrics: RunMetrics,
    pub bins: Vec<BinStats>,
    pub timeseries: TimeSeries,
    /// Distribution of every decode gap (TBT), from the token pass: for charts.
    pub tbt_histogram: LogHistogram,
    /// Sentences about the run worth a reader's attention (e.g. the SLA cannot bind).
    pub notes: Vec<String>,
    /// Wall-clock seconds the run took, measured by the shell (the core has no clock);
    /// 0 until the shell sets it. The only non-deterministic field.
    pub wall_time_s: f64,
}

impl Default for RunResult {
    /// An empty result (all metrics zero): used to list the report's columns.
    fn default() -> Self {
        RunResult {
            config: Config::default(),
            workload: String::new(),
            calibration: String::new(),
            fit: LatencyFit { alpha_s: 0.0, beta_s: 0.0, gamma: 0.0, r2: 0.0 },
            iteration: None,
            metrics: RunMetrics::default(),
            bins: Vec::new(),
            timeseries: TimeSeries::default(),
            tbt_histogram: LogHistogram::default(),
            notes: Vec::new(),
            wall_time_s: 0.0,
        }
    }
}

/// Simulate `workload` (already built for `config`), with the token pass on the CPU.
pub fn simulate_run(workload: &Workload, config: &Config, model: &LatencyModel, workload_name: &str) -> Result<RunResult> {
    token::now(simulate_run_with(workload, config, model, workload_name, &mut CpuTokenPass)).map(|(r, _)| r)
}

/// Simulate with the given token pass; also says which device ran it.
pub async fn simulate_run_with(
    workload: &Workload,
    config: &Config,
    model: &LatencyModel,
    workload_name: &str,
    token_pass: &mut impl TokenPass,
) -> Result<(RunResult, TokenDevice)> {
    if config.scheduler.is_continuous() {
        // The iteration engine times every token itself, on the CPU.
        return Ok((simulate_continuous_run(workload, config, model, workload_name)?, TokenDevice::default()));
    }
    let (mut result, schedule) = simulate_run_with_schedule(workload, config, model, workload_name)?;
    let (token_model, slas) = token_inputs(config, model)?;
    let (metrics, device) = token_pass.run(workload, &schedule, &token_model, &slas).await?;
    attach_token_metrics(&mut result, metrics);
    Ok((result, device))
}

/// The inputs of this run's token pass.
pub fn token_inputs(config: &Config, model: &LatencyModel) -> Result<(TokenModelConfig, Slas)> {
    let t = TokenModelConfig::from_config(config, model);
    t.validate()?;
    Ok((t, Slas::from_config(config)))
}

/// Complete a request-level result with its token pass (for shells that run the pass
/// themselves, e.g. asynchronously on WebGPU).
pub fn attach_token_metrics(result: &mut RunResult, token: TokenMetrics) {
    result.metrics.apply_token(&token);
    result.tbt_histogram = token.tbt_histogram;
}

/// The request-level part of a run: the schedule and every metric except the
/// token-level ones (left NaN until `attach_token_metrics`).
pub fn simulate_run_with_schedule(
    workload: &Workload,
    config: &Config,
    model: &LatencyModel,
    workload_name: &str,
) -> Result<(RunResult, Schedule)> {
    check(workload, config)?;
    if config.scheduler.is_continuous() {
        return Err(Error::field("scheduler", "a continuous scheduler times its tokens in its engine: run it with `simulate_run_with`"));
    }
    let schedule = simulate(workload, config, model);
    let (metrics, bins) = compute(workload, config, model, &schedule);
    let notes = notes(workload, config, model, &metrics);
    let result = RunResult {
        config: config.clone(),
        workload: workload_name.to_string(),
        calibration: model.grid.name.clone(),
        fit: model.fit,
        iteration: None,
        metrics,
        bins,
        timeseries: schedule.timeseries.clone(),
        tbt_histogram: LogHistogram::default(),
        notes,
        wall_time_s: 0.0,
    };
    Ok((result, schedule))
}

fn check(workload: &Workload, config: &Config) -> Result<()> {
    config.validate()?;
    if workload.is_empty() {
        return Err(Error::field("requests", "the workload has no request"));
    }
    Ok(())
}

/// A continuous run: the iteration engine, priced by the configuration's iteration
/// profile if it has one, else by the roofline of its hardware and model.
pub fn simulate_continuous_run(workload: &Workload, config: &Config, model: &LatencyModel, workload_name: &str) -> Result<RunResult> {
    check(workload, config)?;
    let iteration = config.iteration.profile.clone().unwrap_or_else(|| IterationModel::roofline(config));
    let schedule = simulate_continuous(workload, config, &iteration.cost)?;
    let (mut metrics, bins) = compute(workload, config, model, &schedule);
    let token = continuous(workload, config, &schedule, &mut metrics);
    metrics.apply_token(&token);
    Ok(RunResult {
        config: config.clone(),
        workload: workload_name.to_string(),
        calibration: model.grid.name.clone(),
        fit: model.fit,
        iteration: Some(iteration),
        metrics,
        bins,
        timeseries: schedule.timeseries,
        tbt_histogram: token.tbt_histogram,
        notes: Vec::new(),
        wall_time_s: 0.0,
    })
}

fn notes(workload: &Workload, config: &Config, model: &LatencyModel, m: &RunMetrics) -> Vec<String> {
    let mut notes = Vec::new();
    if !m.token_sla_can_bind {
        // The figure shown is the one the verdict came from.
        let worst = worst_token_gap_s(workload, config, model) * 1e3;
        let d = config.d_sla_token_s * 1e3;
        notes.push(if config.token_kappa > 0.0 {
            format!(
                "The per-token SLA ({d:.2} ms) cannot be violated: the slowest decode gap of this calibration and workload (batch of {}, context cost of its longest sequence) is {worst:.2} ms.",
                config.b_max
            )
        } else {
            format!(
                "The per-token SLA ({d:.2} ms) cannot be violated: the slowest token step of this calibration (batch of {}) is {worst:.2} ms.",
                config.b_max
            )
        });
    }
    if config.sla.signal == SlaSignal::TokenTime && config.scheduler.is_dynamic() {
        // The token step is fixed by the batch size alone in fit mode: from beta (b = 1)
        // to beta * h(B_max). Which controller branches can that range ever reach?
        let (best, worst) = (model.token_step_s(1, 1), model.token_step_s(config.b_max, 1));
        let half_band = match config.sla.rules {
            ControllerRules::First => 2.0 * config.sla.eps_s,
            ControllerRules::Final => config.sla.eps_s,
        };
        let d = config.controller_target_s();
        let (lo, hi) = (d - half_band, d + half_band);
        let range = format!("token step {:.2}-{:.2} ms", best * 1e3, worst * 1e3);
        let band = format!("[{:.2}, {:.2}] ms", lo * 1e3, hi * 1e3);
        if worst < lo {
            notes.push(format!(
                "The SLA cannot bind: the controller's signal ({range}) stays below its band {band}, so it only grows its interval and the batch size is limited by memory and the queue alone."
            ));
        } else if best > hi {
            notes.push(format!(
                "The SLA cannot be met: the controller's signal ({range}) stays above its band {band} even at batch size 1, so it only shrinks its interval."
            ));
        } else if best >= lo && worst <= hi {
            notes.push(format!(
                "The SLA controller's signal ({range}) never leaves its band {band}, so it never shrinks or grows its interval for the SLA: it only re-centres on the average batch size."
            ));
        }
    }
    notes
}
