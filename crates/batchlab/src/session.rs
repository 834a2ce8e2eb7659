//! The one API both shells call. A shell hands over the user's files as bytes (a trace as
//! a stream, `open_reading`, so a file of any size costs only its rows) and asks
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
use crate::capacity::{Capacity, CapacityJob, CapacitySpec};
use crate::config::{Config, Fingerprint, IterationModel, Preset, SchedulerKind};
use crate::error::Result;
use crate::iteration_cost::IterationProfile;
use crate::latency::CalibrationGrid;
use crate::plan::{Hooks, PlanJob, PlanResult, PlanSpec, Progress};
use crate::report::capacity::capacity_files;
use crate::report::study::study_files;
use crate::report::sweep::{runs_csv, summary_csv, RUNS_FILE, SUMMARY_FILE};
use crate::sweep::{SweepPoint, SweepSpec};
use crate::report::{plan_files, run_csv, run_json};
use crate::run::RunResult;
use crate::study::{run_study, StudyResult, StudySpec};
pub use crate::tasks::TokenPassInfo;
use crate::tasks::{one_by_one, run_task, Planner, RunTask, TaskDone, WorkloadCache};
use crate::timeline::{simulate_window, Timeline, Window};
use crate::token::{CpuTokenPass, TokenPass};
use crate::workload::trace::{read_trace, MaxRows, Reading};
use crate::workload::{RowLimit, Source, TraceData};

/// File-name prefix of the stress plan's files (the original's name for them).
pub const PLAN_PREFIX: &str = "comprehensive_stress_results";

/// A file the user gave, read into memory by the shell.
#[derive(Debug, Clone, PartialEq)]
pub struct InputFile {
    pub name: String,
    pub bytes: Vec<u8>,
}

/// A trace read as a stream (a file on disk, a dropped `File` read in slices) instead
/// of bytes in memory: only the rows kept are held (see `workload::trace::read_trace`).
pub struct TraceReader<'a, R> {
    pub name: String,
    pub input: R,
    /// The shell's cap on rows kept (its memory), with what to do past it.
    pub max_rows: Option<MaxRows>,
    /// Told the bytes read so far, every `trace::PROGRESS_BYTES` and at the end.
    pub progress: Option<&'a mut dyn FnMut(u64)>,
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

/// A reader that fingerprints the bytes passing through it (when `hash` is set).
struct Hashed<R> {
    inner: R,
    hash: Option<Fingerprint>,
}

impl<R: std::io::Read> std::io::Read for Hashed<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(h) = self.hash.as_mut() {
            h.update(&buf[..n]);
        }
        Ok(n)
    }
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
    /// Step 2's saturation point where the runs show one (`Analysis::saturation_seen`),
    /// and the key findings of the analysis.
    pub saturation_gpus: Option<u32>,
    pub findings: Vec<String>,
}

/// A finished study with its files (paths relative to the output folder).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StudyOutput {
    pub result: StudyResult,
    pub files: Vec<(String, String)>,
}

/// A finished sweep: its points' results and files (`sweep_runs.csv`, `sweep_summary.csv`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepOutput {
    /// The axes' fields, in order.
    pub axes: Vec<String>,
    pub runs: usize,
    pub failed: usize,
    pub files: Vec<(String, String)>,
}

/// Finished capacity searches: `(label, capacity)` rows and their files.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CapacityOutput {
    pub spec: CapacitySpec,
    pub rows: Vec<(String, Capacity)>,
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
    /// (file name, fingerprint of its bytes) of each file given, for reproducibility stamps.
    fingerprints: Vec<(String, String)>,
}

impl Session {
    /// Parse the files (a bad one is a one-line error naming file, row and column).
    pub fn open(inputs: &Inputs) -> Result<Session> {
        Session::open_with(inputs, None)
    }

    /// As `open`, reading the trace only up to the rows `limit` asks for (see
    /// `parse_trace_first`): for a job of at most `limit.usable` requests (a run, a
    /// comparison), whose results are then the same as with the whole trace. It
    /// fingerprints no file (`fingerprints` is empty): hashing a large trace whole would
    /// cost what the limit saves, and a run's reports carry no fingerprint.
    pub fn open_first(inputs: &Inputs, limit: RowLimit) -> Result<Session> {
        Session::open_with(inputs, Some(limit))
    }

