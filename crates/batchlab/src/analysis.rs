//! The analysis JSON of a stress plan: per-step trends, scaling efficiency, saturation,
//! best K and sensitivity, improvements over static_fifo, and key findings written as
//! sentences from the numbers (nothing here is copied from a published table).

use serde_json::{json, Value};

use crate::plan::PlanResult;
use crate::run::RunResult;

/// Relative change above which a trend counts as rising or falling.
const TREND_TOLERANCE: f64 = 0.05;
/// A GPU count is "saturated" once it reaches this share of step 2's best throughput.
const SATURATION_SHARE: f64 = 0.95;

fn pct(new: f64, old: f64) -> f64 {
    if old == 0.0 {
        f64::NAN
    } else {
        (new - old) / old * 100.0
    }
}

/// "increasing", "decreasing" or "flat", from the first to the last value.
pub fn trend(values: &[f64]) -> &'static str {
    match (values.first(), values.last()) {
        (Some(&a), Some(&b)) if values.len() >= 2 && a != 0.0 => {
            let r = (b - a) / a.abs();
            if r > TREND_TOLERANCE {
                "increasing"
            } else if r < -TREND_TOLERANCE {
                "decreasing"
            } else {
                "flat"
            }
        }
        _ => "n/a",
    }
}

fn ok_runs(plan: &PlanResult, step: u8) -> Vec<&RunResult> {
    plan.step(step).filter_map(|r| r.result.as_ref().ok()).collect()
}

fn config_name(r: &RunResult) -> String {
    format!("{} ({} GPU{})", r.config.scheduler.name(), r.config.gpus, if r.config.gpus == 1 { "" } else { "s" })
}

fn step1(plan: &PlanResult, findings: &mut Vec<String>) -> Value {
    let runs = ok_runs(plan, 1);
    let mut names: Vec<String> = Vec::new();
    for r in &runs {
        let n = config_name(r);
        if !names.contains(&n) {
            names.push(n);
        }
    }
    let series = |name: &str, f: &dyn Fn(&RunResult) -> f64| -> Vec<f64> {
        runs.iter().filter(|r| config_name(r) == name).map(|r| f(r)).collect()
    };
    let mut configs = serde_json::Map::new();
    for name in &names {
        let n: Vec<f64> = series(name, &|r| r.config.requests as f64);
        let thr = series(name, &|r| r.metrics.throughput_rps);
        let lat = series(name, &|r| r.metrics.latency_mean_s);
        let viol = series(name, &|r| r.metrics.request_sla_violation_rate);
        configs.insert(
            name.clone(),
            json!({
                "requests": n, "throughput_rps": thr, "latency_mean_s": lat,
                "request_sla_violation_rate": viol,
                "throughput_trend": trend(&thr), "latency_trend": trend(&lat), "violation_trend": trend(&viol),
            }),
        );
    }
    // Improvements of each configuration over static_fifo at the same N.
    let mut improvements = Vec::new();
    for base in runs.iter().filter(|r| r.config.scheduler.name() == "static_fifo") {
        for r in runs.iter().filter(|r| r.config.requests == base.config.requests && !std::ptr::eq(**r, *base)) {
            improvements.push(json!({
                "requests": r.config.requests,
                "config": config_name(r),
                "throughput_gain_pct": pct(r.metrics.throughput_rps, base.metrics.throughput_rps),
                "latency_mean_reduction_pct": -pct(r.metrics.latency_mean_s, base.metrics.latency_mean_s),
                "capacity_gain_pct": pct(r.metrics.capacity_under_sla_rps, base.metrics.capacity_under_sla_rps),
            }));
        }
    }
    if let Some(max_n) = runs.iter().map(|r| r.config.requests).max() {
        let at = |sched: &str, g: u32| {
            runs.iter().find(|r| r.config.requests == max_n && r.config.scheduler.name() == sched && r.config.gpus == g)
        };
        if let (Some(s), Some(d)) = (at("static_fifo", 1), at("dynamic_no_bins", 1)) {
            findings.push(format!(
                "Step 1, N = {max_n}, 1 GPU: dynamic_no_bins served {:.2} req/s vs {:.2} for static_fifo ({:+.1}%), mean latency {:.2} s vs {:.2} s.",
                d.metrics.throughput_rps, s.metrics.throughput_rps,
                pct(d.metrics.throughput_rps, s.metrics.throughput_rps),
                d.metrics.latency_mean_s, s.metrics.latency_mean_s
            ));
        }
        for g in [1, 4] {
            if let (Some(s), Some(m)) = (at("static_fifo", 1), at("multi_bin_dynamic", g)) {
                findings.push(format!(
                    "Step 1, N = {max_n}: multi_bin_dynamic on {g} GPU{} served {:.2} req/s ({:+.1}% over static_fifo on 1 GPU), mean latency {:.2} s.",
                    if g == 1 { "" } else { "s" },
                    m.metrics.throughput_rps,
                    pct(m.metrics.throughput_rps, s.metrics.throughput_rps),
                    m.metrics.latency_mean_s
                ));
            }
        }
    }
    json!({ "configs": configs, "improvement_over_static_fifo": improvements })
}

