//! The final paper's study: its grid and comparison, the "optimal" choice, the final
//! version's metric definitions and the published files' columns and rounding.

mod common;

use batchlab::config::{Config, Preset, SchedulerKind, Synthetic};
use batchlab::engine::simulate;
use batchlab::latency::CalibrationGrid;
use batchlab::plan::Hooks;
use batchlab::run::RunResult;
use batchlab::report::study::{python_round, step1_csv, step2_csv, study_files};
use batchlab::study::{optimal, run_study, FinalMetrics, StudyRun, StudySpec};
use batchlab::workload::Source;
use common::{config, exact_model, workload};

#[test]
fn python_rounding_as_the_published_files_print_it() {
    assert_eq!(python_round(96.1, 1), "96.1");
    assert_eq!(python_round(0.0, 3), "0.0");
    assert_eq!(python_round(1000.0, 1), "1000.0");
    assert_eq!(python_round(0.49512, 3), "0.495");
    assert_eq!(python_round(59.6513, 2), "59.65");
    assert_eq!(python_round(7.0, 2), "7.0");
    assert_eq!(python_round(12.345678, 1), "12.3");
    assert_eq!(batchlab::report::study::python_repr(2.8400000000000003), "2.8400000000000003");
    assert_eq!(batchlab::report::study::python_repr(270.0), "270.0");
}

#[test]
fn final_metrics_by_hand() {
    // alpha 1 s, beta 0.1 s, gamma 0: one batch of the three requests at t = 2 (static
    // FIFO of 8 takes all three): step 0.1 s, longest L = 5 + 10 = 15 -> service 2.5 s,
    // longest output 10 -> "TBT" 0.25 s; TTFT alpha = 1 s. A per-token SLA of 0.05 s is
    // exceeded by every request (0.1 > 0.05), 0.2 s by none.
    let w = workload(&[(2.0, 5, 3), (2.0, 5, 10), (2.0, 5, 1)]);
    let m = exact_model(1.0, 0.1, 0.0);
    for (sla, rate) in [(0.05, 1.0), (0.2, 0.0)] {
        let c = Config { d_sla_token_s: sla, ..config(SchedulerKind::StaticFifo, 1, 1) };
        let s = simulate(&w, &c, &m);
        assert_eq!(s.batches.len(), 1);
        let f = FinalMetrics::of(&w, &c, &m, &s);
        assert!((f.ttft_mean_s - 1.0).abs() < 1e-9, "{f:?}");
        assert!((f.decode_tbt_mean_s - 0.1).abs() < 1e-9, "{f:?}");
        assert!((f.tbt_mean_s - 0.25).abs() < 1e-9, "{f:?}");
        assert_eq!(f.token_sla_violation_rate, rate);
    }
}

/// A grid run with the given GPUs, K and request-SLA violation rate.
fn grid_run(n: usize, gpus: u32, k: u32, violation_rate: f64) -> StudyRun {
    let mut result = RunResult { config: Config { requests: n, gpus, k_bins: k, ..Config::preset(Preset::Paper) }, ..RunResult::default() };
    result.metrics.request_sla_violation_rate = violation_rate;
    StudyRun { rps_scaling: 100.0, method: None, result, final_metrics: Default::default() }
}

#[test]
fn optimal_is_the_fewest_gpus_within_five_percent_then_the_lowest_rate() {
    let grid = vec![
        grid_run(1000, 1, 1, 0.90),
        grid_run(1000, 4, 1, 0.05),   // exactly 5%: within
        grid_run(1000, 4, 2, 0.03),   // same GPUs, lower: chosen
        grid_run(1000, 4, 8, 0.03),   // a tie: the first in the file stays
        grid_run(1000, 8, 1, 0.0),    // lower rate but more GPUs
        grid_run(10_000, 2, 1, 0.0),  // another request count
    ];
    assert_eq!(optimal(&grid, 1000), (4, 2));
    // Nothing within 5%: the lowest rate overall.
    let worse = vec![grid_run(1000, 1, 1, 0.5), grid_run(1000, 2, 4, 0.2), grid_run(1000, 4, 4, 0.3)];
    assert_eq!(optimal(&worse, 1000), (2, 4));
    // Just above 5% in the file's 3 decimals (5.0004% -> 5.0: within; 5.0006% -> 5.001: not).
    assert_eq!(optimal(&[grid_run(1000, 2, 1, 0.050004), grid_run(1000, 4, 1, 0.0)], 1000), (2, 1));
    assert_eq!(optimal(&[grid_run(1000, 2, 1, 0.050006), grid_run(1000, 4, 1, 0.01)], 1000), (4, 1));
    // No run at all for that count: the original's default.
    assert_eq!(optimal(&grid, 5), (8, 8));
}

