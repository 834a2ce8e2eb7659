//! Capacity search on a case with a known answer: Poisson arrivals to one GPU that serves
//! one request at a time in a fixed time S (static FIFO, batch size 1: an M/D/1 queue).
//! A request meets its SLA when its wait plus S is within D = 3S, i.e. its wait is within
//! 2S, and for M/D/1 (Erlang; Crommelin) `P(W <= 2S) = (1 - rho)(e^{2 rho} - rho e^{rho})`
//! at load rho. The search must find the arrival rate where that is 90%.

use batchlab::capacity::{search, CapacitySpec};
use batchlab::config::{Config, Load, Preset, SchedulerKind};
use batchlab::latency::{CalibrationGrid, LatencyModel};
use batchlab::rng::SimRng;
use batchlab::run::simulate_run;
use batchlab::workload::Workload;

fn on_time_share(rho: f64) -> f64 {
    (1.0 - rho) * ((2.0 * rho).exp() - rho * rho.exp())
}

#[test]
fn capacity_of_an_md1_queue_is_erlangs() {
    // The first-results grid is alpha 15 ms + beta 0.3 ms per token: 100 tokens take 45 ms.
    let model = LatencyModel::new(CalibrationGrid::first_results_synthetic(), batchlab::config::LatencyMode::Fit).unwrap();
    let service = 0.015 + 0.0003 * 100.0;
    let n = 60_000;
    let mut rng = SimRng::new(11);
    let mut t = 0.0;
    let base: Vec<f64> = (0..n)
        .map(|_| {
            let a = t;
            t += rng.exponential(1.0);
            a
        })
        .collect();
    let cfg = Config {
        scheduler: SchedulerKind::StaticFifo,
        b_static: 1,
        gpus: 1,
        requests: n,
        d_sla_request_s: 3.0 * service,
        d_sla_token_s: 10.0,
        ..Config::preset(Preset::FirstResults)
    };
    let run = |factor: f64| {
        let w = Workload {
            arrival_s: base.iter().map(|a| a / factor).collect(),
            prompt_tokens: vec![60; n],
            output_tokens: vec![40; n],
            predicted_output_tokens: vec![40; n],
        };
        simulate_run(&w, &Config { load: Load::RpsScaling { factor }, ..cfg.clone() }, &model, "md1")
    };
    let found = search(&CapacitySpec { tolerance: 0.005, ..CapacitySpec::default() }, 1.0, run).unwrap();
    assert!(found.converged);
    // Erlang's answer: the load where 90% wait at most 2S, by bisection.
    let (mut lo, mut hi) = (0.0, 1.0);
    for _ in 0..60 {
        let mid = (lo + hi) / 2.0;
        if on_time_share(mid) >= 0.9 { lo = mid } else { hi = mid }
    }
    let expected_rps = lo / service;
    let got = found.arrival_rate_rps.unwrap();
    eprintln!("capacity {got:.4} req/s in {} runs; M/D/1: {expected_rps:.4} req/s", found.points.len());
    assert!((got / expected_rps - 1.0).abs() < 0.04, "capacity {got:.3} req/s, M/D/1 says {expected_rps:.3}");
    // Attainment falls with load across the points visited.
    let first = found.points.first().unwrap();
    let last = found.points.last().unwrap();
    assert!(first.attainment > 0.9 && last.attainment < 0.9, "{:?}", found.points);
}