fn step2(plan: &PlanResult, findings: &mut Vec<String>) -> Value {
    let runs = ok_runs(plan, 2);
    if runs.is_empty() {
        return Value::Null;
    }
    let gpus: Vec<u32> = runs.iter().map(|r| r.config.gpus).collect();
    let thr: Vec<f64> = runs.iter().map(|r| r.metrics.throughput_rps).collect();
    let (g0, t0) = (gpus[0] as f64, thr[0]);
    // Efficiency relative to the smallest GPU count: 1.0 = perfectly linear scaling.
    let efficiency: Vec<f64> = gpus.iter().zip(&thr).map(|(&g, &t)| (t / t0) / (g as f64 / g0)).collect();
    let best_thr = thr.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let saturation = gpus.iter().zip(&thr).find(|(_, &t)| t >= SATURATION_SHARE * best_thr).map(|(&g, _)| g);
    let last = runs.last().unwrap();
    let arrival_rate = last.metrics.arrival_rate_rps;
    findings.push(format!(
        "Step 2: throughput rose from {:.2} req/s on {} GPU{} to {:.2} req/s on {} GPUs (arrival rate {:.2} req/s); it reaches {:.0}% of its maximum at {} GPUs.",
        t0, gpus[0], if gpus[0] == 1 { "" } else { "s" }, thr[thr.len() - 1], last.config.gpus, arrival_rate,
        SATURATION_SHARE * 100.0, saturation.map_or("n/a".to_string(), |g| g.to_string())
    ));
    findings.push(format!(
        "Step 2, {} GPUs: mean GPU utilisation {:.1}%, mean batch size {:.2}, scaling efficiency {:.1}% of linear.",
        last.config.gpus, last.metrics.gpu_util_mean * 100.0, last.metrics.batch_size_mean, efficiency[efficiency.len() - 1] * 100.0
    ));
    json!({
        "gpus": gpus,
        "throughput_rps": thr,
        "latency_mean_s": runs.iter().map(|r| r.metrics.latency_mean_s).collect::<Vec<_>>(),
        "latency_p99_s": runs.iter().map(|r| r.metrics.latency_p99_s).collect::<Vec<_>>(),
        "gpu_util_mean": runs.iter().map(|r| r.metrics.gpu_util_mean).collect::<Vec<_>>(),
        "capacity_under_sla_rps": runs.iter().map(|r| r.metrics.capacity_under_sla_rps).collect::<Vec<_>>(),
        "scaling_efficiency": efficiency,
        "arrival_rate_rps": arrival_rate,
        "saturation_gpus": saturation,
        "saturation_rule": format!("smallest GPU count reaching {:.0}% of the best throughput", SATURATION_SHARE * 100.0),
        "throughput_trend": trend(&thr),
    })
}

