//! What the worker does with a request, as plain Rust (no browser types), so it is
//! tested natively: map the page's request to a core `session::Job`, pick the token pass
//! (the worker's GPU unless the visitor forced the CPU) and shape the answer for the
//! page. Everything else (workload, runs, token pass, reports) is the core's session.

use batchlab::plan::{Hooks, Progress};
use batchlab::session::{Job, Outcome, Session};
use batchlab::tasks::WorkloadCache;
use batchlab::token::{now, CpuTokenPass, TokenPass};
use batchlab::Result;

pub use batchlab::session::{InputFile, Inputs, PLAN_PREFIX};

use crate::protocol::{Request, Response};

/// Answer one request on `inputs` with the CPU token pass. Errors are the core's
/// one-line errors.
pub fn execute(request: Request, inputs: &Inputs, clock: &dyn Fn() -> f64, progress: &mut dyn FnMut(&Progress)) -> Result<Response> {
    let session = Session::open(inputs)?;
    now(execute_with(request, &session, &WorkloadCache::default(), clock, progress, CpuTokenPass))
}

/// Answer one request on an open session (a worker keeps it, and the workloads its
/// tasks built, between messages); runs and the comparison's tasks use `token_pass`
/// unless the request forces the CPU (the worker leaves a software GPU out of
/// `token_pass` unless the request allows it). Progress never cancels: the page cancels by
/// replacing the worker.
pub async fn execute_with(
    request: Request,
    session: &Session,
    cache: &WorkloadCache,
    clock: &dyn Fn() -> f64,
    progress: &mut dyn FnMut(&Progress),
    token_pass: impl TokenPass,
) -> Result<Response> {
    let (job, on_cpu) = match request {
        Request::Check => (Job::Check, true),
        Request::Run { preset, config, token_on_cpu, .. } => (Job::Run { preset, config }, token_on_cpu),
        // The study needs no token pass (its metrics come from the schedule).
        Request::Study { preset, spec } => (Job::Study { preset, spec }, true),
        Request::Source { spec } => {
            let workload = spec.workload();
            let requests = session.source_requests(&workload, cache)?;
            return Ok(Response::Source { requests, name: session.source(&workload).describe() });
        }
        Request::Timeline { preset, config, from_s, to_s } => {
            let window = batchlab::timeline::Window { from_s, to_s };
            return Ok(Response::Timeline(Box::new(session.timeline(preset, &config, window, cache)?)));
        }
        Request::Task { preset, task, token_on_cpu, .. } => {
            let done = if token_on_cpu {
                session.run_task(preset, &task, cache, clock, CpuTokenPass).await
            } else {
                session.run_task(preset, &task, cache, clock, token_pass).await
            };
            return Ok(Response::Task(Box::new(done)));
        }
    };
    let mut go_on = |p: &Progress| {
        progress(p);
        true
    };
    let hooks = Hooks { clock, progress: &mut go_on };
    let outcome = if on_cpu {
        session.execute(&job, hooks, CpuTokenPass).await?
    } else {
        session.execute(&job, hooks, token_pass).await?
    };
    Ok(match outcome {
        Outcome::Checked { lines } => {
            Response::Checked { lines, fingerprints: session.fingerprints().to_vec(), trace_rate_rps: session.trace_rate_rps() }
        }
        Outcome::Run(out) => Response::Run(out),
        Outcome::Study(out) => Response::Study(out),
        // Not asked of a worker: the page drives these on its pool (`drive`).
        Outcome::Compare(outs) => Response::Compare(outs),
        Outcome::Plan(out) => Response::Plan(out),
    })
}

