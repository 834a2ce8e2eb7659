//! Shapes the model must reproduce (the published results'): never a copied number, only orderings,
//! monotonicity, saturation, and one closed-form result derived from the model itself.

mod common;

use batchlab::latency::CalibrationGrid;
use batchlab::config::{Config, Load, Predictor, Preset, SchedulerKind, Synthetic};
use batchlab::engine::simulate;
use batchlab::latency::LatencyModel;
use batchlab::plan::{run_plan, Hooks, PlanSpec};
use batchlab::rng::SimRng;
use batchlab::workload::{build, Source, Workload};
use common::{config, exact_model};

/// Multi-bin theory: all requests at t = 0, exact predictions, lengths uniform on
/// [l_min, l_max], fixed batch B, one GPU, service time = longest member. Then the mean
/// batch time with K equal-mass bins is l_min + (D/K)((K-1)/2 + B/(B+1)), D = l_max - l_min.
#[test]
fn multi_bin_matches_closed_form_batch_time() {
    let (n, b, l_max) = (96_000usize, 16u32, 2000u32);
    let mut rng = SimRng::new(11);
    let out: Vec<u32> = (0..n).map(|_| 1 + (rng.uniform() * l_max as f64) as u32).collect();
    let w = Workload {
        arrival_s: vec![0.0; n],
        prompt_tokens: vec![0; n],
        output_tokens: out.clone(),
        predicted_output_tokens: out,
    };
    // alpha = 0, gamma = 0: a batch takes beta * L.
    let model = exact_model(0.0, 0.001, 0.0);
    let mut throughput = Vec::new();
    for k in [1u32, 2, 4, 8] {
        let mut c = config(SchedulerKind::MultiBinFixed, 1, k);
        c.b_fixed = b;
        c.bin_boundary_sample = n;
        let s = simulate(&w, &c, &model);
        let mean_batch_s = s.batches.iter().map(|x| x.end_s - x.start_s).sum::<f64>() / s.batches.len() as f64;
        let (l_min, d) = (1.0, (l_max - 1) as f64);
        let kf = k as f64;
        let theory_s = 0.001 * (l_min + d / kf * ((kf - 1.0) / 2.0 + b as f64 / (b as f64 + 1.0)));
        let err = (mean_batch_s / theory_s - 1.0).abs();
        assert!(err < 0.01, "K = {k}: simulated {mean_batch_s:.4} s vs theory {theory_s:.4} s");
        throughput.push(n as f64 / s.batches.last().unwrap().end_s);
    }
    // Throughput grows with K.
    assert!(throughput.windows(2).all(|t| t[1] > t[0]), "{throughput:?}");
}

fn synthetic(n: usize) -> Workload {
    build(Source::Synthetic(Synthetic::BurstGpt), n, &Config { load: Load::RpsScaling { factor: 200.0 }, predictor: Predictor::Prompt, seed: 42, ..Config::default() }).unwrap()
}

fn paper_model() -> LatencyModel {
    LatencyModel::new(CalibrationGrid::for_preset(Preset::Paper), batchlab::config::LatencyMode::Fit).unwrap()
}

fn step2_throughput(preset: Preset, synthetic: Synthetic, n: usize) -> (Vec<f64>, Vec<f64>, f64) {
    let mut spec = PlanSpec::new(preset);
    spec.steps = [false, true, false];
    spec.max_requests = n;
    spec.base.synthetic = synthetic;
    let plan = run_plan(Source::Synthetic(synthetic), &CalibrationGrid::for_preset(preset), &spec, Hooks { clock: &|| 0.0, progress: &mut |_| true }).unwrap();
    let runs: Vec<_> = plan.runs.iter().map(|r| r.result.as_ref().unwrap()).collect();
    let thr = runs.iter().map(|r| r.metrics.throughput_rps).collect();
    let util = runs.iter().map(|r| r.metrics.gpu_util_mean).collect();
    (thr, util, runs[0].metrics.arrival_rate_rps)
}

/// Under steady (Poisson) load, first-results preset: throughput rises with GPUs, then saturates at the
/// arrival rate, and utilisation falls once the cluster outgrows the load.
#[test]
fn throughput_grows_with_gpus_then_saturates_at_the_arrival_rate() {
    // 1.35 req/s before the x200 load scaling (5x BurstGPT's average rate): 270 req/s,
    // several times what one GPU serves.
    let (thr, util, arrival) = step2_throughput(Preset::FirstResults, Synthetic::Poisson { rate_rps: 1.35 }, 20_000);
    // Non-decreasing (2% slack for the drain tail), never above the arrival rate ...
    assert!(thr.windows(2).all(|t| t[1] >= 0.98 * t[0]), "{thr:?}");
    assert!(thr.iter().all(|&t| t <= 1.01 * arrival), "{thr:?} vs arrival {arrival}");
    // ... close to it at 100 GPUs, and saturating: the last doubling gains little.
    assert!(thr[thr.len() - 1] > 0.9 * arrival, "{thr:?} vs arrival {arrival}");
    assert!(thr[1] / thr[0] > 1.5 && thr[thr.len() - 1] / thr[thr.len() - 2] < 1.05, "{thr:?}");
    assert!(util[util.len() - 1] < util[0], "{util:?}");
}

/// The published step-2 shape (first-results preset, BurstGPT-like bursts, x200 load):
/// throughput rises with GPUs and saturates at the arrival rate.
#[test]
fn bursty_load_saturates_at_the_arrival_rate() {
    let (thr, _, arrival) = step2_throughput(Preset::FirstResults, Synthetic::BurstGpt, 20_000);
    assert!(thr.windows(2).all(|t| t[1] >= 0.98 * t[0]), "{thr:?}");
    assert!(thr.iter().all(|&t| t <= 1.01 * arrival), "{thr:?} vs arrival {arrival}");
    assert!(thr.iter().any(|&t| t >= 0.95 * arrival), "{thr:?} vs arrival {arrival}");
    assert!(thr[1] / thr[0] > 1.5 && thr[thr.len() - 1] / thr[thr.len() - 2] < 1.05, "{thr:?}");
}

/// Step 2 of the plan on the BurstGPT-like load (x200): under every preset, throughput
/// never falls as GPUs are added. (It did under the paper preset when its controller
/// combined the first version's rules with a 5 ms eps and ratcheted down to b_SLA = 2.)
#[test]
fn step2_throughput_never_falls_as_gpus_are_added() {
    for &preset in Preset::ALL {
        let (thr, _, _) = step2_throughput(preset, Synthetic::BurstGpt, 20_000);
        assert!(thr.windows(2).all(|t| t[1] >= t[0]), "{preset}: {thr:?}");
    }
}

#[test]
fn eight_bins_beat_one_on_the_synthetic_workload() {
    let w = synthetic(20_000);
    let m = paper_model();
    let run = |k| {
        let s = simulate(&w, &config(SchedulerKind::MultiBinDynamic, 4, k), &m);
        w.len() as f64 / s.finish_s.iter().copied().fold(0.0, f64::max)
    };
    let (one, eight) = (run(1), run(8));
    assert!(eight > one, "K = 8: {eight} req/s, K = 1: {one} req/s");
}

#[test]
fn dynamic_batching_beats_static_fifo_on_one_gpu() {
    let w = synthetic(10_000);
    let m = paper_model();
    let thr = |sched| {
        let s = simulate(&w, &config(sched, 1, 1), &m);
        w.len() as f64 / s.finish_s.iter().copied().fold(0.0, f64::max)
    };
    assert!(thr(SchedulerKind::DynamicNoBins) > thr(SchedulerKind::StaticFifo));
}