fn step3(plan: &PlanResult, findings: &mut Vec<String>) -> Value {
    let runs = ok_runs(plan, 3);
    if runs.is_empty() {
        return Value::Null;
    }
    let ks: Vec<u32> = runs.iter().map(|r| r.config.k_bins).collect();
    let thr: Vec<f64> = runs.iter().map(|r| r.metrics.throughput_rps).collect();
    let lat: Vec<f64> = runs.iter().map(|r| r.metrics.latency_mean_s).collect();
    let cap: Vec<f64> = runs.iter().map(|r| r.metrics.capacity_under_sla_rps).collect();
    // Best K: highest capacity under SLA, ties to the smaller K (the first in order).
    let best = (0..ks.len()).fold(0, |b, i| if cap[i] > cap[b] { i } else { b });
    let (t_min, t_max) = thr.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &t| (a.min(t), b.max(t)));
    let per_doubling: Vec<Value> = (1..ks.len())
        .map(|i| {
            json!({
                "from_k": ks[i - 1], "to_k": ks[i],
                "throughput_change_pct": pct(thr[i], thr[i - 1]),
                "latency_mean_change_pct": pct(lat[i], lat[i - 1]),
            })
        })
        .collect();
    findings.push(format!(
        "Step 3 ({} GPUs): the best K by capacity under SLA is {} ({:.2} req/s); throughput varies by {:.1}% across K.",
        runs[0].config.gpus, ks[best], cap[best], pct(t_max, t_min)
    ));
    if ks.len() >= 2 {
        findings.push(format!(
            "Step 3: K = {} -> {} changed mean latency by {:+.1}% and throughput by {:+.1}%; K = {} -> {} by {:+.1}% and {:+.1}%.",
            ks[0], ks[1], pct(lat[1], lat[0]), pct(thr[1], thr[0]),
            ks[ks.len() - 2], ks[ks.len() - 1],
            pct(lat[ks.len() - 1], lat[ks.len() - 2]), pct(thr[ks.len() - 1], thr[ks.len() - 2])
        ));
    }
    json!({
        "gpus": runs[0].config.gpus,
        "k": ks, "throughput_rps": thr, "latency_mean_s": lat,
        "latency_p99_s": runs.iter().map(|r| r.metrics.latency_p99_s).collect::<Vec<_>>(),
        "capacity_under_sla_rps": cap,
        "batch_size_mean": runs.iter().map(|r| r.metrics.batch_size_mean).collect::<Vec<_>>(),
        "best_k": ks[best],
        "best_k_rule": "highest capacity under SLA; ties to the smaller K",
        "throughput_sensitivity_pct": pct(t_max, t_min),
        "per_doubling": per_doubling,
    })
}

/// The analysis as pretty JSON.
pub fn analysis_json(plan: &PlanResult) -> String {
    let mut findings = Vec::new();
    let s1 = step1(plan, &mut findings);
    let s2 = step2(plan, &mut findings);
    let s3 = step3(plan, &mut findings);
    let failed: Vec<&str> = plan.runs.iter().filter(|r| r.result.is_err()).map(|r| r.label.as_str()).collect();
    if !failed.is_empty() {
        findings.push(format!("{} run(s) failed: {}.", failed.len(), failed.join("; ")));
    }
    // Say so when the SLA cannot bind (MODEL.md §4): the run notes carry the reason.
    let mut notes: Vec<String> = Vec::new();
    for r in plan.runs.iter().filter_map(|r| r.result.as_ref().ok()) {
        for n in &r.notes {
            if !notes.contains(n) {
                notes.push(n.clone());
            }
        }
    }
    findings.extend(notes.iter().cloned());
    let v = json!({
        "batchlab_version": crate::VERSION,
        "workload": plan.workload,
        "source_requests": plan.source_requests,
        "seed": plan.spec.base.seed,
        "runs": plan.runs.len(),
        "runs_failed": failed.len(),
        "best_gpu_count": plan.best_gpu_count,
        "best_gpu_count_origin": plan.best_gpu_count_origin,
        "step1_request_scaling": s1,
        "step2_gpu_scaling": s2,
        "step3_kbins_sensitivity": s3,
        "key_findings": findings,
    });
    serde_json::to_string_pretty(&v).expect("analysis serialises")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trends() {
        assert_eq!(trend(&[1.0, 2.0]), "increasing");
        assert_eq!(trend(&[2.0, 1.0]), "decreasing");
        assert_eq!(trend(&[1.0, 1.01]), "flat");
        assert_eq!(trend(&[1.0]), "n/a");
    }
}
