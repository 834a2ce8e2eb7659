//! Tests of the token-level model: hand-computed batches, a literal per-step reference
//! (f64 emission times, step by step), the default that must equal T(b, L) and
//! metrics.rs, and the histogram's percentile resolution on a run small enough to sort.

use super::plan::{batch_segments, batch_total_s, Constants};
use super::*;
use crate::bins::Bins;
use crate::latency::CalibrationGrid;
use crate::config::{Config, LatencyMode, Load, Predictor, Preset, Synthetic};
use crate::engine::Batch;
use crate::run::simulate_run_with_schedule;
use crate::stats::percentiles;
use crate::workload::{build, Source};

/// A schedule of hand-made batches: (start, step, [(arrival, prompt, output)]); each ends at
/// start + 1 + step * L.
type HandBatch<'a> = (f64, f64, &'a [(f64, u32, u32)]);

fn hand_schedule(batches: &[HandBatch]) -> (Workload, Schedule) {
    let mut w = Workload::default();
    let mut s = Schedule::new(0, 1, Bins::single());
    for (b, &(start, step, reqs)) in batches.iter().enumerate() {
        let max_len = reqs.iter().map(|r| r.1 + r.2).max().unwrap();
        let end = start + 1.0 + step * max_len as f64;
        for &(arrival, p, o) in reqs {
            s.members.push(w.len() as u32);
            s.batch_of.push(b as u32);
            s.start_s.push(start);
            s.finish_s.push(end);
            s.bin_of.push(0);
            w.arrival_s.push(arrival);
            w.prompt_tokens.push(p);
            w.output_tokens.push(o);
            w.predicted_output_tokens.push(o);
        }
        s.member_start.push(s.members.len() as u32);
        s.batches.push(Batch { gpu: 0, bin: 0, size: reqs.len() as u32, start_s: start, end_s: end, max_len, step_s: step });
    }
    (w, s)
}

fn model(semantics: Semantics, gamma: f64, kappa: f64, context_ref: f64) -> TokenModelConfig {
    TokenModelConfig { semantics, alpha_s: 1.0, gamma, kappa, context_ref_tokens: context_ref }
}

const SLAS: Slas = Slas { d_sla_token_s: 0.115, d_sla_request_s: 100.0 };

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * b.abs().max(1e-300)
}

/// The literal model, step by step in f64: every request's emission times.
fn reference_emissions(w: &Workload, s: &Schedule, cfg: &TokenModelConfig) -> Vec<Vec<f64>> {
    let mut out = vec![Vec::new(); w.len()];
    for (b, batch) in s.batches.iter().enumerate() {
        let members = s.members_of(b);
        let exit = |r: u32| w.prompt_tokens[r as usize] + w.output_tokens[r as usize];
        let longest = members.iter().map(|&r| exit(r)).max().unwrap_or(0);
        let size = members.len() as u32;
        let mut t = batch.start_s + cfg.alpha_s;
        for j in 1..=longest {
            let n = match cfg.semantics {
                Semantics::Padded => size,
                Semantics::EarlyExit => members.iter().filter(|&&r| exit(r) >= j).count() as u32,
            };
            t += batch.step_s * cfg.h(n) / cfg.h(size) * (1.0 + cfg.kappa * j as f64 / cfg.context_ref_tokens);
            for &r in members {
                let p = w.prompt_tokens[r as usize];
                if j > p && j <= exit(r) {
                    out[r as usize].push(t);
                }
            }
        }
    }
    out
}

#[test]
fn hand_computed_batch_padded_no_context_cost() {
    // One batch at t = 10, step 0.1, alpha 1: A (arrives 9, p 2, o 3), B (arrives 10, p 1, o 2).
    let (w, s) = hand_schedule(&[(10.0, 0.1, &[(9.0, 2, 3), (10.0, 1, 2)])]);
    let cfg = model(Semantics::Padded, 0.5, 0.0, 10.0);
    let m = run_cpu(&w, &s, &cfg, &SLAS).unwrap();
    // A: tokens at 11.3, 11.4, 11.5 -> TTFT 2.3; B: 11.2, 11.3 -> TTFT 1.2. Gaps all 0.1.
    assert_eq!((m.requests_with_output, m.decode_gaps, m.output_tokens), (2, 3, 5));
    assert!(close(m.ttft_max_s, 2.3, 1e-12) && close(m.ttft_histogram.min, 1.2, 1e-12), "{m:?}");
    assert_eq!(m.tbt_max_s, 0.1f32 as f64);
    assert_eq!(m.tbt_histogram.min, 0.1f32 as f64);
    assert_eq!((m.token_sla_violating_gaps, m.token_sla_violating_requests, m.requests_meeting_both), (0, 0, 2));
    let c = Constants::new(&cfg, &SLAS).unwrap();
    let mut segs = Vec::new();
    batch_segments(&w, s.members_of(0), 0.1, &cfg, c.kr, &mut Vec::new(), &mut segs);
    assert!(close(batch_total_s(&segs, &cfg, c.kr), 1.5, 1e-12));
}