    /// As `open` (or `open_first` with a `limit`), the trace read from `trace` as a
    /// stream; `inputs.trace` is not read. The fingerprint of a whole read is taken as
    /// the bytes pass, so it is the one `open` gives for the same bytes.
    pub fn open_reading(inputs: &Inputs, trace: TraceReader<'_, impl std::io::Read>, limit: Option<RowLimit>) -> Result<Session> {
        let TraceReader { name, input, max_rows, progress } = trace;
        let mut hashed = Hashed { inner: input, hash: limit.is_none().then(Fingerprint::default) };
        let data = read_trace(&mut hashed, &name, Reading { first: limit, max_rows, progress })?;
        let fingerprint = hashed.hash.map(|h| (name, h.hex()));
        Session::open_parsed(inputs, Some(data), fingerprint, limit)
    }

    fn open_with(inputs: &Inputs, limit: Option<RowLimit>) -> Result<Session> {
        let trace = inputs
            .trace
            .as_ref()
            .map(|f| read_trace(&f.bytes[..], &f.name, Reading { first: limit, ..Reading::default() }))
            .transpose()?;
        let fingerprint = match limit {
            Some(_) => None,
            None => inputs.trace.as_ref().map(|f| (f.name.clone(), crate::config::fingerprint(&f.bytes))),
        };
        Session::open_parsed(inputs, trace, fingerprint, limit)
    }

    /// The session on a parsed trace (with its fingerprint) and `inputs`' other files.
    fn open_parsed(inputs: &Inputs, trace: Option<TraceData>, fingerprint: Option<(String, String)>, limit: Option<RowLimit>) -> Result<Session> {
        let calibration = inputs.calibration.as_ref().map(|f| CalibrationGrid::parse_csv(&f.bytes, &f.name)).transpose()?;
        let iteration = inputs
            .iteration_profile
            .as_ref()
            .map(|f| IterationProfile::parse_csv(&f.bytes, &f.name)?.fit())
            .transpose()?;
        let others = [&inputs.calibration, &inputs.iteration_profile];
        let fingerprints = match limit {
            Some(_) => Vec::new(),
            None => fingerprint
                .into_iter()
                .chain(others.into_iter().flatten().map(|f| (f.name.clone(), crate::config::fingerprint(&f.bytes))))
                .collect(),
        };
        Ok(Session { trace, calibration, iteration, fingerprints })
    }

    /// The trace's own arrival rate, if a trace was given.
    pub fn trace_rate_rps(&self) -> Option<f64> {
        self.trace.as_ref().map(TraceData::native_rate_rps)
    }

    /// (file name, fingerprint of its bytes) of each file given.
    pub fn fingerprints(&self) -> &[(String, String)] {
        &self.fingerprints
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
            let mut line = if r.stopped_early {
                format!("{}: first {} rows loaded, all the run needs; later rows not read ({})", t.file, r.rows_read, r.columns)
            } else {
                format!("{}: {} rows loaded ({})", t.file, r.rows_read, r.columns)
            };
            if let Some(z) = &r.zero_output {
                line.push_str(&format!(
                    "; {} of them with 0 output tokens (failed requests, first at row {})",
                    z.count, z.first_row
                ));
            }
            // What a student needs to set the load: its span, own rate and lengths.
            let mean = |v: &[u32]| v.iter().map(|&x| f64::from(x)).sum::<f64>() / v.len().max(1) as f64;
            line.push_str(&format!(
                "; spans {} at {} of its own; prompts {} tokens and outputs {} tokens on average",
                crate::report::human::duration(t.span_s()),
                crate::report::human::with_unit(t.native_rate_rps(), "req/s"),
                crate::report::human::number(mean(&t.prompt_tokens)),
                crate::report::human::number(mean(&t.output_tokens)),
            ));
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
        let task = RunTask { id: 0, label: config.scheduler.to_string(), workload: config.clone(), config: config.clone(), keep_timeseries: true };
        output(self.run_task(preset, &task, &WorkloadCache::default(), clock, token_pass).await)
    }

