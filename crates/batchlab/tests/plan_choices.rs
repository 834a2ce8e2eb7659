//! The plan's choices and its analysis, on hand-made run results: the best GPU count
//! for step 3 (ties to fewer GPUs, failed and NaN runs left out, the fallback to 4),
//! saturation, scaling efficiency, the best K (ties to the smaller K), improvements over
//! static_fifo, and the findings and failure counts. Expected values are worked by hand.

mod common;

use batchlab::analysis::{analyse, trend, Analysis, Trend};
use batchlab::config::{Config, Preset, SchedulerKind};
use batchlab::plan::{best_gpus_as_the_original, best_gpus_by_capacity, BestGpuRule, PlanResult, PlanRun, PlanSpec, DEFAULT_STEP3_GPUS};
use batchlab::run::RunResult;

/// A successful run with the given configuration and headline metrics.
#[allow(clippy::too_many_arguments)] // one row of the plan table, named in order
fn run(step: u8, scheduler: SchedulerKind, gpus: u32, k: u32, n: usize, thr: f64, lat: f64, cap: f64) -> PlanRun {
    let mut r = RunResult::default();
    r.config.scheduler = scheduler;
    r.config.gpus = gpus;
    r.config.k_bins = k;
    r.config.requests = n;
    r.metrics.throughput_rps = thr;
    r.metrics.latency_mean_s = lat;
    r.metrics.capacity_under_sla_rps = cap;
    r.metrics.arrival_rate_rps = 50.0;
    PlanRun { step, label: format!("step{step} {} GPUs={gpus} K={k} N={n}", scheduler.name()), result: Ok(r) }
}

fn step2(gpus: u32, cap: f64) -> PlanRun {
    run(2, SchedulerKind::MultiBinDynamic, gpus, 8, 1000, 10.0, 1.0, cap)
}

fn failed(step: u8, label: &str) -> PlanRun {
    PlanRun { step, label: label.into(), result: Err("boom".into()) }
}

#[test]
fn best_gpu_count_is_the_highest_capacity_with_ties_to_fewer_gpus() {
    let runs = vec![step2(1, 5.0), step2(2, 8.0), step2(4, 8.0), step2(8, 7.0)];
    assert_eq!(best_gpus_by_capacity(&runs), Some(2));
    // The tie rule does not depend on the order of the runs.
    let reversed: Vec<PlanRun> = runs.into_iter().rev().collect();
    assert_eq!(best_gpus_by_capacity(&reversed), Some(2));
    // A strictly higher capacity wins wherever it is.
    assert_eq!(best_gpus_by_capacity(&[step2(1, 5.0), step2(64, 5.5), step2(100, 5.0)]), Some(64));
}

#[test]
fn best_gpu_count_ignores_other_steps_failed_runs_and_missing_capacities() {
    let runs = vec![
        run(1, SchedulerKind::MultiBinDynamic, 1, 8, 1000, 10.0, 1.0, 100.0),
        run(3, SchedulerKind::MultiBinDynamic, 32, 8, 1000, 10.0, 1.0, 100.0),
        failed(2, "step2 GPUs=16"),
        step2(1, f64::NAN),
        step2(2, 3.0),
        step2(4, 2.0),
    ];
    assert_eq!(best_gpus_by_capacity(&runs), Some(2));
    assert_eq!(best_gpus_by_capacity(&runs[..4]), None);
    assert_eq!(best_gpus_by_capacity(&[]), None);
}

