//! The GPU backend returns exactly the CPU reference's TokenMetrics: every histogram
//! count, min, max and counter. Equality is exact (not within a bound) because both
//! evaluate each gap with the same f32 operations (the shader blocks fused
//! multiply-add) and bucket it by exact comparisons against the same f32 table; see
//! batchlab::token's module docs.
//!
//! Needs a GPU adapter (lavapipe in CI); without one the tests fail, or with
//! BATCHLAB_ALLOW_NO_GPU=1 (outside CI) print "SKIPPED: no GPU adapter" (tests/common).

mod common;

use batchlab::latency::CalibrationGrid;
use batchlab::bins::Bins;
use batchlab::config::{Config, Load, Predictor, Preset, Synthetic};
use batchlab::engine::{Batch, Schedule};
use batchlab::latency::LatencyModel;
use batchlab::run::simulate_run_with_schedule;
use batchlab::token::{run_cpu, Semantics, Slas, TokenModelConfig};
use batchlab::workload::{build, Source, Workload};
use proptest::prelude::*;

/// Batches of (step, [(prompt, output)]) starting one after another from t = 0; request
/// i arrives at i * 0.01 s.
fn schedule(batches: &[(f64, Vec<(u32, u32)>)], alpha: f64) -> (Workload, Schedule) {
    let mut w = Workload::default();
    let mut s = Schedule::new(0, 1, Bins::single());
    let mut t = 0.0;
    for (b, (step, reqs)) in batches.iter().enumerate() {
        let max_len = reqs.iter().map(|r| r.0 + r.1).max().unwrap_or(0);
        let end = t + alpha + step * max_len as f64;
        for &(p, o) in reqs {
            s.members.push(w.len() as u32);
            s.batch_of.push(b as u32);
            s.start_s.push(t);
            s.finish_s.push(end);
            s.bin_of.push(0);
            w.arrival_s.push(w.len() as f64 * 0.01);
            w.prompt_tokens.push(p);
            w.output_tokens.push(o);
            w.predicted_output_tokens.push(o);
        }
        s.member_start.push(s.members.len() as u32);
        s.batches.push(Batch { gpu: 0, bin: 0, size: reqs.len() as u32, start_s: t, end_s: end, max_len, step_s: *step });
        t = end;
    }
    (w, s)
}

fn batches() -> impl Strategy<Value = Vec<(f64, Vec<(u32, u32)>)>> {
    let request = (0u32..400, prop_oneof![0u32..4, 0u32..700]);
    prop::collection::vec((1e-4f64..0.03, prop::collection::vec(request, 1..12)), 1..8)
}

fn token_model() -> impl Strategy<Value = TokenModelConfig> {
    (any::<bool>(), 0.0f64..0.5, -0.5f64..1.0, prop_oneof![Just(0.0), 0.0f64..3.0], 1.0f64..2048.0).prop_map(
        |(early, alpha_s, gamma, kappa, context_ref_tokens)| TokenModelConfig {
            semantics: if early { Semantics::EarlyExit } else { Semantics::Padded },
            alpha_s,
            gamma,
            kappa,
            context_ref_tokens,
        },
    )
}

proptest! {
    // Each case launches GPU passes (two devices): few cases.
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn gpu_equals_cpu_on_random_batches(bs in batches(), tm in token_model(), d_token in 1e-4f64..0.05, d_request in 0.5f64..60.0) {
        let Some(gpu) = common::gpu() else { return Ok(()) };
        let (w, s) = schedule(&bs, tm.alpha_s);
        let slas = Slas { d_sla_token_s: d_token, d_sla_request_s: d_request };
        let cpu = run_cpu(&w, &s, &tm, &slas).unwrap();
        let on_gpu = gpu.run(&w, &s, &tm, &slas).unwrap();
        prop_assert!(common::same(&cpu, &on_gpu), "CPU {cpu:?}\nGPU {on_gpu:?}");
        // The same with chunks of at most 3 work items (batches split across chunks).
        let tiny = common::gpu_tiny_chunks().unwrap();
        let chunked = tiny.run(&w, &s, &tm, &slas).unwrap();
        prop_assert!(common::same(&cpu, &chunked), "CPU {cpu:?}\nGPU, tiny chunks {chunked:?}");
    }
}

