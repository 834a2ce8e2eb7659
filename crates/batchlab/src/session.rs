//! The one API both shells call. A shell hands over the user's files as bytes and asks
//! for a job (check the files, one run, the four schedulers compared, the stress plan);
//! it gets back results with their report files already formatted. Building the
//! workload, fixing the request count to what the source holds, the token pass, timing
//! and reports all happen here, once: the CLI and the web worker only move bytes, show
//! progress and print or draw.
//!
//! Jobs are `async` because a token pass may be (WebGPU answers through a promise); with
//! a pass that is ready at once (the CPU, or a native GPU) drive them with `token::now`.

use serde::{Deserialize, Serialize};

use crate::analysis::analyse;
use crate::capacity::{search, Capacity, CapacitySpec};
use crate::config::{Config, IterationModel, Load, Preset, SchedulerKind};
use crate::iteration_cost::IterationProfile;
use crate::error::Result;
use crate::latency::{CalibrationGrid, LatencyModel};
use crate::plan::{run_plan_on, Hooks, ManyRuns, PlanResult, PlanSpec, Progress};
use crate::report::study::study_files;
use crate::report::{plan_files, run_csv, run_json};
use crate::study::{run_study, StudyResult, StudySpec};
use crate::run::{simulate_run_with, RunResult};
use crate::token::{CpuTokenPass, TokenDevice, TokenPass};
use crate::workload::{build, parse_trace, Source, TraceData, Workload};

/// File-name prefix of the stress plan's files (the original's name for them).
pub const PLAN_PREFIX: &str = "comprehensive_stress_results";

/// A file the user gave, read into memory by the shell.
#[derive(Debug, Clone, PartialEq)]
pub struct InputFile {
    pub name: String,
    pub bytes: Vec<u8>,
}

/// The user's files: a trace (else the configuration's synthetic source) and a
/// calibration grid (else the preset's built-in one).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Inputs {
    pub trace: Option<InputFile>,
    pub calibration: Option<InputFile>,
    /// A measured iteration profile: its fit prices continuous batching's iterations.
    pub iteration_profile: Option<InputFile>,
}

/// What a shell can ask for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Job {
    /// Parse the files and describe what they hold.
    Check,
    /// One run of `config`. `preset` names the built-in calibration used without a file.
    Run { preset: Preset, config: Config },
    /// The same workload under each scheduler.
    Compare { preset: Preset, config: Config },
    /// The three-step stress plan.
    Plan { preset: Preset, spec: PlanSpec },
    /// The final paper's study.
    Study { preset: Preset, spec: StudySpec },
}

/// How a run's token pass went: the device, and the seconds it took (shell's clock).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TokenPassInfo {
    /// The GPU adapter that ran it; `None`: the CPU did.
    pub gpu: Option<String>,
    /// Why the CPU ran it when a GPU was asked for, if so.
    pub gpu_error: Option<String>,
    pub seconds: f64,
}

/// One finished run with its report files.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunOutput {
    pub result: RunResult,
    /// `report::run_csv` (the CLI's `run.csv`).
    pub csv: String,
    /// `report::run_json` (the CLI's `run.json`).
    pub json: String,
    /// Which device ran the token pass, and how long it took (not in the files).
    pub token_pass: TokenPassInfo,
}

/// A finished plan with its files (4 CSVs and the analysis JSON).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanOutput {
    pub result: PlanResult,
    /// (file name, contents), named with `PLAN_PREFIX`.
    pub files: Vec<(String, String)>,
    /// Step 2's saturation point and the key findings of the analysis.
    pub saturation_gpus: Option<u32>,
    pub findings: Vec<String>,
}

/// A finished study with its files (paths relative to the output folder).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StudyOutput {
    pub result: StudyResult,
    pub files: Vec<(String, String)>,
}

/// The answer to a `Job`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Outcome {
    /// One line per file describing what was imported.
    Checked { lines: Vec<String> },
    Run(Box<RunOutput>),
    Compare(Vec<RunOutput>),
    Plan(Box<PlanOutput>),
    Study(Box<StudyOutput>),
}

