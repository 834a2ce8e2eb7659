//! Token steps per second of the token pass, CPU and GPU, on the 1M-request synthetic
//! run (paper preset: multi_bin_dynamic, 4 GPUs, K = 8).
//!
//!     cargo run --release -p batchlab-gpu --example token_bench [requests]
//!
//! One token step = one output token (the model runs one decode step per output token;
//! the gaps the backends evaluate are `o - 1` per request). Each figure is the best of
//! a few runs of the whole pass (host part + decode); the GPU's includes uploads,
//! dispatches and readbacks. It also checks that both backends return the same metrics.

use batchlab::latency::CalibrationGrid;
use std::time::Instant;

use batchlab::config::{Config, Preset};
use batchlab::latency::LatencyModel;
use batchlab::run::simulate_run_with_schedule;
use batchlab::token::{run_cpu, Semantics, Slas, TokenMetrics, TokenModelConfig};
use batchlab::workload::{build, Source};
use batchlab_gpu::GpuTokenPass;

fn best_of<T>(runs: usize, mut f: impl FnMut() -> T) -> (f64, T) {
    let mut best = f64::INFINITY;
    let mut out = None;
    for _ in 0..runs {
        let t = Instant::now();
        let v = f();
        best = best.min(t.elapsed().as_secs_f64());
        out = Some(v);
    }
    (best, out.unwrap())
}

fn main() -> Result<(), String> {
    let requests: usize = std::env::args().nth(1).map_or(Ok(1_000_000), |a| a.parse().map_err(|e| format!("requests: {e}")))?;
    let cfg = Config { requests, ..Config::preset(Preset::Paper) };
    let w = build(Source::Synthetic(cfg.synthetic), requests, &cfg).map_err(|e| e.to_string())?;
    let model = LatencyModel::new(CalibrationGrid::for_preset(Preset::Paper), cfg.latency_mode).map_err(|e| e.to_string())?;
    let (_, s) = simulate_run_with_schedule(&w, &cfg, &model, "bench").map_err(|e| e.to_string())?;
    let slas = Slas::from_config(&cfg);
    let tokens: u64 = w.output_tokens.iter().map(|&o| o as u64).sum();
    println!("{requests} requests, {} batches, {tokens} output tokens (token steps)", s.batches.len());

    let t = Instant::now();
    let gpu = match GpuTokenPass::new() {
        Ok(g) => {
            println!("GPU: {} ({}), device opened in {:.3} s", g.adapter_name(), g.backend(), t.elapsed().as_secs_f64());
            Some(g)
        }
        Err(e) => {
            println!("no GPU: {e}");
            None
        }
    };
    let base = TokenModelConfig::from_latency(&model);
    println!("{:<26} {:>9} {:>14} {:>9} {:>14} {:>9}", "model", "cpu s", "cpu steps/s", "gpu s", "gpu steps/s", "same");
    for (name, semantics, kappa) in
        [("padded kappa=0", Semantics::Padded, 0.0), ("early_exit kappa=0", Semantics::EarlyExit, 0.0), ("padded kappa=0.5", Semantics::Padded, 0.5), ("early_exit kappa=0.5", Semantics::EarlyExit, 0.5)]
    {
        let tm = TokenModelConfig { semantics, kappa, ..base };
        let (cpu_s, cpu) = best_of(3, || run_cpu(&w, &s, &tm, &slas).expect("valid pass"));
        let json = |m: &TokenMetrics| serde_json::to_string(m).unwrap();
        match &gpu {
            Some(g) => {
                let (gpu_s, on_gpu) = best_of(2, || g.run(&w, &s, &tm, &slas));
                let on_gpu = on_gpu?;
                let same = if json(&cpu) == json(&on_gpu) { "yes" } else { "NO" };
                println!(
                    "{name:<26} {cpu_s:>9.3} {:>14.3e} {gpu_s:>9.3} {:>14.3e} {same:>9}",
                    tokens as f64 / cpu_s,
                    tokens as f64 / gpu_s
                );
            }
            None => println!("{name:<26} {cpu_s:>9.3} {:>14.3e} {:>9} {:>14} {:>9}", tokens as f64 / cpu_s, "-", "-", "-"),
        }
    }
    Ok(())
}