#[test]
fn compat_picks_step_3s_gpus_as_the_original() {
    assert_eq!(PlanSpec::new(Preset::Compat).best_gpu_rule, BestGpuRule::Original);
    assert_eq!(PlanSpec::new(Preset::Paper).best_gpu_rule, BestGpuRule::Step2TiesToFewer);
    let at = |step, gpus, k, n, cap| run(step, SchedulerKind::MultiBinDynamic, gpus, k, n, 10.0, 1.0, cap);
    let runs = vec![
        at(1, 4, 8, 1_000_000, 9.0),  // step 1's 1M runs count
        at(2, 2, 8, 1_000_000, 9.0),  // a tie: the first in plan order stays
        at(2, 8, 8, 100_000, 50.0),   // not 1M requests
        at(3, 16, 4, 1_000_000, 60.0), // not K = 8
        run(1, SchedulerKind::StaticFifo, 1, 1, 1_000_000, 10.0, 1.0, 70.0),
        failed(2, "step2 GPUs=32"),
    ];
    assert_eq!(best_gpus_as_the_original(&runs), Some(4));
    // A higher capacity later in the plan wins; a later tie with it does not.
    let mut more = runs.clone();
    more.extend([at(2, 16, 8, 1_000_000, 12.0), at(2, 32, 8, 1_000_000, 12.0), at(2, 64, 8, 1_000_000, 11.0)]);
    assert_eq!(best_gpus_as_the_original(&more), Some(16));
    // With a cap below 1M no run qualifies: the caller falls back to 32 GPUs.
    assert_eq!(best_gpus_as_the_original(&runs[2..]), None);
    let mut spec = PlanSpec::new(Preset::Compat);
    (spec.steps, spec.max_requests, spec.max_gpus) = ([false, true, true], 300, 2);
    let plan = common::plan_failing(Preset::Compat, &spec, &|_| false);
    assert_eq!(plan.best_gpu_count, Some(32));
    assert!(plan.best_gpu_count_origin.contains("no 1M-request K = 8 run"), "{}", plan.best_gpu_count_origin);
}

/// A tiny plan over the synthetic source whose token pass fails on the calls `fail`
/// says (counted from 0), as a failed run would.
fn small_plan(steps: [bool; 3], best: Option<u32>, fail: &dyn Fn(usize) -> bool) -> PlanResult {
    let mut spec = PlanSpec::new(Preset::Paper);
    spec.steps = steps;
    spec.max_requests = 300;
    spec.max_gpus = 2;
    spec.best_gpu_count = best;
    common::plan_failing(Preset::Paper, &spec, fail)
}

fn step3_gpus(plan: &PlanResult) -> Vec<u32> {
    plan.step(3).map(|r| r.result.as_ref().unwrap().config.gpus).collect()
}

#[test]
fn step3_runs_on_the_best_of_step2() {
    let plan = small_plan([false, true, true], None, &|_| false);
    let best = best_gpus_by_capacity(&plan.runs).unwrap();
    assert_eq!(plan.best_gpu_count, Some(best));
    assert_eq!(plan.best_gpu_count_origin, "best of step 2 by capacity under SLA");
    assert_eq!(step3_gpus(&plan), vec![best; 6]);
}

#[test]
fn step3_falls_back_to_four_gpus_or_takes_the_given_count() {
    // Step 2 (1 and 2 GPUs) fails entirely: step 3 runs on the default.
    let plan = small_plan([false, true, true], None, &|call| call < 2);
    assert_eq!(plan.step(2).filter(|r| r.result.is_err()).count(), 2);
    assert_eq!(plan.best_gpu_count, Some(DEFAULT_STEP3_GPUS));
    assert_eq!(plan.best_gpu_count_origin, "default 4 (no step-2 run succeeded)");
    assert_eq!(step3_gpus(&plan), vec![4; 6]);
    // Step 2 not run.
    let plan = small_plan([false, false, true], None, &|_| false);
    assert_eq!(plan.best_gpu_count_origin, "default 4 (step 2 not run)");
    assert_eq!(step3_gpus(&plan), vec![4; 6]);
    // Named by the user: used even though step 2 ran.
    let plan = small_plan([false, true, true], Some(3), &|_| false);
    assert_eq!((plan.best_gpu_count, plan.best_gpu_count_origin.as_str()), (Some(3), "given"));
    assert_eq!(step3_gpus(&plan), vec![3; 6]);
    // No step 3: no count is reported.
    assert_eq!(small_plan([false, true, false], None, &|_| false).best_gpu_count, None);
}


fn analysis(runs: Vec<PlanRun>) -> Analysis {
    analyse(&common::hand_plan(runs))
}