/// The user's files, parsed once; every job runs on them.
pub struct Session {
    trace: Option<TraceData>,
    /// The grid file's name, and the grid.
    calibration: Option<CalibrationGrid>,
    /// The iteration profile's fit.
    iteration: Option<IterationModel>,
}

impl Session {
    /// Parse the files (a bad one is a one-line error naming file, row and column).
    pub fn open(inputs: &Inputs) -> Result<Session> {
        let trace = inputs.trace.as_ref().map(|f| parse_trace(&f.bytes, &f.name)).transpose()?;
        let calibration = inputs.calibration.as_ref().map(|f| CalibrationGrid::parse_csv(&f.bytes, &f.name)).transpose()?;
        let iteration = inputs
            .iteration_profile
            .as_ref()
            .map(|f| IterationProfile::parse_csv(&f.bytes, &f.name)?.fit())
            .transpose()?;
        Ok(Session { trace, calibration, iteration })
    }

    /// The parsed trace, if one was given.
    pub fn trace(&self) -> Option<&TraceData> {
        self.trace.as_ref()
    }

    /// What the files hold: rows and failed requests, the grid's fit.
    pub fn describe_inputs(&self) -> Result<Vec<String>> {
        let mut lines = Vec::new();
        if let Some(t) = &self.trace {
            let r = &t.report;
            let mut line = format!("{}: {} rows loaded ({})", t.file, r.rows_read, r.columns);
            if let Some(z) = &r.zero_output {
                line.push_str(&format!(
                    "; {} of them with 0 output tokens (failed requests, first at row {})",
                    z.count, z.first_row
                ));
            }
            lines.push(line);
        }
        if let Some(grid) = &self.calibration {
            let fit = grid.fit()?;
            lines.push(format!(
                "{}: {} points; fit alpha {:.3} ms, beta {:.4} ms/token, gamma {:.3}, R² {:.4}",
                grid.name,
                grid.points.len(),
                fit.alpha_s * 1e3,
                fit.beta_s * 1e3,
                fit.gamma,
                fit.r2
            ));
        }
        if let Some(m) = &self.iteration {
            let c = &m.cost;
            lines.push(format!(
                "{}: iteration cost fit c0 {:.3} ms, {:.4} ms per prefill token, {:.4} ms per decoding sequence, {:.3} µs per context token, R² {:.4}",
                m.source,
                c.c0_s * 1e3,
                c.prefill_token_s * 1e3,
                c.decode_seq_s * 1e3,
                c.context_token_s * 1e6,
                m.r2.unwrap_or(f64::NAN)
            ));
        }
        Ok(lines)
    }

