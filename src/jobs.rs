//! What the worker does with a request, as plain Rust (no browser types), so it is
//! tested natively. The worker's wasm glue (`worker.rs`) only reads the attached files,
//! passes a clock and its token pass (WebGPU when it has an adapter), and posts what
//! this returns.
//!
//! A run's token pass may be asynchronous (WebGPU reads its results back through a
//! promise), so runs are `async`: the request-level simulation runs first
//! (`simulate_run_with_schedule`), then the [`TokenPasser`] times every token of the
//! schedule, and `attach_token_metrics` completes the result. The CPU pass
//! ([`CpuTokenPass`]) never waits, so [`execute`] runs it synchronously.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use batchlab::config::{Config, Preset, SchedulerKind};
use batchlab::engine::Schedule;
use batchlab::latency::{CalibrationGrid, LatencyModel};
use batchlab::plan::{run_plan, PlanSpec, Progress};
use batchlab::report::{plan_files, run_csv, run_json};
use batchlab::run::{attach_token_metrics, simulate_run_with_schedule, token_inputs, RunResult};
use batchlab::token::{self, Slas, TokenMetrics, TokenModelConfig};
use batchlab::workload::{build, parse_trace, Source, TraceData, Workload};
use batchlab::{Error, Result};

use crate::protocol::{PlanOutput, Request, Response, RunOutput, TokenPassInfo};

/// File-name prefix of the plan's downloads: the CLI `stress` default, so names match.
pub const PLAN_PREFIX: &str = "comprehensive_stress_results";

/// A file the user attached, read into memory.
#[derive(Debug, Clone, PartialEq)]
pub struct InputFile {
    pub name: String,
    pub bytes: Vec<u8>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Inputs {
    pub trace: Option<InputFile>,
    pub calibration: Option<InputFile>,
}

/// The shell's hooks: a clock in seconds (any origin) and a progress sink.
pub struct Hooks<'a> {
    pub clock: &'a dyn Fn() -> f64,
    pub progress: &'a mut dyn FnMut(&Progress),
}

/// A token pass: every backend returns the same `TokenMetrics` for the same input, and
/// says in `TokenPassInfo` which device ran it (`seconds` is filled in by the caller).
#[allow(async_fn_in_trait)] // used by this crate only, on one thread
pub trait TokenPasser {
    async fn run(&mut self, w: &Workload, s: &Schedule, cfg: &TokenModelConfig, slas: &Slas) -> Result<(TokenMetrics, TokenPassInfo)>;
}

/// The CPU token pass (`batchlab::token::run_cpu`): the reference and the fallback.
pub struct CpuTokenPass;

impl TokenPasser for CpuTokenPass {
    async fn run(&mut self, w: &Workload, s: &Schedule, cfg: &TokenModelConfig, slas: &Slas) -> Result<(TokenMetrics, TokenPassInfo)> {
        Ok((token::run_cpu(w, s, cfg, slas)?, TokenPassInfo::default()))
    }
}

/// Drive a future that never waits (any job on the CPU token pass) to its end.
fn now<T>(job: impl Future<Output = Result<T>>) -> Result<T> {
    match pin!(job).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(r) => r,
        Poll::Pending => Err(Error::token_pass("internal error: the CPU pass waited")),
    }
}

/// Answer one request with the CPU token pass. Errors are the core's one-line errors.
pub fn execute(request: Request, inputs: &Inputs, hooks: Hooks<'_>) -> Result<Response> {
    now(execute_with(request, inputs, hooks, &mut CpuTokenPass))
}

/// Answer one request; runs and compares use `passer` unless the request forces the CPU.
pub async fn execute_with(request: Request, inputs: &Inputs, hooks: Hooks<'_>, passer: &mut impl TokenPasser) -> Result<Response> {
    let trace = match &inputs.trace {
        Some(f) => Some(parse_trace(&f.bytes, &f.name)?),
        None => None,
    };
    match request {
        Request::Check => Ok(Response::Checked { lines: check(trace.as_ref(), inputs)? }),
        Request::Run { preset, config, token_on_cpu } => {
            let grid = calibration(preset, inputs)?;
            let src = source(&trace, &config);
            let out = if token_on_cpu {
                run_one_with(src, &config, &grid, hooks.clock, &mut CpuTokenPass).await?
            } else {
                run_one_with(src, &config, &grid, hooks.clock, passer).await?
            };
            Ok(Response::Run(Box::new(out)))
        }
        Request::Compare { preset, config, token_on_cpu } => {
            let grid = calibration(preset, inputs)?;
            let src = source(&trace, &config);
            if token_on_cpu {
                compare(src, &config, &grid, hooks, &mut CpuTokenPass).await
            } else {
                compare(src, &config, &grid, hooks, passer).await
            }
        }
        Request::Plan { preset, spec } => {
            let grid = calibration(preset, inputs)?;
            plan(source(&trace, &spec.base), &spec, &grid, hooks)
        }
    }
}