fn close(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-9)
}

#[test]
fn step2_efficiency_and_saturation() {
    let thr = [(1, 10.0), (2, 19.0), (4, 30.0), (8, 31.0)];
    let runs = thr.iter().map(|&(g, t)| run(2, SchedulerKind::MultiBinDynamic, g, 8, 1000, t, 1.0, 1.0)).collect();
    let a = analysis(runs);
    let s2 = a.step2_gpu_scaling.as_ref().unwrap();
    // (t / 10) / (g / 1): 1, 1.9 / 2, 3 / 4, 3.1 / 8.
    assert!(close(&s2.scaling_efficiency, &[1.0, 0.95, 0.75, 0.3875]), "{s2:?}");
    // 95% of the best (31) is 29.45: first reached at 4 GPUs (30), not at 8 (the best).
    assert_eq!(s2.saturation_gpus, Some(4));
    assert_eq!(a.saturation_gpus(), Some(4));
    // 8 GPUs were tried after 4 and gained 3%: a saturation the runs show.
    assert_eq!(a.saturation_seen(), Some(4));
    assert_eq!(s2.throughput_trend, Trend::Increasing);
    let findings = &a.key_findings;
    assert!(findings.iter().any(|f| f.contains("it reaches 95% of its maximum at 4 GPUs")), "{findings:?}");
    assert!(findings.iter().any(|f| f.contains("scaling efficiency 38.8% of linear")), "{findings:?}");
}

#[test]
fn step2_efficiency_is_relative_to_the_smallest_gpu_count_run() {
    // A capped plan may start at 4 GPUs: 8 GPUs at 1.5x the throughput is 75% of linear.
    let runs = vec![
        run(2, SchedulerKind::MultiBinDynamic, 4, 8, 1000, 20.0, 1.0, 1.0),
        run(2, SchedulerKind::MultiBinDynamic, 8, 8, 1000, 30.0, 1.0, 1.0),
    ];
    let a = analysis(runs);
    let s2 = a.step2_gpu_scaling.as_ref().unwrap();
    assert!(close(&s2.scaling_efficiency, &[1.0, 0.75]));
    assert_eq!(s2.saturation_gpus, Some(8));
    // The largest count tried, still rising 50%: the runs show no saturation.
    assert_eq!(a.saturation_seen(), None);
}

#[test]
fn step3_best_k_ties_to_the_smaller_k() {
    let ks = [1, 2, 4, 8, 16, 32];
    let cap = [5.0, 7.0, 7.0, 6.0, 7.0, 3.0];
    let thr = [10.0, 12.0, 11.0, 12.0, 9.0, 10.0];
    let runs = (0..6).map(|i| run(3, SchedulerKind::MultiBinDynamic, 4, ks[i], 1000, thr[i], 1.0 + i as f64, cap[i])).collect();
    let a = analysis(runs);
    // The first and last doublings are named in a finding.
    assert!(a.key_findings.iter().any(|f| f.contains("K = 1 -> 2") && f.contains("K = 16 -> 32")), "{:?}", a.key_findings);
    let s3 = a.step3_kbins_sensitivity.unwrap();
    assert_eq!(s3.best_k, 2);
    // (12 - 9) / 9 = 33.33%.
    assert!((s3.throughput_sensitivity_pct - 100.0 / 3.0).abs() < 1e-9);
    // K 1 -> 2: throughput +20%, latency 1 -> 2 s: +100%.
    let first = &s3.per_doubling[0];
    assert_eq!((first.from_k, first.to_k), (1, 2));
    assert!((first.throughput_change_pct - 20.0).abs() < 1e-9);
    assert!((first.latency_mean_change_pct - 100.0).abs() < 1e-9);
    assert_eq!(s3.gpus, 4);
}

#[test]
fn step3_with_one_k_has_no_doubling_finding() {
    let a = analysis(vec![run(3, SchedulerKind::MultiBinDynamic, 4, 8, 1000, 10.0, 1.0, 5.0)]);
    assert_eq!(a.step3_kbins_sensitivity.unwrap().best_k, 8);
    assert!(!a.key_findings.iter().any(|f| f.contains(" -> ")), "{:?}", a.key_findings);
}