    /// The source of a run: the trace, else the configuration's synthetic workload.
    pub fn source(&self, config: &Config) -> Source<'_> {
        match &self.trace {
            Some(t) => Source::Trace(t),
            None => Source::Synthetic(config.synthetic),
        }
    }

    /// The calibration grid: the file given, else the preset's built-in one.
    pub fn calibration(&self, preset: Preset) -> CalibrationGrid {
        self.calibration.clone().unwrap_or_else(|| CalibrationGrid::for_preset(preset))
    }

    /// Answer one job.
    pub async fn execute(&self, job: &Job, hooks: Hooks<'_>, token_pass: impl TokenPass) -> Result<Outcome> {
        Ok(match job {
            Job::Check => Outcome::Checked { lines: self.describe_inputs()? },
            Job::Run { preset, config } => Outcome::Run(Box::new(self.run(*preset, config, hooks.clock, token_pass).await?)),
            Job::Compare { preset, config } => Outcome::Compare(self.compare(*preset, config, hooks, token_pass).await?),
            Job::Study { preset, spec } => Outcome::Study(Box::new(self.study(*preset, spec, hooks)?)),
            Job::Plan { preset, spec } => Outcome::Plan(Box::new(self.plan(*preset, spec, hooks, token_pass, PLAN_PREFIX).await?)),
        })
    }

    /// One run. A source holding fewer requests than asked runs all it holds, and the
    /// result's `config.requests` says how many.
    pub async fn run(&self, preset: Preset, config: &Config, clock: &dyn Fn() -> f64, token_pass: impl TokenPass) -> Result<RunOutput> {
        let t0 = clock();
        let (workload, model) = self.prepare(preset, config)?;
        let config = self.priced(Config { requests: workload.len(), ..config.clone() });
        let out = timed_run(&workload, &config, &model, &self.source(&config).describe(), clock, token_pass).await?;
        Ok(finish(out, clock() - t0))
    }

    /// Every scheduler (the four batch ones and the two continuous ones) on one workload,
    /// in `SchedulerKind::ALL` order, with progress after each.
    pub async fn compare(&self, preset: Preset, config: &Config, hooks: Hooks<'_>, token_pass: impl TokenPass) -> Result<Vec<RunOutput>> {
        self.compare_on(preset, config, hooks, token_pass, None).await
    }

    /// `compare`, the six runs handed to `many` at once when given (token passes on the
    /// CPU; progress once they are done): the same results.
    pub async fn compare_on(
        &self,
        preset: Preset,
        config: &Config,
        hooks: Hooks<'_>,
        mut token_pass: impl TokenPass,
        many: Option<&dyn ManyRuns>,
    ) -> Result<Vec<RunOutput>> {
        let (workload, model) = self.prepare(preset, config)?;
        if let Some(many) = many {
            let name = self.source(config).describe();
            let configs: Vec<Config> =
                SchedulerKind::ALL.iter().map(|&scheduler| self.priced(Config { scheduler, requests: workload.len(), ..config.clone() })).collect();
            let one = |i: usize| crate::token::now(simulate_run_with(&workload, &configs[i], &model, &name, &mut CpuTokenPass)).map(|(r, _)| r);
            let mut outputs = Vec::new();
            for (outcome, seconds) in many.run_all(configs.len(), &one) {
                outputs.push(finish((outcome?, TokenPassInfo::default()), seconds));
            }
            let progress = Progress {
                runs_done: outputs.len(),
                runs_total: outputs.len(),
                requests_simulated: (outputs.len() * workload.len()) as u64,
                last_label: "all schedulers".into(),
            };
            return if (hooks.progress)(&progress) { Ok(outputs) } else { Err(crate::Error::Cancelled) };
        }
        let name = self.source(config).describe();
        let mut outputs = Vec::new();
        for &scheduler in SchedulerKind::ALL {
            let cfg = self.priced(Config { scheduler, requests: workload.len(), ..config.clone() });
            let t0 = (hooks.clock)();
            let out = timed_run(&workload, &cfg, &model, &name, hooks.clock, &mut token_pass).await?;
            outputs.push(finish(out, (hooks.clock)() - t0));
            let progress = Progress {
                runs_done: outputs.len(),
                runs_total: SchedulerKind::ALL.len(),
                requests_simulated: (outputs.len() * workload.len()) as u64,
                last_label: scheduler.to_string(),
            };
            if !(hooks.progress)(&progress) {
                return Err(crate::Error::Cancelled);
            }
        }
        Ok(outputs)
    }

    /// The stress plan, with its files (names start with `prefix`) and the analysis's
    /// headline.
    pub async fn plan(&self, preset: Preset, spec: &PlanSpec, hooks: Hooks<'_>, token_pass: impl TokenPass, prefix: &str) -> Result<PlanOutput> {
        self.plan_on(preset, spec, hooks, token_pass, None, prefix).await
    }

    /// `plan`, each stage's independent runs handed to `many` at once when given (their
    /// token passes on the CPU; see `plan::ManyRuns`): the same files.
    pub async fn plan_on(
        &self,
        preset: Preset,
        spec: &PlanSpec,
        hooks: Hooks<'_>,
        token_pass: impl TokenPass,
        many: Option<&dyn ManyRuns>,
        prefix: &str,
    ) -> Result<PlanOutput> {
        let result = run_plan_on(self.source(&spec.base), &self.calibration(preset), spec, hooks, token_pass, many).await?;
        let files = plan_files(&result, prefix);
        let analysis = analyse(&result);
        Ok(PlanOutput { saturation_gpus: analysis.saturation_gpus(), findings: analysis.key_findings, result, files })
    }

    /// The final paper's study (`study`), with its files (`<load folder>/step1_grid_search.csv`,
    /// `<load folder>/step2_comparison.csv`). Its metrics come from the schedule alone (the
    /// final version's definitions), so it needs no token pass.
    pub fn study(&self, preset: Preset, spec: &StudySpec, hooks: Hooks<'_>) -> Result<StudyOutput> {
        let result = run_study(self.source(&spec.base), &self.calibration(preset), spec, hooks)?;
        let files = study_files(&result);
        Ok(StudyOutput { result, files })
    }

    /// The capacity of `config`: the highest load factor at which its SLO attainment
    /// stays at or above `spec.target` (see `capacity`), starting from its own load
    /// factor (1 with real timestamps). Token passes run on the CPU.
    pub fn capacity(&self, preset: Preset, config: &Config, spec: &CapacitySpec) -> Result<Capacity> {
        let start = match config.load {
            Load::RpsScaling { factor } => factor,
            Load::RealTimestamps => 1.0,
        };
        search(spec, start, |factor| {
            let cfg = self.priced(Config { load: Load::RpsScaling { factor }, ..config.clone() });
            let (workload, model) = self.prepare(preset, &cfg)?;
            let cfg = Config { requests: workload.len(), ..cfg };
            let name = self.source(&cfg).describe();
            crate::token::now(simulate_run_with(&workload, &cfg, &model, &name, &mut CpuTokenPass)).map(|(r, _)| r)
        })
    }

    /// `config` with the iteration profile's costs, if the user gave a profile.
    fn priced(&self, mut config: Config) -> Config {
        if let Some(m) = &self.iteration {
            config.iteration.profile = Some(m.clone());
        }
        config
    }

    /// Check the configuration, then build its workload and latency model.
    fn prepare(&self, preset: Preset, config: &Config) -> Result<(Workload, LatencyModel)> {
        config.validate()?;
        let model = LatencyModel::new(self.calibration(preset), config.latency_mode)?;
        let workload = build(self.source(config), config.requests, config)?;
        Ok((workload, model))
    }
}

