//! Presets, validation naming fields, and one spelling per named value.
use super::*;

#[test]
fn presets_are_valid() {
    for &p in Preset::ALL {
        Config::preset(p).validate().unwrap();
        assert_eq!(Preset::parse(p.name()).unwrap(), p);
    }
}

#[test]
fn first_results_keeps_the_old_memory_and_sla() {
    let c = Config::preset(Preset::FirstResults);
    assert_eq!(c.memory.m_model_gb, 2.0);
    assert_eq!(c.memory.kv_per_token_gb, 5e-6);
    assert_eq!(c.sla.signal, SlaSignal::BatchLatency);
    assert_eq!((c.sla.rules, c.sla.d_s, c.sla.eps_s), (ControllerRules::First, None, 0.1));
    // dd5f07f's one --d-sla: the 1.0 s deadline is also the controller's target.
    assert_eq!((c.d_sla_request_s, c.controller_target_s()), (1.0, 1.0));
    assert_eq!((c.sla.original_state, c.sla.feed), (false, ControllerFeed::Limited));
    let compat = Config::preset(Preset::Compat).sla;
    assert_eq!((compat.original_state, compat.feed), (true, ControllerFeed::All));
}

#[test]
fn paper_runs_the_final_controller_against_the_token_sla() {
    let c = Config::preset(Preset::Paper);
    assert_eq!((c.sla.rules, c.sla.signal, c.sla.eps_s), (ControllerRules::Final, SlaSignal::TokenTime, 0.001));
    assert_eq!((c.d_sla_token_s, c.d_sla_request_s), (0.010, 20.0));
    // The target follows the per-token SLA the user sets, unless set on its own.
    let tight = Config { d_sla_token_s: 0.0065, ..c.clone() };
    assert_eq!(tight.controller_target_s(), 0.0065);
    let own = Config { sla: SlaControllerConfig { d_s: Some(0.02), ..c.sla.clone() }, ..tight };
    assert_eq!(own.controller_target_s(), 0.02);
}

#[test]
fn bad_values_name_their_field() {
    let c = Config { k_bins: 0, ..Config::default() };
    assert_eq!(c.validate().unwrap_err().to_string(), "k_bins: must be at least 1 (got 0)");
    let c = Config { gpus: 0, ..Config::default() };
    assert_eq!(c.validate().unwrap_err(), Error::field("gpus", "must be at least 1 (got 0)"));
    let c = Config { load: Load::RpsScaling { factor: f64::NAN }, ..Config::default() };
    assert_eq!(c.validate().unwrap_err().field_name(), Some("load.factor"));
    let c = Config { requests: MAX_REQUESTS + 1, ..Config::default() };
    assert_eq!(c.validate().unwrap_err().to_string(), format!("requests: must be at most {MAX_REQUESTS} (got {})", MAX_REQUESTS + 1));
    assert_eq!(
        SchedulerKind::parse("fifo").unwrap_err().to_string(),
        "scheduler: unknown value 'fifo' (expected one of: static_fifo, dynamic_no_bins, multi_bin_dynamic, multi_bin_fixed, continuous, multi_bin_continuous)"
    );
}

/// Every field `validate` can reject is one the shells know (`FIELDS`).
#[test]
fn every_rejected_field_is_listed() {
    let d = Config::default;
    let bad = [
        Config { gpus: 0, ..d() },
        Config { k_bins: 0, ..d() },
        Config { requests: 0, ..d() },
        Config { b_min: 0, ..d() },
        Config { b_static: 0, ..d() },
        Config { b_fixed: 0, ..d() },
        Config { bin_boundary_sample: 0, ..d() },
        Config { memory: MemoryConfig { m_max_gb: -1.0, ..d().memory }, ..d() },
        Config { memory: MemoryConfig { m_model_gb: -1.0, ..d().memory }, ..d() },
        Config { memory: MemoryConfig { kv_per_token_gb: 0.0, ..d().memory }, ..d() },
        Config { memory: MemoryConfig { margin_gb: f64::NAN, ..d().memory }, ..d() },
        Config { memory: MemoryConfig { safety_fraction: 1.0, ..d().memory }, ..d() },
        Config { memory: MemoryConfig { m_model_gb: 20.0, ..d().memory }, ..d() },
        Config { sla: SlaControllerConfig { d_s: Some(0.0), ..d().sla }, ..d() },
        Config { sla: SlaControllerConfig { eps_s: -1.0, ..d().sla }, ..d() },
        Config { sla: SlaControllerConfig { ema_weight: 0.0, ..d().sla }, ..d() },
        Config { d_sla_token_s: 0.0, ..d() },
        Config { d_sla_request_s: f64::INFINITY, ..d() },
        Config { load: Load::RpsScaling { factor: 0.0 }, ..d() },
        Config { predictor: Predictor::Noisy { sigma: -1.0 }, ..d() },
        Config { synthetic: Synthetic::Poisson { rate_rps: 0.0 }, ..d() },
        Config { timeseries_points: 1, ..d() },
        Config { token_kappa: -1.0, ..d() },
        Config { token_context_ref_tokens: 0.0, ..d() },
        Config { gpus: MAX_GPUS + 1, ..d() },
    ];
    let it = |f: &dyn Fn(&mut IterationConfig)| {
        let mut c = d();
        f(&mut c.iteration);
        c
    };
    let bad = bad.into_iter().chain([
        it(&|i| i.block_tokens = 0),
        it(&|i| i.max_seqs = 0),
        it(&|i| i.max_batched_tokens = i.max_seqs - 1),
        it(&|i| i.watermark = 0.5),
        it(&|i| i.ttft_slo_s = 0.0),
        it(&|i| i.tbt_slo_s = f64::NAN),
        it(&|i| i.hardware.peak_tflops = -1.0),
        it(&|i| i.hardware.bandwidth_gb_s = 0.0),
        it(&|i| i.hardware.mfu = 1.5),
        it(&|i| i.hardware.mbu = 0.0),
        it(&|i| i.model.params_b = f64::INFINITY),
        it(&|i| i.model.bytes_per_param = 0.0),
    ]);
    for c in bad {
        let e = c.validate().unwrap_err();
        let field = e.field_name().unwrap_or_else(|| panic!("{e} names no field"));
        assert!(FIELDS.contains(&field), "{field} is not in FIELDS");
    }
}

/// One spelling per value: `Display`, `FromStr` and serde (JSON) agree, for every value
/// of every named set; parse errors name the field.
#[test]
fn every_named_value_round_trips_with_one_spelling() {
    fn check<T: Named + std::fmt::Debug + std::fmt::Display + std::str::FromStr<Err = Error> + Serialize + serde::de::DeserializeOwned>() {
        for &v in T::ALL {
            let name = v.name();
            assert_eq!(v.to_string(), name);
            assert_eq!(name.parse::<T>().unwrap(), v);
            assert_eq!(serde_json::to_string(&v).unwrap(), format!("\"{name}\""));
            assert_eq!(serde_json::from_str::<T>(&format!("\"{name}\"")).unwrap(), v);
            assert!(!v.describe().is_empty());
        }
        assert_eq!("no such value".parse::<T>().unwrap_err().field_name(), Some(T::FIELD));
        assert!(FIELDS.contains(&T::FIELD), "{}", T::FIELD);
    }
    check::<SchedulerKind>();
    check::<BinPolicy>();
    check::<PredictorKind>();
    check::<SyntheticKind>();
    check::<Completion>();
    check::<SlaSignal>();
    check::<LatencyMode>();
    check::<Semantics>();
    check::<Preset>();
    check::<Router>();
}