fn source<'a>(trace: &'a Option<TraceData>, config: &Config) -> Source<'a> {
    match trace {
        Some(t) => Source::Trace(t),
        None => Source::Synthetic(config.synthetic),
    }
}

fn calibration(preset: Preset, inputs: &Inputs) -> Result<CalibrationGrid> {
    match &inputs.calibration {
        Some(f) => CalibrationGrid::parse_csv(&f.bytes, &f.name),
        None => Ok(CalibrationGrid::for_preset(preset)),
    }
}

/// Describe the attached files (what the import found), or fail with the parse error.
fn check(trace: Option<&TraceData>, inputs: &Inputs) -> Result<Vec<String>> {
    let mut lines = Vec::new();
    if let Some(t) = trace {
        let r = &t.report;
        let mut line = format!("{}: {} of {} rows loaded ({})", t.file, r.rows_loaded, r.rows_read, r.columns);
        for s in &r.skipped {
            line.push_str(&format!("; skipped {} row(s): {} (first at row {})", s.count, s.reason, s.first_row));
        }
        lines.push(line);
    }
    if let Some(f) = &inputs.calibration {
        let grid = CalibrationGrid::parse_csv(&f.bytes, &f.name)?;
        let fit = grid.fit()?;
        lines.push(format!(
            "{}: {} points; fit alpha {:.3} ms, beta {:.4} ms/token, gamma {:.3}, R² {:.4}",
            f.name,
            grid.points.len(),
            fit.alpha_s * 1e3,
            fit.beta_s * 1e3,
            fit.gamma,
            fit.r2
        ));
    }
    Ok(lines)
}

fn output(result: RunResult, token_pass: TokenPassInfo) -> RunOutput {
    RunOutput { csv: run_csv(&result), json: run_json(&result), result, token_pass }
}

/// One run, as the CLI's `run` does it, with the CPU token pass.
pub fn run_one(source: Source<'_>, config: &Config, grid: &CalibrationGrid, clock: &dyn Fn() -> f64) -> Result<RunOutput> {
    now(run_one_with(source, config, grid, clock, &mut CpuTokenPass))
}

/// One run, as the CLI's `run` does it: build the workload for `config`, simulate.
pub async fn run_one_with(
    source: Source<'_>,
    config: &Config,
    grid: &CalibrationGrid,
    clock: &dyn Fn() -> f64,
    passer: &mut impl TokenPasser,
) -> Result<RunOutput> {
    config.validate()?;
    let model = LatencyModel::new(grid.clone(), config.latency_mode)?;
    let t0 = clock();
    let workload = build(source, config.requests, config.load, config.predictor, config.seed)?;
    // A trace shorter than asked gives fewer requests; the report says how many ran.
    let config = Config { requests: workload.len(), ..config.clone() };
    let (result, pass) = simulate(&workload, &config, &model, &source.describe(), clock, passer).await?;
    Ok(finish_run(result, pass, clock() - t0))
}

fn finish_run(mut result: RunResult, pass: TokenPassInfo, wall_time_s: f64) -> RunOutput {
    result.wall_time_s = wall_time_s;
    output(result, pass)
}

/// `simulate_run` with the token pass of `passer`, timed.
async fn simulate(
    workload: &Workload,
    config: &Config,
    model: &LatencyModel,
    name: &str,
    clock: &dyn Fn() -> f64,
    passer: &mut impl TokenPasser,
) -> Result<(RunResult, TokenPassInfo)> {
    let (mut result, schedule) = simulate_run_with_schedule(workload, config, model, name)?;
    let (token_cfg, slas) = token_inputs(config, model)?;
    let t0 = clock();
    let (metrics, mut pass) = passer.run(workload, &schedule, &token_cfg, &slas).await?;
    pass.seconds = clock() - t0;
    attach_token_metrics(&mut result, metrics);
    Ok((result, pass))
}