#[test]
fn a_small_study_has_the_published_shape() {
    let mut spec = StudySpec::new(Config::preset(Preset::Paper));
    spec.max_requests = 1_000;
    spec.max_gpus = 4;
    spec.loads = [true, false, true];
    // 2 loads x 1 size x (3 GPU counts x 6 K + 4 methods), then 5 K, 5 GPU counts, 5 seeds.
    assert_eq!(spec.run_count(), 2 * (3 * 6 + 4) + 15);
    let mut seen = 0;
    let r = run_study(
        Source::Synthetic(Synthetic::BurstGpt),
        &CalibrationGrid::for_preset(Preset::Paper),
        &spec,
        Hooks { clock: &|| 0.0, progress: &mut |p| {
            seen = p.runs_done;
            true
        } },
    )
    .unwrap();
    assert_eq!(seen, spec.run_count());
    assert_eq!(r.loads.len(), 2);
    assert_eq!((r.loads[0].rps_scaling, r.loads[1].rps_scaling), (100.0, 1.0));
    for load in &r.loads {
        assert_eq!(load.grid.len(), 18);
        assert!(load.grid.iter().all(|g| g.result.config.scheduler == SchedulerKind::MultiBinDynamic));
        let methods: Vec<_> = load.comparison.iter().map(|c| (c.result.config.scheduler, c.result.config.gpus, c.result.config.k_bins)).collect();
        let (g, k) = optimal(&load.grid, 1000);
        assert_eq!(
            methods,
            [(SchedulerKind::StaticFifo, 1, 1), (SchedulerKind::DynamicNoBins, 1, 1), (SchedulerKind::MultiBinDynamic, 1, 8), (SchedulerKind::MultiBinDynamic, g, k)]
        );
        assert_eq!(load.comparison[3].method.as_deref(), Some(format!("4. Multi-Bin Dynamic (Optimal: {g} GPUs, {k} bins)").as_str()));
    }
    // A hundredth of the load: the same requests, so every run at 1x has lower latency.
    let (fast, slow) = (&r.loads[0].grid, &r.loads[1].grid);
    assert!(fast.iter().zip(slow).all(|(a, b)| b.result.metrics.latency_mean_s <= a.result.metrics.latency_mean_s));

    // The published columns, and one row per run.
    let step1 = step1_csv(&r.loads[0]);
    assert_eq!(
        step1.lines().next().unwrap(),
        "timestamp,num_requests,num_gpus,k_bins,scheduler,rps_scaling,d_sla_token_ms,d_sla_request_s,token_sla_pct,\
         request_sla_pct,avg_ttft_ms,avg_decode_tbt_ms,avg_tbt_ms,avg_latency_s,p50_latency_s,p95_latency_s,p99_latency_s,\
         avg_queue_delay_s,avg_service_time_s,throughput_tok_s,throughput_req_s,avg_batch_size,gpu_utilization_pct,\
         execution_time_s,completed_requests"
    );
    assert_eq!(step1.lines().count(), 1 + 18);
    assert!(step1.lines().nth(1).unwrap().starts_with(",1000,1,1,multi_bin_dynamic,100.0,10.0,20.0,"), "{step1}");
    let step2 = step2_csv(&r.loads[1]);
    assert_eq!(
        step2.lines().next().unwrap(),
        "timestamp,num_requests,method,scheduler_type,num_gpus,k_bins,rps_scaling,d_sla_token_ms,d_sla_request_s,\
         token_sla_pct,request_sla_pct,avg_ttft_ms,avg_decode_tbt_ms,avg_latency_s,p50_latency_s,p95_latency_s,\
         p99_latency_s,avg_queue_delay_s,avg_service_time_s,throughput_tok_s,throughput_req_s,avg_batch_size,\
         gpu_utilization_pct,execution_time_s,completed_requests"
    );
    assert!(step2.lines().nth(4).unwrap().contains(",\"4. Multi-Bin Dynamic (Optimal: "), "{step2}");
    let names: Vec<String> = study_files(&r).into_iter().map(|f| f.0).collect();
    assert_eq!(
        names,
        [
            "stress_test_final/step1_grid_search.csv",
            "stress_test_final/step2_comparison.csv",
            "stress_test_ultra_low_load/step1_grid_search.csv",
            "stress_test_ultra_low_load/step2_comparison.csv",
            "figures/sensitivity_analysis.csv",
            "figures/multi_seed_variance.csv"
        ]
    );
    // Figure 5's runs: at most the cap, at x10 on 4 GPUs with K = 4 but what varies.
    let s = r.sensitivity.as_ref().unwrap();
    let shape = |runs: &[StudyRun]| runs.iter().map(|r| (r.result.config.gpus, r.result.config.k_bins, r.result.config.seed)).collect::<Vec<_>>();
    assert_eq!(shape(&s.k_runs), [(4, 1, 42), (4, 2, 42), (4, 4, 42), (4, 8, 42), (4, 16, 42)]);
    assert_eq!(shape(&s.gpu_runs), [(1, 4, 42), (2, 4, 42), (4, 4, 42), (8, 4, 42), (16, 4, 42)]);
    assert_eq!(shape(&s.seed_runs), [(4, 4, 0), (4, 4, 1), (4, 4, 2), (4, 4, 3), (4, 4, 4)]);
    assert!(s.k_runs.iter().all(|r| r.result.config.requests == 1000 && r.rps_scaling == 10.0));
    // K = 4 on 4 GPUs with the base seed is the same run in both sweeps.
    let key = |r: &StudyRun| (r.result.metrics.latency_mean_s, r.result.metrics.batch_count, r.final_metrics);
    assert_eq!(key(&s.k_runs[2]), key(&s.gpu_runs[2]));
    let seeds = batchlab::report::study::seeds_csv(s);
    assert_eq!(seeds.lines().next().unwrap(), "seed,request_sla_pct,throughput_tok_s,p95_latency_s,p99_latency_s,avg_latency_s");
    assert!(seeds.lines().nth(1).unwrap().starts_with("0,"));
}