/// Relative change from first to last against a 5% tolerance, exactly at its edges.
#[test]
fn trends_are_relative_changes_beyond_five_percent() {
    assert_eq!(trend(&[100.0, 50.0, 105.0]), Trend::Flat, "+5% exactly is flat");
    assert_eq!(trend(&[100.0, 95.0]), Trend::Flat, "-5% exactly is flat");
    assert_eq!(trend(&[100.0, 104.0]), Trend::Flat, "relative to the first value, not absolute");
    assert_eq!(trend(&[100.0, 105.5]), Trend::Increasing);
    assert_eq!(trend(&[-100.0, -94.0]), Trend::Increasing, "relative to |first|");
    assert_eq!(trend(&[100.0, 94.0]), Trend::Decreasing);
    assert_eq!(trend(&[0.0, 1.0]), Trend::NotApplicable);
    assert_eq!(trend(&[3.0]), Trend::NotApplicable);
}

#[test]
fn step1_improvements_compare_with_static_fifo_at_the_same_n() {
    use SchedulerKind::*;
    let runs = vec![
        run(1, StaticFifo, 1, 8, 1000, 10.0, 4.0, 2.0),
        run(1, DynamicNoBins, 1, 8, 1000, 15.0, 3.0, 3.0),
        run(1, StaticFifo, 1, 8, 10_000, 20.0, 8.0, 4.0),
        run(1, DynamicNoBins, 1, 8, 10_000, 30.0, 2.0, 2.0),
    ];
    let a = analysis(runs);
    let imp = &a.step1_request_scaling.improvement_over_static_fifo;
    assert_eq!(imp.len(), 2, "one per non-static run, against static at its own N: {imp:?}");
    // N = 1000: +50% throughput, latency 4 -> 3 s is a 25% reduction, capacity +50%.
    assert_eq!(imp[0].requests, 1000);
    assert!((imp[0].throughput_gain_pct - 50.0).abs() < 1e-9);
    assert!((imp[0].latency_mean_reduction_pct - 25.0).abs() < 1e-9);
    assert!((imp[0].capacity_gain_pct - 50.0).abs() < 1e-9);
    // N = 10000: +50%, 8 -> 2 s = 75% reduction, capacity 4 -> 2 = -50%.
    assert_eq!(imp[1].requests, 10_000);
    assert!((imp[1].latency_mean_reduction_pct - 75.0).abs() < 1e-9);
    assert!((imp[1].capacity_gain_pct + 50.0).abs() < 1e-9);
    let cfg = &a.step1_request_scaling.configs["dynamic_no_bins (1 GPU)"];
    assert_eq!(cfg.latency_trend, Trend::Decreasing);
    assert_eq!(cfg.throughput_trend, Trend::Increasing);
    // The finding is about the largest N.
    let finding = "Step 1, N = 10000, 1 GPU: dynamic_no_bins served 30.00 req/s vs 20.00 for static_fifo (+50.0%), mean latency 2.00 s vs 8.00 s.";
    assert!(a.key_findings.iter().any(|f| f == finding), "{:?}", a.key_findings);
}

#[test]
fn failed_runs_and_notes_are_reported_once() {
    let mut noted = run(2, SchedulerKind::MultiBinDynamic, 1, 8, 1000, 10.0, 1.0, 1.0);
    let mut noted_again = run(2, SchedulerKind::MultiBinDynamic, 2, 8, 1000, 12.0, 1.0, 1.0);
    for r in [&mut noted, &mut noted_again] {
        r.result.as_mut().unwrap().notes.push("the token SLA cannot bind".into());
    }
    let a = analysis(vec![noted, noted_again, failed(3, "step3 K=4")]);
    assert_eq!((a.runs, a.runs_failed), (3, 1));
    let findings = &a.key_findings;
    assert!(findings.iter().any(|f| f == "1 run(s) failed: step3 K=4."), "{findings:?}");
    assert_eq!(findings.iter().filter(|f| *f == "the token SLA cannot bind").count(), 1);
    // Step 3 has no successful run: no section (`null` in the file).
    assert!(a.step3_kbins_sensitivity.is_none());
    assert!(a.to_json().contains("\"step3_kbins_sensitivity\": null"));
}