async fn compare(
    source: Source<'_>,
    config: &Config,
    grid: &CalibrationGrid,
    hooks: Hooks<'_>,
    passer: &mut impl TokenPasser,
) -> Result<Response> {
    config.validate()?;
    let model = LatencyModel::new(grid.clone(), config.latency_mode)?;
    let workload = build(source, config.requests, config.load, config.predictor, config.seed)?;
    let mut outputs = Vec::new();
    let mut simulated = 0u64;
    for &scheduler in SchedulerKind::ALL {
        let cfg = Config { scheduler, requests: workload.len(), ..config.clone() };
        let t0 = (hooks.clock)();
        let (result, pass) = simulate(&workload, &cfg, &model, &source.describe(), hooks.clock, passer).await?;
        simulated += workload.len() as u64;
        outputs.push(finish_run(result, pass, (hooks.clock)() - t0));
        (hooks.progress)(&Progress {
            runs_done: outputs.len(),
            runs_total: SchedulerKind::ALL.len(),
            requests_simulated: simulated,
            last_label: scheduler.name().to_string(),
        });
    }
    Ok(Response::Compare(outputs))
}

/// The stress plan, with the CPU token pass: `run_plan` is synchronous (a GPU pass would
/// need its runs driven one by one, asynchronously, outside the core's plan).
fn plan(source: Source<'_>, spec: &PlanSpec, grid: &CalibrationGrid, hooks: Hooks<'_>) -> Result<Response> {
    let progress = hooks.progress;
    // Cancellation terminates the worker, so the callback never asks to stop.
    let mut result = run_plan(source, grid, spec, hooks.clock, &mut |p| {
        progress(p);
        true
    })?;
    let files = plan_files(&result, PLAN_PREFIX);
    let analysis: serde_json::Value = files
        .iter()
        .find(|(name, _)| name.ends_with("_analysis.json"))
        .and_then(|(_, text)| serde_json::from_str(text).ok())
        .unwrap_or_default();
    let saturation_gpus = analysis["step2_gpu_scaling"]["saturation_gpus"].as_u64().map(|g| g as u32);
    let findings = analysis["key_findings"]
        .as_array()
        .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
        .unwrap_or_default();
    for run in &mut result.runs {
        if let Ok(r) = &mut run.result {
            r.timeseries = Default::default();
        }
    }
    Ok(Response::Plan(Box::new(PlanOutput { result, files, saturation_gpus, findings })))
}

#[cfg(test)]
mod tests {
    use super::*;
    use batchlab::report::without_wall_clock;