/// An error for the page: about a field, the message alone (the page names the field
/// in its own words, `state::field_words`); otherwise the core's one line.
pub fn error_response(e: &batchlab::Error) -> Response {
    match e.field_name() {
        Some(field) => Response::Error { message: e.message(), field: Some(field.to_string()) },
        None => Response::Error { message: e.to_string(), field: None },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use batchlab::config::{Config, Preset, SchedulerKind};
    use batchlab::engine::Schedule;
    use batchlab::latency::{CalibrationGrid, LatencyModel};
    use batchlab::plan::PlanSpec;
    use batchlab::report::{run_csv, run_json, without_wall_clock};
    use batchlab::token::{self, Slas, TokenDevice, TokenMetrics, TokenModelConfig};
    use batchlab::workload::{build, Source, Workload};

    #[test]
    fn bad_trace_is_a_one_line_error() {
        let inputs = Inputs {
            trace: Some(InputFile { name: "bad.csv".into(), bytes: b"Timestamp,Request tokens\n1,abc\n".to_vec() }),
            calibration: None,
            iteration_profile: None,
        };
        let err = execute(Request::Check, &inputs, &|| 0.0, &mut |_| {}).unwrap_err().to_string();
        assert!(err.starts_with("bad.csv"), "{err}");
        assert!(!err.contains('\n'));
    }

    /// An iteration profile made from known coefficients: 5 ms + 20 µs per prefill
    /// token + 0.1 ms per decoding sequence + 0.3 µs per context token.
    fn profile(name: &str) -> InputFile {
        let mut csv = String::from("prefill_tokens,decode_seqs,context_tokens,seconds\n");
        for (p, d, c) in [(0.0, 1.0, 100.0), (512.0, 0.0, 0.0), (0.0, 64.0, 40_000.0), (256.0, 32.0, 9_000.0), (1_024.0, 8.0, 3_000.0), (0.0, 16.0, 500.0)] {
            csv += &format!("{p},{d},{c},{}\n", 0.005 + 2e-5 * p + 1e-4 * d + 3e-7 * c);
        }
        InputFile { name: name.into(), bytes: csv.into_bytes() }
    }

    #[test]
    fn an_iteration_profile_is_checked_and_prices_continuous_runs() {
        let inputs = Inputs { iteration_profile: Some(profile("iters.csv")), ..Inputs::default() };
        let Response::Checked { lines, fingerprints, .. } = execute(Request::Check, &inputs, &|| 0.0, &mut |_| {}).unwrap() else { panic!("not a check") };
        assert_eq!(lines.len(), 1);
        // The stamp's fingerprint is of the file's bytes.
        assert_eq!(fingerprints, [("iters.csv".to_string(), batchlab::config::fingerprint(&profile("iters.csv").bytes))]);
        assert!(lines[0].starts_with("iters.csv: iteration cost fit c0 5.000 ms, 0.0200 ms per prefill token, 0.1000 ms per decoding sequence, 0.300 µs per context token, R² 1.0000"), "{}", lines[0]);

        let config = Config { requests: 2_000, scheduler: SchedulerKind::Continuous, ..Config::preset(Preset::Paper) };
        let run = |inputs: &Inputs| {
            let req = Request::Run { preset: Preset::Paper, config: config.clone(), token_on_cpu: true, software_gpu: false };
            let Response::Run(out) = execute(req, inputs, &|| 0.0, &mut |_| {}).unwrap() else { panic!("not a run") };
            out
        };
        let (priced, roofline) = (run(&inputs), run(&Inputs::default()));
        let source = |csv: &str| {
            let mut lines = csv.lines().map(|l| l.split(',').collect::<Vec<_>>());
            let header = lines.next().unwrap();
            let col = header.iter().position(|&h| h == "iteration_cost_source").unwrap();
            lines.next().unwrap()[col].to_string()
        };
        assert_eq!(source(&priced.csv), "iters.csv");
        assert!(source(&roofline.csv).starts_with("roofline"), "{}", source(&roofline.csv));
        assert_ne!(priced.result.metrics, roofline.result.metrics);

        let mut bad = profile("bad-iters.csv");
        bad.bytes = String::from_utf8(bad.bytes).unwrap().replacen("\n512,", "\nabc,", 1).into_bytes();
        let err = execute(Request::Check, &Inputs { iteration_profile: Some(bad), ..Inputs::default() }, &|| 0.0, &mut |_| {}).unwrap_err().to_string();
        assert!(err.starts_with("bad-iters.csv, row 3, column 'prefill_tokens'"), "{err}");
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
        let req = Request::Run { preset: Preset::Paper, config: config.clone(), token_on_cpu: false, software_gpu: false };
        let Response::Run(out) = execute(req, &Inputs::default(), &clock, &mut |_| {}).unwrap() else { panic!("not a run") };

        // The same run straight from the core, as the CLI's `run` does it.
        let source = Source::Synthetic(config.synthetic);
        let workload = build(source, config.requests, &config).unwrap();
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

    impl TokenPass for LabelledPass {
        async fn run(&mut self, w: &Workload, s: &Schedule, cfg: &TokenModelConfig, slas: &Slas) -> Result<(TokenMetrics, TokenDevice)> {
            self.calls += 1;
            Ok((token::run_cpu(w, s, cfg, slas)?, TokenDevice { gpu: Some("test adapter".into()), gpu_error: None }))
        }
    }

    #[test]
    fn runs_use_the_given_token_pass_unless_the_cpu_is_forced() {
        let mut config = Config::preset(Preset::Paper);
        config.requests = 3_000;
        let cpu = execute(Request::Run { preset: Preset::Paper, config: config.clone(), token_on_cpu: false, software_gpu: false }, &Inputs::default(), &|| 0.0, &mut |_| {});
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
            let req = Request::Run { preset: Preset::Paper, config: config.clone(), token_on_cpu, software_gpu: false };
            let session = Session::open(&Inputs::default()).unwrap();
            let Response::Run(out) = now(execute_with(req, &session, &WorkloadCache::default(), &clock, &mut |_| {}, &mut pass)).unwrap() else {
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
    fn a_comparisons_tasks_use_the_token_pass_unless_the_cpu_is_forced() {
        let config = Config { requests: 1_000, ..Config::preset(Preset::Paper) };
        let session = Session::open(&Inputs::default()).unwrap();
        let mut job = batchlab::session::CompareJob::new(&config).unwrap();
        let tasks = batchlab::tasks::Planner::ready(&mut job);
        assert_eq!(tasks.len(), SchedulerKind::ALL.len());
        for token_on_cpu in [false, true] {
            let mut pass = LabelledPass { calls: 0 };
            for task in &tasks {
                let req = Request::Task { preset: Preset::Paper, task: task.clone(), token_on_cpu, software_gpu: false };
                let Response::Task(done) = now(execute_with(req, &session, &WorkloadCache::default(), &|| 0.0, &mut |_| {}, &mut pass)).unwrap() else {
                    panic!("not a task")
                };
                let r = done.outcome.unwrap();
                // The batch schedulers' tokens are timed by the pass; continuous batching's by its engine.
                let expected = (!token_on_cpu && !r.config.scheduler.is_continuous()).then_some("test adapter");
                assert_eq!(done.token_pass.gpu.as_deref(), expected);
            }
            assert_eq!(pass.calls, if token_on_cpu { 0 } else { SchedulerKind::BATCH.len() });
        }
    }

    #[test]
    fn a_timeline_is_the_sessions_window_of_the_run() {
        let config = Config { requests: 2_000, gpus: 2, k_bins: 3, scheduler: SchedulerKind::MultiBinDynamic, ..Config::preset(Preset::Paper) };
        let ask = |from_s: f64, to_s: f64| execute(Request::Timeline { preset: Preset::Paper, config: config.clone(), from_s, to_s }, &Inputs::default(), &|| 0.0, &mut |_| {});
        let Response::Timeline(t) = ask(100.0, 160.0).unwrap() else { panic!("not a timeline") };
        let window = batchlab::timeline::Window { from_s: 100.0, to_s: 160.0 };
        let direct = Session::open(&Inputs::default()).unwrap().timeline(Preset::Paper, &config, window, &WorkloadCache::default()).unwrap();
        assert_eq!(*t, direct);
        assert_eq!((t.window, t.gpus, t.bins), (window, 2, 3));
        assert!(!t.boxes.is_empty());
        let err = ask(5.0, 1.0).unwrap_err();
        assert_eq!(err.field_name(), Some("timeline.window"));
    }

    #[test]
    fn a_plans_source_is_counted_and_a_bad_task_is_its_own_error() {
        let mut spec = PlanSpec::new(Preset::Paper);
        spec.max_requests = 1_000;
        let Response::Source { requests, name } = execute(Request::Source { spec }, &Inputs::default(), &|| 0.0, &mut |_| {}).unwrap() else {
            panic!("not a source")
        };
        assert_eq!((requests, name.as_str()), (1_000, "synthetic burstgpt"));
        let config = Config { gpus: 0, ..Config::preset(Preset::Paper) };
        let task = batchlab::tasks::RunTask { id: 4, label: "x".into(), workload: config.clone(), config, keep_timeseries: false };
        let Response::Task(done) = execute(Request::Task { preset: Preset::Paper, task, token_on_cpu: true, software_gpu: false }, &Inputs::default(), &|| 0.0, &mut |_| {}).unwrap() else {
            panic!("not a task")
        };
        assert_eq!(done.id, 4);
        assert_eq!(done.outcome.unwrap_err().field_name(), Some("gpus"));
    }
}
