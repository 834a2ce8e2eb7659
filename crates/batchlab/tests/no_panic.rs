//! No input reaches a panic: random configurations (every numeric field in and out of
//! its bounds: 0, -1, NaN, infinities, huge and tiny values) and random small workloads
//! (garbage trace CSVs, synthetic sources of 1, 2, K - 1, K + 1 requests) go through
//! validation and simulation, and each ends in a result or a one-line error.
//!
//! Work is capped so one case simulates at most ~2,000 requests on ~1,000 GPUs (10,000
//! with a handful of requests): a huge value still goes through validation, and only
//! the run that follows is cut down. `PROPTEST_CASES=5000` hunts for longer.

use std::panic::{catch_unwind, AssertUnwindSafe};

use batchlab::config::{Load, Predictor, Synthetic, MAX_GPUS};
use batchlab::plan::Hooks;
use batchlab::session::{InputFile, Inputs, RunOutput, Session};
use batchlab::token::{now, CpuTokenPass};
use batchlab::{Config, Preset, SchedulerKind};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use serde_json::Value;

/// Float fields, set on the struct (JSON cannot hold NaN or the infinities). Setting
/// `predictor.sigma`, `load.factor` or `synthetic.rate_rps` also picks the variant that has it.
const FLOAT_FIELDS: &[&str] = &[
    "memory.m_max_gb",
    "memory.m_model_gb",
    "memory.kv_per_token_gb",
    "memory.margin_gb",
    "memory.safety_fraction",
    "sla.d_s",
    "sla.eps_s",
    "sla.ema_weight",
    "d_sla_token_s",
    "d_sla_request_s",
    "predictor.sigma",
    "load.factor",
    "synthetic.rate_rps",
    "token_kappa",
    "token_context_ref_tokens",
    "iteration.watermark",
    "iteration.ttft_slo_s",
    "iteration.tbt_slo_s",
    "iteration.hardware.peak_tflops",
    "iteration.hardware.bandwidth_gb_s",
    "iteration.hardware.mfu",
    "iteration.hardware.mbu",
    "iteration.model.params_b",
    "iteration.model.bytes_per_param",
];

/// Whole-number fields, set through the configuration's JSON (as a sweep sets them):
/// a value serde refuses (negative, fractional, too large for the type) is an error.
const INT_FIELDS: &[&str] = &[
    "gpus",
    "k_bins",
    "bin_boundary_sample",
    "b_static",
    "b_fixed",
    "b_min",
    "b_max",
    "requests",
    "seed",
    "timeseries_points",
    "iteration.block_tokens",
    "iteration.max_seqs",
    "iteration.max_batched_tokens",
];

fn float_value() -> impl Strategy<Value = f64> {
    prop_oneof![
        Just(0.0),
        Just(-1.0),
        Just(f64::NAN),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        Just(1e300),
        Just(u32::MAX as f64),
        Just(usize::MAX as f64),
        Just(1e-300),
        Just(f64::MIN_POSITIVE),
        -10.0..10.0f64,
        0.0..1.0f64,
        0.0..1000.0f64,
    ]
}

fn int_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::from(0)),
        Just(Value::from(-1)),
        Just(Value::from(1)),
        Just(Value::from(u32::MAX)),
        Just(Value::from(u32::MAX as u64 + 1)),
        Just(Value::from(usize::MAX as u64)),
        Just(Value::from(i64::MIN)),
        Just(Value::from(1e300)),
        Just(Value::from(1.5)),
        Just(Value::from(1e-300)),
        Just(Value::from(MAX_GPUS)),
        Just(Value::from(MAX_GPUS + 1)),
        Just(Value::from(10_000)),
        (0u64..300).prop_map(Value::from),
        (0u64..5_000).prop_map(Value::from),
    ]
}