    fn no_hooks<'a>(progress: &'a mut dyn FnMut(&Progress)) -> Hooks<'a> {
        Hooks { clock: &|| 0.0, progress }
    }

    #[test]
    fn bad_trace_is_a_one_line_error() {
        let inputs = Inputs {
            trace: Some(InputFile { name: "bad.csv".into(), bytes: b"Timestamp,Request tokens\n1,abc\n".to_vec() }),
            calibration: None,
        };
        let err = execute(Request::Check, &inputs, no_hooks(&mut |_| {})).unwrap_err().to_string();
        assert!(err.starts_with("bad.csv"), "{err}");
        assert!(!err.contains('\n'));
    }

    #[test]
    fn run_output_is_the_cores_report() {
        // Not the preset's defaults, so a job that dropped a setting would differ.
        let config = Config { requests: 2_000, gpus: 2, k_bins: 3, seed: 11, ..Config::preset(Preset::Paper) };
        let ticks = std::cell::Cell::new(0.0);
        let clock = || {
            ticks.set(ticks.get() + 0.5);
            ticks.get()
        };
        let req = Request::Run { preset: Preset::Paper, config: config.clone(), token_on_cpu: false };
        let hooks = Hooks { clock: &clock, progress: &mut |_| {} };
        let Response::Run(out) = execute(req, &Inputs::default(), hooks).unwrap() else { panic!("not a run") };

        // The same run straight from the core, as the CLI's `run` does it.
        let source = Source::Synthetic(config.synthetic);
        let workload = build(source, config.requests, config.load, config.predictor, config.seed).unwrap();
        let model = LatencyModel::new(CalibrationGrid::for_preset(Preset::Paper), config.latency_mode).unwrap();
        let mut core = batchlab::simulate_run(&workload, &config, &model, &source.describe()).unwrap();
        assert_eq!(out.result.metrics, core.metrics);
        assert_eq!(out.result.bins.len(), 3);
        assert_ne!(out.csv, run_csv(&core), "the job's wall time is set, the core's is 0");
        assert_eq!(without_wall_clock(&out.csv), without_wall_clock(&run_csv(&core)));
        // The clock is read at 0.5 (start), 1.0 and 1.5 (around the token pass) and 2.0
        // (end): the run took 2.0 - 0.5 = 1.5 s, the token pass 1.5 - 1.0 = 0.5 s.
        assert_eq!((out.result.wall_time_s, out.token_pass.seconds), (1.5, 0.5));
        core.wall_time_s = 1.5;
        assert_eq!(out.csv, run_csv(&core));
        assert_eq!(out.json, run_json(&core));
    }

    /// A stand-in for the GPU: the CPU's metrics, labelled as another device, counted.
    struct LabelledPass {
        calls: usize,
    }

    impl TokenPasser for LabelledPass {
        async fn run(&mut self, w: &Workload, s: &Schedule, cfg: &TokenModelConfig, slas: &Slas) -> Result<(TokenMetrics, TokenPassInfo)> {
            self.calls += 1;
            let info = TokenPassInfo { gpu: Some("test adapter".into()), ..Default::default() };
            Ok((token::run_cpu(w, s, cfg, slas)?, info))
        }
    }

    #[test]
    fn runs_use_the_given_token_pass_unless_the_cpu_is_forced() {
        let mut config = Config::preset(Preset::Paper);
        config.requests = 3_000;
        let cpu = execute(Request::Run { preset: Preset::Paper, config: config.clone(), token_on_cpu: false }, &Inputs::default(), no_hooks(&mut |_| {}));
        let Response::Run(cpu) = cpu.unwrap() else { panic!("not a run") };
        assert_eq!(cpu.token_pass.gpu, None);
        assert!(cpu.result.metrics.tbt_p99_s.is_finite(), "token metrics filled in");
        assert!(cpu.result.tbt_histogram.total > 0);

        for token_on_cpu in [false, true] {
            let mut pass = LabelledPass { calls: 0 };
            let ticks = std::cell::Cell::new(0.0);
            let clock = || {
                ticks.set(ticks.get() + 0.5);
                ticks.get()
            };
            let hooks = Hooks { clock: &clock, progress: &mut |_| {} };
            let req = Request::Run { preset: Preset::Paper, config: config.clone(), token_on_cpu };
            let Response::Run(out) = now(execute_with(req, &Inputs::default(), hooks, &mut pass)).unwrap() else {
                panic!("not a run")
            };
            assert_eq!(pass.calls, if token_on_cpu { 0 } else { 1 });
            assert_eq!(out.token_pass.gpu.is_some(), !token_on_cpu);
            assert_eq!(out.token_pass.seconds, 0.5, "timed by the shell's clock");
            // Same metrics whichever pass ran: the CSV differs only in wall_time_s.
            let strip = |csv: &str| csv.lines().map(|l| l.rsplit_once(',').unwrap().0.to_string()).collect::<Vec<_>>();
            assert_eq!(strip(&out.csv), strip(&cpu.csv));
            assert_eq!(out.result.tbt_histogram, cpu.result.tbt_histogram);
        }
    }

    #[test]
    fn compare_uses_the_token_pass_for_each_scheduler() {
        let mut config = Config::preset(Preset::Paper);
        config.requests = 1_000;
        let mut pass = LabelledPass { calls: 0 };
        let req = Request::Compare { preset: Preset::Paper, config, token_on_cpu: false };
        let Response::Compare(outs) = now(execute_with(req, &Inputs::default(), no_hooks(&mut |_| {}), &mut pass)).unwrap() else {
            panic!("not a compare")
        };
        assert_eq!(pass.calls, 4);
        assert!(outs.iter().all(|o| o.token_pass.gpu.as_deref() == Some("test adapter")));
    }

    #[test]
    fn compare_runs_the_four_schedulers_on_one_workload() {
        let mut config = Config::preset(Preset::FirstResults);
        config.requests = 1_000;
        let mut seen = Vec::new();
        let req = Request::Compare { preset: Preset::FirstResults, config, token_on_cpu: false };
        let Response::Compare(outs) = execute(req, &Inputs::default(), no_hooks(&mut |p| seen.push(p.runs_done))).unwrap()
        else {
            panic!("not a compare")
        };
        assert_eq!(seen, [1, 2, 3, 4]);
        let names: Vec<_> = outs.iter().map(|o| o.result.config.scheduler).collect();
        assert_eq!(names, SchedulerKind::ALL);
    }

    #[test]
    fn plan_gives_four_csvs_and_the_analysis() {
        let mut spec = PlanSpec::new(Preset::Paper);
        spec.max_requests = 1_000;
        spec.max_gpus = 2;
        let total = spec.run_count();
        let mut calls = 0;
        let req = Request::Plan { preset: Preset::Paper, spec };
        let Response::Plan(out) = execute(req, &Inputs::default(), no_hooks(&mut |_| calls += 1)).unwrap() else {
            panic!("not a plan")
        };
        assert_eq!(calls, total);
        assert_eq!(out.files.len(), 5);
        // Header + one row per run in the all-results file.
        assert_eq!(out.files[3].1.lines().count(), total + 1);
        assert!(!out.findings.is_empty());
        assert!(out.result.runs.iter().all(|r| r.result.as_ref().unwrap().timeseries.t_s.is_empty()));
    }
}