    /// Do one task of a job (`tasks::Planner`) on the user's files: the unit a shell's
    /// threads or workers run. Workloads come from `cache` (shared by the tasks that name one).
    pub async fn run_task(
        &self,
        preset: Preset,
        task: &RunTask,
        cache: &WorkloadCache,
        clock: &dyn Fn() -> f64,
        token_pass: impl TokenPass,
    ) -> TaskDone {
        if let Err(e) = task.config.validate() {
            return TaskDone { id: task.id, outcome: Err(e), token_pass: TokenPassInfo::default() };
        }
        let task = RunTask { config: self.priced(task.config.clone()), ..task.clone() };
        run_task(&task, self.source(&task.workload), &self.calibration(preset), cache, clock, token_pass).await
    }

    /// Drive a job one run at a time on `token_pass` (the one-thread executor), its
    /// workloads through `cache`.
    pub async fn drive(&self, preset: Preset, job: &mut dyn Planner, cache: &WorkloadCache, hooks: Hooks<'_>, mut token_pass: impl TokenPass) -> Result<()> {
        let clock = hooks.clock;
        one_by_one(job, hooks.progress, async |task| self.run_task(preset, &task, cache, clock, &mut token_pass).await).await
    }

    /// Every scheduler (the four batch ones and the two continuous ones) on one workload,
    /// in `SchedulerKind::ALL` order, with progress after each.
    pub async fn compare(&self, preset: Preset, config: &Config, hooks: Hooks<'_>, token_pass: impl TokenPass) -> Result<Vec<RunOutput>> {
        let mut job = CompareJob::new(config)?;
        self.drive(preset, &mut job, &WorkloadCache::default(), hooks, token_pass).await?;
        job.finish()
    }

    /// Requests the source holds of the `config.requests` asked for.
    pub fn source_requests(&self, config: &Config, cache: &WorkloadCache) -> Result<usize> {
        Ok(cache.get(self.source(config), config)?.len())
    }

    /// The stress plan as a job on these files (`cache` keeps the workload it built to
    /// count the source's requests).
    pub fn plan_job(&self, spec: &PlanSpec, cache: &WorkloadCache) -> Result<PlanJob> {
        spec.validate()?;
        let workload = spec.workload();
        PlanJob::new(spec, self.source_requests(&workload, cache)?, self.source(&workload).describe())
    }

    /// The stress plan, with its files (names start with `prefix`) and the analysis's
    /// headline.
    pub async fn plan(&self, preset: Preset, spec: &PlanSpec, hooks: Hooks<'_>, token_pass: impl TokenPass, prefix: &str) -> Result<PlanOutput> {
        let cache = WorkloadCache::default();
        let mut job = self.plan_job(spec, &cache)?;
        self.drive(preset, &mut job, &cache, hooks, token_pass).await?;
        Ok(plan_output(job.finish()?, prefix))
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
        let mut job = CapacityJob::new(spec, vec![(config.scheduler.to_string(), config.clone())])?;
        let mut go_on = |_: &Progress| true;
        crate::token::now(self.drive(preset, &mut job, &WorkloadCache::default(), Hooks { clock: &|| 0.0, progress: &mut go_on }, CpuTokenPass))?;
        Ok(job.finish().remove(0).1)
    }

    /// A window of the run `run` would do of `config` (the same schedule, re-run: runs
    /// are deterministic), bounded (`timeline`). Its workload comes through `cache`.
    pub fn timeline(&self, preset: Preset, config: &Config, window: Window, cache: &WorkloadCache) -> Result<Timeline> {
        window.validate()?;
        config.validate()?;
        let workload = cache.get(self.source(config), config)?;
        let n = config.requests.min(workload.len());
        let config = Config { requests: n, ..self.priced(config.clone()) };
        let model = crate::latency::LatencyModel::new(self.calibration(preset), config.latency_mode)?;
        if n == workload.len() {
            simulate_window(&workload, &config, &model, window)
        } else {
            simulate_window(&workload.prefix(n), &config, &model, window)
        }
    }

