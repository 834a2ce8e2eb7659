//! The session API both shells call: what each job returns, the request count fixed to
//! what the source holds, progress and cancel, the token pass and its timing, and bad
//! files as one-line errors.

use batchlab::config::{Config, Preset, SchedulerKind};
use batchlab::latency::{CalibrationGrid, LatencyModel};
use batchlab::plan::{Hooks, PlanSpec};
use batchlab::report::{run_csv, run_json};
use batchlab::session::{InputFile, Inputs, Job, Outcome, Session, PLAN_PREFIX};
use batchlab::token::{now, CpuTokenPass};
use batchlab::workload::{build, RowLimit, Source};
use batchlab::Error;

fn trace_file(rows: usize) -> InputFile {
    let mut text = String::from("arrival_time,prompt_length,output_length\n");
    for i in 0..rows {
        text.push_str(&format!("{},{},{}\n", i as f64 * 0.5, 100 + i, 20 + i % 7));
    }
    InputFile { name: "t.csv".into(), bytes: text.into_bytes() }
}

#[test]
fn a_run_is_the_cores_run_with_its_files_and_the_clock_times_it() {
    let config = Config { requests: 1_500, gpus: 2, k_bins: 3, seed: 7, ..Config::preset(Preset::Paper) };
    let session = Session::open(&Inputs::default()).unwrap();
    let ticks = std::cell::Cell::new(0.0);
    let clock = || {
        ticks.set(ticks.get() + 1.0);
        ticks.get()
    };
    let out = now(session.run(Preset::Paper, &config, &clock, CpuTokenPass)).unwrap();

    let source = Source::Synthetic(config.synthetic);
    let w = build(source, config.requests, &config).unwrap();
    let model = LatencyModel::new(CalibrationGrid::for_preset(Preset::Paper), config.latency_mode).unwrap();
    let mut core = batchlab::simulate_run(&w, &config, &model, &source.describe()).unwrap();
    // Clock reads: 1 (start), 2 and 3 around the token pass, 4 (end).
    assert_eq!((out.result.wall_time_s, out.token_pass.seconds), (3.0, 1.0));
    core.wall_time_s = 3.0;
    assert_eq!(out.result, core);
    assert_eq!((out.csv, out.json), (run_csv(&core), run_json(&core)));
    assert_eq!(out.token_pass.gpu, None);
}

#[test]
fn a_short_trace_runs_every_request_it_holds_and_says_so_in_the_config() {
    let session = Session::open(&Inputs { trace: Some(trace_file(40)), ..Inputs::default() }).unwrap();
    let lines = session.describe_inputs().unwrap();
    assert!(lines.len() == 1 && lines[0].starts_with("t.csv: 40 rows loaded"), "{lines:?}");
    let config = Config { requests: 1_000, ..Config::preset(Preset::Paper) };
    let out = now(session.run(Preset::Paper, &config, &|| 0.0, CpuTokenPass)).unwrap();
    assert_eq!(out.result.config.requests, 40);
    assert_eq!(out.result.metrics.requests_completed, 40);
    assert_eq!(out.result.workload, "trace t.csv");
}

/// BurstGPT's own columns, 600 rows, 3 of them failed requests (the first at row 19).
const BURSTGPT_SAMPLE: &[u8] = include_bytes!("../../../tests/browser/fixtures/burstgpt_sample.csv");

#[test]
fn a_run_reading_only_the_rows_it_needs_gives_the_same_files() {
    // A malformed row after the sample's 600: only a whole read sees it.
    let mut bytes = BURSTGPT_SAMPLE.to_vec();
    bytes.extend_from_slice(b"99999,GPT-4,oops,1,1,API log\n");
    let inputs = Inputs { trace: Some(InputFile { name: "b.csv".into(), bytes }), ..Inputs::default() };
    assert!(Session::open(&inputs).err().unwrap().to_string().starts_with("b.csv, row 602"));
    let whole = Session::open(&Inputs { trace: Some(InputFile { name: "b.csv".into(), bytes: BURSTGPT_SAMPLE.to_vec() }), ..Inputs::default() }).unwrap();
    for keep_zero_output in [false, true] {
        for requests in [1, 17, 18, 250, 597] {
            let config = Config { requests, keep_zero_output, gpus: 2, ..Config::preset(Preset::Paper) };
            let first = Session::open_first(&inputs, RowLimit { usable: requests, keep_zero_output }).unwrap();
            let run = |s: &Session| now(s.run(Preset::Paper, &config, &|| 0.0, CpuTokenPass)).unwrap();
            let (a, b) = (run(&whole), run(&first));
            assert_eq!((a.csv, a.json), (b.csv, b.json), "{requests} requests, keep_zero_output {keep_zero_output}");
            let t = first.trace().unwrap();
            // The failed rows before row 19 + requests are read too when left out.
            let failed_before = |rows: usize| t.output_tokens[..rows].iter().filter(|&&o| o == 0).count();
            let rows = t.report.rows_read;
            assert_eq!(rows - if keep_zero_output { 0 } else { failed_before(rows) }, requests);
            let line = &first.describe_inputs().unwrap()[0];
            assert!(line.starts_with(&format!("b.csv: first {rows} rows loaded, all the run needs; later rows not read (")), "{line}");
        }
    }
    // A comparison too (every scheduler on the same requests).
    let config = Config { requests: 120, keep_zero_output: false, ..Config::preset(Preset::FirstResults) };
    let first = Session::open_first(&inputs, RowLimit { usable: 120, keep_zero_output: false }).unwrap();
    let compare = |s: &Session| {
        let outs = now(s.compare(Preset::FirstResults, &config, Hooks { clock: &|| 0.0, progress: &mut |_| true }, CpuTokenPass)).unwrap();
        outs.into_iter().map(|o| o.csv).collect::<Vec<_>>()
    };
    assert_eq!(compare(&whole), compare(&first));
    // Asking for more requests than the rows before the bad one reaches it.
    let e = Session::open_first(&inputs, RowLimit { usable: 598, keep_zero_output: false }).err().unwrap();
    assert!(e.to_string().starts_with("b.csv, row 602"), "{e}");
    assert!(whole.describe_inputs().unwrap()[0].starts_with("b.csv: 600 rows loaded ("));
}