/// A run whose token pass is timed by the shell's clock.
async fn timed_run(
    workload: &Workload,
    config: &Config,
    model: &LatencyModel,
    name: &str,
    clock: &dyn Fn() -> f64,
    token_pass: impl TokenPass,
) -> Result<(RunResult, TokenPassInfo)> {
    let mut pass = Timed { inner: token_pass, clock, seconds: 0.0 };
    let (result, device) = simulate_run_with(workload, config, model, name, &mut pass).await?;
    Ok((result, TokenPassInfo { gpu: device.gpu, gpu_error: device.gpu_error, seconds: pass.seconds }))
}

/// A token pass that measures its own duration.
struct Timed<'a, P> {
    inner: P,
    clock: &'a dyn Fn() -> f64,
    seconds: f64,
}

impl<P: TokenPass> TokenPass for Timed<'_, P> {
    async fn run(
        &mut self,
        w: &Workload,
        s: &crate::engine::Schedule,
        cfg: &crate::token::TokenModelConfig,
        slas: &crate::token::Slas,
    ) -> Result<(crate::token::TokenMetrics, TokenDevice)> {
        let t0 = (self.clock)();
        let out = self.inner.run(w, s, cfg, slas).await;
        self.seconds = (self.clock)() - t0;
        out
    }
}

fn finish((mut result, token_pass): (RunResult, TokenPassInfo), wall_time_s: f64) -> RunOutput {
    result.wall_time_s = wall_time_s;
    RunOutput { csv: run_csv(&result), json: run_json(&result), result, token_pass }
}