fn float_field<'a>(c: &'a mut Config, field: &str) -> &'a mut f64 {
    match field {
        "memory.m_max_gb" => &mut c.memory.m_max_gb,
        "memory.m_model_gb" => &mut c.memory.m_model_gb,
        "memory.kv_per_token_gb" => &mut c.memory.kv_per_token_gb,
        "memory.margin_gb" => &mut c.memory.margin_gb,
        "memory.safety_fraction" => &mut c.memory.safety_fraction,
        "sla.d_s" => c.sla.d_s.insert(0.0),
        "sla.eps_s" => &mut c.sla.eps_s,
        "sla.ema_weight" => &mut c.sla.ema_weight,
        "d_sla_token_s" => &mut c.d_sla_token_s,
        "d_sla_request_s" => &mut c.d_sla_request_s,
        "predictor.sigma" => {
            c.predictor = Predictor::Noisy { sigma: 0.0 };
            match &mut c.predictor {
                Predictor::Noisy { sigma } => sigma,
                _ => unreachable!(),
            }
        }
        "load.factor" => {
            c.load = Load::RpsScaling { factor: 0.0 };
            match &mut c.load {
                Load::RpsScaling { factor } => factor,
                _ => unreachable!(),
            }
        }
        "synthetic.rate_rps" => {
            c.synthetic = Synthetic::Poisson { rate_rps: 0.0 };
            match &mut c.synthetic {
                Synthetic::Poisson { rate_rps } => rate_rps,
                _ => unreachable!(),
            }
        }
        "token_kappa" => &mut c.token_kappa,
        "token_context_ref_tokens" => &mut c.token_context_ref_tokens,
        "iteration.watermark" => &mut c.iteration.watermark,
        "iteration.ttft_slo_s" => &mut c.iteration.ttft_slo_s,
        "iteration.tbt_slo_s" => &mut c.iteration.tbt_slo_s,
        "iteration.hardware.peak_tflops" => &mut c.iteration.hardware.peak_tflops,
        "iteration.hardware.bandwidth_gb_s" => &mut c.iteration.hardware.bandwidth_gb_s,
        "iteration.hardware.mfu" => &mut c.iteration.hardware.mfu,
        "iteration.hardware.mbu" => &mut c.iteration.hardware.mbu,
        "iteration.model.params_b" => &mut c.iteration.model.params_b,
        "iteration.model.bytes_per_param" => &mut c.iteration.model.bytes_per_param,
        other => panic!("not a float field of the test: {other}"),
    }
}

/// `doc.a.b = value` through JSON; an error where serde refuses the result.
fn set_int(c: &Config, field: &str, value: &Value) -> Result<Config, String> {
    let mut doc = serde_json::to_value(c).map_err(|e| e.to_string())?;
    let mut node = &mut doc;
    for part in field.split('.') {
        node = node.get_mut(part).ok_or_else(|| format!("no field {field}"))?;
    }
    *node = value.clone();
    serde_json::from_value(doc).map_err(|e| e.to_string())
}

/// A workload: a trace file's bytes, or the synthetic source with a request count
/// relative to K.
#[derive(Debug, Clone)]
enum Work {
    Trace(String),
    Synthetic(Requests),
}

#[derive(Debug, Clone, Copy)]
enum Requests {
    Exactly(usize),
    KPlusOne,
    KMinusOne,
}

fn cell() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => (0u32..3_000).prop_map(|v| v.to_string()),
        1 => Just("0".to_string()),
        1 => Just("-1".to_string()),
        1 => Just("NaN".to_string()),
        1 => Just("inf".to_string()),
        1 => Just("-inf".to_string()),
        1 => Just("1e300".to_string()),
        1 => Just("1e-300".to_string()),
        1 => Just("4294967296".to_string()),
        1 => Just("100000001".to_string()),
        1 => Just("18446744073709551616".to_string()),
        1 => Just("2.5".to_string()),
        1 => Just(String::new()),
        1 => Just("abc".to_string()),
        1 => Just("\"1,2\"".to_string()),
        1 => Just("2023-05-10 12:34:56".to_string()),
        1 => Just("9999-12-31T23:59:59Z".to_string()),
        1 => "[ -~]{0,6}",
    ]
}