#[test]
fn hand_computed_batch_early_exit() {
    let (w, s) = hand_schedule(&[(10.0, 0.1, &[(9.0, 2, 3), (10.0, 1, 2)])]);
    // h(2) = 1.25: steps 1-3 (two sequences) cost 0.1, steps 4-5 (A alone) 0.1 / 1.25 = 0.08.
    let cfg = model(Semantics::EarlyExit, 0.5, 0.0, 10.0);
    let m = run_cpu(&w, &s, &cfg, &SLAS).unwrap();
    // A: 11.3, 11.38, 11.46 (TTFT 2.3, gaps 0.08, 0.08); B: 11.2, 11.3 (TTFT 1.2, gap 0.1).
    assert!(close(m.ttft_max_s, 2.3, 1e-12));
    assert_eq!(m.tbt_max_s, 0.1f32 as f64);
    assert_eq!(m.tbt_histogram.min, 0.08f32 as f64);
    assert_eq!(m.decode_gaps, 3);
    let c = Constants::new(&cfg, &SLAS).unwrap();
    let mut segs = Vec::new();
    batch_segments(&w, s.members_of(0), 0.1, &cfg, c.kr, &mut Vec::new(), &mut segs);
    assert_eq!(segs.len(), 2);
    assert!(close(batch_total_s(&segs, &cfg, c.kr), 1.46, 1e-12));
}

#[test]
fn hand_computed_batch_early_exit_with_context_cost() {
    let (w, s) = hand_schedule(&[(10.0, 0.1, &[(9.0, 2, 3), (10.0, 1, 2)])]);
    // kappa / ref = 0.1: d = 0.11, 0.12, 0.13, then 0.08 * 1.4 = 0.112, 0.08 * 1.5 = 0.12.
    let cfg = model(Semantics::EarlyExit, 0.5, 1.0, 10.0);
    let m = run_cpu(&w, &s, &cfg, &SLAS).unwrap();
    // A: token 1 after step 3 (D = 0.36): TTFT 10 + 1 + 0.36 - 9 = 2.36; gaps 0.112, 0.12.
    // B: token 1 after step 2 (D = 0.23): TTFT 1.23; gap 0.13.
    assert!(close(m.ttft_max_s, 2.36, 1e-12) && close(m.ttft_histogram.min, 1.23, 1e-12), "{m:?}");
    assert!(close(m.tbt_max_s, 0.13, 1e-6) && close(m.tbt_histogram.min, 0.112, 1e-6));
    // D_SLA_token 0.115: A's 0.12 and B's 0.13 violate; A's 0.112 does not.
    assert_eq!((m.token_sla_violating_gaps, m.token_sla_violating_requests, m.requests_meeting_both), (2, 2, 0));
    assert!(close(m.token_sla_violation_rate_tokens, 2.0 / 3.0, 1e-12));
    assert_eq!(m.token_sla_violation_rate_requests, 1.0);
    let c = Constants::new(&cfg, &SLAS).unwrap();
    let mut segs = Vec::new();
    batch_segments(&w, s.members_of(0), 0.1, &cfg, c.kr, &mut Vec::new(), &mut segs);
    assert!(close(batch_total_s(&segs, &cfg, c.kr), 1.592, 1e-12));
}

#[test]
fn requests_without_output_or_gaps_and_the_request_sla() {
    // o = 0: no TTFT, no gap; o = 1: a TTFT, no gap. Finish 1 + 0.1 * 6 = 1.6 s after start 0.
    let (w, s) = hand_schedule(&[(0.0, 0.1, &[(0.0, 5, 0), (0.0, 5, 1), (0.0, 2, 4)])]);
    let cfg = model(Semantics::Padded, 0.0, 0.0, 1.0);
    let tight = Slas { d_sla_token_s: 1.0, d_sla_request_s: 1.5 };
    let m = run_cpu(&w, &s, &cfg, &tight).unwrap();
    assert_eq!((m.requests, m.requests_with_output, m.decode_gaps), (3, 2, 3));
    assert_eq!((m.request_sla_violating_requests, m.requests_meeting_both), (3, 0));
    let loose = Slas { d_sla_token_s: 1.0, d_sla_request_s: 1.6 };
    let m = run_cpu(&w, &s, &cfg, &loose).unwrap();
    assert_eq!((m.request_sla_violating_requests, m.requests_meeting_both), (0, 3));
    assert!(close(m.goodput_rps, 3.0 / 1.6, 1e-12));
}