#[test]
fn plan_spec_validation_names_the_field() {
    let ok = PlanSpec::new(Preset::Paper);
    ok.validate().unwrap();
    let field = |s: PlanSpec| s.validate().unwrap_err().field_name().map(str::to_string);
    assert_eq!(field(PlanSpec { steps: [false; 3], ..ok.clone() }), Some("plan.steps".into()));
    assert_eq!(field(PlanSpec { max_requests: 0, ..ok.clone() }), Some("plan.max_requests".into()));
    assert_eq!(field(PlanSpec { max_gpus: 0, ..ok.clone() }), Some("plan.max_gpus".into()));
    // K of steps 1 and 2 is checked as the configuration's K.
    assert_eq!(field(PlanSpec { k_bins: 0, ..ok.clone() }), Some("k_bins".into()));
    // The smallest caps are fine.
    PlanSpec { max_requests: 1, max_gpus: 1, ..ok }.validate().unwrap();
}

#[test]
fn compat_caches_each_ks_edges_from_its_first_run_and_others_sample_their_own() {
    // Step 1 at N = 1,000 (K = 8) comes first: compat's later K = 8 runs (N = 10,000)
    // reuse its 1,000 requests; step 3's other K are first met at N = 10,000: min(5,000,
    // 10,000). paper samples its own bin edges every run (every request, f1be833's rule).
    let plan = |preset| {
        let mut spec = PlanSpec::new(preset);
        (spec.max_requests, spec.max_gpus, spec.best_gpu_count) = (10_000, 2, Some(2));
        let runs = common::plan_failing(preset, &spec, &|_| false).runs;
        runs.into_iter()
            .map(|r| {
                let c = r.result.unwrap().config;
                (r.step, c.requests, c.k_bins, c.bin_boundary_sample)
            })
            .collect::<Vec<_>>()
    };
    let compat = plan(Preset::Compat);
    let sample = |step, k| compat.iter().filter(|r| r.0 == step && r.2 == k).map(|r| r.3).collect::<Vec<_>>();
    assert!(compat.iter().filter(|r| r.0 == 1 && r.2 == 8).all(|r| r.3 == 1_000), "{compat:?}");
    assert!(compat.iter().any(|r| r.0 == 1 && r.1 == 10_000 && r.2 == 8), "{compat:?}");
    assert_eq!(sample(2, 8), [1_000, 1_000]);
    assert_eq!(sample(3, 8), [1_000]);
    assert_eq!((sample(3, 4), sample(3, 32)), (vec![5_000], vec![5_000]));
    let paper = plan(Preset::Paper);
    let all = Config::preset(Preset::Paper).bin_boundary_sample;
    assert!(paper.iter().all(|r| r.3 == all), "{paper:?}");
}

#[test]
fn progress_counts_runs_and_requests_after_each_run() {
    let mut spec = PlanSpec::new(Preset::Paper);
    (spec.steps, spec.max_requests, spec.max_gpus) = ([true, true, false], 300, 2);
    let mut seen = Vec::new();
    let hooks = batchlab::plan::Hooks { clock: &|| 0.0, progress: &mut |p| {
        seen.push((p.runs_done, p.runs_total, p.requests_simulated));
        true
    } };
    let grid = batchlab::latency::CalibrationGrid::for_preset(Preset::Paper);
    batchlab::plan::run_plan(batchlab::workload::Source::Synthetic(batchlab::config::Synthetic::BurstGpt), &grid, &spec, hooks).unwrap();
    // Step 1 at the cap (four configurations: the 4-GPU one is above max_gpus), step 2
    // on 1 and 2 GPUs: 6 runs of 300 requests.
    let want: Vec<(usize, usize, u64)> = (1..=6).map(|i| (i, 6, 300 * i as u64)).collect();
    assert_eq!(seen, want);
}