fn stamp() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => (0.0..100.0f64).prop_map(|v| format!("{v:.3}")),
        1 => Just("0".to_string()),
        1 => Just("-5".to_string()),
        1 => Just("NaN".to_string()),
        1 => Just("inf".to_string()),
        1 => Just("1e300".to_string()),
        1 => Just("-1e300".to_string()),
        1 => Just("1e-300".to_string()),
        1 => Just("2023-05-10 12:34:56".to_string()),
        1 => Just("0001-01-01T00:00:00Z".to_string()),
        1 => Just("x".to_string()),
    ]
}

fn trace() -> impl Strategy<Value = String> {
    let header = prop_oneof![
        4 => Just("arrival_time,prompt_length,output_length".to_string()),
        2 => Just("arrival_time,prompt_length,output_length,predicted_output_tokens".to_string()),
        1 => Just("Timestamp,Model,Request tokens,Response tokens,Total tokens,Log Type".to_string()),
        1 => Just("arrival_time,prompt_length".to_string()),
        1 => Just("time,time,prompt,output".to_string()),
        1 => Just(String::new()),
    ];
    let row = (stamp(), cell(), cell(), cell(), cell(), cell());
    (header, prop::collection::vec(row, 0..50), any::<bool>()).prop_map(|(header, rows, sorted)| {
        let width = header.split(',').count().max(1);
        let mut rows = rows;
        if sorted {
            // Mostly valid stamps in order, so runs happen; unsorted otherwise.
            rows.sort_by(|a, b| a.0.parse::<f64>().unwrap_or(0.0).total_cmp(&b.0.parse::<f64>().unwrap_or(0.0)));
        }
        let mut text = header;
        text.push('\n');
        for (s, a, b, c, d, e) in rows {
            let cells = [s, a, b, c, d, e];
            text.push_str(&cells[..width.min(6)].join(","));
            text.push('\n');
        }
        text
    })
}

fn work() -> impl Strategy<Value = Work> {
    prop_oneof![
        trace().prop_map(Work::Trace),
        prop_oneof![
            Just(Requests::Exactly(1)),
            Just(Requests::Exactly(2)),
            (3usize..8).prop_map(Requests::Exactly),
            (8usize..300).prop_map(Requests::Exactly),
            Just(Requests::KPlusOne),
            Just(Requests::KMinusOne),
        ]
        .prop_map(Work::Synthetic),
    ]
}