fn paper_run(n: usize, seed: u64, mode: LatencyMode) -> (Workload, Schedule, LatencyModel, Config) {
    let mut cfg = Config::preset(Preset::Paper);
    cfg.latency_mode = mode;
    let w = build(Source::Synthetic(Synthetic::BurstGpt), n, &Config { load: Load::RpsScaling { factor: 200.0 }, predictor: Predictor::Prompt, seed, ..Config::default() }).unwrap();
    let model = LatencyModel::new(CalibrationGrid::for_preset(Preset::Paper), mode).unwrap();
    let (_, s) = simulate_run_with_schedule(&w, &cfg, &model, "t").unwrap();
    (w, s, model, cfg)
}

#[test]
fn default_model_reproduces_t_b_l_and_the_closed_form_metrics() {
    for mode in [LatencyMode::Fit, LatencyMode::Grid] {
        let (w, s, lat, cfg) = paper_run(3000, 7, mode);
        let tm = TokenModelConfig::from_latency(&lat);
        let c = Constants::new(&tm, &Slas::from_config(&cfg)).unwrap();
        let (mut exits, mut segs) = (Vec::new(), Vec::new());
        for (b, batch) in s.batches.iter().enumerate() {
            batch_segments(&w, s.members_of(b), batch.step_s, &tm, c.kr, &mut exits, &mut segs);
            let total = batch_total_s(&segs, &tm, c.kr);
            let t = lat.batch_time_s(batch.size, batch.max_len);
            assert!(close(total, t, 1e-12), "{mode:?} batch {b}: token model {total} vs T(b, L) {t}");
            assert!(close(total, batch.end_s - batch.start_s, 1e-9));
        }
        // metrics.rs's closed form: TTFT = start + alpha + step (p + 1) - arrival, TBT = step.
        let m = run_cpu(&w, &s, &tm, &Slas::from_config(&cfg)).unwrap();
        let (rm, _) = crate::metrics::compute(&w, &cfg, &lat, &s);
        let mut ttft: Vec<f64> = (0..w.len())
            .filter(|&i| w.output_tokens[i] > 0)
            .map(|i| s.start_s[i] + lat.alpha_s() + s.batches[s.batch_of[i] as usize].step_s * (w.prompt_tokens[i] as f64 + 1.0) - w.arrival_s[i])
            .collect();
        let exact = percentiles(&mut ttft, &[0.5, 0.95, 0.99, 1.0]);
        assert_eq!(m.ttft_max_s, exact[3], "{mode:?}");
        for (a, x) in [m.ttft_p50_s, m.ttft_p95_s, m.ttft_p99_s].iter().zip(&exact) {
            assert!(close(*a, *x, 5.1e-4), "{mode:?}: {a} vs {x}");
        }
        // Every gap is its batch's step (to f32 rounding).
        let steps = s.batches.iter().enumerate().filter(|(b, _)| s.members_of(*b).iter().any(|&r| w.output_tokens[r as usize] >= 2));
        let max_step = steps.map(|(_, b)| b.step_s).fold(0.0, f64::max);
        assert_eq!(m.tbt_max_s, max_step as f32 as f64);
        assert!(rm.tbt_max_s.is_nan(), "metrics.rs leaves token fields to the token pass");
        assert_eq!(m.request_sla_violating_requests as f64 / w.len() as f64, rm.request_sla_violation_rate);
    }
}