#[test]
fn compare_runs_every_scheduler_in_order_and_can_be_cancelled() {
    let config = Config { requests: 800, ..Config::preset(Preset::FirstResults) };
    let session = Session::open(&Inputs::default()).unwrap();
    let mut seen = Vec::new();
    let hooks = Hooks { clock: &|| 0.0, progress: &mut |p| {
        seen.push((p.runs_done, p.runs_total, p.requests_simulated));
        true
    } };
    let outs = now(session.compare(Preset::FirstResults, &config, hooks, CpuTokenPass)).unwrap();
    assert_eq!(outs.iter().map(|o| o.result.config.scheduler).collect::<Vec<_>>(), SchedulerKind::ALL);
    let all = SchedulerKind::ALL.len();
    assert_eq!(seen, (1..=all).map(|k| (k, all, 800 * k as u64)).collect::<Vec<_>>());

    let hooks = Hooks { clock: &|| 0.0, progress: &mut |p| p.runs_done < 2 };
    let err = now(session.compare(Preset::FirstResults, &config, hooks, CpuTokenPass)).unwrap_err();
    assert_eq!(err, Error::Cancelled);
}

#[test]
fn execute_answers_every_job() {
    let session = Session::open(&Inputs::default()).unwrap();
    let config = Config { requests: 500, ..Config::preset(Preset::Paper) };
    let run = |job: Job| now(session.execute(&job, Hooks { clock: &|| 0.0, progress: &mut |_| true }, CpuTokenPass)).unwrap();
    assert!(matches!(run(Job::Check), Outcome::Checked { lines } if lines.is_empty()));
    assert!(matches!(run(Job::Run { preset: Preset::Paper, config: config.clone() }), Outcome::Run(_)));
    assert!(matches!(run(Job::Compare { preset: Preset::Paper, config }), Outcome::Compare(v) if v.len() == SchedulerKind::ALL.len()));
    let mut spec = PlanSpec::new(Preset::Paper);
    spec.steps = [false, true, false];
    spec.max_requests = 300;
    spec.max_gpus = 2;
    let Outcome::Plan(plan) = run(Job::Plan { preset: Preset::Paper, spec: spec.clone() }) else { panic!("not a plan") };
    assert_eq!(plan.result.runs.len(), 2);
    assert!(plan.files.iter().all(|(name, _)| name.starts_with(PLAN_PREFIX)));
    assert_eq!(plan.files.len(), 6);
    assert!(!plan.findings.is_empty());
    // Another prefix names the files, nothing else changes.
    let hooks = Hooks { clock: &|| 0.0, progress: &mut |_| true };
    let other = now(session.plan(Preset::Paper, &spec, hooks, CpuTokenPass, "x")).unwrap();
    assert!(other.files.iter().all(|(name, _)| name.starts_with("x_")));
}

#[test]
fn bad_files_and_settings_are_one_line_errors_naming_the_place() {
    let bad = InputFile { name: "bad.csv".into(), bytes: b"arrival_time,prompt_length,output_length\n0,abc,3\n".to_vec() };
    let err = Session::open(&Inputs { trace: Some(bad), ..Inputs::default() }).err().unwrap();
    assert!(err.to_string().starts_with("bad.csv, row 2, column 'prompt_length'"), "{err}");
    let grid = InputFile { name: "g.csv".into(), bytes: b"batch_size,max_seq_len\n1,2\n".to_vec() };
    let err = Session::open(&Inputs { calibration: Some(grid), ..Inputs::default() }).err().unwrap();
    assert!(err.to_string().starts_with("g.csv"), "{err}");

    let session = Session::open(&Inputs::default()).unwrap();
    let config = Config { gpus: 0, ..Config::preset(Preset::Paper) };
    let err = now(session.run(Preset::Paper, &config, &|| 0.0, CpuTokenPass)).unwrap_err();
    assert_eq!(err.field_name(), Some("gpus"));
    assert!(!err.to_string().contains('\n'));
}