    /// `config` with the iteration profile's costs, if the user gave a profile.
    fn priced(&self, mut config: Config) -> Config {
        if let Some(m) = &self.iteration {
            config.iteration.profile = Some(m.clone());
        }
        config
    }
}

/// A finished plan's files and headline.
pub fn plan_output(result: PlanResult, prefix: &str) -> PlanOutput {
    let files = plan_files(&result, prefix);
    let analysis = analyse(&result);
    PlanOutput { saturation_gpus: analysis.saturation_seen(), findings: analysis.key_findings, result, files }
}

/// A finished sweep's files (the runs CSV and, for a whole sweep, the summary).
pub fn sweep_output(spec: &SweepSpec, results: &[(SweepPoint, std::result::Result<RunResult, String>)]) -> Result<SweepOutput> {
    let axes: Vec<String> = spec.axes.iter().map(|a| a.field.clone()).collect();
    let runs = runs_csv(&spec.axes, results);
    let summary = summary_csv(&axes, &runs)?;
    let failed = results.iter().filter(|(_, r)| r.is_err()).count();
    Ok(SweepOutput { axes, runs: results.len(), failed, files: vec![(RUNS_FILE.to_string(), runs), (SUMMARY_FILE.to_string(), summary)] })
}

/// Finished capacity searches with their files.
pub fn capacity_output(spec: &CapacitySpec, rows: Vec<(String, Capacity)>) -> CapacityOutput {
    CapacityOutput { spec: *spec, files: capacity_files(spec, &rows), rows }
}

/// A task's run with its report files.
pub fn output(done: TaskDone) -> Result<RunOutput> {
    let result = done.outcome?;
    Ok(RunOutput { csv: run_csv(&result), json: run_json(&result), result, token_pass: done.token_pass })
}

/// "Compare schedulers" as a job: every scheduler on the same workload (`config`'s),
/// with their time series; the first failed run fails the comparison.
pub struct CompareJob {
    config: Config,
    handed: bool,
    done: Vec<Option<TaskDone>>,
    recorded: usize,
    last_label: String,
}

impl CompareJob {
    pub fn new(config: &Config) -> Result<CompareJob> {
        config.validate()?;
        Ok(CompareJob { config: config.clone(), handed: false, done: vec![None; SchedulerKind::ALL.len()], recorded: 0, last_label: String::new() })
    }

    /// The runs in `SchedulerKind::ALL` order.
    pub fn finish(self) -> Result<Vec<RunOutput>> {
        self.done.into_iter().map(|d| output(d.ok_or_else(crate::tasks::stalled)?)).collect()
    }
}

impl Planner for CompareJob {
    fn ready(&mut self) -> Vec<RunTask> {
        if std::mem::replace(&mut self.handed, true) {
            return Vec::new();
        }
        SchedulerKind::ALL
            .iter()
            .enumerate()
            .map(|(id, &scheduler)| RunTask {
                id,
                label: scheduler.to_string(),
                workload: self.config.clone(),
                config: Config { scheduler, ..self.config.clone() },
                keep_timeseries: true,
            })
            .collect()
    }

    fn record(&mut self, done: TaskDone) -> Result<()> {
        let id = done.id;
        let slot = self.done.get_mut(id).ok_or_else(crate::tasks::stalled)?;
        if let Err(e) = &done.outcome {
            return Err(e.clone());
        }
        if slot.replace(done).is_none() {
            self.recorded += 1;
        }
        self.last_label = SchedulerKind::ALL[id].to_string();
        Ok(())
    }

    fn progress(&self) -> Progress {
        Progress {
            runs_done: self.recorded,
            runs_total: self.done.len(),
            requests_simulated: self.done.iter().flatten().filter_map(|d| d.outcome.as_ref().ok()).map(|r| r.config.requests as u64).sum(),
            last_label: self.last_label.clone(),
        }
    }

    fn finished(&self) -> bool {
        self.recorded == self.done.len()
    }
}