#[test]
fn percentiles_match_the_literal_reference_within_half_a_permille() {
    let (w, s, lat, cfg) = paper_run(1500, 3, LatencyMode::Fit);
    let slas = Slas::from_config(&cfg);
    for (semantics, kappa) in [(Semantics::Padded, 0.0), (Semantics::EarlyExit, 0.0), (Semantics::Padded, 0.7), (Semantics::EarlyExit, 2.5)] {
        let tm = TokenModelConfig { semantics, kappa, ..TokenModelConfig::from_latency(&lat) };
        let m = run_cpu(&w, &s, &tm, &slas).unwrap();
        let times = reference_emissions(&w, &s, &tm);
        let mut ttft: Vec<f64> = times.iter().enumerate().filter(|(_, t)| !t.is_empty()).map(|(i, t)| t[0] - w.arrival_s[i]).collect();
        let mut gaps: Vec<f64> = times.iter().flat_map(|t| t.windows(2).map(|p| p[1] - p[0])).collect();
        assert_eq!((m.requests_with_output, m.decode_gaps), (ttft.len() as u64, gaps.len() as u64));
        let violating = gaps.iter().filter(|&&g| g > slas.d_sla_token_s).count() as u64;
        let violating_requests = times.iter().filter(|t| t.windows(2).any(|p| p[1] - p[0] > slas.d_sla_token_s)).count() as u64;
        assert_eq!((m.token_sla_violating_gaps, m.token_sla_violating_requests), (violating, violating_requests), "{semantics:?} {kappa}");
        let qs = [0.5, 0.95, 0.99, 1.0];
        let (et, eg) = (percentiles(&mut ttft, &qs), percentiles(&mut gaps, &qs));
        let got_t = [m.ttft_p50_s, m.ttft_p95_s, m.ttft_p99_s, m.ttft_max_s];
        let got_g = [m.tbt_p50_s, m.tbt_p95_s, m.tbt_p99_s, m.tbt_max_s];
        for k in 0..4 {
            // TTFT: closed form vs summed steps (round-off only); TBT: plus f32 gaps
            // (reference gaps are differences of ~1e2 s times: ~1e-12 s of noise).
            assert!(close(got_t[k], et[k], 5.1e-4), "{semantics:?} {kappa} TTFT q{k}: {} vs {}", got_t[k], et[k]);
            assert!(close(got_g[k], eg[k], 5.1e-4), "{semantics:?} {kappa} TBT q{k}: {} vs {}", got_g[k], eg[k]);
        }
    }
}

#[test]
fn early_exit_is_never_slower_and_context_cost_only_adds() {
    let (w, s, lat, cfg) = paper_run(2000, 5, LatencyMode::Fit);
    let slas = Slas::from_config(&cfg);
    let base = TokenModelConfig::from_latency(&lat);
    let run = |semantics, kappa| run_cpu(&w, &s, &TokenModelConfig { semantics, kappa, ..base }, &slas).unwrap();
    let padded = run(Semantics::Padded, 0.0);
    let early = run(Semantics::EarlyExit, 0.0);
    let heavy = run(Semantics::Padded, 1.0);
    assert!(early.ttft_p50_s <= padded.ttft_p50_s && early.ttft_max_s <= padded.ttft_max_s);
    assert!(early.tbt_p50_s <= padded.tbt_p50_s && early.tbt_max_s <= padded.tbt_max_s);
    assert!(heavy.ttft_p50_s > padded.ttft_p50_s && heavy.tbt_p99_s > padded.tbt_p99_s);
    assert!(heavy.token_sla_violating_gaps >= padded.token_sla_violating_gaps);
    assert_eq!(heavy.decode_gaps, padded.decode_gaps);
}

#[test]
fn bad_parameters_are_one_line_errors_naming_the_option() {
    let (w, s) = hand_schedule(&[(0.0, 0.1, &[(0.0, 1, 2)])]);
    let good = model(Semantics::Padded, 0.1, 0.0, 1024.0);
    let cases = [
        (TokenModelConfig { kappa: -1.0, ..good }, SLAS, "token_kappa"),
        (TokenModelConfig { context_ref_tokens: 0.0, ..good }, SLAS, "token_context_ref_tokens"),
        (TokenModelConfig { gamma: -1.5, ..good }, SLAS, "calibration"),
        (TokenModelConfig { alpha_s: f64::NAN, ..good }, SLAS, "calibration"),
        (good, Slas { d_sla_token_s: 0.0, d_sla_request_s: 1.0 }, "d_sla_token_s"),
    ];
    for (cfg, slas, field) in cases {
        let e = run_cpu(&w, &s, &cfg, &slas).unwrap_err();
        assert_eq!(e.field_name(), Some(field), "{e}");
        assert!(!e.to_string().contains('\n'), "{e}");
    }
    let mut long = w.clone();
    long.prompt_tokens[0] = 1 << 24;
    let e = run_cpu(&long, &s, &good, &SLAS).unwrap_err().to_string();
    assert!(e.contains("request 1") && e.contains("2^24"), "{e}");
    assert_eq!(Semantics::parse("sideways").unwrap_err().field_name(), Some("token_semantics"));
    assert_eq!(Semantics::parse("early_exit").unwrap(), Semantics::EarlyExit);
}

#[test]
fn token_metrics_round_trip_through_json() {
    let (w, s) = hand_schedule(&[(0.0, 0.1, &[(0.0, 3, 5), (0.0, 1, 2)])]);
    let m = run_cpu(&w, &s, &model(Semantics::EarlyExit, 0.3, 0.5, 4.0), &SLAS).unwrap();
    let back: TokenMetrics = serde_json::from_str(&serde_json::to_string(&m).unwrap()).unwrap();
    assert_eq!(back, m);
}