/// One random case: a preset, a scheduler, a few fields overwritten, a workload, and
/// whether to compare every scheduler too.
#[derive(Debug, Clone)]
struct Case {
    preset: Preset,
    scheduler: SchedulerKind,
    floats: Vec<(&'static str, f64)>,
    ints: Vec<(&'static str, Value)>,
    work: Work,
    compare: bool,
}

fn case() -> impl Strategy<Value = Case> {
    let floats = prop::collection::vec((prop::sample::select(FLOAT_FIELDS), float_value()), 0..4);
    let ints = prop::collection::vec((prop::sample::select(INT_FIELDS), int_value()), 0..3);
    (prop::sample::select(Preset::ALL), prop::sample::select(SchedulerKind::ALL), floats, ints, work(), prop::bool::weighted(0.1))
        .prop_map(|(preset, scheduler, floats, ints, work, compare)| Case { preset, scheduler, floats, ints, work, compare })
}

/// Largest run a case simulates.
const MAX_RUN_REQUESTS: usize = 2_000;
const MAX_RUN_GPUS: u32 = 1_000;

/// What one case ended in: `Ok(None)` when it stopped at validation or a parse error.
fn run_case(case: &Case) -> Result<Option<RunOutput>, String> {
    let mut config = Config { scheduler: case.scheduler, ..Config::preset(case.preset) };
    if let Work::Synthetic(r) = case.work {
        config.requests = match r {
            Requests::Exactly(n) => n,
            Requests::KPlusOne => config.k_bins as usize + 1,
            Requests::KMinusOne => (config.k_bins as usize).saturating_sub(1).max(1),
        };
    }
    for &(field, v) in &case.floats {
        *float_field(&mut config, field) = v;
    }
    for (field, v) in &case.ints {
        config = set_int(&config, field, v)?;
    }
    let inputs = match &case.work {
        Work::Trace(text) => Inputs { trace: Some(InputFile { name: "t.csv".into(), bytes: text.clone().into_bytes() }), ..Inputs::default() },
        Work::Synthetic(_) => Inputs::default(),
    };
    let session = Session::open(&inputs).map_err(|e| e.to_string())?;
    config.validate().map_err(|e| e.to_string())?;
    if config.gpus > 10_000 {
        return Err(format!("validation let {} GPUs through", config.gpus));
    }
    // Cap the work the run does (the values above went through validation whole).
    if matches!(case.work, Work::Synthetic(_)) {
        config.requests = config.requests.min(MAX_RUN_REQUESTS);
    }
    if config.requests > 50 {
        config.gpus = config.gpus.min(MAX_RUN_GPUS);
    }
    config.k_bins = config.k_bins.min(1_000);
    config.timeseries_points = config.timeseries_points.min(10_000);
    if case.compare && config.requests <= 200 && config.gpus <= 100 {
        let outs = now(session.compare(case.preset, &config, Hooks { clock: &|| 0.0, progress: &mut |_| true }, CpuTokenPass))
            .map_err(|e| e.to_string());
        if let Ok(outs) = &outs {
            for o in outs {
                check_result(o)?;
            }
        }
    }
    let out = now(session.run(case.preset, &config, &|| 0.0, CpuTokenPass)).map_err(|e| e.to_string())?;
    check_result(&out)?;
    Ok(Some(out))
}

fn check_result(out: &RunOutput) -> Result<(), String> {
    let m = &out.result.metrics;
    if m.requests_completed >= 1 && m.throughput_rps.is_nan() {
        return Err(format!("NaN throughput with {} requests completed", m.requests_completed));
    }
    Ok(())
}

/// Run `case`: a panic or a many-line error fails; a result or a one-line error passes.
fn check(case: &Case) -> Result<(), TestCaseError> {
    match catch_unwind(AssertUnwindSafe(|| run_case(case))) {
        Err(panic) => {
            let msg = panic.downcast_ref::<String>().cloned().or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()));
            Err(TestCaseError::fail(format!("panicked ({msg:?}) on {case:?}")))
        }
        Ok(Err(e)) if e.contains('\n') || e.is_empty() => Err(TestCaseError::fail(format!("error not one line: {e:?} on {case:?}"))),
        Ok(Err(e)) if e.starts_with("validation let") || e.starts_with("NaN throughput") => Err(TestCaseError::fail(format!("{e} on {case:?}"))),
        Ok(_) => Ok(()),
    }
}

fn rng_seed() -> proptest::test_runner::RngSeed {
    if std::env::var("PROPTEST_RNG_SEED").is_ok() {
        ProptestConfig::default().rng_seed
    } else {
        proptest::test_runner::RngSeed::Fixed(20_261_203)
    }
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(96)
}

proptest! {
    // A fixed seed keeps the test deterministic; PROPTEST_RNG_SEED (and PROPTEST_CASES) hunt further.
    #![proptest_config(ProptestConfig { cases: cases(), rng_seed: rng_seed(), ..ProptestConfig::default() })]

    #[test]
    fn no_input_panics(case in case()) {
        check(&case)?;
    }
}

#[test]
fn more_gpus_than_the_cap_is_a_one_line_error_naming_gpus() {
    let config = Config { gpus: 10_001, ..Config::default() };
    let e = config.validate().unwrap_err();
    assert_eq!(e.field_name(), Some("gpus"));
    assert!(!e.to_string().contains('\n'));
    assert!(Config { gpus: 10_000, ..Config::default() }.validate().is_ok());
}

