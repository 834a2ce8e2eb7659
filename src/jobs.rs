//! What the worker does with a request, as plain Rust (no browser types), so it is
//! tested natively. The worker's wasm glue (`worker.rs`) only reads the attached files,
//! passes a clock, and posts what this returns.

use batchlab::config::{Config, Preset, SchedulerKind};
use batchlab::latency::{CalibrationGrid, LatencyModel};
use batchlab::plan::{run_plan, PlanSpec, Progress};
use batchlab::report::{plan_files, run_csv, run_json};
use batchlab::run::{simulate_run, RunResult};
use batchlab::workload::{build, parse_trace, Source, TraceData};
use batchlab::Result;

use crate::protocol::{PlanOutput, Request, Response, RunOutput};

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

/// Answer one request. Errors are the core's one-line errors.
pub fn execute(request: Request, inputs: &Inputs, hooks: Hooks<'_>) -> Result<Response> {
    let trace = match &inputs.trace {
        Some(f) => Some(parse_trace(&f.bytes, &f.name)?),
        None => None,
    };
    match request {
        Request::Check => Ok(Response::Checked { lines: check(trace.as_ref(), inputs)? }),
        Request::Run { preset, config } => {
            let grid = calibration(preset, inputs)?;
            Ok(Response::Run(Box::new(run_one(source(&trace, &config), &config, &grid, hooks.clock)?)))
        }
        Request::Compare { preset, config } => {
            let grid = calibration(preset, inputs)?;
            compare(source(&trace, &config), &config, &grid, hooks)
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
        None => Ok(preset.calibration()),
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

fn output(result: RunResult) -> RunOutput {
    RunOutput { csv: run_csv(&result), json: run_json(&result), result }
}

/// One run, as the CLI's `run` does it: build the workload for `config`, simulate.
pub fn run_one(source: Source<'_>, config: &Config, grid: &CalibrationGrid, clock: &dyn Fn() -> f64) -> Result<RunOutput> {
    config.validate()?;
    let model = LatencyModel::new(grid.clone(), config.latency_mode)?;
    let t0 = clock();
    let workload = build(source, config.requests, config.load, config.predictor, config.seed)?;
    // A trace shorter than asked gives fewer requests; the report says how many ran.
    let config = Config { requests: workload.len(), ..config.clone() };
    let mut result = simulate_run(&workload, &config, &model, &source.describe())?;
    result.wall_time_s = clock() - t0;
    Ok(output(result))
}

fn compare(source: Source<'_>, config: &Config, grid: &CalibrationGrid, hooks: Hooks<'_>) -> Result<Response> {
    config.validate()?;
    let model = LatencyModel::new(grid.clone(), config.latency_mode)?;
    let workload = build(source, config.requests, config.load, config.predictor, config.seed)?;
    let mut outputs = Vec::new();
    let mut simulated = 0u64;
    for scheduler in SchedulerKind::ALL {
        let cfg = Config { scheduler, requests: workload.len(), ..config.clone() };
        let t0 = (hooks.clock)();
        let mut result = simulate_run(&workload, &cfg, &model, &source.describe())?;
        result.wall_time_s = (hooks.clock)() - t0;
        simulated += workload.len() as u64;
        outputs.push(output(result));
        (hooks.progress)(&Progress {
            runs_done: outputs.len(),
            runs_total: SchedulerKind::ALL.len(),
            requests_simulated: simulated,
            last_label: scheduler.name().to_string(),
        });
    }
    Ok(Response::Compare(outputs))
}

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
        let mut config = Config::preset(Preset::Paper);
        config.requests = 2_000;
        let req = Request::Run { preset: Preset::Paper, config: config.clone() };
        let Response::Run(out) = execute(req, &Inputs::default(), no_hooks(&mut |_| {})).unwrap() else {
            panic!("not a run")
        };
        assert_eq!(out.csv, run_csv(&out.result));
        assert_eq!(out.result.metrics.requests_completed, 2_000);
        assert_eq!(out.result.config, config);
    }

    #[test]
    fn compare_runs_the_four_schedulers_on_one_workload() {
        let mut config = Config::preset(Preset::FirstResults);
        config.requests = 1_000;
        let mut seen = Vec::new();
        let req = Request::Compare { preset: Preset::FirstResults, config };
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