#[test]
fn a_gap_on_a_bucket_edge_and_on_the_sla_threshold_lands_the_same_way() {
    let Some(gpu) = common::gpu() else { return };
    // Steps equal to an f32 bucket edge (~4.9 ms), one ulp below it, equal to the SLA
    // limit (a representable f32), and one ulp above the limit.
    let ext = batchlab::token::histogram::edges_f32_extended(&batchlab::token::histogram::edges_f64());
    let edge = ext[8_500];
    let below = f32::from_bits(edge.to_bits() - 1);
    let limit = 0.01f32;
    let above = f32::from_bits(limit.to_bits() + 1);
    let bs = vec![
        (edge as f64, vec![(3, 50), (0, 9)]),
        (below as f64, vec![(10, 40)]),
        (limit as f64, vec![(1, 30)]),
        (above as f64, vec![(2, 21), (0, 1)]),
    ];
    let (w, s) = schedule(&bs, 0.0);
    let tm = TokenModelConfig { semantics: Semantics::Padded, alpha_s: 0.0, gamma: 0.3, kappa: 0.0, context_ref_tokens: 1024.0 };
    let slas = Slas { d_sla_token_s: limit as f64, d_sla_request_s: 1e9 };
    let cpu = run_cpu(&w, &s, &tm, &slas).unwrap();
    assert_eq!(cpu.tbt_histogram.counts[8_500], 49 + 8);
    assert_eq!(cpu.tbt_histogram.counts[8_499], 39);
    assert_eq!(cpu.token_sla_violating_gaps, 20, "a gap equal to D_SLA_token does not violate it, one ulp more does");
    assert_eq!(cpu.token_sla_violating_requests, 1);
    assert!(common::same(&cpu, &gpu.run(&w, &s, &tm, &slas).unwrap()));
}

fn paper_100k() -> (Workload, Schedule, LatencyModel, Config) {
    let cfg = Config::preset(Preset::Paper);
    let w = build(Source::Synthetic(Synthetic::BurstGpt), 100_000, &Config { load: Load::RpsScaling { factor: 200.0 }, predictor: Predictor::Prompt, seed: 42, ..Config::default() }).unwrap();
    let model = LatencyModel::new(CalibrationGrid::for_preset(Preset::Paper), cfg.latency_mode).unwrap();
    let (_, s) = simulate_run_with_schedule(&w, &cfg, &model, "synthetic burstgpt").unwrap();
    (w, s, model, cfg)
}

#[test]
fn gpu_equals_cpu_on_a_100k_request_run_whole_and_in_tiny_chunks() {
    let Some(gpu) = common::gpu() else { return };
    let (w, s, model, cfg) = paper_100k();
    let slas = Slas::from_config(&cfg);
    let base = TokenModelConfig::from_latency(&model);
    for (semantics, kappa) in [(Semantics::Padded, 0.0), (Semantics::EarlyExit, 0.0), (Semantics::EarlyExit, 0.8)] {
        let tm = TokenModelConfig { semantics, kappa, ..base };
        let cpu = run_cpu(&w, &s, &tm, &slas).unwrap();
        assert!(cpu.decode_gaps > 5_000_000, "{}", cpu.decode_gaps);
        assert_eq!(gpu.chunk_count(&w, &s, &tm, &slas).unwrap(), 1);
        let on_gpu = gpu.run(&w, &s, &tm, &slas).unwrap();
        assert!(common::same(&cpu, &on_gpu), "{semantics:?} kappa {kappa}:\nCPU {cpu:?}\nGPU {on_gpu:?}");
        if kappa > 0.0 {
            assert!(cpu.token_sla_violating_gaps > 0, "the context cost should push some gaps past 10 ms");
        }
    }
    // Forced small chunks: ~100 chunks, the same answer.
    let mut small = batchlab_gpu::GpuTokenPass::new().unwrap();
    small.set_max_items_per_chunk(1000);
    let tm = TokenModelConfig { semantics: Semantics::EarlyExit, kappa: 0.8, ..base };
    let chunks = small.chunk_count(&w, &s, &tm, &slas).unwrap();
    assert!(chunks > 50, "{chunks} chunks");
    assert!(common::same(&run_cpu(&w, &s, &tm, &slas).unwrap(), &small.run(&w, &s, &tm, &slas).unwrap()));
}

#[test]
fn bad_parameters_are_the_cores_one_line_errors() {
    let Some(gpu) = common::gpu() else { return };
    let (w, s) = schedule(&[(0.01, vec![(1, 5)])], 0.0);
    let tm = TokenModelConfig { semantics: Semantics::Padded, alpha_s: 0.0, gamma: 0.3, kappa: -1.0, context_ref_tokens: 1024.0 };
    let slas = Slas { d_sla_token_s: 0.01, d_sla_request_s: 20.0 };
    let e = gpu.run(&w, &s, &tm, &slas).unwrap_err();
    assert_eq!(e, run_cpu(&w, &s, &tm, &slas).unwrap_err().to_string());
    assert!(e.starts_with("token_kappa: ") && !e.contains('\n'), "{e}");
    // Through the core's one interface: the same error, not a GPU failure.
    let e = batchlab::token::now(batchlab::token::TokenPass::run(&mut &*gpu, &w, &s, &tm, &slas)).unwrap_err();
    assert_eq!(Some(e), run_cpu(&w, &s, &tm, &slas).err());
}