#[test]
fn ten_thousand_gpus_and_one_request_run() {
    for &scheduler in SchedulerKind::ALL {
        let config = Config { gpus: 10_000, requests: 1, scheduler, ..Config::default() };
        let session = Session::open(&Inputs::default()).unwrap();
        let out = now(session.run(Preset::Paper, &config, &|| 0.0, CpuTokenPass)).unwrap();
        assert_eq!(out.result.metrics.requests_completed, 1, "{scheduler}");
    }
}

/// Found by `no_input_panics`: a load factor of 1e-300 scaled arrivals to ~1e300 s and
/// the continuous engine's femtosecond clock overflowed.
#[test]
fn a_tiny_load_factor_is_an_error_for_continuous_batching() {
    for scheduler in [SchedulerKind::Continuous, SchedulerKind::MultiBinContinuous] {
        let case = Case {
            preset: Preset::Paper,
            scheduler,
            floats: vec![("load.factor", 1e-300)],
            ints: vec![],
            work: Work::Synthetic(Requests::Exactly(2)),
            compare: false,
        };
        let e = catch_unwind(AssertUnwindSafe(|| run_case(&case))).expect("no panic").unwrap_err();
        assert!(e.starts_with("load.factor: ") && !e.contains('\n'), "{e}");
    }
}

/// Found by `no_input_panics` (PROPTEST_RNG_SEED=3): a load factor of 2.2e-308 put a
/// static FIFO run's arrivals at ~1e308 s, and the run did not end; every scheduler now
/// refuses arrivals past 1e15 s, naming the factor.
#[test]
fn arrivals_scaled_past_any_clock_are_an_error_for_every_scheduler() {
    for &scheduler in SchedulerKind::ALL {
        let case = Case {
            preset: Preset::Paper,
            scheduler,
            floats: vec![("load.factor", 2.2250738585072014e-308)],
            ints: vec![],
            work: Work::Synthetic(Requests::KPlusOne),
            compare: false,
        };
        let e = catch_unwind(AssertUnwindSafe(|| run_case(&case))).expect("no panic").unwrap_err();
        assert!(e.starts_with("load.factor: puts the last arrival at ") && e.contains("past the 1e15 s a run can time"), "{scheduler}: {e}");
    }
}

/// Found by `no_input_panics`: b_max = u32::MAX overflowed the SLA controller's
/// integer midpoint (b_min + b_max) / 2.
#[test]
fn the_largest_b_max_runs() {
    for preset in [Preset::Paper, Preset::Compat] {
        let config = Config { b_max: u32::MAX, requests: 20, scheduler: SchedulerKind::MultiBinDynamic, ..Config::preset(preset) };
        let session = Session::open(&Inputs::default()).unwrap();
        let out = catch_unwind(AssertUnwindSafe(|| now(session.run(preset, &config, &|| 0.0, CpuTokenPass)))).expect("no panic").unwrap();
        assert_eq!(out.result.metrics.requests_completed, 20);
    }
}

/// Found by `no_input_panics`: kv_per_token_gb = 2.2e-308 (the smallest normal number)
/// gave an infinite KV cache and the run never ended.
#[test]
fn a_kv_cache_past_the_bound_is_an_error() {
    let case = Case {
        preset: Preset::H100Llama,
        scheduler: SchedulerKind::DynamicNoBins,
        floats: vec![("memory.kv_per_token_gb", f64::MIN_POSITIVE)],
        ints: vec![],
        work: Work::Synthetic(Requests::KMinusOne),
        compare: false,
    };
    let e = run_case(&case).unwrap_err();
    assert!(e.starts_with("memory.kv_per_token_gb: ") && !e.contains('\n'), "{e}");
    let at_bound = Case { floats: vec![("memory.kv_per_token_gb", 6.4e-11)], ..case };
    assert!(run_case(&at_bound).is_ok());
}
